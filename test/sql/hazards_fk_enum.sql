--
-- hazards_fk_enum: fk_without_index and rename_enum_value (issue 15,
-- items 5 and 6).
--
-- Proves that
--   * fk_without_index warns when a foreign key is added to an existing
--     table whose referencing columns no index starts with (also through
--     ADD COLUMN ... REFERENCES, and on a small table), and not when an
--     index starts with them in any order (a longer index too), nor on a
--     table created in this transaction; check() sees an index and a
--     column added earlier in the script;
--   * rename_enum_value blocks ALTER TYPE ... RENAME VALUE of an enum that a
--     table uses directly, through an array or through a domain, and not
--     of an enum no table uses or only a new table uses, nor where
--     PostgreSQL refuses the rename itself; check() reports it too.
--
CREATE EXTENSION IF NOT EXISTS migguard;
CREATE SCHEMA fe;
SET migguard.lock_timeout = '5s';
CREATE TABLE fe.customer (id int PRIMARY KEY, region int, UNIQUE (id, region));
CREATE TABLE fe.orders (id int PRIMARY KEY, customer_id int, region int, other_id int);
CREATE INDEX orders_region_customer_idx ON fe.orders (region, customer_id, id);

--
-- fk_without_index
--
ALTER TABLE fe.orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES fe.customer (id);
\set VERBOSITY terse
ALTER TABLE fe.orders ADD COLUMN payer_id int REFERENCES fe.customer (id);
-- An index that starts with the columns, in another order: fine.
ALTER TABLE fe.orders ADD CONSTRAINT orders_customer_region_fk
    FOREIGN KEY (customer_id, region) REFERENCES fe.customer (id, region);
-- An index on them after the fact: fine.
CREATE INDEX orders_other_idx ON fe.orders (other_id);
ALTER TABLE fe.orders ADD CONSTRAINT orders_other_fk
    FOREIGN KEY (other_id) REFERENCES fe.customer (id);
-- A table created in this transaction.
BEGIN;
CREATE TABLE fe.fresh (id int, customer_id int);
ALTER TABLE fe.fresh ADD CONSTRAINT fresh_fk FOREIGN KEY (customer_id) REFERENCES fe.customer (id);
COMMIT;
-- check() sees the index of an earlier statement.
SELECT statement_no, rule, level FROM migguard.check($$
ALTER TABLE fe.fresh ADD CONSTRAINT fresh_fk2 FOREIGN KEY (id) REFERENCES fe.customer (id) NOT VALID;
CREATE INDEX fresh_customer_idx ON fe.fresh (customer_id);
ALTER TABLE fe.fresh ADD CONSTRAINT fresh_fk3 FOREIGN KEY (customer_id) REFERENCES fe.customer (id) NOT VALID;
ALTER TABLE fe.fresh ADD COLUMN payer_id int;
ALTER TABLE fe.fresh ADD CONSTRAINT fresh_fk4 FOREIGN KEY (payer_id) REFERENCES fe.customer (id) NOT VALID;
$$) ORDER BY 1, 2;

--
-- rename_enum_value
--
CREATE TYPE fe.mood AS ENUM ('sad', 'ok');
CREATE TYPE fe.size AS ENUM ('s', 'm');
CREATE TYPE fe.color AS ENUM ('red', 'blue');
CREATE DOMAIN fe.paint AS fe.color;
CREATE TYPE fe.unused AS ENUM ('a', 'b');
CREATE TABLE fe.person (id int, m fe.mood);
CREATE TABLE fe.shirt (id int, sizes fe.size[]);
CREATE TABLE fe.wall (id int, p fe.paint);
\set VERBOSITY default
ALTER TYPE fe.mood RENAME VALUE 'sad' TO 'unhappy';
\set VERBOSITY terse
ALTER TYPE fe.size RENAME VALUE 's' TO 'small';
ALTER TYPE fe.color RENAME VALUE 'red' TO 'crimson';
-- No table uses it: fine.
ALTER TYPE fe.unused RENAME VALUE 'a' TO 'alpha';
-- Only a table created in this transaction: fine.
BEGIN;
CREATE TYPE fe.fresh_enum AS ENUM ('x');
ALTER TYPE fe.fresh_enum RENAME VALUE 'x' TO 'y';
ROLLBACK;
-- PostgreSQL's own errors win.
ALTER TYPE fe.mood RENAME VALUE 'nope' TO 'unhappy';
ALTER TYPE fe.mood RENAME VALUE 'sad' TO 'ok';
-- Adding a value is fine.
ALTER TYPE fe.mood ADD VALUE 'unhappy';
SELECT rule, level FROM migguard.check($$ALTER TYPE fe.mood RENAME VALUE 'sad' TO 'blue'$$);

\set VERBOSITY default
SET migguard.mode = off;
DROP SCHEMA fe CASCADE;
RESET migguard.mode;
