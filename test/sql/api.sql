--
-- api: the SQL interface of migguard, checked with pgTAP.
--
-- Proves that migguard.rules()
--   * exists with the signature SPEC.md fixes: no arguments, returning
--     SETOF (rule, category, default_level, level, description), all text;
--   * lists the 27 rules of SPEC.md's Rules tables (1.0 and 1.1), each with its category
--     and default level, and a description;
--   * reports in "level" the levels migguard.rules sets for this session,
--     and the defaults again after RESET;
--   * works for an ordinary role, which sees the levels in effect.
-- The output is TAP: one "ok" line per assertion.
--
CREATE EXTENSION IF NOT EXISTS pgtap;
\pset format unaligned
\pset tuples_only on
BEGIN;
CREATE ROLE regress_migguard_api;
SELECT plan(16);

-- The function and its shape.
SELECT has_function('migguard', 'rules', '{}'::name[],
                    'migguard.rules() exists');
SELECT function_returns('migguard', 'rules', '{}'::name[], 'setof record',
                        'migguard.rules() returns a set of records');
SELECT results_eq(
    $$SELECT a.name::text COLLATE "default", format_type(a.type, NULL), a.mode::text
        FROM pg_proc p,
             unnest(p.proargnames, p.proallargtypes, p.proargmodes)
                 WITH ORDINALITY AS a(name, type, mode, n)
       WHERE p.oid = 'migguard.rules()'::regprocedure
       ORDER BY a.n$$,
    $$VALUES ('rule', 'text', 'o'), ('category', 'text', 'o'),
             ('default_level', 'text', 'o'), ('level', 'text', 'o'),
             ('description', 'text', 'o')$$,
    'migguard.rules() has the columns rule, category, default_level, level, description, all text');

-- The catalog.
SELECT is((SELECT count(*) FROM migguard.rules()), 27::bigint,
          'migguard.rules() lists 27 rules');
SELECT is((SELECT count(DISTINCT rule) FROM migguard.rules()), 27::bigint,
          'rule names are unique');
SELECT results_eq(
    'SELECT rule, category, default_level FROM migguard.rules()',
    $$VALUES ('create_index', 'locking', 'error'),
             ('drop_index', 'locking', 'warning'),
             ('reindex', 'locking', 'error'),
             ('add_column_rewrite', 'rewrite', 'error'),
             ('alter_column_type', 'rewrite', 'error'),
             ('table_rewrite', 'rewrite', 'error'),
             ('set_not_null', 'locking', 'error'),
             ('add_constraint_scan', 'locking', 'error'),
             ('add_unique_constraint', 'locking', 'error'),
             ('vacuum_full', 'rewrite', 'error'),
             ('refresh_matview', 'locking', 'error'),
             ('set_tablespace', 'rewrite', 'error'),
             ('attach_partition_scan', 'locking', 'warning'),
             ('detach_partition', 'locking', 'warning'),
             ('drop_table', 'destructive', 'error'),
             ('truncate', 'destructive', 'error'),
             ('drop_column', 'destructive', 'error'),
             ('rename_column', 'compatibility', 'error'),
             ('rename_table', 'compatibility', 'error'),
             ('add_column_not_null', 'compatibility', 'error'),
             ('lock_timeout', 'queue', 'warning'),
             ('strong_lock_held', 'queue', 'warning'),
             ('invalid_index', 'hygiene', 'warning'),
             ('not_null_without_default', 'compatibility', 'error'),
             ('dml_under_lock', 'queue', 'warning'),
             ('fk_without_index', 'hygiene', 'warning'),
             ('rename_enum_value', 'compatibility', 'error')$$,
    'each rule has the category and default level of SPEC.md, in its order');
SELECT is_empty(
    $$SELECT rule FROM migguard.rules()
       WHERE rule !~ '^[a-z]+(_[a-z]+)*$' OR coalesce(description, '') = ''$$,
    'every rule has a snake_case name and a description');
SELECT is_empty(
    $$SELECT rule FROM migguard.rules() WHERE level <> default_level$$,
    'with migguard.rules empty, every level is the default level');

-- Levels in effect follow migguard.rules.
SET migguard.rules = 'create_index=warning, drop_index=error, invalid_index=off';
SELECT results_eq(
    $$SELECT rule, level FROM migguard.rules() WHERE level <> default_level ORDER BY rule$$,
    $$VALUES ('create_index', 'warning'), ('drop_index', 'error'), ('invalid_index', 'off')$$,
    'level reflects SET migguard.rules');
SELECT is((SELECT default_level FROM migguard.rules() WHERE rule = 'create_index'),
          'error', 'default_level does not change with migguard.rules');
SELECT is_empty(
    $$SELECT level FROM migguard.rules() WHERE level NOT IN ('error', 'warning', 'off')$$,
    'levels are error, warning or off');

-- An ordinary role may read the catalog, with the levels in effect.
SET ROLE regress_migguard_api;
SELECT lives_ok('SELECT * FROM migguard.rules()',
                'an ordinary role can call migguard.rules()');
SELECT is((SELECT count(*) FROM migguard.rules()), 27::bigint,
          'an ordinary role sees every rule');
SELECT is((SELECT level FROM migguard.rules() WHERE rule = 'create_index'),
          'warning', 'an ordinary role sees the levels in effect');
RESET ROLE;

RESET migguard.rules;
SELECT is_empty(
    $$SELECT rule FROM migguard.rules() WHERE level <> default_level$$,
    'RESET migguard.rules brings back the default levels');
SELECT is((SELECT level FROM migguard.rules() WHERE rule = 'drop_index'),
          'warning', 'drop_index is back to warning');

SELECT * FROM finish();
ROLLBACK;
DROP EXTENSION pgtap;
