--
-- table_rewrite: the rewrite guard, and the rewrite column of the audit log.
--
-- Proves that SET LOGGED / SET UNLOGGED / SET ACCESS METHOD of a large table
-- are blocked before any lock (and predicted by check()), that a rewrite no
-- other rule judged (here a type change through a domain with
-- alter_column_type turned off) is caught by PostgreSQL's table_rewrite
-- event, that the same statements pass on a small table, and that every
-- rewrite that happens is recorded with rewrite = true.
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA rw;
SET search_path = rw, public;
CREATE DOMAIN rw.positive AS bigint CHECK (VALUE > 0);
CREATE TABLE rw.big (id bigint, n bigint);
INSERT INTO rw.big SELECT g, g FROM generate_series(1, 5000) g;
CREATE TABLE rw.small (id bigint, n bigint);
INSERT INTO rw.small VALUES (1, 1);
SET migguard.large_table_size = '64kB';

-- Predicted by the hook: blocked before the lock, and by check().
ALTER TABLE rw.big SET UNLOGGED;
SELECT rule, level, message FROM migguard.check('ALTER TABLE rw.big SET UNLOGGED');
-- Already logged: PostgreSQL does nothing, so nothing to say.
SELECT count(*) AS findings_for_a_no_op FROM migguard.check('ALTER TABLE rw.big SET LOGGED; ALTER TABLE rw.big SET ACCESS METHOD heap');

-- Not judged by any other rule: the table_rewrite event catches it.
SET migguard.rules = 'alter_column_type=off';
ALTER TABLE rw.big ALTER COLUMN n TYPE rw.positive;
-- Overridden, the rewrite runs and is recorded.
BEGIN;
SET LOCAL migguard.allow = 'table_rewrite';
ALTER TABLE rw.big ALTER COLUMN n TYPE rw.positive;
COMMIT;
RESET migguard.rules;

-- A small table: the same statements pass.
ALTER TABLE rw.small SET UNLOGGED;
ALTER TABLE rw.small SET LOGGED;
ALTER TABLE rw.small ALTER COLUMN n TYPE rw.positive;
-- A statement that does not rewrite is recorded with rewrite = false.
ALTER TABLE rw.small ADD COLUMN note text;

-- The two blocked attempts arrive from the background worker: wait for
-- them, and order by statement start, since their ids come later.
DO $$
BEGIN
    FOR i IN 1 .. 40 LOOP
        EXIT WHEN (SELECT count(*) FROM migguard.change_log
                   WHERE statement LIKE 'ALTER TABLE rw.%' AND verdict = 'blocked') >= 2;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SELECT statement, rewrite, verdict, jsonb_path_query_array(findings, '$[*].rule') AS rules
FROM migguard.change_log
WHERE statement LIKE 'ALTER TABLE rw.%' ORDER BY logged_at, id;

SET client_min_messages = error;
SET migguard.allow = 'drop_table';
DROP SCHEMA rw CASCADE;
RESET migguard.allow;
RESET client_min_messages;
