-- Workload 3: a statement migguard must size.  SET NOT NULL is judged by
-- the size-gated set_not_null rule, which needs heap + TOAST of every
-- partition (PostgreSQL itself scans every partition under lock), rolled
-- back.  bench/run raises migguard.large_table_size for these sessions so
-- the rule measures but does not block (the partitions total more than the
-- default 10MB from 1,000 partitions up).
BEGIN;
ALTER TABLE :parent ALTER COLUMN v SET NOT NULL;
ROLLBACK;
