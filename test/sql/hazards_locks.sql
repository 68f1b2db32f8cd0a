--
-- hazards_locks: locks held across a migration (issue 15, items 2 and 3).
--
-- Proves that
--   * strong_lock_held fires for a later statement while this transaction
--     holds any lock that blocks writes of a large table, SHARE (CREATE
--     INDEX, LOCK TABLE IN SHARE MODE), SHARE ROW EXCLUSIVE (CREATE
--     TRIGGER), EXCLUSIVE and ACCESS EXCLUSIVE, naming the mode; not for
--     SHARE UPDATE EXCLUSIVE, a small table, or a table created in the
--     transaction;
--   * dml_under_lock warns when UPDATE, DELETE, INSERT ... SELECT or MERGE
--     runs under such a lock, with the locked table, the lock and the rows
--     touched; not for INSERT ... VALUES or SELECT, under a lock on a small
--     table or one created in the transaction, after COMMIT, or after
--     ROLLBACK TO SAVEPOINT released the lock; levels apply as for any rule;
--   * migguard.check() keeps the locks of a script's BEGIN ... COMMIT block
--     for its later statements (and forgets them at COMMIT), and none
--     outside a block, where psql runs each statement on its own.
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA hl;
SET migguard.large_table_size = '64kB';
SET migguard.lock_timeout = '5s';
CREATE TABLE hl.orders (id int PRIMARY KEY, flag boolean, note text);
INSERT INTO hl.orders SELECT g, false, md5(g::text) FROM generate_series(1, 3000) g;
CREATE TABLE hl.small (id int PRIMARY KEY, flag boolean);
INSERT INTO hl.small VALUES (1, false);
CREATE FUNCTION hl.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
\set VERBOSITY terse

--
-- strong_lock_held, by lock mode
--
BEGIN;
LOCK TABLE hl.orders IN SHARE MODE;
ALTER TABLE hl.small ADD COLUMN a int;
ROLLBACK;
BEGIN;
CREATE TRIGGER orders_noop BEFORE UPDATE ON hl.orders FOR EACH ROW EXECUTE FUNCTION hl.noop();
ALTER TABLE hl.small ADD COLUMN a int;
ROLLBACK;
BEGIN;
LOCK TABLE hl.orders IN EXCLUSIVE MODE;
ALTER TABLE hl.small ADD COLUMN a int;
ROLLBACK;
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX orders_note_idx ON hl.orders (note);
ALTER TABLE hl.small ADD COLUMN a int;
ROLLBACK;
-- Not: SHARE UPDATE EXCLUSIVE lets writes go on.
BEGIN;
LOCK TABLE hl.orders IN SHARE UPDATE EXCLUSIVE MODE;
ALTER TABLE hl.small ADD COLUMN a int;
ROLLBACK;
-- Not: a small table, a table created in this transaction.
BEGIN;
LOCK TABLE hl.small IN ACCESS EXCLUSIVE MODE;
ALTER TABLE hl.small ADD COLUMN a int;
CREATE TABLE hl.fresh AS SELECT * FROM hl.orders;
LOCK TABLE hl.fresh IN ACCESS EXCLUSIVE MODE;
ALTER TABLE hl.small ADD COLUMN b int;
ROLLBACK;

--
-- dml_under_lock
--
-- The backfill in the transaction of the ALTER.
BEGIN;
ALTER TABLE hl.orders ADD COLUMN coupon text;
UPDATE hl.orders SET coupon = 'none';
DELETE FROM hl.orders WHERE id = 1;
INSERT INTO hl.orders (id, flag) SELECT 1, true;
MERGE INTO hl.orders o USING (VALUES (2)) v(id) ON o.id = v.id
    WHEN MATCHED THEN UPDATE SET flag = true;
-- DML on another table still waits inside the lock's transaction.
UPDATE hl.small SET flag = true;
-- Not: INSERT ... VALUES, SELECT, EXPLAIN without ANALYZE.
INSERT INTO hl.orders (id) VALUES (5000);
SELECT count(*) FROM hl.orders;
EXPLAIN (COSTS OFF) UPDATE hl.orders SET flag = true;
ROLLBACK;
-- Under LOCK TABLE, and in a function.
BEGIN;
LOCK TABLE hl.orders IN SHARE ROW EXCLUSIVE MODE;
DO $$BEGIN UPDATE hl.small SET flag = false; END$$;
ROLLBACK;
-- Not after COMMIT.
ALTER TABLE hl.orders ADD COLUMN coupon text;
UPDATE hl.orders SET coupon = 'none' WHERE id < 10;
-- Not after ROLLBACK TO SAVEPOINT released the lock; still when the lock
-- came from before the savepoint.
BEGIN;
SAVEPOINT s;
LOCK TABLE hl.orders IN SHARE MODE;
ROLLBACK TO SAVEPOINT s;
UPDATE hl.orders SET flag = true WHERE id = 3;
LOCK TABLE hl.orders IN SHARE MODE;
SAVEPOINT t;
RELEASE SAVEPOINT t;
UPDATE hl.orders SET flag = true WHERE id = 3;
ROLLBACK;
-- Not under a lock on a small table or a new one.
BEGIN;
LOCK TABLE hl.small IN ACCESS EXCLUSIVE MODE;
CREATE TABLE hl.fresh AS SELECT * FROM hl.orders;
UPDATE hl.fresh SET flag = true;
UPDATE hl.small SET flag = true;
ROLLBACK;
-- Levels: off, error.
BEGIN;
SET LOCAL migguard.rules = 'dml_under_lock=off';
LOCK TABLE hl.orders IN SHARE MODE;
DELETE FROM hl.orders WHERE id = 4;
ROLLBACK;
BEGIN;
SET LOCAL migguard.rules = 'dml_under_lock=error';
LOCK TABLE hl.orders IN SHARE MODE;
DELETE FROM hl.orders WHERE id = 4;
ROLLBACK;
\set VERBOSITY default
-- The whole message.
BEGIN;
LOCK TABLE hl.orders IN ACCESS EXCLUSIVE MODE;
UPDATE hl.orders SET flag = true WHERE id <= 100;
ROLLBACK;

--
-- check(): the locks of a BEGIN ... COMMIT block
--
SELECT statement_no, rule, lock_mode, relation FROM migguard.check($$
BEGIN;
CREATE TRIGGER orders_noop BEFORE UPDATE ON hl.orders FOR EACH ROW EXECUTE FUNCTION hl.noop();
ALTER TABLE hl.small ADD COLUMN a int;
COMMIT;
ALTER TABLE hl.small ADD COLUMN b int;
LOCK TABLE hl.orders IN SHARE MODE;
ALTER TABLE hl.small ADD COLUMN c int;
$$) ORDER BY 1, 2;

SET migguard.mode = off;
DROP SCHEMA hl CASCADE;
RESET migguard.mode;
