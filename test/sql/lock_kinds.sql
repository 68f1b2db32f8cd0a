--
-- lock_kinds: every lock a DDL statement takes waits at most
-- migguard.lock_timeout, the locks on other tables included (stmtkind.c).
--
-- Proves that, while another transaction holds a conflicting lock,
--   * the statements migguard did not look at before (CREATE [OR REPLACE |
--     CONSTRAINT] TRIGGER, DROP TRIGGER, CREATE/DROP RULE, CREATE/ALTER/DROP
--     POLICY, RENAME CONSTRAINT, CREATE OR REPLACE VIEW, DROP VIEW, ALTER
--     DOMAIN ... ADD CONSTRAINT / VALIDATE CONSTRAINT / SET NOT NULL on the
--     tables using the domain) fail with 55P03 after the timeout and its
--     retries instead of waiting;
--   * so do the statements that lock the other table of a foreign key, a
--     partition's parent, or the parent of a new partition, also where
--     migguard's own probe (emptiness of DROP TABLE, the USING analysis)
--     got its lock first;
--   * an ALTER DOMAIN that validates nothing (NOT VALID) is not held up;
--   * check() names each of these locks with its mode (the lock_timeout
--     rule when no timeout is in effect), and the change_log row of such a
--     statement has its lock_mode;
--   * change_log.rewrite is true where PostgreSQL replaced a table's storage
--     without a table_rewrite event (CLUSTER, REFRESH MATERIALIZED VIEW),
--     and false for REFRESH ... CONCURRENTLY, which updates in place.
--
-- Conflicting locks come from a prepared transaction (no second session);
-- statement_timeout ends a statement that would otherwise wait forever, so
-- each runs as a query of its own (\gexec).
--
CREATE EXTENSION IF NOT EXISTS migguard;
SET migguard.mode = audit;
CREATE SCHEMA lk;
CREATE TABLE lk.t (id int CONSTRAINT t_pkey PRIMARY KEY, v int);
CREATE VIEW lk.v AS SELECT id FROM lk.t;
CREATE FUNCTION lk.trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER tr_existing BEFORE INSERT ON lk.t FOR EACH ROW EXECUTE FUNCTION lk.trg();
CREATE RULE r_existing AS ON DELETE TO lk.t DO ALSO NOTHING;
CREATE POLICY pol_existing ON lk.t USING (true);
CREATE TABLE lk.p (id int PRIMARY KEY);
CREATE TABLE lk.c (id int, pid int CONSTRAINT c_pid_fkey REFERENCES lk.p);
INSERT INTO lk.p VALUES (1);
INSERT INTO lk.c VALUES (1, 1);
CREATE TABLE lk.pt (v int) PARTITION BY LIST (v);
CREATE TABLE lk.pt1 PARTITION OF lk.pt FOR VALUES IN (1);
CREATE INDEX pt_v_idx ON ONLY lk.pt (v);
CREATE INDEX pt1_v_idx ON lk.pt1 (v);
CREATE TABLE lk.pf (pid int REFERENCES lk.p) PARTITION BY LIST (pid);
CREATE TABLE lk.pf1 PARTITION OF lk.pf FOR VALUES IN (1);
CREATE SEQUENCE lk.s;
CREATE DOMAIN lk.posint AS int;
CREATE TABLE lk.d (x lk.posint);
ALTER DOMAIN lk.posint ADD CONSTRAINT nonneg CHECK (VALUE >= 0) NOT VALID;

-- How a statement ended: done, or its SQLSTATE and how often migguard tried.
CREATE FUNCTION lk.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN lock_not_available OR query_canceled THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || coalesce(', ' || substring(hint from 'tried the statement \d+ times?'), '');
END
$$;

SET migguard.lock_timeout = '20ms';
SET migguard.lock_retry_delay = '10ms';
SET migguard.lock_retries = 1;
SET statement_timeout = '3s';
\pset tuples_only on

--
-- Statements on a table others write to (ROW EXCLUSIVE, as INSERT takes)
--
BEGIN;
LOCK TABLE lk.t, lk.v, lk.d IN ROW EXCLUSIVE MODE;
PREPARE TRANSACTION 'lk_holder';
SELECT format('SELECT %L || '' -> '' || lk.try(%L)', sql, sql) FROM (VALUES
    ('CREATE TRIGGER tr BEFORE INSERT ON lk.t FOR EACH ROW EXECUTE FUNCTION lk.trg()'),
    ('CREATE OR REPLACE TRIGGER tr_existing BEFORE INSERT ON lk.t FOR EACH ROW EXECUTE FUNCTION lk.trg()'),
    ('CREATE CONSTRAINT TRIGGER ctr AFTER INSERT ON lk.t FOR EACH ROW EXECUTE FUNCTION lk.trg()'),
    ('DROP TRIGGER tr_existing ON lk.t'),
    ('CREATE RULE r AS ON UPDATE TO lk.t DO ALSO NOTHING'),
    ('DROP RULE r_existing ON lk.t'),
    ('CREATE POLICY pol ON lk.t USING (true)'),
    ('ALTER POLICY pol_existing ON lk.t USING (false)'),
    ('DROP POLICY pol_existing ON lk.t'),
    ('ALTER TABLE lk.t RENAME CONSTRAINT t_pkey TO t_pkey2'),
    ('CREATE OR REPLACE VIEW lk.v AS SELECT id FROM lk.t'),
    ('DROP VIEW lk.v'),
    ('ALTER DOMAIN lk.posint ADD CONSTRAINT pos CHECK (VALUE > 0)'),
    ('ALTER DOMAIN lk.posint VALIDATE CONSTRAINT nonneg'),
    ('ALTER DOMAIN lk.posint SET NOT NULL'),
    ('ALTER DOMAIN lk.posint ADD CONSTRAINT small CHECK (VALUE < 1000) NOT VALID')
) AS s(sql) \gexec
COMMIT PREPARED 'lk_holder';

--
-- The other table of a foreign key, and migguard's probes (a reader of p)
--
BEGIN;
LOCK TABLE lk.p IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'lk_holder';
SELECT format('SELECT %L || '' -> '' || lk.try(%L)', sql, sql) FROM (VALUES
    ('ALTER TABLE lk.c DROP CONSTRAINT c_pid_fkey'),
    ('ALTER TABLE lk.c DROP COLUMN pid'),
    ('ALTER TABLE lk.c ALTER pid TYPE bigint'),
    ('ALTER TABLE lk.c ALTER pid TYPE bigint USING pid::bigint'),
    ('DROP TABLE lk.c')
) AS s(sql) \gexec
COMMIT PREPARED 'lk_holder';
BEGIN;
LOCK TABLE lk.c IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'lk_holder';
SELECT format('SELECT %L || '' -> '' || lk.try(%L)', sql, sql) FROM (VALUES
    ('ALTER TABLE lk.p ALTER id TYPE bigint'),
    ('DROP TABLE lk.p CASCADE')
) AS s(sql) \gexec
COMMIT PREPARED 'lk_holder';

--
-- A partition's parent (a reader of the parent alone)
--
BEGIN;
LOCK TABLE ONLY lk.pt IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'lk_holder';
SELECT format('SELECT %L || '' -> '' || lk.try(%L)', sql, sql) FROM (VALUES
    ('CREATE TABLE lk.pt2 PARTITION OF lk.pt FOR VALUES IN (2)'),
    ('CREATE TABLE lk.ptd PARTITION OF lk.pt DEFAULT'),
    ('DROP TABLE lk.pt1')
) AS s(sql) \gexec
COMMIT PREPARED 'lk_holder';

\pset tuples_only off

--
-- Named by check() with their modes when no timeout is in effect; not the
-- table of a trigger DROP ... IF EXISTS does not find (PostgreSQL lets go
-- of it at once), nor the table a partition's inherited foreign key
-- references (it goes with the parent's).
--
SET migguard.lock_timeout = 0;
SELECT statement_no, rule, lock_mode, relation
  FROM migguard.check($$
    CREATE TRIGGER tr BEFORE INSERT ON lk.t FOR EACH ROW EXECUTE FUNCTION lk.trg();
    DROP TRIGGER tr_existing ON lk.t;
    CREATE RULE r AS ON UPDATE TO lk.t DO ALSO NOTHING;
    DROP POLICY pol_existing ON lk.t;
    ALTER TABLE lk.t RENAME CONSTRAINT t_pkey TO t_pkey2;
    DROP VIEW lk.v;
    ALTER DOMAIN lk.posint SET NOT NULL;
    ALTER TABLE lk.c DROP CONSTRAINT c_pid_fkey;
    CREATE TABLE lk.pt2 PARTITION OF lk.pt FOR VALUES IN (2);
    DROP TABLE lk.pt1;
    ALTER INDEX lk.pt_v_idx ATTACH PARTITION lk.pt1_v_idx;
    DROP TRIGGER IF EXISTS nosuch ON lk.t;
    DROP TABLE lk.pf1;
    ALTER SEQUENCE lk.s RESTART;
    DROP SEQUENCE lk.s;
    ALTER TABLE lk.pt ADD COLUMN w int;
    REINDEX TABLE lk.p;
    TRUNCATE lk.pt;
  $$)
 WHERE rule = 'lock_timeout'
 ORDER BY statement_no, relation;
RESET migguard.lock_timeout;

-- The change_log row of a new kind has its lock mode.
CREATE TRIGGER tr_logged BEFORE UPDATE ON lk.t FOR EACH ROW EXECUTE FUNCTION lk.trg();
SELECT statement, lock_mode FROM migguard.change_log
 WHERE statement LIKE 'CREATE TRIGGER tr_logged%';

-- Storage replaced, recorded as a rewrite.
CREATE INDEX t_v_idx ON lk.t (v);
CLUSTER lk.t USING t_v_idx;
CREATE MATERIALIZED VIEW lk.mv AS SELECT 1 AS one;
CREATE UNIQUE INDEX mv_one ON lk.mv (one);
REFRESH MATERIALIZED VIEW lk.mv;
REFRESH MATERIALIZED VIEW CONCURRENTLY lk.mv;
SELECT statement, rewrite FROM migguard.change_log
 WHERE statement LIKE 'CLUSTER lk.%' OR statement LIKE 'REFRESH MATERIALIZED VIEW%lk.mv'
 ORDER BY id;

-- CLUSTER of a partitioned table commits per partition: the override hint
-- of its block says SET ... RESET, not SET LOCAL (the kind table decides,
-- as for VACUUM FULL).
SET migguard.mode = enforce;
SET migguard.large_table_size = 0;
CREATE FUNCTION lk.override_hint(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'not blocked';
EXCEPTION WHEN SQLSTATE 'MG001' THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN substring(hint from 'run (SET (?:LOCAL )?migguard.allow)');
END
$$;
SELECT lk.override_hint('CLUSTER lk.t USING t_v_idx') AS transactional,
       lk.override_hint('CLUSTER lk.pt USING pt_v_idx') AS partitioned;
RESET migguard.large_table_size;
SET migguard.mode = audit;

RESET statement_timeout;
SET client_min_messages = error;
DROP SCHEMA lk CASCADE;
