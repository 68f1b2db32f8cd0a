--
-- security: migguard played by an attacker.  Each known attack is a case;
-- the expected output is PostgreSQL's own error, or no privilege gained
-- (rolsuper stays false, the look-alike stays empty).  The attackers are
--   regress_sec_evil     a login role with CREATE on one schema
--   regress_sec_dbowner  the owner of a database
--   regress_sec_creator  a role with CREATEROLE
-- Sessions switch with SET SESSION AUTHORIZATION, so that the session user,
-- not only the current user, is the attacker.
--
SELECT current_user AS su, current_database() AS regdb \gset
CREATE ROLE regress_sec_evil LOGIN;
CREATE ROLE regress_sec_dbowner LOGIN CREATEDB;
CREATE ROLE regress_sec_creator LOGIN CREATEROLE;
CREATE ROLE regress_sec_deployer;

-- The attacker's proof of success: is the role a superuser now?
CREATE FUNCTION sec_supers() RETURNS TABLE (rolname name, rolsuper boolean)
LANGUAGE sql AS $$
    SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_sec_%' ORDER BY 1
$$;

--
-- 11.1: an operator in a schema on the caller's search_path.  The audit
-- INSERT runs as change_log's owner; it must resolve nothing there.
--
CREATE SCHEMA sec_mal AUTHORIZATION regress_sec_evil;
SET SESSION AUTHORIZATION regress_sec_evil;
CREATE FUNCTION sec_mal.grab(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r
        WHERE r.rolname OPERATOR(pg_catalog.=) current_user) THEN
        UPDATE pg_catalog.pg_authid SET rolsuper = true
        WHERE rolname OPERATOR(pg_catalog.=) 'regress_sec_evil'::pg_catalog.name;
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE FUNCTION sec_mal.grab_name(name, name) RETURNS boolean LANGUAGE sql
    AS $$ SELECT sec_mal.grab($1::pg_catalog.text, $2::pg_catalog.text) $$;
CREATE OPERATOR sec_mal.= (LEFTARG = text, RIGHTARG = text, FUNCTION = sec_mal.grab);
CREATE OPERATOR sec_mal.= (LEFTARG = name, RIGHTARG = name, FUNCTION = sec_mal.grab_name);
-- Look-alike functions and types the INSERT could pick up by name.
CREATE FUNCTION sec_mal.current_setting(text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN sec_mal.grab('', '') THEN '' END $$;
CREATE FUNCTION sec_mal.nullif(text, text) RETURNS text LANGUAGE sql
    AS $$ SELECT CASE WHEN sec_mal.grab('', '') THEN '' END $$;
CREATE TABLE sec_mal.change_log (id int);
SET search_path = sec_mal, pg_catalog;
CREATE TABLE sec_mal.anything (a int);
ALTER TABLE sec_mal.anything ADD COLUMN b text;
-- The same attack from pg_temp, which is searched first for relations.
SET search_path = pg_temp, sec_mal, pg_catalog;
CREATE TEMP TABLE change_log (id int);
CREATE TABLE sec_mal.another (a int);
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT * FROM sec_supers();
-- The rows went to migguard.change_log, and nowhere else.
SELECT command_tag, session_user_name, objects->0->>'identity' AS object
  FROM migguard.change_log WHERE session_user_name = 'regress_sec_evil' ORDER BY id;
SELECT count(*) AS look_alike_rows FROM sec_mal.change_log;

--
-- The event trigger functions are SECURITY DEFINER: called directly they do
-- nothing but refuse.
--
SET SESSION AUTHORIZATION regress_sec_evil;
SELECT migguard.on_ddl_command_end();
SELECT migguard.on_sql_drop();
SELECT migguard.on_table_rewrite();
RESET SESSION AUTHORIZATION;

--
-- 11.6: migguard.allow laundered through a SECURITY DEFINER function.  The
-- session user's membership in override_role counts.
--
CREATE SCHEMA sec_ov;
CREATE TABLE sec_ov.big (id int);
INSERT INTO sec_ov.big SELECT generate_series(1, 5000);
GRANT USAGE ON SCHEMA sec_ov TO regress_sec_evil;
CREATE FUNCTION sec_ov.build_index() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    CREATE INDEX big_id ON sec_ov.big (id);
END $$;
GRANT EXECUTE ON FUNCTION sec_ov.build_index() TO regress_sec_evil;
ALTER SYSTEM SET migguard.large_table_size = '8kB';
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
SET migguard.override_role = 'regress_sec_deployer';
SET SESSION AUTHORIZATION regress_sec_evil;
SHOW migguard.large_table_size;
BEGIN;
SET LOCAL migguard.allow = 'create_index';
SELECT sec_ov.build_index();
ROLLBACK;
RESET SESSION AUTHORIZATION;
-- A member's session may, through the same function.
GRANT regress_sec_deployer TO regress_sec_evil;
SET SESSION AUTHORIZATION regress_sec_evil;
BEGIN;
SET LOCAL migguard.allow = 'create_index';
SELECT sec_ov.build_index();
ROLLBACK;
RESET SESSION AUTHORIZATION;
REVOKE regress_sec_deployer FROM regress_sec_evil;

--
-- 11.7: an override_role that does not exist admits nobody, superusers
-- included (a superuser can change the setting).
--
SET migguard.override_role = 'regress_sec_no_such_role';
BEGIN;
SET LOCAL migguard.allow = 'create_index';
CREATE INDEX big_id ON sec_ov.big (id);
ROLLBACK;
-- A CREATEROLE role can create the missing role, and grant any role that
-- is not a superuser to itself (documented in the README's security model).
SET SESSION AUTHORIZATION regress_sec_creator;
CREATE ROLE regress_sec_no_such_role;
GRANT regress_sec_deployer TO regress_sec_creator;
-- But it gains no superuser through migguard or otherwise.
ALTER ROLE regress_sec_creator SUPERUSER;
RESET SESSION AUTHORIZATION;
SELECT * FROM sec_supers();
RESET migguard.override_role;
DROP ROLE regress_sec_no_such_role;
ALTER SYSTEM RESET migguard.large_table_size;
SELECT pg_reload_conf();

--
-- 11.3: a database owner prepares schema migguard before a superuser
-- creates the extension in the database.
--
CREATE DATABASE regress_sec_db OWNER regress_sec_dbowner;
\c regress_sec_db regress_sec_dbowner
CREATE SCHEMA migguard;
\c - :su
-- CREATE EXTENSION refuses the schema it did not create.
CREATE EXTENSION migguard;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'migguard';
DROP SCHEMA migguard;
-- A superuser's schema is adopted only when empty: what pg_restore does
-- (pg_dump dumps the schema before CREATE EXTENSION, test/t/004).
CREATE SCHEMA migguard;
CREATE TABLE migguard.planted_by_someone (id int);
CREATE EXTENSION migguard;
DROP TABLE migguard.planted_by_someone;
CREATE EXTENSION migguard;
SELECT nspowner::regrole AS owner FROM pg_namespace WHERE nspname = 'migguard';
-- The database owner cannot rename or drop the extension's schema or
-- change_log: PostgreSQL's own ownership checks, no override needed.
\c - regress_sec_dbowner
BEGIN;
SET LOCAL migguard.allow = 'rename_table';
ALTER SCHEMA migguard RENAME TO mg_x;
ROLLBACK;
ALTER TABLE migguard.change_log RENAME TO old_log;
DROP SCHEMA migguard CASCADE;
CREATE TRIGGER t BEFORE INSERT ON migguard.change_log
    FOR EACH ROW EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger();

-- Even if a superuser renames the schema, a look-alike migguard.change_log
-- with a trigger receives nothing: the hook and the worker write to the
-- extension's table by OID.
\c - :su
BEGIN;
SET LOCAL migguard.allow = 'rename_table';
ALTER SCHEMA migguard RENAME TO mg_renamed;
COMMIT;
ALTER DATABASE regress_sec_db SET migguard.large_table_size = '8kB';
\c - regress_sec_dbowner
CREATE SCHEMA migguard;
CREATE TABLE migguard.change_log (
    id bigint GENERATED ALWAYS AS IDENTITY, logged_at timestamptz, xid xid8,
    pid integer, session_user_name name, current_user_name name,
    application_name text, client_addr inet, command_tag text, objects jsonb,
    statement text, lock_mode text, table_size bigint, rewrite boolean,
    verdict text, findings jsonb, tag text, nesting integer, attempts integer,
    lock_wait_ms bigint);
CREATE FUNCTION migguard.grab() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    ALTER ROLE regress_sec_dbowner SUPERUSER;
    RETURN NEW;
END $$;
CREATE TRIGGER grab BEFORE INSERT ON migguard.change_log
    FOR EACH ROW EXECUTE FUNCTION migguard.grab();
CREATE TABLE planted (id int);
INSERT INTO planted SELECT generate_series(1, 5000);
-- A blocked attempt, written by the background worker.
CREATE INDEX ON planted (id);
ALTER TABLE planted ADD COLUMN note text;
\c - :su
-- Wait (at most 30 s) for the worker's row.
DO $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        EXIT WHEN EXISTS (SELECT FROM mg_renamed.change_log WHERE verdict = 'blocked');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
-- (ordered by verdict: the worker's row may come after later ones)
SELECT command_tag, verdict, session_user_name FROM mg_renamed.change_log
 WHERE session_user_name = 'regress_sec_dbowner' ORDER BY verdict, id;
SELECT count(*) AS look_alike_rows FROM migguard.change_log;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname = 'regress_sec_dbowner';
-- Renaming change_log itself turns the audit off, with a WARNING (once).
SET migguard.mode = audit;
DROP SCHEMA migguard CASCADE;
ALTER SCHEMA mg_renamed RENAME TO migguard;
ALTER TABLE migguard.change_log RENAME TO change_log_old;
CREATE TABLE not_recorded (id int);
CREATE TABLE not_recorded_either (id int);
ALTER TABLE migguard.change_log_old RENAME TO change_log;
CREATE TABLE recorded (id int);
SELECT command_tag, objects->0->>'identity' AS object FROM migguard.change_log
 WHERE session_user_name = :'su' ORDER BY id DESC LIMIT 2;
\c :regdb :su
DROP DATABASE regress_sec_db;

-- Clean up.
SET migguard.mode = audit;
DROP SCHEMA sec_mal CASCADE;
DROP SCHEMA sec_ov CASCADE;
RESET migguard.mode;
DROP FUNCTION sec_supers();
DROP ROLE regress_sec_evil, regress_sec_dbowner, regress_sec_creator, regress_sec_deployer;
