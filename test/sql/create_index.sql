--
-- create_index: CREATE INDEX without CONCURRENTLY on a large table, and
-- invalid_index.
--
-- Proves that
--   * CREATE [UNIQUE] INDEX on a large table is blocked with SQLSTATE MG001,
--     naming the table and its size, the SHARE lock and what it blocks, and
--     a hint with the user's own statement made CONCURRENTLY;
--   * "large" means size >= migguard.large_table_size, exactly, where size
--     is heap plus TOAST, indexes excluded;
--   * a small table, a table created earlier in the same transaction and a
--     temporary table are never findings;
--   * CREATE INDEX CONCURRENTLY passes;
--   * a partitioned table is sized over all its partitions (each one small,
--     the sum large), and its hint is the ON ONLY + per-partition
--     CONCURRENTLY + ATTACH PARTITION recipe, which itself passes;
--   * invalid_index: CREATE INDEX [CONCURRENTLY] IF NOT EXISTS naming an
--     INVALID index warns (it would silently do nothing); a valid one does
--     not.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA ci;
SELECT make_table('ci.big', 5000) AS big, make_table('ci.small', 100) AS small;

-- A plain CREATE INDEX on a large table is blocked.
CREATE INDEX big_id ON ci.big (id);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- Nothing was built.
SELECT count(*) AS indexes FROM pg_indexes WHERE schemaname = 'ci';

-- UNIQUE, an unnamed index, lower case and an expression: the hint is the
-- user's own statement with CONCURRENTLY added in the right place.
CREATE UNIQUE INDEX big_id_key ON ci.big USING btree (id);
create index on ci.big (lower(payload)) where id > 10;

-- The threshold is inclusive: ci.big is exactly 368 kB.
SET migguard.large_table_size = '368kB';
CREATE INDEX big_id ON ci.big (id);
SET migguard.large_table_size = '369kB';
CREATE INDEX big_id ON ci.big (id);
DROP INDEX ci.big_id;
SET migguard.large_table_size = '64kB';

-- Size is pg_table_size: heap plus TOAST, indexes excluded.  ci.docs has a
-- tiny heap but a large TOAST table: it is large.
CREATE TABLE ci.docs (id int, body text) WITH (autovacuum_enabled = off);
ALTER TABLE ci.docs ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO ci.docs
    SELECT g, (SELECT string_agg(md5((g * 1000 + i)::text), '')
                 FROM generate_series(1, 100) i)
      FROM generate_series(1, 30) g;
SELECT pg_size_pretty(pg_relation_size('ci.docs')) AS heap,
       pg_size_pretty(pg_table_size('ci.docs')) AS heap_and_toast;
CREATE INDEX docs_id ON ci.docs (id);
-- ci.small has a small heap and indexes larger than the threshold: it is
-- small.
CREATE INDEX small_payload_1 ON ci.small (payload);
CREATE INDEX small_payload_2 ON ci.small (payload, id);
CREATE INDEX small_payload_3 ON ci.small (id, payload);
CREATE INDEX small_payload_4 ON ci.small (payload DESC);
SELECT pg_size_pretty(pg_table_size('ci.small')) AS heap_and_toast,
       pg_size_pretty(pg_indexes_size('ci.small')) AS indexes;
-- A small table is not a finding.
CREATE INDEX small_id ON ci.small (id);
-- ... unless large_table_size = 0, which makes every existing table large.
SET migguard.large_table_size = 0;
CREATE INDEX small_payload ON ci.small (payload);
SET migguard.large_table_size = '64kB';

-- A table created in the current transaction is invisible to everyone
-- else: indexing it is free, whatever its size, even when every existing
-- table counts as large.
SET migguard.large_table_size = 0;
BEGIN;
SELECT make_table('ci.fresh', 5000) AS fresh;
CREATE INDEX fresh_id ON ci.fresh (id);
COMMIT;
-- A temporary table is never a finding either.
CREATE TEMP TABLE scratch AS SELECT g AS id FROM generate_series(1, 20000) g;
CREATE INDEX scratch_id ON scratch (id);
SET migguard.large_table_size = '64kB';
-- Once committed, ci.fresh is an ordinary large table.
CREATE INDEX fresh_payload ON ci.fresh (payload);

-- The safe form passes.
CREATE INDEX CONCURRENTLY big_id ON ci.big (id);
CREATE UNIQUE INDEX CONCURRENTLY big_id_key ON ci.big (id);
SELECT indexname FROM pg_indexes WHERE schemaname = 'ci' ORDER BY 1;

--
-- invalid_index: a failed CREATE INDEX CONCURRENTLY leaves an INVALID index
-- behind, and IF NOT EXISTS would then skip it without a word.
--
CREATE TABLE ci.dups (v int);
INSERT INTO ci.dups VALUES (1), (1), (2);
CREATE UNIQUE INDEX CONCURRENTLY dups_v ON ci.dups (v);
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indrelid = 'ci.dups'::regclass;
-- The concurrent form warns (it is not blocked: invalid_index is a warning).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dups_v ON ci.dups (v);
-- So does the plain form, on this small table.
CREATE INDEX IF NOT EXISTS dups_v ON ci.dups (v);
-- The fix the hint gives works, and IF NOT EXISTS on a valid index is quiet.
DELETE FROM ci.dups WHERE v = 1;
DROP INDEX CONCURRENTLY ci.dups_v;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dups_v ON ci.dups (v);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dups_v ON ci.dups (v);
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
 WHERE indrelid = 'ci.dups'::regclass;

--
-- Partitioned tables: the size is summed over every partition, at every
-- level.  With large_table_size = 200kB each partition below is small
-- (72 kB), the first two together are not (144 kB), all three are.
--
SET migguard.large_table_size = '200kB';
CREATE TABLE ci.events (id int, payload text) PARTITION BY RANGE (id);
CREATE TABLE ci.events_1 PARTITION OF ci.events FOR VALUES FROM (0) TO (500)
    WITH (autovacuum_enabled = off);
CREATE TABLE ci.events_2 PARTITION OF ci.events FOR VALUES FROM (500) TO (1000)
    WITH (autovacuum_enabled = off);
CREATE TABLE ci.events_3 PARTITION OF ci.events FOR VALUES FROM (1000) TO (2000)
    PARTITION BY RANGE (id);
CREATE TABLE ci.events_3a PARTITION OF ci.events_3 FOR VALUES FROM (1000) TO (1500)
    WITH (autovacuum_enabled = off);
INSERT INTO ci.events SELECT g, md5(g::text) FROM generate_series(0, 1499) g;
SELECT c.relname, pg_size_pretty(pg_table_size(c.oid)) AS size
  FROM pg_partition_tree('ci.events') t JOIN pg_class c ON c.oid = t.relid
 WHERE t.isleaf ORDER BY 1;

-- Each partition alone is small ...
CREATE INDEX events_1_id ON ci.events_1 (id);
DROP INDEX ci.events_1_id;
-- ... the partitioned table is large, and CREATE INDEX CONCURRENTLY is not
-- allowed on it: the hint is the ON ONLY recipe.
CREATE INDEX events_id ON ci.events (id);
-- PostgreSQL's own answer to the obvious fix, untouched by migguard.
CREATE INDEX CONCURRENTLY events_id ON ci.events (id);
-- The recipe passes step by step: ON ONLY builds nothing ...
CREATE INDEX events_id ON ONLY ci.events (id);
-- ... each partition is indexed concurrently and attached.
CREATE INDEX CONCURRENTLY events_1_events_id ON ci.events_1 (id);
ALTER INDEX ci.events_id ATTACH PARTITION ci.events_1_events_id;
CREATE INDEX CONCURRENTLY events_2_events_id ON ci.events_2 (id);
ALTER INDEX ci.events_id ATTACH PARTITION ci.events_2_events_id;
CREATE INDEX events_3_events_id ON ONLY ci.events_3 (id);
CREATE INDEX CONCURRENTLY events_3a_events_id ON ci.events_3a (id);
ALTER INDEX ci.events_3_events_id ATTACH PARTITION ci.events_3a_events_id;
ALTER INDEX ci.events_id ATTACH PARTITION ci.events_3_events_id;
SELECT c.relname, i.indisvalid
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = 'ci'::regnamespace AND c.relname LIKE 'events%'
 ORDER BY 1;

SET migguard.large_table_size = '64kB';

-- Clean up (destructive rules are not what this file is about).
SET migguard.mode = off;
DROP SCHEMA ci CASCADE;
RESET migguard.mode;
