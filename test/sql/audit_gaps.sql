--
-- Recording gaps of the audit (issue 12 item 10).
--
-- Proves that EXPLAIN ANALYZE of CREATE TABLE AS, SELECT INTO and CREATE
-- MATERIALIZED VIEW, which create a relation without passing through
-- ProcessUtility, leave one row each, under the contained statement's tag,
-- with the new relation in objects as pg_event_trigger_ddl_commands()
-- would name it, while plain EXPLAIN (which creates nothing) leaves none;
-- that REFRESH MATERIALIZED VIEW [CONCURRENTLY] leaves one row, not one
-- more for each statement refresh_by_match_merge runs through SPI; and
-- that a blocked DROP SCHEMA ... CASCADE over many tables keeps as many
-- whole findings as fit in the worker's queue record, plus one element
-- that counts the others.
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA audg;
SET search_path = audg, public;
SET migguard.mode = 'warn';

CREATE FUNCTION audg.rows_since(mark bigint)
RETURNS TABLE (command_tag text, statement text, objects jsonb, verdict text)
LANGUAGE sql AS $$
    SELECT command_tag, statement, objects, verdict
    FROM migguard.change_log WHERE id > mark ORDER BY id
$$;
SELECT coalesce(max(id), 0) AS mark FROM migguard.change_log \gset

-- 1. EXPLAIN ANALYZE that creates a relation: one row each.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
CREATE TABLE audg.ctas AS SELECT 1 AS a;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT 1 AS a INTO audg.selinto;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
CREATE MATERIALIZED VIEW audg.mv_explained AS SELECT 1 AS a;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
CREATE TEMP TABLE tmp_ctas AS SELECT 1 AS a;
-- IF NOT EXISTS over an existing table creates nothing: a row, no object.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
CREATE TABLE IF NOT EXISTS audg.ctas AS SELECT 1 AS a;
-- Plain EXPLAIN, and ANALYZE off, create nothing and leave no row.
EXPLAIN (COSTS OFF) CREATE TABLE audg.not_created AS SELECT 1 AS a;
EXPLAIN (ANALYZE false, COSTS OFF) CREATE TABLE audg.not_created AS SELECT 1 AS a;
EXPLAIN (COSTS OFF) SELECT 1 AS a INTO audg.not_created;
SELECT to_regclass('audg.not_created') IS NULL AS not_created;
-- The same statements without EXPLAIN, for the shape of objects.
CREATE TABLE audg.ctas_plain AS SELECT 1 AS a;
SELECT command_tag, statement, objects FROM audg.rows_since(:mark);

-- 2. REFRESH MATERIALIZED VIEW: one row, CONCURRENTLY too, although
-- refresh_by_match_merge runs CREATE TEMP TABLE, ANALYZE and DROP TABLE
-- through SPI on the refresh's behalf.
CREATE TABLE audg.base (id int PRIMARY KEY);
INSERT INTO audg.base SELECT generate_series(1, 10);
CREATE MATERIALIZED VIEW audg.mv AS SELECT * FROM audg.base;
CREATE UNIQUE INDEX ON audg.mv (id);
SELECT coalesce(max(id), 0) AS mark FROM migguard.change_log \gset
REFRESH MATERIALIZED VIEW CONCURRENTLY audg.mv;
REFRESH MATERIALIZED VIEW audg.mv;
SELECT command_tag, statement, objects FROM audg.rows_since(:mark);

-- 3. A blocked DROP SCHEMA ... CASCADE over 60 non-empty tables: the
-- worker's row keeps whole findings up to the record's size and counts
-- the rest in a last element; the array still parses.
CREATE SCHEMA audg_many;
SELECT set_config('audg.mark', coalesce(max(id), 0)::text, false) AS mark
FROM migguard.change_log \gset
DO $$
BEGIN
    FOR i IN 1 .. 60 LOOP
        EXECUTE format('CREATE TABLE audg_many.t%s (a int)', i);
        EXECUTE format('INSERT INTO audg_many.t%s VALUES (1)', i);
    END LOOP;
END
$$;
SET migguard.mode = 'enforce';
SET migguard.large_table_size = 0;
SET migguard.tag = 'audg_many';
-- Which table the ERROR names first is not the point here.
DO $$
BEGIN
    DROP SCHEMA audg_many CASCADE;
EXCEPTION WHEN SQLSTATE 'MG001' THEN
    RAISE NOTICE 'DROP SCHEMA audg_many CASCADE blocked';
END
$$;
RESET migguard.tag;
RESET migguard.large_table_size;
SET migguard.mode = 'warn';
DO $$
BEGIN
    FOR i IN 1 .. 100 LOOP
        EXIT WHEN EXISTS (SELECT FROM migguard.change_log
                          WHERE tag = 'audg_many'
                            AND id > current_setting('audg.mark')::bigint);
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SELECT jsonb_array_length(findings) > 2 AS several_whole_findings,
       (SELECT bool_and(f->>'rule' = 'drop_table' AND f->>'relation' LIKE '%audg_many.t%')
        FROM jsonb_array_elements(findings) WITH ORDINALITY e(f, n)
        WHERE n < jsonb_array_length(findings)) AS whole_findings_name_tables,
       jsonb_array_length(findings) - 1 +
         substring(findings->-1->>'message' FROM '^\((\d+) more findings')::int AS findings_counted,
       findings->-1->>'message' LIKE '%the server log names them all)' AS last_says_so
FROM migguard.change_log WHERE tag = 'audg_many' AND id > :mark;

SET client_min_messages = error;
DROP TABLE tmp_ctas;
DROP SCHEMA audg CASCADE;
SET migguard.allow = 'drop_table';
DROP SCHEMA audg_many CASCADE;
RESET migguard.allow;
RESET client_min_messages;
RESET migguard.mode;
