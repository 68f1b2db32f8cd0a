--
-- hints: every statement of every hint is one line of SQL that parses as
-- exactly one statement, whatever the names it quotes.
--
-- For hostile table and column names (quotes, a semicolon and a comment
-- marker, a newline, non-ASCII letters) the statements below make each
-- rule with a SQL hint fire through migguard.check().  Every statement of
-- every hint is then fed back to check() followed by a line that does not
-- parse: the first syntax_error is then statement 2 when the hint's
-- statement is one complete statement, 1 when it does not parse, and 3 or
-- more when a name escaped its quotes and smuggled in a second statement.
-- Statements with a placeholder the user must fill in (<type>, <bound>,
-- ...) are left out.
--
CREATE SCHEMA hs;
SET search_path = hs, public;
SET migguard.large_table_size = 0;
SET migguard.lock_timeout = 0;

CREATE TABLE hs.students (id int);

CREATE TABLE hs.names (name text PRIMARY KEY);
INSERT INTO hs.names VALUES
    ($$Robert'); DROP TABLE students;--$$),
    ('a"b'),
    (E'line\nbreak'),
    ('naïve ✓'),
    ('semi;colon');

CREATE FUNCTION hs.make(name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE hs.%I (id int NOT NULL, %I int NOT NULL, payload text)', name, name);
    EXECUTE format('INSERT INTO hs.%I SELECT g, g, md5(g::text) FROM generate_series(1, 100) g', name);
    EXECUTE format('CREATE INDEX %I ON hs.%I (payload)', name || '_idx', name);
    EXECUTE format('CREATE MATERIALIZED VIEW hs.%I AS SELECT 1 AS x', name || '_mv');
    EXECUTE format('CREATE TABLE hs.%I (id int NOT NULL) PARTITION BY RANGE (id)', name || '_parted');
    EXECUTE format('CREATE TABLE hs.%I PARTITION OF hs.%I FOR VALUES FROM (0) TO (10)', name || '_p0', name || '_parted');
    EXECUTE format('INSERT INTO hs.%I VALUES (1)', name || '_parted');
    EXECUTE format('CREATE TABLE hs.%I (id int NOT NULL)', name || '_p1');
    EXECUTE format('INSERT INTO hs.%I VALUES (15)', name || '_p1');
END $$;
SELECT hs.make(name) FROM hs.names;

-- One statement per rule that has a SQL hint, for a table named n.
CREATE FUNCTION hs.statements(n text) RETURNS SETOF text LANGUAGE sql AS $$
    VALUES
    (format('CREATE INDEX ON hs.%I (payload)', n)),
    (format('DROP INDEX hs.%I', n || '_idx')),
    (format('REINDEX TABLE hs.%I', n)),
    (format('ALTER TABLE hs.%I ADD COLUMN s serial', n)),
    (format('ALTER TABLE hs.%I ADD COLUMN i int GENERATED ALWAYS AS IDENTITY', n)),
    (format('ALTER TABLE hs.%I ADD COLUMN %I timestamptz DEFAULT clock_timestamp()', n, n || '_t')),
    (format('ALTER TABLE hs.%I ADD COLUMN %I int GENERATED ALWAYS AS (id * 2) STORED', n, n || '_g')),
    (format('ALTER TABLE hs.%I ALTER COLUMN %I TYPE bigint', n, n)),
    (format('ALTER TABLE hs.%I SET UNLOGGED', n)),
    (format('ALTER TABLE hs.%I ALTER COLUMN payload SET NOT NULL', n)),
    (format('ALTER TABLE hs.%I ADD CONSTRAINT %I UNIQUE (%I)', n, n || '_key', n)),
    (format('REFRESH MATERIALIZED VIEW hs.%I', n || '_mv')),
    (format('ALTER TABLE hs.%I ATTACH PARTITION hs.%I FOR VALUES FROM (10) TO (20)', n || '_parted', n || '_p1')),
    (format('ALTER TABLE hs.%I DETACH PARTITION hs.%I', n || '_parted', n || '_p0')),
    (format('DROP TABLE hs.%I', n)),
    (format('TRUNCATE hs.%I', n)),
    (format('ALTER TABLE hs.%I DROP COLUMN %I', n, n)),
    (format('ALTER TABLE hs.%I DROP COLUMN payload', n)),
    (format('ALTER TABLE hs.%I RENAME COLUMN %I TO %I', n, n, n || '_new')),
    (format('ALTER TABLE hs.%I RENAME TO %I', n, n || '_new')),
    (format('ALTER TABLE hs.%I SET SCHEMA public', n)),
    (format('ALTER TABLE hs.%I ADD COLUMN %I int NOT NULL', n, n || '_nn'))
$$;

-- How many statements a hint line holds (see the header).
CREATE FUNCTION hs.statements_in(line text) RETURNS int LANGUAGE sql AS $$
    SELECT min(statement_no) - 1
      FROM migguard.check(line || E'\nthis line does not parse')
     WHERE rule = 'syntax_error'
$$;

-- The statements of a hint, in order: its lines after the first (prose),
-- a line that does not end its statement joined to the next.  Only a
-- statement echoed from the user's own text, where the user wrote a
-- newline inside a quoted name, spans two lines; the names migguard
-- writes itself never do (U&"line\000Abreak").
CREATE FUNCTION hs.hint_statements(hint text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    pending text := NULL;
    first boolean := true;
BEGIN
    FOREACH line IN ARRAY regexp_split_to_array(hint, E'\n') LOOP
        IF first THEN
            first := false;
            CONTINUE;
        END IF;
        pending := CASE WHEN pending IS NULL THEN line ELSE pending || E'\n' || line END;
        IF line ~ ';\s*(--.*)?$' THEN
            RETURN NEXT pending;
            pending := NULL;
        END IF;
    END LOOP;
    IF pending IS NOT NULL THEN
        RETURN NEXT pending;
    END IF;
END $$;

CREATE TABLE hs.hint_lines AS
SELECT n.name, c.rule, l.line
  FROM hs.names n,
       hs.statements(n.name) s,
       migguard.check(s) c,
       hs.hint_statements(c.hint) AS l(line)
 WHERE c.rule <> 'lock_timeout'
   AND l.line !~ '<[a-z ]+>' AND l.line !~ '\.\.\.';   -- placeholders

-- Every rule with a SQL hint fired for every name.
SELECT rule, count(DISTINCT name) AS names, count(*) AS lines
  FROM hs.hint_lines GROUP BY rule ORDER BY rule;

-- Hint statements that are not exactly one statement: none.
SELECT name, rule, line, hs.statements_in(line) AS statements
  FROM hs.hint_lines
 WHERE hs.statements_in(line) IS DISTINCT FROM 1;

-- The hints name the objects quoted as SQL needs them.  One example per
-- kind of name, in full:
SELECT c.hint
  FROM migguard.check(format('ALTER TABLE hs.%I ADD COLUMN %I serial',
                             $$Robert'); DROP TABLE students;--$$, 'n')) c
 WHERE c.rule <> 'lock_timeout';
SELECT c.hint
  FROM migguard.check(format('ALTER TABLE hs.%I ALTER COLUMN payload SET NOT NULL', E'line\nbreak')) c
 WHERE c.rule <> 'lock_timeout';
SELECT c.hint
  FROM migguard.check(format('ALTER TABLE hs.%I RENAME TO %I', 'a"b', 'naïve ✓_new')) c
 WHERE c.rule <> 'lock_timeout';

-- Nothing ran.
SELECT count(*) AS students FROM hs.students;

SET migguard.mode = audit;
DROP SCHEMA hs CASCADE;
RESET migguard.mode;
RESET migguard.lock_timeout;
RESET migguard.large_table_size;
RESET search_path;
