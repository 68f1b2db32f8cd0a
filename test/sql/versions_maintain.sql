--
-- versions_maintain: PostgreSQL 17's MAINTAIN privilege and pg_maintain
-- role let a role that does not own a table VACUUM FULL, CLUSTER, REFRESH,
-- REINDEX and LOCK it; migguard judges those statements for such a role as
-- for the owner (permission before judgement: PostgreSQL's rule of the
-- running version decides who may run them at all).
--
-- Proves that, on 17 and later,
--   * a role granted MAINTAIN on a large table gets MG001 for VACUUM FULL,
--     CLUSTER, REINDEX TABLE and REFRESH MATERIALIZED VIEW;
--   * a member of pg_maintain gets the same;
--   * a role with neither gets PostgreSQL's own permission errors (LOCK
--     TABLE's too), never MG001.
-- On 15 (versions_maintain_1.out) GRANT MAINTAIN and pg_maintain do not
-- exist: PostgreSQL's own errors, and the role gets PostgreSQL's
-- permission errors as the third case.
--
SET migguard.mode = enforce;
SET migguard.large_table_size = 0;
SET migguard.rules = 'lock_timeout=off';
CREATE ROLE regress_mg_maintainer;
CREATE ROLE regress_mg_pgmaintain;
CREATE ROLE regress_mg_nobody;
SET migguard.mode = off;
CREATE SCHEMA mnt;
GRANT USAGE ON SCHEMA mnt TO PUBLIC;
CREATE TABLE mnt.big (id int PRIMARY KEY, note text);
INSERT INTO mnt.big SELECT g, 'x' FROM generate_series(1, 200) g;
ALTER TABLE mnt.big CLUSTER ON big_pkey;
CREATE MATERIALIZED VIEW mnt.mv AS SELECT id FROM mnt.big;
SET migguard.mode = enforce;

GRANT MAINTAIN ON mnt.big, mnt.mv TO regress_mg_maintainer;
GRANT pg_maintain TO regress_mg_pgmaintain;

\set VERBOSITY terse
SET ROLE regress_mg_maintainer;
VACUUM FULL mnt.big;
CLUSTER mnt.big;
REINDEX TABLE mnt.big;
REFRESH MATERIALIZED VIEW mnt.mv;
RESET ROLE;

SET ROLE regress_mg_pgmaintain;
VACUUM FULL mnt.big;
CLUSTER mnt.big;
REINDEX TABLE mnt.big;
REFRESH MATERIALIZED VIEW mnt.mv;
RESET ROLE;

SET ROLE regress_mg_nobody;
VACUUM FULL mnt.big;
CLUSTER mnt.big;
REINDEX TABLE mnt.big;
REFRESH MATERIALIZED VIEW mnt.mv;
BEGIN;
LOCK TABLE mnt.big IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
RESET ROLE;
\set VERBOSITY default

SET migguard.mode = off;
DROP SCHEMA mnt CASCADE;
DROP ROLE regress_mg_maintainer;
DROP ROLE regress_mg_pgmaintain;
DROP ROLE regress_mg_nobody;
