--
-- settings: the migguard.* settings as SPEC.md's Settings table fixes them.
--
-- Proves that
--   * every setting is registered with its documented default, unit and
--     privilege level (superuser or any user);
--   * invalid values of migguard.mode, migguard.rules and migguard.allow
--     are rejected at SET time with SQLSTATE 22023, a message naming the
--     valid values, and no change to the current value;
--   * migguard.rules accepts "rule = level" with free spacing and any case,
--     and the levels it sets are what migguard.rules() reports;
--   * the "migguard" prefix is reserved: an unknown migguard.foo is refused;
--   * an ordinary role cannot set the superuser-only settings but can set
--     migguard.allow, migguard.tag and the lock-queue settings;
--   * migguard.mode can be set per role with ALTER ROLE ... SET.
--

-- Every setting, with its default (nothing has been SET yet in this session).
SELECT name, setting, unit, context, vartype
  FROM pg_settings WHERE name LIKE 'migguard.%' ORDER BY 1;
SELECT enumvals FROM pg_settings WHERE name = 'migguard.mode';
-- Defaults as a user reads them.
SHOW migguard.large_table_size;
SHOW migguard.lock_timeout;
SHOW migguard.lock_retry_delay;

-- Memory and time units work as for core settings.
SET migguard.large_table_size = '1GB';
SHOW migguard.large_table_size;
SET migguard.large_table_size = 0;
SHOW migguard.large_table_size;
RESET migguard.large_table_size;
SET migguard.lock_timeout = '2min';
SHOW migguard.lock_timeout;
RESET migguard.lock_timeout;

-- migguard.mode: an enum; anything else is rejected with the valid values.
SET migguard.mode = 'warn';
SHOW migguard.mode;
SET migguard.mode = 'block';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SHOW migguard.mode;
RESET migguard.mode;

-- migguard.rules: rule=level pairs.  Spacing and case do not matter.
SET migguard.rules = 'create_index = warning ,DROP_INDEX=Off,  truncate=warning';
SHOW migguard.rules;
SELECT rule, default_level, level FROM migguard.rules()
 WHERE level <> default_level ORDER BY rule;

-- An unknown rule is rejected with the list of valid rule names ...
SET migguard.rules = 'create_index=warning, create_indexes=off';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- ... an unknown level with the list of valid levels ...
SET migguard.rules = 'create_index=fatal';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- ... and entries that are not rule=level, or empty, are rejected too.
SET migguard.rules = 'create_index';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SET migguard.rules = 'create_index=warning,,truncate=off';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- None of the rejected values changed anything.
SHOW migguard.rules;
SELECT rule, default_level, level FROM migguard.rules()
 WHERE level <> default_level ORDER BY rule;

-- RESET brings back every default level.
RESET migguard.rules;
SELECT count(*) AS overridden_levels FROM migguard.rules() WHERE level <> default_level;

-- migguard.allow: a list of rule names, checked the same way.
SET migguard.allow = 'create_index, drop_table';
SHOW migguard.allow;
SET migguard.allow = create_index, reindex;
SHOW migguard.allow;
SET migguard.allow = 'create_index, drop_tables';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SHOW migguard.allow;
RESET migguard.allow;

-- The migguard prefix is reserved: a misspelt setting is an error, not a
-- silently ignored placeholder.
SET migguard.enforce = on;
SET migguard.large_table = '1MB';

-- Who may set what.  An ordinary role may not change the policy ...
CREATE ROLE regress_migguard_settings LOGIN;
SET ROLE regress_migguard_settings;
SET migguard.mode = 'off';
SET migguard.large_table_size = '1TB';
SET migguard.rules = 'drop_table=off';
SET migguard.override_role = 'regress_migguard_settings';
SET migguard.audit = off;
SHOW migguard.mode;
-- ... but may accept a rule for its own transaction, label its migration
-- and tune the lock-queue protection.
BEGIN;
SET LOCAL migguard.allow = 'create_index';
SHOW migguard.allow;
COMMIT;
SET migguard.tag = '0042_add_email';
SET migguard.lock_timeout = '1s';
SET migguard.lock_retries = 5;
SET migguard.lock_retry_delay = '100ms';
SELECT name, setting FROM pg_settings
 WHERE name IN ('migguard.allow', 'migguard.tag', 'migguard.lock_timeout',
                'migguard.lock_retries', 'migguard.lock_retry_delay')
 ORDER BY 1;
RESET ROLE;
RESET migguard.tag;
RESET migguard.lock_timeout;
RESET migguard.lock_retries;
RESET migguard.lock_retry_delay;

-- A superuser can give one role its own mode (SPEC: "also per role"); it
-- takes effect when that role logs in.
SELECT current_user AS superuser \gset
ALTER ROLE regress_migguard_settings SET migguard.mode = 'warn';
\c - regress_migguard_settings
SHOW migguard.mode;
\c - :superuser
ALTER ROLE regress_migguard_settings RESET migguard.mode;
DROP ROLE regress_migguard_settings;
