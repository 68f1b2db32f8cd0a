--
-- versions_ddl: DDL forms of PostgreSQL 17 and 18, judged by the running
-- server's own rules (issue 14).  Each statement exists only on a newer
-- server: on 15 (versions_ddl.out) PostgreSQL's own syntax or lookup error
-- is the expected output; 17 is versions_ddl_1.out, 18 and 19
-- versions_ddl_2.out.
--
-- Proves, where the form exists,
--   * 18: a virtual generated column (GENERATED ALWAYS AS without STORED)
--     is added without MG001; a STORED one is a rewrite on every version;
--   * 17: SET EXPRESSION on a stored generated column is a rewrite; on 18
--     SET EXPRESSION on a virtual one is not, but on a virtual NOT NULL
--     column it checks every row (ATExecSetExpression: verify_new_notnull):
--     add_constraint_scan, hint DROP NOT NULL + SET EXPRESSION + NOT NULL
--     NOT VALID in one transaction, then VALIDATE CONSTRAINT;
--   * 18: NOT ENFORCED CHECK and FOREIGN KEY: no scan, and no
--     fk_without_index warning (no triggers look rows up); ALTER
--     CONSTRAINT ... ENFORCED validates the foreign key: a scan (MG001);
--   * 17: identity columns on partitioned tables (the partitions share the
--     parent's identity): ADD GENERATED ... AS IDENTITY on an existing
--     column is a catalog change (no rewrite, no finding); ADD COLUMN ...
--     GENERATED ALWAYS AS IDENTITY fills every partition's rows:
--     add_column_rewrite with the partitions' size; on a partition itself
--     PostgreSQL's own error (15 adds it: partitions had their own);
--   * 17: SET ACCESS METHOD DEFAULT on a table already of the default
--     access method does nothing, and SET ACCESS METHOD on a partitioned
--     table is a catalog change: no MG001 for either;
--   * 18: the set_not_null hint gives ADD CONSTRAINT ... NOT NULL ... NOT
--     VALID + VALIDATE CONSTRAINT (15 and 17: the CHECK recipe); ADD
--     CONSTRAINT ... NOT NULL ... NOT VALID passes, SET NOT NULL over such
--     a constraint validates it (a scan: MG001, hint VALIDATE CONSTRAINT),
--     and ADD CONSTRAINT ... NOT NULL without NOT VALID is a scan; ADD
--     CONSTRAINT ... NOT NULL (NOT VALID too) on a column without a default
--     is not_null_without_default.
--
SET migguard.mode = off;
CREATE SCHEMA nf;
CREATE TABLE nf.t (a int, b int);
INSERT INTO nf.t SELECT g, g FROM generate_series(1, 100) g;
CREATE TABLE nf.p (a int PRIMARY KEY);
INSERT INTO nf.p SELECT g FROM generate_series(1, 100) g;
CREATE TABLE nf.parted (a int) PARTITION BY RANGE (a);
CREATE TABLE nf.ip (a int NOT NULL, b int NOT NULL) PARTITION BY RANGE (a);
CREATE TABLE nf.ip1 PARTITION OF nf.ip FOR VALUES FROM (0) TO (1000);
INSERT INTO nf.ip SELECT g, g FROM generate_series(1, 100) g;
ALTER TABLE nf.t ADD COLUMN s int GENERATED ALWAYS AS (a * 2) STORED;
SET migguard.mode = enforce;
SET migguard.large_table_size = 0;
SET migguard.rules = 'lock_timeout=off, not_null_without_default=off';

-- Generated columns.
ALTER TABLE nf.t ADD COLUMN v int GENERATED ALWAYS AS (a * 2);
ALTER TABLE nf.t ADD COLUMN s2 int GENERATED ALWAYS AS (a * 2) STORED;
ALTER TABLE nf.t ALTER COLUMN s SET EXPRESSION AS (a * 3);
ALTER TABLE nf.t ALTER COLUMN v SET EXPRESSION AS (a * 3);
SET migguard.mode = off;
CREATE TABLE nf.vnn (a int, v int GENERATED ALWAYS AS (a * 2) NOT NULL);
SET migguard.mode = enforce;
ALTER TABLE nf.vnn ALTER COLUMN v SET EXPRESSION AS (a * 3);

-- NOT ENFORCED constraints.
ALTER TABLE nf.t ADD CONSTRAINT t_chk CHECK (a > 0) NOT ENFORCED;
ALTER TABLE nf.t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES nf.p NOT ENFORCED;
ALTER TABLE nf.t ALTER CONSTRAINT t_fk ENFORCED;

-- Identity columns on partitioned tables.
ALTER TABLE nf.ip ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY;
ALTER TABLE nf.ip ADD COLUMN c int GENERATED ALWAYS AS IDENTITY;
ALTER TABLE nf.ip1 ALTER COLUMN b ADD GENERATED ALWAYS AS IDENTITY;

-- Access methods.
ALTER TABLE nf.t SET ACCESS METHOD DEFAULT;
ALTER TABLE nf.parted SET ACCESS METHOD heap;

-- NOT NULL.
ALTER TABLE nf.t ALTER COLUMN b SET NOT NULL;
-- A NOT NULL constraint binds new rows even NOT VALID: deployed INSERTs
-- without b fail (not_null_without_default).
SET migguard.rules = 'lock_timeout=off';
ALTER TABLE nf.t ADD CONSTRAINT t_b_nn NOT NULL b NOT VALID;
SET migguard.rules = 'lock_timeout=off, not_null_without_default=off';
ALTER TABLE nf.t ADD CONSTRAINT t_b_nn NOT NULL b NOT VALID;
ALTER TABLE nf.t ALTER COLUMN b SET NOT NULL;
ALTER TABLE nf.t VALIDATE CONSTRAINT t_b_nn;
ALTER TABLE nf.t ALTER COLUMN b SET NOT NULL;
ALTER TABLE nf.t ADD CONSTRAINT t_a_nn NOT NULL a;

SET migguard.mode = off;
DROP SCHEMA nf CASCADE;
