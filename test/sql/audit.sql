--
-- The audit log: migguard.change_log.
--
-- Proves that each executed DDL statement leaves exactly one row, written
-- in its own transaction (a rollback leaves none), with this statement's
-- own text, its objects, tag, nesting, lock, size, verdict and findings;
-- that global objects (roles) are recorded from the hook; that the log is
-- append-only for everyone but superusers, readable by migguard_reader,
-- and purged by a superuser-only function; and that mode off and
-- migguard.audit = off record nothing.
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA aud;
SET search_path = aud, public;
SET migguard.large_table_size = '64kB';
DELETE FROM migguard.change_log;

-- A compact view of the rows this file's statements (all naming aud)
-- wrote since a mark; blocked attempts of earlier files may still arrive
-- from the background worker meanwhile.
CREATE FUNCTION aud.rows_since(mark bigint)
RETURNS TABLE (command_tag text, statement text, objects text, tag text,
               nesting int, verdict text, rules text)
LANGUAGE sql AS $$
    SELECT command_tag, statement,
           (SELECT string_agg(o->>'type' || ' ' || coalesce(o->>'identity', '-'), ', ')
            FROM jsonb_array_elements(objects) o),
           tag, nesting, verdict,
           (SELECT string_agg(f->>'rule', ', ') FROM jsonb_array_elements(findings) f)
    FROM migguard.change_log WHERE id > mark AND statement LIKE '%aud%' ORDER BY id
$$;
CREATE TABLE aud.mark (id bigint);
INSERT INTO aud.mark SELECT coalesce(max(id), 0) FROM migguard.change_log;

-- One row per statement kind, with the tag set.
SET migguard.tag = '0042_audit';
CREATE TABLE aud.accounts (id bigint PRIMARY KEY, email text);
INSERT INTO aud.accounts SELECT g, 'u' || g FROM generate_series(1, 5000) g;
ALTER TABLE aud.accounts ADD COLUMN note text;
CREATE INDEX CONCURRENTLY accounts_email_idx ON aud.accounts (email);
CREATE VIEW aud.v AS SELECT id FROM aud.accounts;
CREATE FUNCTION aud.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TYPE aud.mood AS ENUM ('ok', 'sad');
CREATE SEQUENCE aud.s;
CREATE SCHEMA aud_extra;
DROP SCHEMA aud_extra;
COMMENT ON TABLE aud.accounts IS 'customer accounts';
GRANT SELECT ON aud.accounts TO PUBLIC;
REVOKE SELECT ON aud.accounts FROM PUBLIC;
CREATE ROLE aud_role;
DROP ROLE aud_role;
DROP VIEW aud.v;
RESET migguard.tag;
SELECT * FROM aud.rows_since((SELECT id FROM aud.mark));

-- DDL inside a DO block and a function is recorded at its nesting level,
-- with its own text; a multi-statement query string gives one row each.
UPDATE aud.mark SET id = (SELECT max(id) FROM migguard.change_log);
DO $$BEGIN EXECUTE 'CREATE TABLE aud.from_do (id int)'; END$$;
CREATE FUNCTION aud.make_table() RETURNS void LANGUAGE plpgsql AS
$$BEGIN CREATE TABLE aud.from_function (id int); END$$;
SELECT aud.make_table();
CREATE TABLE aud.m1 (id int)\; ALTER TABLE aud.m1 ADD COLUMN x int\; DROP TABLE aud.m1;
SELECT * FROM aud.rows_since((SELECT id FROM aud.mark));

-- Rolled back, or rolled back to a savepoint: no row for the undone DDL.
UPDATE aud.mark SET id = (SELECT max(id) FROM migguard.change_log);
BEGIN;
CREATE TABLE aud.undone (id int);
ROLLBACK;
BEGIN;
CREATE TABLE aud.kept (id int);
SAVEPOINT s;
CREATE TABLE aud.undone_too (id int);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT * FROM aud.rows_since((SELECT id FROM aud.mark));

-- Overridden and warned findings are recorded with their verdict; the
-- lock mode and the table size are those of the target.
UPDATE aud.mark SET id = (SELECT max(id) FROM migguard.change_log);
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX accounts_note_idx ON aud.accounts (note);
COMMIT;
SET migguard.mode = warn;
DROP INDEX aud.accounts_note_idx;
RESET migguard.mode;
SELECT command_tag, verdict, lock_mode, table_size = pg_table_size('aud.accounts') AS size_is_the_tables,
       jsonb_path_query_array(findings, '$[*].rule') AS rules
FROM migguard.change_log WHERE id > (SELECT id FROM aud.mark) AND statement LIKE '%aud%' ORDER BY id;

-- migguard.audit = off keeps the guard but records nothing; mode off
-- records nothing either; mode audit records silently.
UPDATE aud.mark SET id = (SELECT max(id) FROM migguard.change_log);
SET migguard.audit = off;
CREATE TABLE aud.not_recorded (id int);
CREATE INDEX ON aud.accounts (email);
RESET migguard.audit;
SET migguard.mode = off;
CREATE TABLE aud.not_recorded_either (id int);
SET migguard.mode = audit;
CREATE INDEX accounts_id_email_idx ON aud.accounts (id, email);
RESET migguard.mode;
SELECT command_tag, verdict, jsonb_path_query_array(findings, '$[*].rule') AS rules
FROM migguard.change_log WHERE id > (SELECT id FROM aud.mark) AND statement LIKE '%aud%' ORDER BY id;

-- A blocked statement aborts its transaction, yet its row arrives within
-- two seconds, written by the background worker from the shared queue.
SET migguard.tag = 'blocked_once';
CREATE INDEX accounts_email_blocked_idx ON aud.accounts (email);
RESET migguard.tag;
DO $$
DECLARE
    n int;
BEGIN
    FOR i IN 1 .. 40 LOOP
        SELECT count(*) INTO n FROM migguard.change_log
        WHERE tag = 'blocked_once' AND verdict = 'blocked';
        EXIT WHEN n > 0;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RAISE NOTICE 'blocked rows within 2 s: %', n;
END
$$;
SELECT command_tag, statement, verdict, lock_mode, jsonb_path_query_array(findings, '$[*].rule') AS rules
FROM migguard.blocked_attempts WHERE tag = 'blocked_once';

-- changes() selects by time range, user, application and tag.
SET application_name = 'aud_deploy';
SET migguard.tag = 'aud_0043';
CREATE TABLE aud.by_deploy (id int);
RESET migguard.tag;
RESET application_name;
SELECT command_tag, statement FROM migguard.changes(tag => 'aud_0043');
SELECT count(*) AS by_application FROM migguard.changes(application => 'aud_deploy');
SELECT count(*) > 0 AS by_user_and_today
FROM migguard.changes(since => now() - interval '1 day', user_name => current_user);
SELECT count(*) AS before_the_epoch FROM migguard.changes(until => '2000-01-01');

-- history() finds every change of one object.
SELECT command_tag, statement FROM migguard.history('aud.accounts') ORDER BY id;
SELECT count(*) FROM migguard.history(NULL);

-- Append-only: an ordinary role cannot write, change or empty the log, nor
-- read it; migguard_reader can read it; purge() is for superusers.
CREATE ROLE aud_user;
CREATE ROLE aud_reader IN ROLE migguard_reader;
SET ROLE aud_user;
SELECT count(*) FROM migguard.change_log;
INSERT INTO migguard.change_log (logged_at, pid, session_user_name, current_user_name, command_tag, statement, verdict)
VALUES (now(), 1, 'x', 'x', 'X', 'x', 'allowed');
UPDATE migguard.change_log SET statement = 'forged';
DELETE FROM migguard.change_log;
DELETE FROM migguard.change_log;
SELECT migguard.purge('0 days');
RESET ROLE;
SET ROLE aud_reader;
SELECT count(*) > 0 AS reader_sees_rows FROM migguard.change_log;
SELECT count(*) > 0 AS reader_sees_history FROM migguard.history('aud.accounts');
SELECT count(*) > 0 AS reader_sees_changes FROM migguard.changes();
UPDATE migguard.change_log SET statement = 'forged';
SELECT migguard.purge('0 days');
RESET ROLE;
SELECT migguard.purge(NULL);
SELECT migguard.purge('100 years') AS purged_nothing_recent;
SELECT migguard.purge('0 days') > 0 AS purged_everything_older_than_now;
SELECT count(*) AS rows_left FROM migguard.change_log WHERE logged_at < now();

DROP ROLE aud_user;
DROP ROLE aud_reader;
SET client_min_messages = error;
SET migguard.allow = 'drop_table';
DROP SCHEMA aud CASCADE;
RESET migguard.allow;
RESET client_min_messages;
