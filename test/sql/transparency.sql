--
-- transparency: the analysis runs no user code and never stands in for
-- PostgreSQL's own error.
--
-- Proves that
--   * a partition bound is evaluated once, by PostgreSQL (nextval() gives 1);
--   * migguard.check() evaluates no bound, no USING expression and no CHECK
--     constraint that calls a function which is not PostgreSQL's own (each
--     user function here raises a NOTICE when it runs: no NOTICE, no run);
--   * PostgreSQL's partition-bound errors reach the client unchanged, with
--     their SQLSTATE and LINE cursor;
--   * statements PostgreSQL rejects itself get its error, not MG001, and
--     statements that do nothing are not blocked;
--   * lastval() after a recorded DDL statement is the session's own last
--     nextval(), for a role without rights on change_log's sequence too, and
--     is undefined after its sequence was dropped (the audit row's id does
--     not go through nextval()); change_log's ids still rise by one and its
--     identity sequence stays in step.
-- Every rule is an error here and every table is large, so any finding
-- migguard made would show as MG001.
--
\set VERBOSITY default
CREATE SCHEMA tr;
SET search_path = tr, public;
SET migguard.mode = enforce;
SET migguard.large_table_size = 0;
SET migguard.rules = 'attach_partition_scan=error, drop_index=error, detach_partition=error, lock_timeout=off';

-- Functions that announce every call.
CREATE FUNCTION tr.noisy(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RAISE NOTICE 'tr.noisy(%) ran', $1;
    RETURN $1;
END $$;
CREATE FUNCTION tr.noisy_bool(int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RAISE NOTICE 'tr.noisy_bool(%) ran', $1;
    RETURN true;
END $$;

-- A partition bound is PostgreSQL's to evaluate, once.
CREATE SEQUENCE tr.bound_seq;
CREATE TABLE tr.listed (a int) PARTITION BY LIST (a);
CREATE TABLE tr.listed_1 PARTITION OF tr.listed FOR VALUES IN (nextval('tr.bound_seq'));
SELECT pg_get_expr(relpartbound, oid) AS bound FROM pg_class WHERE oid = 'tr.listed_1'::regclass;
SELECT currval('tr.bound_seq');
-- The same in a script given to check(): nothing runs.
SELECT rule FROM migguard.check($$CREATE TABLE tr.listed_2 PARTITION OF tr.listed FOR VALUES IN (tr.noisy(2))$$);
SELECT rule FROM migguard.check($$CREATE TABLE tr.listed_3 PARTITION OF tr.listed FOR VALUES IN (nextval('tr.bound_seq'))$$);
SELECT currval('tr.bound_seq');

-- A literal bound is still proven: the CHECK of the table to attach
-- implies it, so no scan and no finding.
CREATE TABLE tr.ranged (a int NOT NULL) PARTITION BY RANGE (a);
CREATE TABLE tr.ranged_1 (a int NOT NULL CHECK (a >= 1 AND a < 10));
INSERT INTO tr.ranged_1 VALUES (5);
SELECT rule FROM migguard.check($$ALTER TABLE tr.ranged ATTACH PARTITION tr.ranged_1 FOR VALUES FROM (1) TO (10)$$);
-- ... and not proven by a table without one.
CREATE TABLE tr.ranged_2 (a int NOT NULL);
INSERT INTO tr.ranged_2 VALUES (15);
SELECT rule FROM migguard.check($$ALTER TABLE tr.ranged ATTACH PARTITION tr.ranged_2 FOR VALUES FROM (10) TO (20)$$);

-- A CHECK constraint that calls a user function is not folded: check()
-- runs nothing (and the proof falls back to the conservative answer).
CREATE TABLE tr.gadget (c int CHECK (tr.noisy_bool(1) AND c > 0));
INSERT INTO tr.gadget VALUES (1);
SELECT rule FROM migguard.check('ALTER TABLE tr.gadget ALTER c SET NOT NULL');
CREATE TABLE tr.gadget_part (a int NOT NULL CHECK (tr.noisy_bool(2) AND a >= 20 AND a < 30));
SELECT rule FROM migguard.check($$ALTER TABLE tr.ranged ATTACH PARTITION tr.gadget_part FOR VALUES FROM (20) TO (30)$$);
-- Nor a partition key expression (the relcache folds it when it builds
-- the key): PostgreSQL folds it when it creates the table, check() never.
CREATE TABLE tr.keyed (a int) PARTITION BY RANGE ((a + tr.noisy(7)));
SELECT rule FROM migguard.check($$CREATE TABLE tr.keyed_1 PARTITION OF tr.keyed FOR VALUES FROM (0) TO (10)$$);
-- A USING expression is not folded either.
SELECT rule FROM migguard.check('ALTER TABLE tr.gadget ALTER c TYPE bigint USING tr.noisy(c)');
SELECT rule FROM migguard.check('ALTER TABLE tr.gadget ALTER c TYPE bigint USING tr.noisy(1)');
-- In the hook, PostgreSQL's own SET NOT NULL folds the CHECK: one NOTICE,
-- not two.
SET migguard.mode = warn;
SET migguard.rules = 'set_not_null=off, not_null_without_default=off, lock_timeout=off';
ALTER TABLE tr.gadget ALTER c SET NOT NULL;
RESET migguard.rules;
SET migguard.rules = 'attach_partition_scan=error, drop_index=error, detach_partition=error, lock_timeout=off';
SET migguard.mode = enforce;

-- PostgreSQL's partition-bound errors, unchanged.
CREATE TABLE tr.empty_range PARTITION OF tr.ranged FOR VALUES FROM (1) TO (1);
CREATE TABLE tr.bad_value PARTITION OF tr.ranged FOR VALUES FROM ('x') TO (3);
CREATE TEMP TABLE temp_parent (a int) PARTITION BY LIST (a);
CREATE TABLE tr.of_temp PARTITION OF temp_parent FOR VALUES IN (1);
CREATE TABLE tr.wrong_columns (b int);
ALTER TABLE tr.ranged ATTACH PARTITION tr.wrong_columns FOR VALUES FROM (40) TO (50);
CREATE TABLE tr.missing_column ();
ALTER TABLE tr.ranged ATTACH PARTITION tr.missing_column FOR VALUES FROM (40) TO (50);
ALTER TABLE tr.ranged ATTACH PARTITION tr.ranged_2 FOR VALUES FROM (20) TO (10);

-- ALTER COLUMN TYPE and ADD COLUMN errors are PostgreSQL's, with cursor.
CREATE TABLE tr.plain (id int NOT NULL, name text, d date);
INSERT INTO tr.plain VALUES (1, 'one', '2024-01-01');
ALTER TABLE tr.plain ALTER name TYPE int USING no_such_column;
ALTER TABLE tr.plain ALTER name TYPE varchar(0);
ALTER TABLE tr.plain ADD COLUMN v varchar(0);
ALTER TABLE tr.plain ADD COLUMN w int DEFAULT (SELECT 1);
ALTER TABLE tr.plain ADD COLUMN w int DEFAULT 'abc';

-- RENAME COLUMN PostgreSQL refuses itself.
ALTER TABLE tr.plain RENAME COLUMN no_such TO other;
ALTER TABLE tr.plain RENAME COLUMN xmin TO other;
ALTER TABLE tr.plain RENAME COLUMN name TO id;
ALTER TABLE tr.plain DROP COLUMN d;
ALTER TABLE tr.plain RENAME COLUMN d TO other;
CREATE TABLE tr.inh_parent (a int, b int);
CREATE TABLE tr.inh_child () INHERITS (tr.inh_parent);
ALTER TABLE tr.inh_child RENAME COLUMN a TO z;
ALTER TABLE ONLY tr.inh_parent RENAME COLUMN a TO z;
CREATE TYPE tr.pair AS (x int, y int);
CREATE TABLE tr.typed OF tr.pair;
ALTER TABLE tr.typed RENAME COLUMN x TO z;

-- ADD COLUMN PostgreSQL refuses itself.
ALTER TABLE tr.typed ADD COLUMN z int NOT NULL;
ALTER TABLE tr.listed_1 ADD COLUMN z int NOT NULL;

-- DROP COLUMN PostgreSQL refuses itself.
ALTER TABLE tr.plain DROP COLUMN xmin;
ALTER TABLE tr.inh_child DROP COLUMN b;
ALTER TABLE tr.ranged DROP COLUMN a;
ALTER TABLE tr.typed DROP COLUMN y;

-- RENAME and SET SCHEMA PostgreSQL refuses itself.
ALTER TABLE tr.plain RENAME TO inh_parent;
ALTER TABLE tr.plain SET SCHEMA no_such_schema;

-- No-ops are not blocked.
ALTER TABLE tr.plain ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE tr.plain SET SCHEMA tr;
-- ADD COLUMN NOT NULL with an identity added in the same statement:
-- deployed inserts keep working (PostgreSQL's identity.sql does this).
CREATE TABLE tr.ident (f1 int);
ALTER TABLE tr.ident
  ADD COLUMN f2 int NOT NULL,
  ALTER COLUMN f2 ADD GENERATED ALWAYS AS IDENTITY;
-- NOT NULL is not enforced on a foreign table's rows.
CREATE FOREIGN DATA WRAPPER tr_fdw;
CREATE SERVER tr_server FOREIGN DATA WRAPPER tr_fdw;
CREATE FOREIGN TABLE tr.remote (a int) SERVER tr_server;
ALTER FOREIGN TABLE tr.remote ADD COLUMN b int NOT NULL;
ALTER FOREIGN TABLE tr.remote ALTER a SET NOT NULL;
-- Nor does a type change rewrite one; USING is PostgreSQL's error there,
-- and so are SET LOGGED and SET ACCESS METHOD.
ALTER FOREIGN TABLE tr.remote ALTER a TYPE bigint;
ALTER FOREIGN TABLE tr.remote ALTER a TYPE int USING a + 1;
ALTER TABLE tr.remote SET LOGGED;
ALTER TABLE tr.ranged SET UNLOGGED;
ALTER TABLE tr.remote SET ACCESS METHOD heap;

-- CREATE INDEX and ADD CONSTRAINT PostgreSQL refuses itself, and an
-- index that exists already (IF NOT EXISTS: nothing is built).
SET migguard.mode = audit;
CREATE INDEX plain_name_idx ON tr.plain (name);
ALTER TABLE tr.plain ADD PRIMARY KEY (id);
SET migguard.mode = enforce;
CREATE INDEX ON tr.plain (no_such);
CREATE INDEX plain_name_idx ON tr.plain (id);
CREATE INDEX IF NOT EXISTS plain_name_idx ON tr.plain (id);
ALTER TABLE tr.plain ADD CONSTRAINT plain_fk FOREIGN KEY (id) REFERENCES tr.no_such (id);
ALTER TABLE tr.plain ADD CONSTRAINT plain_key UNIQUE (no_such);
ALTER TABLE tr.plain ADD PRIMARY KEY (name);

-- DROP PostgreSQL refuses itself: dependents without CASCADE, a missing
-- table among others, an index a constraint needs.
CREATE VIEW tr.plain_view AS SELECT id, name FROM tr.plain;
DROP TABLE tr.plain;
DROP TABLE tr.inh_parent;
DROP TABLE tr.gadget, tr.no_such;
DROP INDEX tr.plain_pkey;

-- ALTER TABLE on a view, and a type change under a view.
ALTER TABLE tr.plain_view ADD COLUMN x int NOT NULL;
ALTER TABLE tr.plain ALTER name TYPE varchar(10);
ALTER TABLE tr.plain DROP COLUMN name;

-- Found in PostgreSQL's own regression suite (alter_table, inherit,
-- truncate, foreign_data): statements it rejects after migguard judged.
-- ADD COLUMN NOT NULL on a table with rows fails in PostgreSQL itself.
ALTER TABLE tr.plain ADD COLUMN nn int NOT NULL;
-- ... on an empty one it is migguard's to judge (deployed inserts fail).
ALTER TABLE tr.ident ADD COLUMN nn int NOT NULL;
-- One ADD COLUMN of a taken name fails the whole ALTER.
ALTER TABLE tr.plain ADD COLUMN name text, ADD COLUMN other int NOT NULL;
-- ONLY on a table with children.
ALTER TABLE ONLY tr.inh_parent ADD COLUMN c int NOT NULL;
ALTER TABLE ONLY tr.ranged DROP COLUMN a;
-- A system catalog.
ALTER TABLE pg_catalog.pg_class DROP COLUMN relname;
-- A column inherited from a second parent, renamed through the first.
CREATE TABLE tr.other_parent (b int);
CREATE TABLE tr.two_parents () INHERITS (tr.inh_parent, tr.other_parent);
ALTER TABLE tr.inh_parent RENAME COLUMN b TO bb;
-- The partition key of a sub-partition.
CREATE TABLE tr.multi (a int, b int) PARTITION BY RANGE (a);
CREATE TABLE tr.multi_1 PARTITION OF tr.multi FOR VALUES FROM (0) TO (10) PARTITION BY RANGE (b);
ALTER TABLE tr.multi DROP COLUMN b;
-- A sequence a column owns.
CREATE TABLE tr.serial_owner (id serial);
ALTER SEQUENCE tr.serial_owner_id_seq SET SCHEMA public;
-- TRUNCATE of a referenced table without CASCADE, and of ONLY a
-- partitioned table.
CREATE TABLE tr.referencing (id int REFERENCES tr.plain (id));
TRUNCATE tr.plain;
TRUNCATE ONLY tr.ranged;

-- CLUSTER PostgreSQL refuses itself.
CREATE TABLE tr.unclustered (id int);
CLUSTER tr.unclustered;
CLUSTER tr.plain USING no_such_index;

-- lastval() is the session's own, whatever change_log records.
SET migguard.mode = warn;
SELECT max(id) AS last_id FROM migguard.change_log \gset
CREATE SEQUENCE tr.lv_seq START 41;
SELECT nextval('tr.lv_seq');
CREATE TABLE tr.lv_t ();
SELECT lastval();
CREATE ROLE tr_lastval_user;
GRANT USAGE ON SCHEMA tr TO tr_lastval_user;
GRANT CREATE ON SCHEMA tr TO tr_lastval_user;
GRANT USAGE ON SEQUENCE tr.lv_seq TO tr_lastval_user;
SET ROLE tr_lastval_user;
SELECT nextval('tr.lv_seq');
CREATE TABLE tr.lv_t2 ();
SELECT lastval();
DROP TABLE tr.lv_t2;
RESET ROLE;
DROP SEQUENCE tr.lv_seq;
CREATE TABLE tr.lv_t3 ();
SELECT lastval();
SELECT count(*) > 0 AND max(id) - :last_id = count(*) AS ids_rise_by_one,
       pg_sequence_last_value(pg_get_serial_sequence('migguard.change_log', 'id')) = max(id) AS sequence_in_step
  FROM migguard.change_log WHERE id > :last_id;
REVOKE ALL ON SCHEMA tr FROM tr_lastval_user;
DROP ROLE tr_lastval_user;

SET migguard.mode = audit;
DROP SERVER tr_server CASCADE;
DROP FOREIGN DATA WRAPPER tr_fdw;
DROP SCHEMA tr CASCADE;
RESET migguard.rules;
RESET migguard.large_table_size;
RESET migguard.mode;
RESET search_path;
