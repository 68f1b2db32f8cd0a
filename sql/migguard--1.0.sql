/* migguard--1.0.sql: schema objects of migguard 1.0 */

\echo Use "CREATE EXTENSION migguard" to load this file. \quit

COMMENT ON SCHEMA migguard IS 'migguard: schema-change guard, rule catalog and audit log';

-- The rule catalog and the level each rule has in this session.
CREATE FUNCTION migguard.rules(
    OUT rule text,
    OUT category text,
    OUT default_level text,
    OUT level text,
    OUT description text)
RETURNS SETOF record
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'migguard_rules';

COMMENT ON FUNCTION migguard.rules() IS
'the rule catalog, with the level in effect for this session (migguard.rules applied)';

GRANT USAGE ON SCHEMA migguard TO PUBLIC;
GRANT EXECUTE ON FUNCTION migguard.rules() TO PUBLIC;

-- Lint a migration against the live catalog without executing it.
CREATE FUNCTION migguard.check(
    sql text,
    OUT statement_no int,
    OUT statement text,
    OUT rule text,
    OUT level text,
    OUT lock_mode text,
    OUT relation text,
    OUT table_size bigint,
    OUT message text,
    OUT hint text,
    OUT line int,
    OUT col int)
RETURNS SETOF record
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'migguard_check';

COMMENT ON FUNCTION migguard.check(text) IS
'findings of the guard''s rules for every statement of a migration, against the live catalog, without executing anything';

GRANT EXECUTE ON FUNCTION migguard.check(text) TO PUBLIC;
