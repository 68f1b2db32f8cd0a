-- Workload 3, control: a DDL statement on the same parent that no rule
-- checks (COMMENT ON TABLE); migguard classifies and audits it only.
BEGIN;
COMMENT ON TABLE :parent IS 'bench';
ROLLBACK;
