--
-- nesting: DDL is checked wherever it runs, and only where migguard can
-- decide.
--
-- Proves that
--   * DDL inside a DO block, a PL/pgSQL function (static and dynamic SQL),
--     a procedure and a SQL function is checked like top-level DDL, and
--     the block can catch the refusal by its SQLSTATE, MG001;
--   * in a multi-statement query string the right statement is blocked
--     and named in the hint by its own text, and the implicit transaction
--     rolls back the statements before it;
--   * DDL on a table the user may not change raises PostgreSQL's own
--     permission error, exactly as with migguard off;
--   * a database without CREATE EXTENSION migguard is guarded too.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA nest;
SELECT make_table('nest.big', 5000) AS big, make_table('nest.small', 100) AS small;

--
-- Functions, procedures, DO blocks.
--
DO $$
BEGIN
    CREATE INDEX big_id ON nest.big (id);
END
$$;
-- Dynamic SQL is checked too.
DO $$
BEGIN
    EXECUTE format('CREATE INDEX %I ON nest.big (%I)', 'big_payload', 'payload');
END
$$;
-- The refusal is an ordinary error with SQLSTATE MG001: code can catch it.
DO $$
BEGIN
    CREATE INDEX big_id ON nest.big (id);
EXCEPTION WHEN SQLSTATE 'MG001' THEN
    RAISE NOTICE 'migguard refused: %', SQLERRM;
END
$$;
CREATE FUNCTION nest.migrate() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE INDEX small_id ON nest.small (id);
    ALTER TABLE nest.big ALTER COLUMN id TYPE bigint;
END
$$;
SELECT nest.migrate();
-- The whole call rolled back: the first, harmless index is not there.
SELECT count(*) AS small_indexes FROM pg_indexes
 WHERE schemaname = 'nest' AND tablename = 'small';
CREATE PROCEDURE nest.cleanup() LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE nest.small;
END
$$;
CALL nest.cleanup();
CREATE FUNCTION nest.rename() RETURNS void LANGUAGE sql AS $$
    ALTER TABLE nest.small RENAME TO tiny;
$$;
SELECT nest.rename();

--
-- A multi-statement query string: one implicit transaction.  The hint
-- quotes the blocked statement alone.
--
CREATE TABLE nest.other (id int) \; CREATE INDEX big_payload ON nest.big (payload) \; CREATE INDEX other_id ON nest.other (id);
-- The table created by the first statement was rolled back with it.
SELECT to_regclass('nest.other') AS other;
SELECT 1 AS one \; /* a comment */ REINDEX TABLE nest.big \; SELECT 2 AS two;

--
-- Permissions: for a table the user may not change, PostgreSQL's own error
-- comes first, exactly as without migguard.
--
CREATE ROLE regress_migguard_stranger;
GRANT USAGE ON SCHEMA nest TO regress_migguard_stranger;
SET ROLE regress_migguard_stranger;
CREATE INDEX big_id ON nest.big (id);
ALTER TABLE nest.big ALTER COLUMN id TYPE bigint;
ALTER TABLE nest.big RENAME TO huge;
DROP TABLE nest.big;
TRUNCATE nest.big;
REINDEX TABLE nest.big;
VACUUM FULL nest.big;
CLUSTER nest.big;
RESET ROLE;
SET migguard.mode = off;
SET ROLE regress_migguard_stranger;
CREATE INDEX big_id ON nest.big (id);
ALTER TABLE nest.big ALTER COLUMN id TYPE bigint;
ALTER TABLE nest.big RENAME TO huge;
DROP TABLE nest.big;
TRUNCATE nest.big;
REINDEX TABLE nest.big;
VACUUM FULL nest.big;
CLUSTER nest.big;
RESET ROLE;
RESET migguard.mode;

--
-- A database where CREATE EXTENSION migguard was never run is guarded all
-- the same: the hook is in every backend.
--
SELECT current_database() AS home \gset
CREATE DATABASE regress_migguard_plain;
\c regress_migguard_plain
SELECT count(*) AS migguard_extensions FROM pg_extension WHERE extname = 'migguard';
SET migguard.large_table_size = '64kB';
CREATE TABLE big WITH (autovacuum_enabled = off) AS
    SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 5000) g;
\set VERBOSITY terse
CREATE INDEX big_id ON big (id);
TRUNCATE big;
\set VERBOSITY default
\c :home
DROP DATABASE regress_migguard_plain;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA nest CASCADE;
DROP ROLE regress_migguard_stranger;
RESET migguard.mode;
