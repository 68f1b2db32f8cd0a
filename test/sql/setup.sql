--
-- setup: what every other test file relies on.
--
-- The temporary instance preloads migguard (test/migguard.conf); this file
-- creates the extension and make_table(), which builds a table of a known
-- size so the expected output never depends on timing:
--   make_table('s.t', 5000) -> (id int, payload text), 5000 rows, 368 kB
--   make_table('s.t', 100)  -> the same shape, 100 rows, 16 kB
-- Autovacuum is off for these tables: a background VACUUM would add free
-- space and visibility map forks and change the size migguard reports.
--
CREATE EXTENSION migguard;

SELECT extname, extversion, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'migguard';

-- The library is preloaded, so every setting is registered.
SHOW migguard.mode;

CREATE FUNCTION make_table(name text, nrows int) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %s (id int, payload text) WITH (autovacuum_enabled = off)', name);
    EXECUTE format('INSERT INTO %s SELECT g, md5(g::text) FROM generate_series(1, %s) g', name, nrows);
    RETURN pg_size_pretty(pg_table_size(name::regclass));
END
$$;

-- The sizes the other files rely on (rolled back: nothing is left behind).
BEGIN;
SELECT make_table('setup_large', 5000) AS large, make_table('setup_small', 100) AS small;
ROLLBACK;
