--
-- lock_queue: lock-queue protection as one session sees it (lockguard.c).
--
-- Proves that
--   * a statement that locks an existing table SHARE or stronger runs with
--     migguard.lock_timeout when the session's lock_timeout is 0 or larger,
--     and a lower session lock_timeout wins;
--   * the session's lock_timeout is back after the statement, whether it
--     succeeded or failed; every DDL statement gets the timeout, also on a
--     table created in this transaction;
--   * the statement itself never runs in a subtransaction: REINDEX and
--     CLUSTER of pg_class (a mapped catalog) and REINDEX of a partitioned
--     table or index work as in PostgreSQL, and LOCK TABLE outside a
--     transaction block fails at once with PostgreSQL's error even while
--     another transaction holds a conflicting lock;
--   * a statement that keeps hitting the timeout is retried, then fails with
--     PostgreSQL's SQLSTATE 55P03, a detail naming what blocks it and a hint
--     with the number of attempts; the rest of the transaction survives;
--   * the lock_timeout rule fires when no timeout at all is in effect, and
--     not otherwise;
--   * strong_lock_held fires for a later statement of a transaction that
--     took ACCESS EXCLUSIVE on a large table earlier, and not for a small
--     table, a table created in the transaction, a lock released by ROLLBACK
--     TO SAVEPOINT, or after commit; levels and overrides apply as for any
--     rule.
--
-- Conflicting locks come from a prepared transaction, which holds its locks
-- with no session: the test needs only one connection and no timing.
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA lq;
CREATE TABLE lq.big (id int, payload text) WITH (autovacuum_enabled = off);
INSERT INTO lq.big SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
CREATE TABLE lq.small (id int) WITH (autovacuum_enabled = off);
SET migguard.large_table_size = '100kB';

-- Reports the lock_timeout in effect while a statement runs: a STABLE
-- default is evaluated once, by ALTER TABLE itself.
CREATE FUNCTION lq.timeout_now() RETURNS text STABLE
LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'lock_timeout during the statement: %', current_setting('lock_timeout');
    RETURN current_setting('lock_timeout');
END
$$;
CREATE FUNCTION lq.fail() RETURNS text STABLE
LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'lock_timeout during the statement: %', current_setting('lock_timeout');
    RAISE EXCEPTION 'the statement fails';
END
$$;

--
-- The timeout
--
SHOW migguard.lock_timeout;
SHOW lock_timeout;
ALTER TABLE lq.small ADD COLUMN a text DEFAULT lq.timeout_now();
SHOW lock_timeout;
-- A session lock_timeout larger than migguard's is lowered for the statement.
SET lock_timeout = '1min';
ALTER TABLE lq.small ADD COLUMN b text DEFAULT lq.timeout_now();
SHOW lock_timeout;
-- A lower one wins and is left alone.
SET lock_timeout = '50ms';
ALTER TABLE lq.small ADD COLUMN c text DEFAULT lq.timeout_now();
SHOW lock_timeout;
RESET lock_timeout;
-- Restored after a failure, at top level and inside an exception block.
ALTER TABLE lq.small ADD COLUMN d text DEFAULT lq.fail();
SHOW lock_timeout;
DO $$
BEGIN
    ALTER TABLE lq.small ADD COLUMN d text DEFAULT lq.fail();
EXCEPTION WHEN raise_exception THEN
    RAISE NOTICE 'caught "%", lock_timeout is %', SQLERRM, current_setting('lock_timeout');
END
$$;
-- The timeout also for a table created in this transaction: every DDL
-- statement gets it.
BEGIN;
CREATE TABLE lq.fresh (id int);
ALTER TABLE lq.fresh ADD COLUMN a text DEFAULT lq.timeout_now();
ROLLBACK;
-- Nor in mode off.
SET migguard.mode = off;
ALTER TABLE lq.small ADD COLUMN e text DEFAULT lq.timeout_now();
RESET migguard.mode;

--
-- The statement runs as in PostgreSQL, never in a subtransaction
--
-- Changing the relation map is refused inside a subtransaction.
REINDEX TABLE pg_class;
CLUSTER pg_class USING pg_class_oid_index;
-- REINDEX of a partitioned table or index commits per partition.
CREATE TABLE lq.pt (v int) PARTITION BY LIST (v);
CREATE TABLE lq.pt1 PARTITION OF lq.pt FOR VALUES IN (1);
CREATE INDEX pt_v_idx ON lq.pt (v);
REINDEX TABLE lq.pt;
REINDEX INDEX lq.pt_v_idx;
-- LOCK TABLE outside a transaction block: PostgreSQL refuses it at once,
-- also when the lock is busy (no wait, no retry; statement_timeout would
-- end the wait).
BEGIN;
LOCK TABLE lq.small IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'lq_holder';
SET migguard.lock_retry_delay = '1h';
SET statement_timeout = '2s';
LOCK TABLE lq.small IN ACCESS EXCLUSIVE MODE;
RESET statement_timeout;
RESET migguard.lock_retry_delay;
COMMIT PREPARED 'lq_holder';

--
-- Retries, and the error when they run out
--
BEGIN;
LOCK TABLE lq.small IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'lq_holder';
SET migguard.lock_timeout = '20ms';
SET migguard.lock_retry_delay = '10ms';
SET migguard.lock_retries = 2;
ALTER TABLE lq.small ADD COLUMN f int;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SHOW lock_timeout;
-- The transaction goes on after a caught timeout: only the attempts were
-- rolled back.
BEGIN;
INSERT INTO lq.big VALUES (0, 'kept');
DO $$
BEGIN
    ALTER TABLE lq.small ADD COLUMN f int;
EXCEPTION WHEN lock_not_available THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
SELECT payload FROM lq.big WHERE id = 0;
COMMIT;
-- No retry: one attempt.
SET migguard.lock_retries = 0;
ALTER TABLE lq.small ADD COLUMN f int;
-- A weak lock does not conflict and is not protected.
ALTER TABLE lq.small SET (fillfactor = 80);
-- LOCK TABLE is protected too; NOWAIT does not queue and fails at once.
BEGIN;
LOCK TABLE lq.small IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE lq.small IN ACCESS EXCLUSIVE MODE NOWAIT;
ROLLBACK;
COMMIT PREPARED 'lq_holder';
-- So is the table a new foreign key references (SHARE ROW EXCLUSIVE, which
-- waits for writers).
ALTER TABLE lq.small ADD PRIMARY KEY (id);
BEGIN;
LOCK TABLE lq.small IN ROW EXCLUSIVE MODE;
PREPARE TRANSACTION 'lq_holder';
CREATE TABLE lq.child (small_id int REFERENCES lq.small);
COMMIT PREPARED 'lq_holder';
RESET migguard.lock_timeout;
RESET migguard.lock_retry_delay;
RESET migguard.lock_retries;

--
-- lock_timeout rule: no timeout in effect at all
--
SET migguard.lock_timeout = 0;
ALTER TABLE lq.small ADD COLUMN g int;
-- A table created in this transaction is nobody else's business.
BEGIN;
CREATE TABLE lq.fresh (id int);
ALTER TABLE lq.fresh ADD COLUMN a int;
ROLLBACK;
-- The session's own timeout is enough.
SET lock_timeout = '2s';
ALTER TABLE lq.small ADD COLUMN h int;
RESET lock_timeout;
RESET migguard.lock_timeout;
ALTER TABLE lq.small ADD COLUMN i int;

--
-- strong_lock_held
--
BEGIN;
ALTER TABLE lq.big ADD COLUMN s1 int;
ALTER TABLE lq.big ADD COLUMN s2 int;
ALTER TABLE lq.small ADD COLUMN s3 int;
COMMIT;
-- After commit the lock is gone.
ALTER TABLE lq.big ADD COLUMN s4 int;
-- LOCK TABLE counts as the earlier statement.
BEGIN;
LOCK TABLE lq.big IN ACCESS EXCLUSIVE MODE;
ALTER TABLE lq.small ADD COLUMN s5 int;
ROLLBACK;
-- Not for a small table.
BEGIN;
ALTER TABLE lq.small ADD COLUMN s6 int;
ALTER TABLE lq.small ADD COLUMN s7 int;
COMMIT;
-- Not for a table created in this transaction.
BEGIN;
CREATE TABLE lq.fresh AS SELECT * FROM lq.big;
ALTER TABLE lq.fresh ADD COLUMN x int;
ALTER TABLE lq.fresh ADD COLUMN y int;
ROLLBACK;
-- Not once ROLLBACK TO SAVEPOINT released the lock.
BEGIN;
SAVEPOINT before_big;
ALTER TABLE lq.big ADD COLUMN s8 int;
ROLLBACK TO before_big;
ALTER TABLE lq.small ADD COLUMN s9 int;
COMMIT;
-- Not for a weaker lock on the large table.
BEGIN;
ALTER TABLE lq.big SET (fillfactor = 90);
ALTER TABLE lq.small ADD COLUMN s10 int;
COMMIT;
-- Overridable and levelled like any rule.
BEGIN;
ALTER TABLE lq.big ADD COLUMN s11 int;
SET LOCAL migguard.allow = 'strong_lock_held';
ALTER TABLE lq.small ADD COLUMN s12 int;
ROLLBACK;
SET migguard.rules = 'strong_lock_held = error';
BEGIN;
ALTER TABLE lq.big ADD COLUMN s13 int;
ALTER TABLE lq.small ADD COLUMN s14 int;
ROLLBACK;
RESET migguard.rules;
SELECT rule, category, default_level, level FROM migguard.rules()
 WHERE category = 'queue' ORDER BY 1;

SET migguard.allow = 'drop_table';
SET client_min_messages = error;
DROP SCHEMA lq CASCADE;
