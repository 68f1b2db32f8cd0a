--
-- indexes_maintenance: drop_index, reindex, refresh_matview, vacuum_full,
-- set_tablespace.
--
-- Proves that
--   * drop_index is a warning by default: DROP INDEX on a large table warns
--     and runs; CONCURRENTLY and small tables are quiet; the index's table
--     is what is sized;
--   * reindex blocks REINDEX TABLE and REINDEX INDEX on a large table (the
--     index's table is sized), and both CONCURRENTLY spellings pass;
--   * refresh_matview blocks REFRESH MATERIALIZED VIEW of a large view;
--     CONCURRENTLY and WITH NO DATA pass;
--   * vacuum_full blocks VACUUM FULL, VACUUM (FULL) and every form of
--     CLUSTER on a large table; plain VACUUM and VACUUM (FULL false) pass;
--     statements that cannot run in a transaction are overridden with a
--     session-level SET;
--   * set_tablespace blocks ALTER TABLE/INDEX ... SET TABLESPACE of a large
--     table (an index is judged by its table's size), and a move to the
--     tablespace the relation is already in (a no-op) is not a finding.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA im;
SELECT make_table('im.big', 5000) AS big, make_table('im.small', 100) AS small;
CREATE INDEX CONCURRENTLY big_id ON im.big (id);
CREATE INDEX CONCURRENTLY big_payload ON im.big (payload);
CREATE INDEX CONCURRENTLY big_id_payload ON im.big (id, payload);
CREATE INDEX small_id ON im.small (id);

--
-- drop_index (warning by default)
--
-- Warns, names the table's size (not the index's), and runs.
DROP INDEX im.big_payload;
SELECT to_regclass('im.big_payload') AS big_payload;
-- Small table, CONCURRENTLY: quiet.
DROP INDEX im.small_id;
DROP INDEX CONCURRENTLY im.big_id_payload;
-- Raised to error by migguard.rules, it blocks.
SET migguard.rules = 'drop_index=error';
DROP INDEX im.big_id;
RESET migguard.rules;

--
-- reindex
--
REINDEX TABLE im.big;
-- REINDEX INDEX is judged by the size of the index's table.
REINDEX INDEX im.big_id;
-- Both spellings of CONCURRENTLY pass.
REINDEX TABLE CONCURRENTLY im.big;
REINDEX (CONCURRENTLY) INDEX im.big_id;
REINDEX TABLE im.small;

--
-- refresh_matview
--
CREATE MATERIALIZED VIEW im.big_mv WITH (autovacuum_enabled = off) AS
    SELECT id, payload FROM im.big;
SELECT pg_size_pretty(pg_table_size('im.big_mv')) AS big_mv;
REFRESH MATERIALIZED VIEW im.big_mv;
-- CONCURRENTLY needs a unique index, built concurrently, and then passes.
CREATE UNIQUE INDEX CONCURRENTLY big_mv_id ON im.big_mv (id);
REFRESH MATERIALIZED VIEW CONCURRENTLY im.big_mv;
-- WITH NO DATA empties the view instead of computing it: nothing to wait
-- for, so no finding.
REFRESH MATERIALIZED VIEW im.big_mv WITH NO DATA;
-- A small view is quiet.
CREATE MATERIALIZED VIEW im.small_mv AS SELECT id FROM im.small;
REFRESH MATERIALIZED VIEW im.small_mv;

--
-- vacuum_full: VACUUM FULL and CLUSTER rewrite the table.
--
VACUUM FULL im.big;
VACUUM (FULL, ANALYZE) im.big;
-- With several tables, the large one is named.
VACUUM FULL im.small, im.big;
VACUUM FULL im.small;
-- CLUSTER with an index, then without (it reuses the index marked
-- CLUSTER ON), then with no table at all (every table with such an index).
BEGIN;
CLUSTER im.big USING big_id;
ROLLBACK;
ALTER TABLE im.big CLUSTER ON big_id;
BEGIN;
CLUSTER im.big;
ROLLBACK;
CLUSTER;
-- A small table is quiet.
CREATE INDEX small_id ON im.small (id);
CLUSTER im.small USING small_id;
-- VACUUM FULL cannot run in a transaction block, so SET LOCAL cannot
-- accept it; a session-level SET can.
SET migguard.allow = 'vacuum_full';
VACUUM FULL im.big;
RESET migguard.allow;

--
-- set_tablespace
--
-- An in-place tablespace (a directory under pg_tblspc) needs no path.
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE regress_migguard_space LOCATION '';
RESET allow_in_place_tablespaces;
ALTER TABLE im.big SET TABLESPACE regress_migguard_space;
ALTER INDEX im.big_id SET TABLESPACE regress_migguard_space;
-- A small table moves without a finding.
ALTER TABLE im.small SET TABLESPACE regress_migguard_space;
-- Moving to where the relation already is does nothing: no finding, even
-- when every table counts as large.
SET migguard.large_table_size = 0;
ALTER TABLE im.big SET TABLESPACE pg_default;
ALTER INDEX im.big_id SET TABLESPACE pg_default;
ALTER TABLE im.small SET TABLESPACE regress_migguard_space;
-- ... while moving back is a real copy.
ALTER TABLE im.small SET TABLESPACE pg_default;
SET migguard.large_table_size = '64kB';

-- Plain VACUUM is the safe alternative to VACUUM FULL; it passes, however
-- it is spelt.
VACUUM im.big;
VACUUM (FULL false) im.big;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA im CASCADE;
DROP TABLESPACE regress_migguard_space;
RESET migguard.mode;
