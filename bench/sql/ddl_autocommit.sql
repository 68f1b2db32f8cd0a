-- Workload 2, autocommit variant: every statement is its own transaction,
-- so after CREATE TABLE commits the table is an existing (small, non-empty)
-- table and the compatibility rules fire.  The session runs with
-- migguard.allow = 'rename_column, drop_table' (PGOPTIONS, set by bench/run
-- for every cluster; a harmless placeholder without migguard), so RENAME
-- COLUMN and DROP TABLE pass as "overridden" with a WARNING to the client.
CREATE TABLE bench_ac_:client_id (id int PRIMARY KEY, a text);
INSERT INTO bench_ac_:client_id SELECT g, 'x' FROM generate_series(1, 100) g;
ALTER TABLE bench_ac_:client_id ADD COLUMN b int;
CREATE INDEX bench_ac_b_idx_:client_id ON bench_ac_:client_id (b);
COMMENT ON TABLE bench_ac_:client_id IS 'bench';
ALTER TABLE bench_ac_:client_id RENAME COLUMN a TO a2;
DROP TABLE bench_ac_:client_id;
