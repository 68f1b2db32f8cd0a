--
-- permissions: the hook judges only what PostgreSQL's own permission rule
-- for the statement lets the user do, and migguard.check() reads and locks
-- only what its caller could.
--
-- Proves that
--   * a database owner gets PostgreSQL's "must be owner" for CLUSTER,
--     CREATE INDEX, DROP TABLE and REINDEX of another role's table, and
--     its "permission denied" for TRUNCATE and LOCK TABLE, never MG001;
--     VACUUM FULL, which PostgreSQL 15 lets a database owner run, is
--     judged;
--   * check('TRUNCATE own_parent CASCADE') where a referencing table lies
--     in a schema the caller cannot use reports that PostgreSQL would
--     refuse the statement, names nothing there, and leaves no lock on it;
--     when the caller may truncate that table but not use its schema, the
--     finding does not name it or give its size; a partition there is
--     neither probed nor locked.
--
SET migguard.mode = audit;
SET migguard.large_table_size = 0;
SET migguard.rules = 'lock_timeout=off';
SELECT current_database() AS db \gset
CREATE ROLE regress_mg_dbowner;
CREATE ROLE regress_mg_other;
CREATE ROLE regress_mg_checker;

-- Another role's table, in a schema everyone may use.
CREATE SCHEMA perm AUTHORIZATION regress_mg_other;
GRANT USAGE ON SCHEMA perm TO PUBLIC;
SET ROLE regress_mg_other;
CREATE TABLE perm.other (id int NOT NULL, note text);
INSERT INTO perm.other SELECT g, 'x' FROM generate_series(1, 100) g;
CREATE INDEX other_idx ON perm.other (id);
CLUSTER perm.other USING other_idx;
RESET ROLE;
SET migguard.mode = enforce;

-- A database owner and another role's table.
ALTER DATABASE :"db" OWNER TO regress_mg_dbowner;
SET ROLE regress_mg_dbowner;
CLUSTER perm.other USING other_idx;
CLUSTER perm.other;
CREATE INDEX ON perm.other (note);
DROP TABLE perm.other;
REINDEX TABLE perm.other;
TRUNCATE perm.other;
BEGIN;
LOCK TABLE perm.other IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
-- VACUUM FULL is the database owner's right (vacuum_is_relation_owner).
VACUUM FULL perm.other;
RESET ROLE;
ALTER DATABASE :"db" OWNER TO CURRENT_USER;

-- check() and a schema its caller cannot use.
CREATE SCHEMA perm_own AUTHORIZATION regress_mg_checker;
CREATE SCHEMA perm_priv AUTHORIZATION regress_mg_other;
GRANT USAGE ON SCHEMA perm_own TO regress_mg_other;
SET migguard.mode = audit;
SET ROLE regress_mg_checker;
CREATE TABLE perm_own.parent (id int PRIMARY KEY);
INSERT INTO perm_own.parent SELECT g FROM generate_series(1, 100) g;
GRANT REFERENCES ON perm_own.parent TO regress_mg_other;
SET ROLE regress_mg_other;
CREATE TABLE perm_priv.child (parent_id int REFERENCES perm_own.parent);
INSERT INTO perm_priv.child SELECT g FROM generate_series(1, 100) g;
RESET ROLE;
SET migguard.mode = enforce;
SET ROLE regress_mg_checker;
-- No privilege on perm_priv.child: PostgreSQL refuses the TRUNCATE.
BEGIN;
SELECT rule, level, relation, table_size, message
  FROM migguard.check('TRUNCATE perm_own.parent CASCADE');
SELECT count(*) AS locks_on_child
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname = 'child';
COMMIT;
-- The hook: PostgreSQL's own error.
TRUNCATE perm_own.parent CASCADE;
-- The TRUNCATE privilege, but still no USAGE on perm_priv: PostgreSQL
-- would truncate the child too; check() says so without naming it.
SET ROLE regress_mg_other;
GRANT TRUNCATE ON perm_priv.child TO regress_mg_checker;
SET ROLE regress_mg_checker;
BEGIN;
SELECT rule, level, relation, table_size, message
  FROM migguard.check('TRUNCATE perm_own.parent CASCADE')
 ORDER BY relation;
SELECT count(*) AS locks_on_child
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname = 'child';
COMMIT;
-- A partition in that schema is not probed (nor locked) either: it counts
-- as holding rows.
RESET ROLE;
SET migguard.mode = audit;
CREATE TABLE perm_own.parted (id int) PARTITION BY RANGE (id);
ALTER TABLE perm_own.parted OWNER TO regress_mg_checker;
CREATE TABLE perm_priv.parted_1 PARTITION OF perm_own.parted FOR VALUES FROM (0) TO (10);
ALTER TABLE perm_priv.parted_1 OWNER TO regress_mg_other;
INSERT INTO perm_own.parted VALUES (1);
SET migguard.mode = enforce;
SET ROLE regress_mg_checker;
BEGIN;
SELECT rule, relation, message FROM migguard.check('TRUNCATE perm_own.parted');
SELECT count(*) AS locks_on_partition
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname = 'parted_1';
COMMIT;
RESET ROLE;

SET migguard.mode = audit;
DROP SCHEMA perm, perm_priv, perm_own CASCADE;
DROP ROLE regress_mg_dbowner;
DROP ROLE regress_mg_other;
DROP ROLE regress_mg_checker;
RESET migguard.rules;
RESET migguard.large_table_size;
RESET migguard.mode;
