--
-- operations_approvals: findings approved ahead (issue 17): approve(),
-- revoke_approval(), the approvals view, approval_id in change_log, an
-- expired approval ignored with a message that says so, and who may approve
-- (superusers and members of migguard.approver_role).
--
CREATE SCHEMA ap;
SELECT make_table('ap.big', 5000);
SELECT make_table('ap.other', 5000);
SET migguard.large_table_size = '100kB';

-- Without an approval the index build on a large table is blocked.
CREATE INDEX ap_big_id ON ap.big (id);

-- Approved ahead: the same statement, unchanged, is overridden.
SELECT migguard.approve('create_index', 'ap.big', 'CAB-1: reviewed, low traffic window',
                        now() + interval '1 hour') AS approval \gset
\set VERBOSITY default
CREATE INDEX ap_big_id ON ap.big (id);
\set VERBOSITY terse
-- (the blocked attempt's row comes from the worker, maybe after this one)
SELECT verdict, approval_id = :approval AS by_the_approval, statement
  FROM migguard.change_log WHERE verdict <> 'blocked' ORDER BY id DESC LIMIT 1;
SELECT rule, relation, reason, approved_by, status FROM migguard.approvals;

-- Only the same rule on the same relation.
CREATE INDEX ap_other_id ON ap.other (id);
DROP INDEX ap.ap_big_id;

-- Revoked: blocked again.
SELECT migguard.revoke_approval(:approval) AS revoked;
SELECT migguard.revoke_approval(:approval) AS revoked_twice;
CREATE INDEX ap_big_id2 ON ap.big (id);
SELECT status FROM migguard.approvals WHERE id = :approval;

-- Expired: ignored, and the message says it expired.
INSERT INTO migguard.approved_findings (rule, relation, reason, approved_by, approved_at, expires)
VALUES ('create_index', 'ap.big', 'CAB-0: last week', 'postgres',
        now() - interval '8 days', timestamptz '2000-01-01 00:00 UTC');
SET timezone = 'UTC';
\set VERBOSITY default
CREATE INDEX ap_big_id3 ON ap.big (id);
\set VERBOSITY terse
SELECT status FROM migguard.approvals ORDER BY id;

-- Arguments are checked.
SELECT migguard.approve('no_such_rule', 'ap.big', 'x', now() + interval '1 hour');
SELECT migguard.approve('create_index', 'ap.big', '  ', now() + interval '1 hour');
SELECT migguard.approve('create_index', 'ap.big', 'late', now() - interval '1 hour');

-- Who may approve: not an ordinary role; a member of migguard.approver_role.
CREATE ROLE ap_dev LOGIN;
CREATE ROLE ap_dba LOGIN;
CREATE ROLE ap_approvers;
GRANT ap_approvers TO ap_dba;
GRANT USAGE ON SCHEMA ap TO ap_dev, ap_dba;
SET migguard.approver_role = 'ap_approvers';
SET SESSION AUTHORIZATION ap_dev;
SELECT migguard.approve('create_index', 'ap.big', 'me', now() + interval '1 hour');
SELECT migguard.revoke_approval(1);
SELECT count(*) FROM migguard.approved_findings;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION ap_dba;
SELECT migguard.approve('create_index', 'ap.big', 'CAB-2', now() + interval '1 hour') > 0 AS approved;
RESET SESSION AUTHORIZATION;
SELECT approved_by, status FROM migguard.approvals ORDER BY id DESC LIMIT 1;
RESET migguard.approver_role;

-- pg_dump keeps the approvals (an extension configuration table).
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid)
  JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'migguard' ORDER BY 1;

RESET timezone;
RESET migguard.large_table_size;
DELETE FROM migguard.approved_findings;
REVOKE USAGE ON SCHEMA ap FROM ap_dev, ap_dba;
DROP ROLE ap_dev;
DROP ROLE ap_dba;
DROP ROLE ap_approvers;
BEGIN;
SET LOCAL migguard.allow = 'drop_table';
DROP SCHEMA ap CASCADE;
COMMIT;
