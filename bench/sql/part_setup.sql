-- Workload 3 setup: part_N, hash-partitioned into :n partitions, two rows
-- per partition on average (every partition has files on disk).
\set ON_ERROR_STOP 1
SELECT format('part_%s', :n) AS parent \gset
CREATE TABLE :"parent" (id int NOT NULL, v int) PARTITION BY HASH (id);
SELECT format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
              :'parent' || '_' || r, :'parent', :n, r)
FROM generate_series(0, :n - 1) r
\gexec
INSERT INTO :"parent" SELECT g, g FROM generate_series(1, 2 * :n) g;
VACUUM ANALYZE :"parent";
