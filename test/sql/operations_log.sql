--
-- operations_log: change_log 1.1 (issue 17): the reason of each change,
-- require_reason, the writer on a 1.0 catalog, and the hash chain that
-- verify_log() checks.  In a database of its own: the other files empty
-- change_log, which a chain would rightly report.
--
CREATE DATABASE ops_log;
\c ops_log

-- A library 1.1 on a catalog 1.0 (the binary upgraded, ALTER EXTENSION
-- not yet run): DDL works and is recorded in the columns 1.0 has.
CREATE EXTENSION migguard VERSION '1.0';
SET migguard.reason = 'ticket 17: before the update';
CREATE TABLE before_update (a int);
SELECT id, command_tag, statement FROM migguard.change_log ORDER BY id;
SELECT count(*) AS columns_1_0 FROM pg_attribute
 WHERE attrelid = 'migguard.change_log'::regclass AND attnum > 0 AND NOT attisdropped;

-- After the update, the same session writes the new columns too.
ALTER EXTENSION migguard UPDATE TO '1.1';
SET migguard.reason = 'ticket 17: after the update';
CREATE TABLE after_update (a int);
SELECT id, command_tag, reason, row_hash IS NOT NULL AS hashed
  FROM migguard.change_log ORDER BY id;
-- Rows from before 1.1 carry no hash and are not a break.
SELECT migguard.verify_log();

-- The reason is per transaction with SET LOCAL, and empty means NULL.
BEGIN;
SET LOCAL migguard.reason = 'ADR-42: split accounts';
CREATE TABLE accounts (id int);
COMMIT;
RESET migguard.reason;
CREATE TABLE no_reason (a int);
SELECT id, statement, reason FROM migguard.change_log WHERE id > 3 ORDER BY id;

-- require_reason: an override without a reason is refused, with a reason it
-- is overridden, and the overrides view and history() show the reason.
CREATE TABLE big AS SELECT g FROM generate_series(1, 1000) g;
SET migguard.large_table_size = 1;
SET migguard.mode = enforce;
SET migguard.require_reason = on;
\set VERBOSITY default
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX big_g_idx ON big (g);
ROLLBACK;
-- The background worker writes that blocked attempt's row (blocked.c),
-- asynchronously: wait for it, so that its id comes before the rows below
-- and the chain checks further down see the same rows in the same order on
-- a loaded machine too (a slow worker put it between kept_1 and kept_2).
DO $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        EXIT WHEN (SELECT count(*) FROM migguard.blocked_attempts) = 1;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
BEGIN;
SET LOCAL migguard.allow = 'create_index';
SET LOCAL migguard.reason = 'CHG-7: reviewed, table is small at night';
CREATE INDEX big_g_idx ON big (g);
COMMIT;
\set VERBOSITY terse
SELECT statement, verdict, reason FROM migguard.overrides;
SELECT statement, reason FROM migguard.history('public.big_g_idx');
-- In warn mode the warning says why the override did not apply.
\set VERBOSITY default
BEGIN;
SET LOCAL migguard.allow = 'create_index';
SET LOCAL migguard.mode = warn;
CREATE INDEX big_g_idx2 ON big (g);
ROLLBACK;
\set VERBOSITY terse
RESET migguard.require_reason;
RESET migguard.mode;
RESET migguard.large_table_size;

-- The chain: intact so far.
SELECT migguard.verify_log();

-- A rolled-back row, a rolled-back savepoint, then more rows: no break.
BEGIN; CREATE TABLE rolled_back (a int); ROLLBACK;
BEGIN;
CREATE TABLE kept_1 (a int);
SAVEPOINT s;
CREATE TABLE in_savepoint (a int);
ROLLBACK TO s;
CREATE TABLE kept_2 (a int);
COMMIT;
CREATE TABLE kept_3 (a int);
SELECT statement FROM migguard.change_log WHERE statement LIKE 'CREATE TABLE %' ORDER BY id;
SELECT migguard.verify_log();

-- A blocked attempt, written by the background worker, is in the chain too.
SET migguard.large_table_size = 1;
SET migguard.mode = enforce;
CREATE INDEX ON big (g);
RESET migguard.mode;
RESET migguard.large_table_size;
DO $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        EXIT WHEN (SELECT count(*) FROM migguard.blocked_attempts) = 2;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
CREATE TABLE after_blocked (a int);
SELECT verdict, statement FROM migguard.change_log ORDER BY id DESC LIMIT 3;
SELECT migguard.verify_log();

-- A superuser's UPDATE in the middle is detected (each in a transaction
-- that is rolled back, to keep the log intact for the next one); the
-- query shows the statement of the first row verify_log() reports.
CREATE VIEW broken_at AS
    SELECT id, statement FROM migguard.change_log WHERE id = migguard.verify_log();
BEGIN;
UPDATE migguard.change_log SET statement = 'CREATE TABLE kept_2 (b int)'
 WHERE statement = 'CREATE TABLE kept_2 (a int)';
SELECT statement FROM broken_at;
ROLLBACK;
BEGIN;
UPDATE migguard.change_log SET reason = 'rewritten'
 WHERE statement = 'CREATE TABLE accounts (id int)';
SELECT statement FROM broken_at;
ROLLBACK;
-- A DELETE in the middle is detected: at the row after it.
BEGIN;
DELETE FROM migguard.change_log WHERE statement = 'CREATE TABLE kept_2 (a int)';
SELECT statement FROM broken_at;
ROLLBACK;
-- Also the row just before a rolled-back one (kept_1, before the savepoint),
-- and the blocked attempt the worker wrote.
BEGIN;
DELETE FROM migguard.change_log WHERE statement = 'CREATE TABLE kept_1 (a int)';
SELECT statement FROM broken_at;
ROLLBACK;
BEGIN;
DELETE FROM migguard.change_log WHERE verdict = 'blocked' AND statement = 'CREATE INDEX ON big (g)';
SELECT statement FROM broken_at;
ROLLBACK;
-- The first hashed row, too.
BEGIN;
DELETE FROM migguard.change_log WHERE command_tag = 'ALTER EXTENSION';
SELECT statement FROM broken_at;
ROLLBACK;
-- A hash set to NULL after the chain began is a break.
BEGIN;
UPDATE migguard.change_log SET row_hash = NULL
 WHERE statement = 'CREATE TABLE no_reason (a int)';
SELECT statement FROM broken_at;
ROLLBACK;
SELECT migguard.verify_log();
DROP VIEW broken_at;

-- The documented encoding (README, "Tamper evidence"), recomputed in SQL:
-- every hashed row's row_hash is exactly that.
CREATE FUNCTION enc(v anyelement) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x4e'::bytea
           ELSE '\x56'::bytea || int4send(octet_length(format('%s', v)))
                || convert_to(format('%s', v), current_setting('server_encoding'))
           END
$$;
SELECT count(*) AS hashed_rows,
       bool_and(row_hash = sha256(
           coalesce(prev_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
           || enc(id)
           || enc((extract(epoch FROM logged_at - timestamptz '2000-01-01 00:00 UTC') * 1000000)::bigint)
           || enc(xid) || enc(pid) || enc(session_user_name) || enc(current_user_name)
           || enc(application_name) || enc(client_addr) || enc(command_tag) || enc(objects)
           || enc(statement) || enc(lock_mode) || enc(table_size) || enc(rewrite)
           || enc(verdict) || enc(findings) || enc(tag) || enc(nesting) || enc(attempts)
           || enc(lock_wait_ms) || enc(reason) || enc(approval_id) || enc(prev_xid))) AS as_documented
  FROM migguard.change_log WHERE row_hash IS NOT NULL;
DROP FUNCTION enc(anyelement);

-- purge() anchors the chain: what remains, and what comes next, verifies.
SELECT migguard.purge('0 seconds') > 0 AS purged;
SELECT row_hash IS NOT NULL AS hashed, (SELECT count(*) FROM migguard.change_log) AS rows_left
  FROM migguard.log_anchor;
CREATE TABLE after_purge (a int);
SELECT statement FROM migguard.change_log ORDER BY id;
SELECT migguard.verify_log();
-- Deleting the row after the anchor is detected.
BEGIN;
CREATE TABLE one_more (a int);
DELETE FROM migguard.change_log WHERE statement LIKE 'CREATE TABLE after_purge%';
SELECT migguard.verify_log() IS NOT NULL AS broken;
ROLLBACK;

-- Who may verify: migguard_reader, not PUBLIC.
CREATE ROLE ops_reader IN ROLE migguard_reader;
CREATE ROLE ops_nobody;
SET ROLE ops_reader;
SELECT migguard.verify_log();
SET ROLE ops_nobody;
SELECT migguard.verify_log();
RESET ROLE;
-- require_reason is for superusers to set.
SET ROLE ops_nobody;
SET migguard.require_reason = off;
RESET ROLE;
DROP ROLE ops_reader;
DROP ROLE ops_nobody;

\c contrib_regression
DROP DATABASE ops_log;
