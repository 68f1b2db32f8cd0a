--
-- check_memory: migguard.check() frees each statement's analysis before
-- the next, so its memory does not grow with the length of the script,
-- and it cuts the script only where statements end.
--
-- 40,000 CREATE INDEX statements (1.5 MB of script) are checked; the
-- backend's peak resident memory (VmHWM, read from /proc, Linux) may grow
-- by the script and a few copies of it, not by every statement's parse
-- tree and analysis (about 55 MB before each statement got a memory
-- context of its own, a few MB after).
--
CREATE SCHEMA cm;
CREATE TABLE cm.t (a int, b text);
CREATE FUNCTION cm.peak_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]::bigint
$$;
CREATE TABLE cm.script AS
SELECT string_agg(format('CREATE INDEX i%s ON cm.t (a, b);', g), E'\n') AS sql
  FROM generate_series(1, 40000) g;
SELECT cm.peak_kb() AS before_kb \gset
SELECT count(*) AS findings FROM cm.script, migguard.check(sql);
SELECT cm.peak_kb() - :before_kb < 30 * 1024 AS peak_grew_less_than_30mb;
-- The statements are all still judged: the last one too.
SET migguard.large_table_size = 0;
SELECT statement_no, rule, line
  FROM migguard.check((SELECT sql || E'\nCREATE INDEX ON cm.t (a);' FROM cm.script))
 WHERE rule = 'create_index' AND statement_no > 39999;
-- The script is cut only where statements end: not inside a CREATE RULE
-- with several actions, nor inside a BEGIN ATOMIC body (CASE ... END
-- nests), and a syntax error costs its own statement only.
SELECT statement_no, rule, line
  FROM migguard.check($$
CREATE RULE cm_rule AS ON INSERT TO cm.t DO ALSO (NOTIFY cm; NOTIFY cm2);
CREATE FUNCTION cm.f(x int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;
  SELECT x;
END;
CREAT TABLE oops (id int);
CREATE INDEX ON cm.t (b);
$$);
SET migguard.mode = audit;
DROP SCHEMA cm CASCADE;
RESET migguard.mode;
RESET migguard.large_table_size;
