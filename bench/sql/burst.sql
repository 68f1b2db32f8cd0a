-- Workload 5: one session issues 50 statements migguard blocks (CREATE INDEX
-- without CONCURRENTLY on pgbench_accounts, ~130 MB, above
-- migguard.large_table_size), each caught (SQLSTATE MG001) so the session
-- carries on.  A statement that is NOT blocked is an error: it would make
-- the "rows lost" count meaningless.  bench/run sets :tag and :n.
SET migguard.tag = :'tag';
SET client_min_messages = error;
DO $$
DECLARE
	blocked int := 0;
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int LOOP
		BEGIN
			CREATE INDEX ON pgbench_accounts (bid);
			RAISE EXCEPTION 'bench: CREATE INDEX was not blocked';
		EXCEPTION WHEN SQLSTATE 'MG001' THEN
			blocked := blocked + 1;
		END;
	END LOOP;
END
$$;
