--
-- arch_nesting: change_log.nesting is the real depth of a statement.
--
-- Proves that
--   * a top-level statement is at depth 0, one in a procedure, a DO block
--     or a function called by a top-level query at 1, one in a procedure
--     called from a procedure at 2, and one in a DO block run by a
--     function at 2;
--   * an error deep down (depth 3), caught by an exception block at depth
--     1, leaves the depth of that block right (1, not 3), and an error at
--     depth 2 that aborts the whole call leaves the next top-level
--     statement at 0 (the depth is put back in PG_FINALLY, as
--     pg_stat_statements does).
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA arch_nest;
CREATE TABLE arch_nest.mark (id bigint);
INSERT INTO arch_nest.mark SELECT coalesce(max(id), 0) FROM migguard.change_log;

CREATE PROCEDURE arch_nest.inner(name text) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE arch_nest.%I (id int)', name);
END
$$;
CREATE PROCEDURE arch_nest.outer(name text) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE arch_nest.%I (id int)', name || '_outer');
    CALL arch_nest.inner(name || '_inner');
END
$$;
CREATE FUNCTION arch_nest.make(name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE arch_nest.%I (id int)', name);
END
$$;
CREATE FUNCTION arch_nest.run_do() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DO 'BEGIN CREATE TABLE arch_nest.in_do_in_function (id int); END';
END
$$;
-- Fails inside its own DDL, two calls down: the table exists already.
CREATE PROCEDURE arch_nest.failing() LANGUAGE plpgsql AS $$
BEGIN
    CALL arch_nest.inner('top');
END
$$;

CREATE TABLE arch_nest.top (id int);
CALL arch_nest.inner('called');
CALL arch_nest.outer('twice');
SELECT arch_nest.make('from_select');
SELECT arch_nest.run_do();
DO $$
BEGIN
    CALL arch_nest.failing();
EXCEPTION WHEN duplicate_table THEN
    CREATE TABLE arch_nest.after_caught_error (id int);
END
$$;
-- An error at depth 2 that is not caught: the call is rolled back, and
-- what follows is at top level again.
CREATE TABLE arch_nest.late_inner (id int);
CALL arch_nest.outer('late');
CREATE TABLE arch_nest.after_error (id int);

SELECT statement, nesting FROM migguard.change_log
 WHERE id > (SELECT id FROM arch_nest.mark) AND statement LIKE 'CREATE TABLE arch_nest.%'
 ORDER BY id;

-- Clean up.
SET migguard.mode = off;
DROP SCHEMA arch_nest CASCADE;
RESET migguard.mode;
