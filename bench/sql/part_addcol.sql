-- Workload 3: ALTER TABLE ... ADD COLUMN x int on the partitioned parent,
-- rolled back so the table never changes.  No size-gated rule judges it, so
-- since commit 0454abe migguard classifies and audits it without sizing
-- the partitions (before that it stat()ed every one).  :parent is set by
-- bench/run.
BEGIN;
ALTER TABLE :parent ADD COLUMN x int;
ROLLBACK;
