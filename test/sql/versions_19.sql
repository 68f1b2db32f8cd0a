--
-- versions_19: DDL that PostgreSQL 19 changed (issue 14; its release notes,
-- README "Supported versions"), judged by the running server's rules.  On
-- 15, 17 and 18 (versions_19.out, _1.out, _2.out) PostgreSQL's own errors
-- are the expected output; 19 is versions_19_3.out.
--
-- Proves, on 19,
--   * REPACK (CONCURRENTLY) copies under SHARE UPDATE EXCLUSIVE and takes
--     ACCESS EXCLUSIVE only to swap the files: it runs without vacuum_full;
--     in a transaction block PostgreSQL's own error comes first;
--   * REPACK and VACUUM FULL (ACCESS EXCLUSIVE for the whole rewrite) stay
--     vacuum_full, and the hint names REPACK (CONCURRENTLY); REPACK alone
--     rewrites every table the user may maintain (get_tables_to_repack),
--     not only the clustered ones as CLUSTER alone; REPACK (CONCURRENTLY)
--     alone is PostgreSQL's error;
--   * SET EXPRESSION on a virtual column with CHECK constraints (refused
--     by 18, PostgreSQL's error there) checks every row against the
--     enforced CHECK constraints that read the column: add_constraint_scan;
--     with only constraints on other columns, or NOT ENFORCED ones, no
--     finding (no scan: pg_stat_user_tables.seq_scan, observed);
--   * ALTER CONSTRAINT ... ENFORCED on a NOT ENFORCED CHECK constraint
--     (new in 19) checks every row under ACCESS EXCLUSIVE:
--     add_constraint_scan, hint drop + ADD ... NOT VALID + VALIDATE; NOT
--     ENFORCED is a catalog change: no finding.
--
SET migguard.mode = off;
CREATE SCHEMA v19;
CREATE TABLE v19.t (a int PRIMARY KEY, b int);
INSERT INTO v19.t SELECT g, g FROM generate_series(1, 100) g;
ALTER TABLE v19.t ADD CONSTRAINT t_chk CHECK (b > 0) NOT ENFORCED;
SET migguard.mode = enforce;
SET migguard.large_table_size = 0;
SET migguard.rules = 'lock_timeout=off';

-- REPACK.
REPACK (CONCURRENTLY) v19.t;
BEGIN;
REPACK (CONCURRENTLY) v19.t;
ROLLBACK;
REPACK v19.t;
VACUUM FULL v19.t;
REPACK (CONCURRENTLY);
SET migguard.mode = off;
CREATE ROLE regress_v19_maint;
GRANT USAGE ON SCHEMA v19 TO regress_v19_maint;
GRANT MAINTAIN ON v19.t TO regress_v19_maint;
SET migguard.mode = enforce;
SET ROLE regress_v19_maint;
REPACK;
RESET ROLE;

-- SET EXPRESSION on a virtual column with CHECK constraints.
SET migguard.mode = off;
CREATE TABLE v19.vc (a int, b int CHECK (b > 0),
	v int GENERATED ALWAYS AS (a * 2) VIRTUAL CHECK (v > 0),
	w int GENERATED ALWAYS AS (a * 2) VIRTUAL CHECK (w > 0) NOT ENFORCED,
	x int GENERATED ALWAYS AS (a * 2) VIRTUAL);
SET migguard.mode = enforce;
ALTER TABLE v19.vc ALTER COLUMN v SET EXPRESSION AS (a * 3);
ALTER TABLE v19.vc ALTER COLUMN w SET EXPRESSION AS (a * 3);
ALTER TABLE v19.vc ALTER COLUMN x SET EXPRESSION AS (a * 3);

-- ALTER CONSTRAINT ... [NOT] ENFORCED on a CHECK constraint.
ALTER TABLE v19.t ALTER CONSTRAINT t_chk ENFORCED;
SET migguard.mode = off;
ALTER TABLE v19.t ALTER CONSTRAINT t_chk ENFORCED;
SET migguard.mode = enforce;
ALTER TABLE v19.t ALTER CONSTRAINT t_chk NOT ENFORCED;

SET migguard.mode = off;
DROP SCHEMA v19 CASCADE;
DROP ROLE regress_v19_maint;
