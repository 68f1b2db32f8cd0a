--
-- constraints: set_not_null, add_constraint_scan, add_unique_constraint,
-- and statements with several findings.
--
-- Proves that
--   * SET NOT NULL on a large table is blocked, unless a validated
--     CHECK (col IS NOT NULL) proves it, which is exactly when PostgreSQL
--     skips its scan (shown by PostgreSQL's own DEBUG messages); a NOT VALID
--     check or a check that does not imply IS NOT NULL proves nothing; the
--     ADD ... NOT VALID / VALIDATE / SET NOT NULL recipe of the hint passes;
--   * ADD CHECK and ADD FOREIGN KEY without NOT VALID are blocked on a
--     large table, the foreign key judged by the referencing table; NOT
--     VALID and VALIDATE CONSTRAINT pass;
--   * ADD UNIQUE, PRIMARY KEY and EXCLUDE build an index under ACCESS
--     EXCLUSIVE and are blocked; inline ADD COLUMN ... UNIQUE too; USING
--     INDEX passes;
--   * ADD PRIMARY KEY on a nullable column also reports set_not_null (even
--     with USING INDEX);
--   * a statement with several findings raises one ERROR, for the first
--     blocking finding, whose detail lists every finding with its level;
--     non-blocking findings are WARNINGs.
--
\set VERBOSITY default
SET migguard.large_table_size = '64kB';
CREATE SCHEMA con;
SELECT make_table('con.big', 5000) AS big, make_table('con.small', 100) AS small;

-- The DEBUG lines below show PostgreSQL's own verdict; migguard's audit
-- event triggers are paused meanwhile, since DEBUG output names their OIDs.
ALTER EVENT TRIGGER migguard_ddl_command_end DISABLE;
ALTER EVENT TRIGGER migguard_sql_drop DISABLE;

--
-- set_not_null
--
-- (The column has no default, so not_null_without_default fires too; it is
-- off here and proven in hazards_not_null.)
SET migguard.rules = 'not_null_without_default=off';
ALTER TABLE con.big ALTER COLUMN id SET NOT NULL;
-- A small table passes.
ALTER TABLE con.small ALTER COLUMN id SET NOT NULL;
-- Neither a NOT VALID check nor a check that lets NULL through proves it.
ALTER TABLE con.big ADD CONSTRAINT big_id_not_null CHECK (id IS NOT NULL) NOT VALID;
ALTER TABLE con.big ALTER COLUMN id SET NOT NULL;
ALTER TABLE con.big DROP CONSTRAINT big_id_not_null;
-- CHECK (id > 0) is not false for NULL, so it proves nothing either:
-- overridden, the statement shows PostgreSQL scanning the table.
ALTER TABLE con.big ADD CONSTRAINT big_id_positive CHECK (id > 0) NOT VALID;
ALTER TABLE con.big VALIDATE CONSTRAINT big_id_positive;
ALTER TABLE con.big ALTER COLUMN id SET NOT NULL;
BEGIN;
SET LOCAL migguard.allow = 'set_not_null';
SET LOCAL client_min_messages = debug1;
ALTER TABLE con.big ALTER COLUMN id SET NOT NULL;
ROLLBACK;
-- The recipe: a validated CHECK (id IS NOT NULL) proves the column, and
-- PostgreSQL says it skips the scan.
ALTER TABLE con.big ADD CONSTRAINT big_id_not_null CHECK (id IS NOT NULL) NOT VALID;
ALTER TABLE con.big VALIDATE CONSTRAINT big_id_not_null;
SET client_min_messages = debug1;
ALTER TABLE con.big ALTER COLUMN id SET NOT NULL;
RESET client_min_messages;
ALTER EVENT TRIGGER migguard_ddl_command_end ENABLE;
ALTER EVENT TRIGGER migguard_sql_drop ENABLE;
ALTER TABLE con.big DROP CONSTRAINT big_id_not_null;
-- Already NOT NULL: nothing to do, nothing to say.
ALTER TABLE con.big ALTER COLUMN id SET NOT NULL;
ALTER TABLE con.big DROP CONSTRAINT big_id_positive;
RESET migguard.rules;

--
-- add_constraint_scan
--
ALTER TABLE con.big ADD CONSTRAINT big_payload_length CHECK (length(payload) = 32);
ALTER TABLE con.big ADD CHECK (id < 1000000);
ALTER TABLE con.big ADD CONSTRAINT big_payload_length CHECK (length(payload) = 32) NOT VALID;
ALTER TABLE con.big VALIDATE CONSTRAINT big_payload_length;
-- Foreign keys: the referencing table is scanned (and sized).
CREATE TABLE con.kinds (id int PRIMARY KEY);
INSERT INTO con.kinds SELECT g FROM generate_series(1, 5000) g;
ALTER TABLE con.big ADD CONSTRAINT big_kind FOREIGN KEY (id) REFERENCES con.kinds (id);
ALTER TABLE con.big ADD CONSTRAINT big_kind FOREIGN KEY (id) REFERENCES con.kinds (id) NOT VALID;
ALTER TABLE con.big VALIDATE CONSTRAINT big_kind;
-- A small table referencing a large one is quick to check.
CREATE UNIQUE INDEX CONCURRENTLY big_id_key ON con.big (id);
ALTER TABLE con.small ADD CONSTRAINT small_big FOREIGN KEY (id) REFERENCES con.big (id);

--
-- add_unique_constraint
--
ALTER TABLE con.big ADD CONSTRAINT big_payload_key UNIQUE (payload);
ALTER TABLE con.big ADD UNIQUE (payload);
ALTER TABLE con.big ADD CONSTRAINT big_id_excl EXCLUDE USING btree (id WITH =);
-- Inline in ADD COLUMN.
ALTER TABLE con.big ADD COLUMN code text UNIQUE;
-- The hint's recipe: build the index concurrently, then attach it.
CREATE UNIQUE INDEX CONCURRENTLY big_payload_key ON con.big (payload);
ALTER TABLE con.big ADD CONSTRAINT big_payload_key UNIQUE USING INDEX big_payload_key;
-- id is NOT NULL now: PRIMARY KEY USING INDEX passes too.
ALTER TABLE con.big ADD CONSTRAINT big_pkey PRIMARY KEY USING INDEX big_id_key;
SELECT conname, contype, convalidated FROM pg_constraint
 WHERE conrelid = 'con.big'::regclass ORDER BY conname;

--
-- PRIMARY KEY on a nullable column: two findings in one statement.  The
-- ERROR is the first blocking finding; the detail lists both.
--
SELECT make_table('con.orders', 5000) AS orders;
ALTER TABLE con.orders ADD PRIMARY KEY (id);
-- USING INDEX removes the index build, not the NOT NULL scan.
CREATE UNIQUE INDEX CONCURRENTLY orders_id_key ON con.orders (id);
ALTER TABLE con.orders ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_id_key;

-- Several findings of several rules, error and warning: every warning-level
-- finding is a WARNING, the ERROR is the first blocking one and its detail
-- lists them all.
ALTER TABLE con.orders
    DROP COLUMN payload,
    ADD CONSTRAINT orders_id_positive CHECK (id > 0),
    ALTER COLUMN id SET NOT NULL;
-- With the blocking ones made warnings, the statement runs with a WARNING
-- for each finding.
SET migguard.rules = 'add_constraint_scan=warning, set_not_null=warning, not_null_without_default=warning';
ALTER TABLE con.orders
    DROP COLUMN payload,
    ADD CONSTRAINT orders_id_positive CHECK (id > 0),
    ALTER COLUMN id SET NOT NULL;
RESET migguard.rules;

--
-- A table created in this transaction: nothing fires.
--
BEGIN;
SET LOCAL migguard.large_table_size = 0;
SELECT make_table('con.fresh', 5000) AS fresh;
ALTER TABLE con.fresh ADD PRIMARY KEY (id);
ALTER TABLE con.fresh ADD CHECK (id > 0), ADD UNIQUE (payload);
ALTER TABLE con.fresh ADD FOREIGN KEY (id) REFERENCES con.kinds (id);
ROLLBACK;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA con CASCADE;
RESET migguard.mode;
