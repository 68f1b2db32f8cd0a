--
-- destructive: drop_table, truncate, rename_table.
--
-- Proves that
--   * drop_table and truncate are not size-gated: they block any table that
--     holds at least one live row, and pass on an empty table (also one
--     emptied by DELETE), a table created in this transaction and a
--     temporary table;
--   * every table a statement would drop or empty is judged: each table of
--     a list, the partitions of a partitioned table, the tables of
--     DROP SCHEMA ... CASCADE, the inheritance children dropped by
--     DROP TABLE ... CASCADE, and the referencing tables emptied by
--     TRUNCATE ... CASCADE (TRUNCATE ONLY leaves children alone);
--   * rename_table (not size-gated) blocks RENAME TO and SET SCHEMA of a
--     table, view, materialized view or sequence, and ALTER SCHEMA ...
--     RENAME; renaming an index or an object created in this transaction
--     passes.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA des;
SELECT make_table('des.filled', 100) AS filled;
CREATE TABLE des.empty (id int);

--
-- drop_table
--
DROP TABLE des.filled;
DROP TABLE des.empty, des.filled;
DROP TABLE IF EXISTS des.missing, des.filled;
DROP TABLE des.empty;
-- Emptied by DELETE: no live row, so it may go (the probe does not count
-- dead rows).
SELECT make_table('des.emptied', 100) AS emptied;
DELETE FROM des.emptied;
DROP TABLE des.emptied;
-- Created in this transaction, or temporary: nobody else can have used it.
BEGIN;
SELECT make_table('des.fresh', 100) AS fresh;
DROP TABLE des.fresh;
COMMIT;
CREATE TEMP TABLE scratch AS SELECT 1 AS id;
DROP TABLE scratch;

-- A partitioned table is judged by its partitions.
CREATE TABLE des.events (id int) PARTITION BY RANGE (id);
CREATE TABLE des.events_1 PARTITION OF des.events FOR VALUES FROM (0) TO (10);
CREATE TABLE des.events_2 PARTITION OF des.events FOR VALUES FROM (10) TO (20);
INSERT INTO des.events VALUES (15);
DROP TABLE des.events;
DROP TABLE des.events_2;
DELETE FROM des.events;
DROP TABLE des.events;

-- DROP SCHEMA ... CASCADE drops every table in it.
CREATE SCHEMA des_old;
CREATE TABLE des_old.empty (id int);
CREATE TABLE des_old.kept (id int);
INSERT INTO des_old.kept VALUES (1);
DROP SCHEMA des_old CASCADE;
SELECT count(*) AS tables_left FROM pg_tables WHERE schemaname = 'des_old';
DELETE FROM des_old.kept;
DROP SCHEMA des_old CASCADE;

-- DROP TABLE ... CASCADE on an inheritance parent drops its children too.
CREATE TABLE des.base (id int);
CREATE TABLE des.child () INHERITS (des.base);
INSERT INTO des.child VALUES (1);
DROP TABLE des.base CASCADE;
SELECT count(*) AS tables_left FROM pg_tables
 WHERE schemaname = 'des' AND tablename IN ('base', 'child');

--
-- truncate
--
TRUNCATE des.filled;
TRUNCATE TABLE des.empty_too, des.filled;
CREATE TABLE des.empty_too (id int);
TRUNCATE des.empty_too;
BEGIN;
SELECT make_table('des.fresh', 100) AS fresh;
TRUNCATE des.fresh;
ROLLBACK;
-- TRUNCATE ... CASCADE empties every table that references the target:
-- customers is empty, but orders (whose customer_id is NULL) is not.
CREATE TABLE des.customers (id int PRIMARY KEY);
CREATE TABLE des.orders (id int, customer_id int REFERENCES des.customers);
INSERT INTO des.orders VALUES (1, NULL);
TRUNCATE des.customers CASCADE;
-- Without CASCADE, PostgreSQL refuses on its own.
TRUNCATE des.customers;
-- Inheritance: TRUNCATE empties the children, TRUNCATE ONLY does not.
TRUNCATE des.base;
TRUNCATE ONLY des.base;

--
-- rename_table: not size-gated, empty tables included.
--
ALTER TABLE des.empty_too RENAME TO empty_now;
ALTER TABLE des.empty_too SET SCHEMA public;
ALTER SCHEMA des RENAME TO destructive;
CREATE VIEW des.filled_view AS SELECT * FROM des.filled;
ALTER VIEW des.filled_view RENAME TO filled_v;
-- ALTER TABLE works on views too, and is judged the same way.
ALTER TABLE des.filled_view RENAME TO filled_v;
CREATE MATERIALIZED VIEW des.filled_mv AS SELECT * FROM des.filled;
ALTER MATERIALIZED VIEW des.filled_mv RENAME TO filled_m;
ALTER MATERIALIZED VIEW des.filled_mv SET SCHEMA public;
CREATE SEQUENCE des.ticket_seq;
ALTER SEQUENCE des.ticket_seq RENAME TO tickets_seq;
-- Renaming an index breaks no application code: no finding.
CREATE INDEX filled_id ON des.filled (id);
ALTER INDEX des.filled_id RENAME TO filled_id_idx;
-- Objects created in this transaction are free to rename.
BEGIN;
CREATE TABLE des.draft (id int);
ALTER TABLE des.draft RENAME TO final;
CREATE SCHEMA des_draft;
ALTER SCHEMA des_draft RENAME TO des_final;
ROLLBACK;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA des CASCADE;
RESET migguard.mode;
