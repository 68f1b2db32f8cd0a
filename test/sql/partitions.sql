--
-- partitions: attach_partition_scan and detach_partition.
--
-- Proves that
--   * ATTACH PARTITION of a large table warns (attach_partition_scan is a
--     warning by default) when no valid CHECK implies the partition bound,
--     and is quiet when one does: exactly when PostgreSQL itself scans or
--     skips the scan, as its own DEBUG messages show;
--   * the table being attached is what is sized;
--   * CREATE TABLE ... PARTITION OF and ATTACH PARTITION warn when they
--     would scan a large default partition, and are quiet once a valid
--     CHECK on the default partition excludes the new bound;
--   * DETACH PARTITION warns, sized by the parent (the sum of its
--     partitions), and DETACH PARTITION ... CONCURRENTLY is quiet.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA part;
CREATE TABLE part.measure (id int, payload text) PARTITION BY RANGE (id);
CREATE TABLE part.measure_1 PARTITION OF part.measure FOR VALUES FROM (0) TO (10000)
    WITH (autovacuum_enabled = off);
INSERT INTO part.measure SELECT g, md5(g::text) FROM generate_series(0, 4999) g;
-- A large table to attach, and a small one.
SELECT make_table('part.measure_2', 0) AS measure_2;
INSERT INTO part.measure_2 SELECT g, md5(g::text) FROM generate_series(10000, 14999) g;
SELECT make_table('part.measure_3', 0) AS measure_3;
INSERT INTO part.measure_3 SELECT g, md5(g::text) FROM generate_series(20000, 20099) g;
SELECT relname, pg_size_pretty(pg_table_size(oid)) AS size FROM pg_class
 WHERE relnamespace = 'part'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1;

-- The DEBUG lines below show PostgreSQL's own verdict; migguard's audit
-- event triggers are paused meanwhile, since DEBUG output names their OIDs.
ALTER EVENT TRIGGER migguard_ddl_command_end DISABLE;
ALTER EVENT TRIGGER migguard_sql_drop DISABLE;

--
-- attach_partition_scan
--
-- Without a valid constraint PostgreSQL scans the table under ACCESS
-- EXCLUSIVE: a NOT VALID constraint proves nothing.
ALTER TABLE part.measure_2 ADD CONSTRAINT measure_2_bound
    CHECK (id IS NOT NULL AND id >= 10000 AND id < 20000) NOT VALID;
BEGIN;
SET LOCAL client_min_messages = debug1;
ALTER TABLE part.measure ATTACH PARTITION part.measure_2 FOR VALUES FROM (10000) TO (20000);
ROLLBACK;
-- A valid CHECK that lets NULL through does not imply a range bound (which
-- excludes NULL): still a scan.
ALTER TABLE part.measure_2 ADD CONSTRAINT measure_2_range
    CHECK (id >= 10000 AND id < 20000) NOT VALID;
ALTER TABLE part.measure_2 VALIDATE CONSTRAINT measure_2_range;
BEGIN;
SET LOCAL client_min_messages = debug1;
ALTER TABLE part.measure ATTACH PARTITION part.measure_2 FOR VALUES FROM (10000) TO (20000);
ROLLBACK;
-- The hint's recipe: once the CHECK matching the bound is validated,
-- PostgreSQL skips the scan, and migguard says nothing.
ALTER TABLE part.measure_2 VALIDATE CONSTRAINT measure_2_bound;
SET client_min_messages = debug1;
ALTER TABLE part.measure ATTACH PARTITION part.measure_2 FOR VALUES FROM (10000) TO (20000);
RESET client_min_messages;
ALTER EVENT TRIGGER migguard_ddl_command_end ENABLE;
ALTER EVENT TRIGGER migguard_sql_drop ENABLE;
-- The attached table is what is sized: this one is small, and is attached
-- without a finding although it has no constraint at all.
ALTER TABLE part.measure ATTACH PARTITION part.measure_3 FOR VALUES FROM (20000) TO (30000);

--
-- detach_partition: sized by the parent.  With large_table_size = 500kB,
-- no partition is large (368 kB at most) but the parent is (752 kB).
--
SET migguard.large_table_size = '500kB';
BEGIN;
ALTER TABLE part.measure DETACH PARTITION part.measure_2;
ROLLBACK;
-- CONCURRENTLY (outside a transaction block) is quiet.
ALTER TABLE part.measure DETACH PARTITION part.measure_2 CONCURRENTLY;
SET migguard.large_table_size = '64kB';

--
-- A large default partition is scanned when a partition is added.
--
CREATE TABLE part.measure_default PARTITION OF part.measure DEFAULT
    WITH (autovacuum_enabled = off);
INSERT INTO part.measure SELECT g, md5(g::text) FROM generate_series(40000, 44999) g;
SELECT pg_size_pretty(pg_table_size('part.measure_default')) AS measure_default;
-- CREATE TABLE ... PARTITION OF: a warning about the default partition.
BEGIN;
CREATE TABLE part.measure_5 PARTITION OF part.measure FOR VALUES FROM (50000) TO (60000);
ROLLBACK;
-- ATTACH: measure_2 is proven by its constraint; the default partition is
-- not.
BEGIN;
ALTER TABLE part.measure ATTACH PARTITION part.measure_2 FOR VALUES FROM (10000) TO (20000);
ROLLBACK;
-- A validated CHECK on the default partition that excludes the new bound
-- removes the scan.
ALTER TABLE part.measure_default ADD CONSTRAINT measure_default_range
    CHECK (id >= 40000 AND id < 50000) NOT VALID;
ALTER TABLE part.measure_default VALIDATE CONSTRAINT measure_default_range;
CREATE TABLE part.measure_5 PARTITION OF part.measure FOR VALUES FROM (50000) TO (60000);
-- A new bound the CHECK does not exclude is scanned again.
BEGIN;
CREATE TABLE part.measure_4 PARTITION OF part.measure FOR VALUES FROM (45000) TO (46000);
ROLLBACK;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA part CASCADE;
RESET migguard.mode;
