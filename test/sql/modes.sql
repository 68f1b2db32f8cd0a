--
-- modes: migguard.mode, migguard.rules levels, migguard.allow and
-- migguard.override_role.
--
-- Proves that
--   * enforce blocks error findings and warns on warning findings;
--   * warn turns every finding into a WARNING and runs the statement;
--   * audit shows nothing and runs the statement;
--   * off passes everything through;
--   * migguard.rules changes a rule's level: error -> warning warns and
--     runs, -> off is silent;
--   * SET LOCAL migguard.allow accepts a rule for one transaction: the
--     statement runs with a WARNING saying it was overridden; the
--     acceptance ends with the transaction; allowing another rule does
--     not help; with several findings only the allowed one is overridden;
--   * with migguard.override_role set, a non-member's allow is refused with
--     a message naming the role, and a member's works.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA md;
SELECT make_table('md.big', 5000) AS big;
-- What has been built so far, after each step.
CREATE VIEW md.built AS
    SELECT string_agg(c.relname, ', ' ORDER BY c.relname) AS indexes
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'md.big'::regclass;

--
-- mode
--
SHOW migguard.mode;
-- enforce: an error finding blocks ...
CREATE INDEX big_a ON md.big (id);
-- ... a warning finding warns, and the statement runs.
CREATE INDEX CONCURRENTLY big_a ON md.big (id);
DROP INDEX md.big_a;
SELECT * FROM md.built;

-- warn: the same finding is a WARNING, and the index is built.
SET migguard.mode = warn;
CREATE INDEX big_w ON md.big (id);
SELECT * FROM md.built;

-- audit: nothing is shown, and the index is built.
SET migguard.mode = audit;
CREATE INDEX big_au ON md.big (id);
DROP INDEX md.big_au;
SELECT * FROM md.built;

-- off: nothing is checked.
SET migguard.mode = off;
CREATE INDEX big_off ON md.big (id);
SELECT * FROM md.built;
RESET migguard.mode;

--
-- migguard.rules: per-rule levels.
--
SET migguard.rules = 'create_index=warning';
CREATE INDEX big_rw ON md.big (id);
SET migguard.rules = 'create_index=off';
CREATE INDEX big_roff ON md.big (id);
-- Other rules keep their levels.
REINDEX TABLE md.big;
RESET migguard.rules;
SELECT * FROM md.built;

--
-- migguard.allow: an override for one transaction.
--
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX big_allowed ON md.big (id);
COMMIT;
-- The transaction is over, and so is the override.
SHOW migguard.allow;
CREATE INDEX big_again ON md.big (id);
-- Allowing another rule does not help.
BEGIN;
SET LOCAL migguard.allow = 'reindex, drop_table';
CREATE INDEX big_again ON md.big (id);
ROLLBACK;
-- A rolled-back override leaves nothing behind either.
BEGIN;
SET LOCAL migguard.allow = 'create_index';
ROLLBACK;
CREATE INDEX big_again ON md.big (id);
-- With several findings, only the allowed one is overridden; the others
-- still block, and the ERROR lists them all.
BEGIN;
SET LOCAL migguard.allow = 'add_unique_constraint';
ALTER TABLE md.big ADD PRIMARY KEY (id);
ROLLBACK;
BEGIN;
SET LOCAL migguard.allow = 'add_unique_constraint, set_not_null';
ALTER TABLE md.big ADD PRIMARY KEY (id);
ROLLBACK;
-- In warn mode an allowed finding is still shown as overridden.
SET migguard.mode = warn;
BEGIN;
SET LOCAL migguard.allow = 'drop_index';
DROP INDEX md.big_allowed;
COMMIT;
-- In audit mode nothing is shown, overridden or not.
SET migguard.mode = audit;
BEGIN;
SET LOCAL migguard.allow = 'drop_index';
DROP INDEX md.big_w;
COMMIT;
RESET migguard.mode;
SELECT * FROM md.built;

--
-- migguard.override_role: who may use migguard.allow.
--
CREATE ROLE regress_migguard_deployer;
CREATE ROLE regress_migguard_dev;
GRANT USAGE, CREATE ON SCHEMA md TO regress_migguard_dev;
ALTER TABLE md.big OWNER TO regress_migguard_dev;
SET migguard.override_role = 'regress_migguard_deployer';
SET SESSION AUTHORIZATION regress_migguard_dev;
-- The owner may not override: the ERROR says why and whom to ask.
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX big_dev ON md.big (id);
ROLLBACK;
-- A finding the role could not override anyway (a warning) still runs, as
-- a plain warning.
BEGIN;
SET LOCAL migguard.allow = 'drop_index';
DROP INDEX md.big_off;
ROLLBACK;
RESET SESSION AUTHORIZATION;
-- A member of the role may.
GRANT regress_migguard_deployer TO regress_migguard_dev;
SET SESSION AUTHORIZATION regress_migguard_dev;
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX big_dev ON md.big (id);
COMMIT;
RESET SESSION AUTHORIZATION;
-- Superusers are members of every role.
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX big_su ON md.big (id);
COMMIT;
RESET migguard.override_role;
SELECT * FROM md.built;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA md CASCADE;
DROP ROLE regress_migguard_dev;
DROP ROLE regress_migguard_deployer;
RESET migguard.mode;
