--
-- sql_api: migguard's SQL interface as SPEC.md fixes it, checked with pgTAP
-- (scripts/test.sh suite "pgtap": pg_prove, database migguard_pgtap, run
-- as a superuser, with the extensions pgtap and migguard created).
--
-- Proves that
--   * every function of SPEC.md exists with its arguments and result type;
--   * change_log and the views have the columns SPEC.md names;
--   * the functions that run as their owner (SECURITY DEFINER) and the
--     audit readers run with search_path = pg_catalog, pg_temp;
--   * who may run what: purge() and stats_reset() are not PUBLIC, reading
--     goes through migguard_reader, and nobody but a superuser can change
--     change_log or approved_findings;
--   * NULL and malformed arguments get an error with a SQLSTATE and change
--     nothing.
-- Everything runs in one transaction that is rolled back.
--
BEGIN;
SELECT plan(65);

-- ----------------------------------------------------------------------
-- Functions: name, arguments, result
-- ----------------------------------------------------------------------
SELECT has_function('migguard', 'check', ARRAY['text'], 'migguard.check(sql text) exists');
SELECT function_returns('migguard', 'check', ARRAY['text'], 'setof record',
                        'check() returns a set of records');
SELECT has_function('migguard', 'rules', '{}'::name[], 'migguard.rules() exists');
SELECT has_function('migguard', 'history', ARRAY['text'], 'migguard.history(object text) exists');
SELECT function_returns('migguard', 'history', ARRAY['text'], 'setof migguard.change_log',
                        'history() returns change_log rows');
SELECT has_function('migguard', 'changes',
                    ARRAY['timestamp with time zone', 'timestamp with time zone', 'name', 'text', 'text'],
                    'migguard.changes(since, until, user_name, application, tag) exists');
SELECT has_function('migguard', 'purge', ARRAY['interval'], 'migguard.purge(older_than interval) exists');
SELECT function_returns('migguard', 'purge', ARRAY['interval'], 'bigint', 'purge() returns bigint');
SELECT has_function('migguard', 'approve',
                    ARRAY['text', 'regclass', 'text', 'timestamp with time zone'],
                    'migguard.approve(rule, relation, reason, expires) exists');
SELECT function_returns('migguard', 'approve',
                        ARRAY['text', 'regclass', 'text', 'timestamp with time zone'], 'bigint',
                        'approve() returns the approval id');
SELECT has_function('migguard', 'revoke_approval', ARRAY['bigint'],
                    'migguard.revoke_approval(id bigint) exists');
SELECT has_function('migguard', 'verify_log', '{}'::name[], 'migguard.verify_log() exists');
SELECT function_returns('migguard', 'verify_log', '{}'::name[], 'bigint',
                        'verify_log() returns bigint');
SELECT has_function('migguard', 'stats_reset', '{}'::name[], 'migguard.stats_reset() exists');

-- check()'s output columns, in SPEC.md's order (line and col follow).
SELECT results_eq(
    $$SELECT a.name::text COLLATE "default"
        FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(name, mode, n)
       WHERE p.oid = 'migguard.check(text)'::regprocedure AND a.mode = 'o'
       ORDER BY a.n$$,
    $$VALUES ('statement_no'), ('statement'), ('rule'), ('level'), ('lock_mode'), ('relation'),
             ('table_size'), ('message'), ('hint'), ('line'), ('col')$$,
    'check() returns the columns of SPEC.md, then line and col');

-- ----------------------------------------------------------------------
-- Tables and views: the columns users query
-- ----------------------------------------------------------------------
SELECT has_table('migguard', 'change_log', 'migguard.change_log exists');
SELECT columns_are('migguard', 'change_log',
    ARRAY['id', 'logged_at', 'xid', 'pid', 'session_user_name', 'current_user_name',
          'application_name', 'client_addr', 'command_tag', 'objects', 'statement', 'lock_mode',
          'table_size', 'rewrite', 'verdict', 'findings', 'tag', 'nesting', 'attempts',
          'lock_wait_ms', 'reason', 'approval_id', 'prev_xid', 'prev_hash', 'row_hash'],
    'change_log has the columns of SPEC.md and of 1.1');
SELECT col_type_is('migguard', 'change_log', 'xid', 'xid8', 'change_log.xid is xid8');
SELECT col_type_is('migguard', 'change_log', 'objects', 'jsonb', 'change_log.objects is jsonb');
SELECT col_type_is('migguard', 'change_log', 'findings', 'jsonb', 'change_log.findings is jsonb');
SELECT col_type_is('migguard', 'change_log', 'row_hash', 'bytea', 'change_log.row_hash is bytea');
SELECT has_view('migguard', 'blocked_attempts', 'migguard.blocked_attempts exists');
SELECT has_view('migguard', 'overrides', 'migguard.overrides exists');
SELECT has_view('migguard', 'approvals', 'migguard.approvals exists');
SELECT has_view('migguard', 'stats', 'migguard.stats exists');
SELECT columns_are('migguard', 'stats',
    ARRAY['database', 'rule', 'judged', 'allowed', 'warned', 'overridden', 'blocked',
          'lock_timeouts', 'retries', 'retries_succeeded', 'lock_wait_ms',
          'longest_strong_lock_hold_ms'],
    'stats has the counters of SPEC.md');

-- ----------------------------------------------------------------------
-- Code that runs as another role: pinned search_path
-- ----------------------------------------------------------------------
SELECT is_definer('migguard', 'on_ddl_command_end', '{}'::name[],
                  'on_ddl_command_end() is SECURITY DEFINER');
SELECT is_definer('migguard', 'on_sql_drop', '{}'::name[], 'on_sql_drop() is SECURITY DEFINER');
SELECT is_definer('migguard', 'on_table_rewrite', '{}'::name[],
                  'on_table_rewrite() is SECURITY DEFINER');
SELECT is_definer('migguard', 'approve', ARRAY['text', 'regclass', 'text', 'timestamp with time zone'],
                  'approve() is SECURITY DEFINER');
SELECT is_definer('migguard', 'revoke_approval', ARRAY['bigint'],
                  'revoke_approval() is SECURITY DEFINER');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text
        FROM pg_proc p
       WHERE p.pronamespace = 'migguard'::regnamespace
         AND p.prosecdef
         AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
    'every SECURITY DEFINER function of migguard pins search_path = pg_catalog, pg_temp');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text
        FROM pg_proc p
       WHERE p.pronamespace = 'migguard'::regnamespace
         AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'plpgsql')
         AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
    'every PL/pgSQL function of migguard pins search_path = pg_catalog, pg_temp');

-- ----------------------------------------------------------------------
-- Privileges
-- ----------------------------------------------------------------------
CREATE ROLE regress_api_user;
CREATE ROLE regress_api_reader IN ROLE migguard_reader;

SELECT has_role('migguard_reader', 'the role migguard_reader exists');
SELECT function_privs_are('migguard', 'check', ARRAY['text'], 'regress_api_user', ARRAY['EXECUTE'],
                          'any role may run check()');
SELECT function_privs_are('migguard', 'rules', '{}'::name[], 'regress_api_user', ARRAY['EXECUTE'],
                          'any role may run rules()');
SELECT function_privs_are('migguard', 'purge', ARRAY['interval'], 'regress_api_user', '{}'::text[],
                          'an ordinary role may not run purge()');
SELECT function_privs_are('migguard', 'purge', ARRAY['interval'], 'migguard_reader', '{}'::text[],
                          'migguard_reader may not run purge()');
SELECT function_privs_are('migguard', 'stats_reset', '{}'::name[], 'regress_api_user', '{}'::text[],
                          'an ordinary role may not reset the statistics');
SELECT function_privs_are('migguard', 'history', ARRAY['text'], 'migguard_reader', ARRAY['EXECUTE'],
                          'migguard_reader may run history()');
SELECT function_privs_are('migguard', 'verify_log', '{}'::name[], 'migguard_reader', ARRAY['EXECUTE'],
                          'migguard_reader may run verify_log()');
SELECT table_privs_are('migguard', 'change_log', 'migguard_reader', ARRAY['SELECT'],
                       'migguard_reader may only read change_log');
SELECT table_privs_are('migguard', 'change_log', 'regress_api_user', '{}'::text[],
                       'an ordinary role has no privilege on change_log');
SELECT table_privs_are('migguard', 'approved_findings', 'migguard_reader', '{}'::text[],
                       'approved_findings is read through the approvals view only');

SET LOCAL SESSION AUTHORIZATION regress_api_reader;
SELECT throws_ok($$DELETE FROM migguard.change_log$$, '42501', NULL,
                 'a reader cannot DELETE from change_log');
SELECT throws_ok($$UPDATE migguard.change_log SET verdict = 'allowed'$$, '42501', NULL,
                 'a reader cannot UPDATE change_log');
SELECT throws_ok($$TRUNCATE migguard.change_log$$, '42501', NULL,
                 'a reader cannot TRUNCATE change_log');
SELECT throws_ok($$SELECT migguard.purge('1 day')$$, '42501', NULL,
                 'a reader cannot purge');
SELECT lives_ok($$SELECT count(*) FROM migguard.change_log$$, 'a reader can read change_log');
RESET SESSION AUTHORIZATION;

SET LOCAL SESSION AUTHORIZATION regress_api_user;
SELECT throws_ok($$SELECT migguard.approve('create_index', 'pg_class', 'ticket 1', now() + interval '1 day')$$,
                 '42501', 'permission denied to approve a migguard finding',
                 'an ordinary role cannot approve');
SELECT throws_ok($$SELECT migguard.revoke_approval(1)$$,
                 '42501', 'permission denied to revoke a migguard approval',
                 'an ordinary role cannot revoke');
SELECT throws_ok($$INSERT INTO migguard.approved_findings (rule, relation, reason, approved_by, approved_at, expires)
                   VALUES ('create_index', 'pg_class', 'x', 'x', now(), now() + interval '1 day')$$,
                 '42501', NULL,
                 'an ordinary role cannot write an approval around approve()');
RESET SESSION AUTHORIZATION;

-- ----------------------------------------------------------------------
-- NULL and malformed arguments: an error, nothing changed
-- ----------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM migguard.check(NULL)$$, '22004',
                 'migguard.check() needs the text of a migration, not NULL',
                 'check(NULL) is refused');
SELECT throws_ok($$SELECT * FROM migguard.history(NULL)$$, '22004', NULL,
                 'history(NULL) is refused');
SELECT throws_ok($$SELECT migguard.purge(NULL)$$, '22023', NULL, 'purge(NULL) is refused');
SELECT throws_ok($$SELECT migguard.purge('-1 day')$$, '22023', NULL,
                 'purge() of a negative interval is refused');
SELECT throws_ok($$SELECT migguard.approve(NULL, 'pg_class', 'ticket 1', now() + interval '1 day')$$,
                 '22004', 'migguard.approve() needs a rule, a relation and a reason',
                 'approve() without a rule is refused');
SELECT throws_ok($$SELECT migguard.approve('create_index', NULL, 'ticket 1', now() + interval '1 day')$$,
                 '22004', 'migguard.approve() needs a rule, a relation and a reason',
                 'approve() without a relation is refused');
SELECT throws_ok($$SELECT migguard.approve('create_index', 'pg_class', '  ', now() + interval '1 day')$$,
                 '22004', 'migguard.approve() needs a rule, a relation and a reason',
                 'approve() with a blank reason is refused');
SELECT throws_ok($$SELECT migguard.approve('no_such_rule', 'pg_class', 'ticket 1', now() + interval '1 day')$$,
                 '22023', 'unknown migguard rule "no_such_rule"',
                 'approve() of an unknown rule is refused');
SELECT throws_ok($$SELECT migguard.approve('create_index', 'pg_class', 'ticket 1', now() - interval '1 day')$$,
                 '22023', 'migguard.approve() needs an expiry in the future',
                 'approve() with an expiry in the past is refused');
SELECT throws_ok($$SELECT migguard.approve('create_index', 'pg_class', 'ticket 1', NULL)$$,
                 '22023', 'migguard.approve() needs an expiry in the future',
                 'approve() without an expiry is refused');
SELECT throws_ok($$SELECT migguard.revoke_approval(NULL)$$,
                 '22004', 'migguard.revoke_approval() needs the id of an approval',
                 'revoke_approval(NULL) is refused');
SELECT is((SELECT count(*) FROM migguard.approved_findings), 0::bigint,
          'the refused calls wrote no approval');
SELECT is(migguard.revoke_approval(-1), false, 'revoking an approval that does not exist returns false');

SELECT * FROM finish();
ROLLBACK;
