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
