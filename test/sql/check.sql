--
-- migguard.check(): lint a migration without running it.
--
-- Proves that check() and the hook give the same findings for the same
-- statements and settings (one list drives both), that scripts are judged
-- statement by statement with positions, that tables created earlier in a
-- script count as new, that syntax errors cost one statement only, and that
-- check() executes nothing and takes no lock stronger than ACCESS SHARE.
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA chk;
SET search_path = chk, public;

CREATE TABLE chk.big (id bigint NOT NULL, email text, note text, ref bigint);
INSERT INTO chk.big SELECT g, 'u' || g || '@example.com', md5(g::text), g
  FROM generate_series(1, 5000) g;
CREATE TABLE chk.parent (id bigint PRIMARY KEY);
-- add_column_not_null judges empty tables (with rows PostgreSQL refuses).
CREATE TABLE chk.empty (id int);
INSERT INTO chk.parent SELECT g FROM generate_series(1, 5000) g;
CREATE INDEX big_note_idx ON chk.big (note);
CREATE MATERIALIZED VIEW chk.big_mv AS SELECT g AS id FROM generate_series(1, 5000) g;
SET migguard.large_table_size = '64kB';

-- The hook's findings for one statement: every rule is raised to error so
-- that every finding blocks, and the ERROR's detail lists them all.  A
-- statement that is not blocked is undone by raising an error of our own.
CREATE FUNCTION chk.hook_rules(sql text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    BEGIN
        EXECUTE sql;
        RAISE EXCEPTION 'undo';
    EXCEPTION
        WHEN SQLSTATE 'MG001' THEN
            GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
            RETURN ARRAY(SELECT DISTINCT m[1]
                         FROM regexp_matches(detail, '^Rule (\w+)', 'gn') AS m
                         ORDER BY 1);
        WHEN raise_exception THEN
            RETURN '{}';
    END;
END
$$;

CREATE FUNCTION chk.check_rules(sql text) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(DISTINCT rule ORDER BY rule), '{}')
    FROM migguard.check(sql)
$$;

SELECT set_config('migguard.rules', string_agg(rule || '=error', ', '), false) <> ''
  AS every_rule_is_an_error
FROM migguard.rules();

CREATE TABLE chk.statements (id serial, sql text);
INSERT INTO chk.statements (sql) VALUES
    ('CREATE INDEX big_email_idx ON chk.big (email)'),
    ('CREATE UNIQUE INDEX big_id_idx ON chk.big (id)'),
    ('DROP INDEX chk.big_note_idx'),
    ('REINDEX INDEX chk.big_note_idx'),
    ('REINDEX TABLE chk.big'),
    ('ALTER TABLE chk.big ADD COLUMN token float8 DEFAULT random()'),
    ('ALTER TABLE chk.big ADD COLUMN created timestamptz DEFAULT now()'),
    ('ALTER TABLE chk.big ADD COLUMN seq bigserial'),
    ('ALTER TABLE chk.empty ADD COLUMN flag int NOT NULL'),
    ('ALTER TABLE chk.big ADD COLUMN flag int NOT NULL DEFAULT 0'),
    ('ALTER TABLE chk.big ALTER COLUMN ref TYPE int'),
    ('ALTER TABLE chk.big ALTER COLUMN email TYPE text'),
    ('ALTER TABLE chk.big ALTER COLUMN email SET NOT NULL'),
    ('ALTER TABLE chk.big ADD CONSTRAINT big_ref_fk FOREIGN KEY (ref) REFERENCES chk.parent (id)'),
    ('ALTER TABLE chk.big ADD CONSTRAINT big_ref_fk FOREIGN KEY (ref) REFERENCES chk.parent (id) NOT VALID'),
    ('ALTER TABLE chk.big ADD CONSTRAINT big_id_positive CHECK (id > 0)'),
    ('ALTER TABLE chk.big ADD CONSTRAINT big_email_key UNIQUE (email)'),
    ('ALTER TABLE chk.big ADD PRIMARY KEY (id)'),
    ('VACUUM FULL chk.big'),
    ('CLUSTER chk.big USING big_note_idx'),
    ('REFRESH MATERIALIZED VIEW chk.big_mv'),
    ('ALTER TABLE chk.big SET TABLESPACE pg_default'),
    ('DROP TABLE chk.big'),
    ('TRUNCATE chk.big'),
    ('ALTER TABLE chk.big DROP COLUMN id'),
    ('ALTER TABLE chk.big DROP COLUMN note'),
    ('ALTER TABLE chk.big RENAME COLUMN email TO mail'),
    ('ALTER TABLE chk.big RENAME TO bigger'),
    ('ALTER TABLE chk.big SET SCHEMA public'),
    ('ALTER SCHEMA chk RENAME TO chk2');

-- VACUUM cannot run inside the test's function; it is compared below.
SELECT id, sql, chk.check_rules(sql) AS check_finds,
       CASE WHEN sql LIKE 'VACUUM%' THEN NULL ELSE chk.hook_rules(sql) END AS hook_finds
FROM chk.statements ORDER BY id;

SELECT count(*) AS statements_where_check_and_hook_differ
FROM chk.statements
WHERE sql NOT LIKE 'VACUUM%' AND chk.check_rules(sql) <> chk.hook_rules(sql);

-- VACUUM FULL at top level, blocked by the hook as check() predicts.
VACUUM FULL chk.big;
RESET migguard.rules;

-- Levels follow the session's settings.
SELECT rule, level FROM migguard.check('DROP INDEX chk.big_note_idx');
SET migguard.rules = 'drop_index=error';
SELECT rule, level FROM migguard.check('DROP INDEX chk.big_note_idx');
SET migguard.rules = 'drop_index=off';
SELECT count(*) AS findings_of_a_rule_turned_off
FROM migguard.check('DROP INDEX chk.big_note_idx');
RESET migguard.rules;

-- A script: positions are where each statement starts (after comments and
-- white space), a table created earlier in the script is new, and a syntax
-- error is reported for its own statement only.
SELECT statement_no, line, col, rule, level, lock_mode, relation, table_size > 0 AS sized, statement
FROM migguard.check($sql$-- 0042_accounts.sql
CREATE INDEX big_email_idx ON chk.big (email);

   CREATE TABLE chk.fresh (id int);  CREATE INDEX ON chk.fresh (id);
/* a typo */ CREAT TABLE oops (id int);
ALTER TABLE chk.empty
    ADD COLUMN flag int NOT NULL;
$sql$)
ORDER BY statement_no, rule;

-- The message and hint are the hook's own.
SELECT message, hint FROM migguard.check('CREATE INDEX big_email_idx ON chk.big (email)');

-- Empty input and comments only: no findings.  NULL is refused.
SELECT count(*) AS findings_in_empty_script FROM migguard.check('');
SELECT count(*) AS findings_in_comment_only FROM migguard.check('-- nothing here');
SELECT * FROM migguard.check(NULL);
-- An unterminated string: one syntax_error row.
SELECT statement_no, rule FROM migguard.check('CREATE INDEX ON chk.big (email); SELECT ''oops');

-- check() runs nothing: the table is still there with its rows, and the
-- table the script would create does not exist.
SELECT count(*) FROM migguard.check('DROP TABLE chk.big; CREATE TABLE chk.never (id int); TRUNCATE chk.parent');
SELECT count(*) AS rows_still_in_big FROM chk.big;
SELECT to_regclass('chk.never') AS never_created;

-- No lock stronger than ACCESS SHARE, even for statements whose
-- analysis opens the table (DROP and TRUNCATE probe for a live row).
BEGIN;
SELECT count(*) FROM migguard.check('DROP TABLE chk.big; TRUNCATE chk.parent; ALTER TABLE chk.big ALTER COLUMN email SET NOT NULL');
SELECT DISTINCT mode FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation'
  AND relation IN ('chk.big'::regclass, 'chk.parent'::regclass);
COMMIT;

-- A non-superuser may lint, as if they ran the statements: tables they do
-- not own give no findings (PostgreSQL would refuse the statement).
CREATE ROLE chk_linter;
GRANT USAGE ON SCHEMA chk TO chk_linter;
SET ROLE chk_linter;
SELECT count(*) AS findings_for_non_owner FROM migguard.check('CREATE INDEX ON chk.big (email)');
RESET ROLE;
ALTER TABLE chk.big OWNER TO chk_linter;
SET ROLE chk_linter;
SELECT rule FROM migguard.check('CREATE INDEX ON chk.big (email)');
RESET ROLE;

SET client_min_messages = error;
SET migguard.allow = 'drop_table, drop_index';
DROP SCHEMA chk CASCADE;
RESET migguard.allow;
RESET client_min_messages;
DROP ROLE chk_linter;
