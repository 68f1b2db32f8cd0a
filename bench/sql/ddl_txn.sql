-- Workload 2, per-transaction variant: one migration in one transaction.
-- The table is created in the same transaction, so for migguard it is new
-- and every rule exempts it (RENAME COLUMN and DROP TABLE included); each
-- statement is still classified, judged and recorded in change_log.
BEGIN;
CREATE TABLE bench_ddl_:client_id (id int PRIMARY KEY, a text);
ALTER TABLE bench_ddl_:client_id ADD COLUMN b int;
CREATE INDEX bench_ddl_b_idx_:client_id ON bench_ddl_:client_id (b);
COMMENT ON TABLE bench_ddl_:client_id IS 'bench';
ALTER TABLE bench_ddl_:client_id RENAME COLUMN a TO a2;
DROP TABLE bench_ddl_:client_id;
COMMIT;
