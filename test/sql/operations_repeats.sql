--
-- operations_repeats: a client that retries a blocked statement in a loop
-- does not flood change_log (issue 16, item 2).  10,000 identical blocked
-- attempts from one session: the first is one row, the other 9,999 are
-- counted in one more row (its attempts), written when the session ends.
-- A different attempt is a row of its own.  In a database of its own, so
-- that the counts are this file's.
--
CREATE DATABASE ops_repeats;
\c ops_repeats
CREATE EXTENSION migguard;
CREATE TABLE big AS SELECT g FROM generate_series(1, 1000) g;
SET migguard.large_table_size = 1;
DO $$
DECLARE
    refused int := 0;
BEGIN
    FOR i IN 1 .. 10000 LOOP
        BEGIN
            DROP TABLE big;
        EXCEPTION WHEN SQLSTATE 'MG001' THEN
            refused := refused + 1;
        END;
    END LOOP;
    RAISE NOTICE 'refused % attempts', refused;
END
$$;
-- Another statement: a row of its own (and the repeats' row goes first).
CREATE INDEX ON big (g);
\c ops_repeats
-- The rows arrive through the background worker.
DO $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        EXIT WHEN (SELECT count(*) FROM migguard.blocked_attempts) = 3;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT statement, attempts FROM migguard.blocked_attempts ORDER BY id;
SELECT sum(attempts) AS attempts_counted FROM migguard.blocked_attempts
 WHERE statement = 'DROP TABLE big';
SELECT migguard.verify_log();
\c contrib_regression
DROP DATABASE ops_repeats;
