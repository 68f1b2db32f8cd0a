--
-- columns: add_column_rewrite, add_column_not_null, alter_column_type,
-- drop_column, rename_column.
--
-- Proves that
--   * ADD COLUMN rewrites a large table, and is blocked, exactly when
--     PostgreSQL cannot use a fast default: a volatile default (random(),
--     gen_random_uuid(), clock_timestamp()), an identity, serial or
--     bigserial column, a STORED generated column, or a domain with a
--     CHECK.  DEFAULT now(), constants, constant expressions, a domain
--     without constraints and a plain nullable column pass;
--   * add_column_not_null (not size-gated) blocks ADD COLUMN ... NOT NULL
--     without a default even on a small or empty table; with a default it
--     passes;
--   * alter_column_type blocks type changes that rewrite the table
--     (int -> bigint, text -> varchar(5), varchar(10) -> varchar(5), a
--     USING that converts) or rebuild its indexes (a new collation), and passes
--     binary-coercible ones (varchar(n) -> varchar(m > n), varchar -> text,
--     numeric(10,2) -> numeric(12,2), timestamp -> timestamptz in UTC, a
--     USING that is such a cast);
--   * drop_column (not size-gated) is an error for a NOT NULL column
--     without a default and a warning otherwise;
--   * rename_column (not size-gated) blocks RENAME COLUMN;
--   * none of them fires on a table created in the same transaction, while
--     a table only rewritten in the same transaction is still judged.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA col;
SELECT make_table('col.big', 5000) AS big, make_table('col.small', 100) AS small;

--
-- add_column_rewrite
--
-- Volatile defaults are evaluated once per existing row: a rewrite.
ALTER TABLE col.big ADD COLUMN r float8 DEFAULT random();
ALTER TABLE col.big ADD COLUMN u uuid DEFAULT gen_random_uuid();
ALTER TABLE col.big ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();
-- Identity, serial and bigserial columns fill every row from a sequence.
ALTER TABLE col.big ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE col.big ADD COLUMN n serial;
ALTER TABLE col.big ADD COLUMN n bigserial;
-- A stored generated column is computed for every row.
ALTER TABLE col.big ADD COLUMN twice int GENERATED ALWAYS AS (id * 2) STORED;
-- A domain with a CHECK is checked against every row.
CREATE DOMAIN col.positive AS int CHECK (VALUE > 0);
ALTER TABLE col.big ADD COLUMN qty col.positive;
-- Nothing above ran.
SELECT count(*) AS columns FROM pg_attribute
 WHERE attrelid = 'col.big'::regclass AND attnum > 0 AND NOT attisdropped;

-- Fast defaults (stable or immutable), a plain nullable column and a domain
-- without constraints pass, and the table keeps its size: no rewrite.
CREATE DOMAIN col.label AS text;
ALTER TABLE col.big ADD COLUMN created_at timestamptz DEFAULT now();
ALTER TABLE col.big ADD COLUMN status text DEFAULT 'new';
ALTER TABLE col.big ADD COLUMN priority int DEFAULT 1 + 2;
ALTER TABLE col.big ADD COLUMN note text;
ALTER TABLE col.big ADD COLUMN tag col.label;
SELECT pg_size_pretty(pg_table_size('col.big')) AS big;
-- Several additions in one statement: the rewriting one is named.
ALTER TABLE col.big ADD COLUMN a text, ADD COLUMN b float8 DEFAULT random();
-- Small tables are rewritten quickly: no finding.
ALTER TABLE col.small ADD COLUMN r float8 DEFAULT random();

--
-- add_column_not_null: not size-gated.  Deployed code that inserts without
-- the new column fails.  On a non-empty table PostgreSQL rejects the
-- statement itself, and its error is the one shown.
--
ALTER TABLE col.small ADD COLUMN must int NOT NULL;
CREATE TABLE col.empty (id int);
ALTER TABLE col.empty ADD COLUMN must int NOT NULL;
-- With a default it passes (a fast default, even on a large table).
ALTER TABLE col.small ADD COLUMN must int NOT NULL DEFAULT 0;
ALTER TABLE col.big ADD COLUMN must int NOT NULL DEFAULT 0;

--
-- alter_column_type
--
CREATE TABLE col.typed (id int, code varchar(10), name varchar(10),
                        amount numeric(10,2), body text)
    WITH (autovacuum_enabled = off);
INSERT INTO col.typed
    SELECT g, left(md5(g::text), 10), left(md5(g::text), 10), g, md5(g::text)
      FROM generate_series(1, 5000) g;
CREATE INDEX CONCURRENTLY typed_body ON col.typed (body);
SELECT pg_size_pretty(pg_table_size('col.typed')) AS typed;
-- Rewrites.
ALTER TABLE col.typed ALTER COLUMN id TYPE bigint;
ALTER TABLE col.typed ALTER COLUMN body TYPE varchar(5);
ALTER TABLE col.typed ALTER COLUMN code TYPE varchar(5);
ALTER TABLE col.typed ALTER COLUMN id TYPE text USING id::text;
-- No rewrite, but the index on the column is rebuilt.
ALTER TABLE col.typed ALTER COLUMN body TYPE text COLLATE "C";
-- timestamp -> timestamptz rewrites unless the session time zone is UTC,
-- as PostgreSQL decides.
ALTER TABLE col.typed ADD COLUMN seen timestamp;
SET TimeZone = 'America/New_York';
ALTER TABLE col.typed ALTER COLUMN seen TYPE timestamptz;
-- Binary-coercible changes pass, and PostgreSQL indeed does not rewrite:
-- the table keeps its files.
SELECT pg_relation_filenode('col.typed') AS filenode_before \gset
SET TimeZone = 'UTC';
ALTER TABLE col.typed ALTER COLUMN seen TYPE timestamptz;
RESET TimeZone;
ALTER TABLE col.typed ALTER COLUMN code TYPE varchar(20);
-- A USING clause that is only a binary-coercible cast of the column (as
-- ORMs and hand-written migrations often add) does not rewrite either.
ALTER TABLE col.typed ALTER COLUMN name TYPE varchar(15) USING name::varchar(15);
ALTER TABLE col.typed ALTER COLUMN name TYPE text;
ALTER TABLE col.typed ALTER COLUMN amount TYPE numeric(12,2);
ALTER TABLE col.typed ALTER COLUMN id TYPE int;
SELECT pg_relation_filenode('col.typed') = :filenode_before AS same_files;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'col.typed'::regclass AND attnum > 0 ORDER BY attnum;

--
-- drop_column: not size-gated.
--
CREATE TABLE col.people (id int, email text NOT NULL, nickname text,
                         status text NOT NULL DEFAULT 'active');
INSERT INTO col.people VALUES (1, 'a@example.com', NULL, DEFAULT);
-- NOT NULL without a default: deployed inserts still name it. An error.
ALTER TABLE col.people DROP COLUMN email;
-- Nullable, or with a default: a warning, and the column is dropped.
ALTER TABLE col.people DROP COLUMN nickname;
ALTER TABLE col.people DROP COLUMN IF EXISTS status;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'col.people'::regclass AND attnum > 0 AND NOT attisdropped
 ORDER BY attnum;
-- The hint's order works: make it nullable first, then drop (with a warning).
ALTER TABLE col.people ALTER COLUMN email DROP NOT NULL;
ALTER TABLE col.people DROP COLUMN email;

--
-- rename_column: not size-gated.
--
ALTER TABLE col.people RENAME COLUMN id TO person_id;
ALTER TABLE col.people RENAME id TO person_id;

--
-- A table created in this transaction: everything above passes.
--
BEGIN;
SET LOCAL migguard.large_table_size = 0;
SELECT make_table('col.fresh', 5000) AS fresh;
ALTER TABLE col.fresh ADD COLUMN r float8 DEFAULT random();
ALTER TABLE col.fresh ALTER COLUMN id TYPE bigint;
ALTER TABLE col.fresh ALTER COLUMN payload SET NOT NULL;
ALTER TABLE col.fresh DROP COLUMN payload;
ALTER TABLE col.fresh RENAME COLUMN id TO fresh_id;
CREATE TABLE col.fresh_empty (id int);
ALTER TABLE col.fresh_empty ADD COLUMN must int NOT NULL;
ROLLBACK;

-- A table merely rewritten in this transaction is not new: other sessions
-- still use it, and later statements are judged as usual.  (The lock the
-- rewrite holds is strong_lock_held's business, not this file's: off.)
BEGIN;
SET LOCAL migguard.rules = 'strong_lock_held=off';
SET LOCAL migguard.allow = 'add_column_rewrite';
ALTER TABLE col.big ADD COLUMN r float8 DEFAULT random();
ALTER TABLE col.big ALTER COLUMN id TYPE bigint;
ROLLBACK;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA col CASCADE;
RESET migguard.mode;
