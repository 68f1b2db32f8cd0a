--
-- operations_stats: the live counters of migguard.stats (issue 17), per
-- database and rule, and stats_reset().  The lock timeout comes from a
-- prepared transaction that holds a lock on the table.
--
SELECT migguard.stats_reset();
CREATE SCHEMA st;
SELECT make_table('st.big', 5000);
SET migguard.large_table_size = '100kB';

-- allowed, warned (warn mode), overridden, blocked.
CREATE TABLE st.small (a int);
SET migguard.mode = warn;
CREATE INDEX ON st.big (id);
RESET migguard.mode;
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX ON st.big (payload);
COMMIT;
CREATE INDEX ON st.big (id, payload);

-- Two lock timeouts, one retry, then the error.
BEGIN;
LOCK TABLE st.small IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'st_holds_small';
SET migguard.lock_timeout = '50ms';
SET migguard.lock_retries = 1;
SET migguard.lock_retry_delay = '10ms';
ALTER TABLE st.small ADD COLUMN b int;
COMMIT PREPARED 'st_holds_small';
RESET migguard.lock_timeout;
RESET migguard.lock_retries;
RESET migguard.lock_retry_delay;

SELECT rule, judged, allowed, warned, overridden, blocked, lock_timeouts, retries,
       retries_succeeded, lock_wait_ms >= 90 AS waited_two_timeouts
  FROM migguard.stats WHERE database = current_database()
 ORDER BY rule NULLS FIRST;

-- The longest strong-lock hold: fed at the release of the lock (holds.c),
-- on the whole-statement row (rule NULL).
SELECT longest_strong_lock_hold_ms < 300 AS shorter_before
  FROM migguard.stats WHERE database = current_database() AND rule IS NULL;
BEGIN;
ALTER TABLE st.small ADD COLUMN c int;
SELECT pg_sleep(0.3);
COMMIT;
SELECT longest_strong_lock_hold_ms >= 300 AS held_300ms_recorded
  FROM migguard.stats WHERE database = current_database() AND rule IS NULL;

-- Other databases have their own rows; reset empties the view.
SELECT count(*) > 0 AS has_rows FROM migguard.stats;
SELECT migguard.stats_reset();
SELECT count(*) AS rows_after_reset FROM migguard.stats WHERE database = current_database();

-- Who may read and reset.
CREATE ROLE st_monitor IN ROLE pg_monitor;
CREATE ROLE st_nobody;
SET ROLE st_monitor;
SELECT count(*) >= 0 AS monitor_reads FROM migguard.stats;
SELECT migguard.stats_reset();
SET ROLE st_nobody;
SELECT count(*) FROM migguard.stats;
RESET ROLE;
DROP ROLE st_monitor;
DROP ROLE st_nobody;
RESET migguard.large_table_size;
BEGIN;
SET LOCAL migguard.allow = 'drop_table';
DROP SCHEMA st CASCADE;
COMMIT;
