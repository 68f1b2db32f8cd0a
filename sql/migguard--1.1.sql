/* migguard--1.1.sql: schema objects of migguard 1.1 (a fresh install) */

\echo Use "CREATE EXTENSION migguard" to load this file. \quit

-- First of all: refuse a schema migguard that this CREATE EXTENSION did not
-- create (PostgreSQL adopts an existing one; see catalog.c).
CREATE FUNCTION migguard.refuse_adopted_schema() RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'migguard_refuse_adopted_schema';
SELECT migguard.refuse_adopted_schema();
DROP FUNCTION migguard.refuse_adopted_schema();

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

-- ----------------------------------------------------------------
-- Audit log: one row per executed DDL statement and per blocked attempt.
-- Rows of executed statements are written by the hook (src/audit.c), as
-- the table's owner, in the statement's own transaction; blocked attempts
-- by the background worker (src/blocked.c) through the same writer.
-- Nobody but a superuser may change them.
-- ----------------------------------------------------------------
CREATE TABLE migguard.change_log (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at         timestamptz NOT NULL,
    xid               xid8,
    pid               integer NOT NULL,
    session_user_name name NOT NULL,
    current_user_name name NOT NULL,
    application_name  text,
    client_addr       inet,
    command_tag       text NOT NULL,
    objects           jsonb NOT NULL DEFAULT '[]',
    statement         text NOT NULL,
    lock_mode         text,
    table_size        bigint,
    rewrite           boolean NOT NULL DEFAULT false,
    -- allowed, warned, overridden or blocked.  No CHECK constraint: only
    -- migguard writes this column, and PostgreSQL reads and plans a CHECK
    -- expression again for every INSERT (a quarter of an audit row's cost).
    verdict           text NOT NULL,
    findings          jsonb NOT NULL DEFAULT '[]',
    tag               text,
    nesting           integer NOT NULL DEFAULT 0,
    attempts          integer NOT NULL DEFAULT 1,
    lock_wait_ms      bigint NOT NULL DEFAULT 0
);

COMMENT ON TABLE migguard.change_log IS
'every schema change executed in this database, with who, what, lock, size, verdict and findings';

CREATE INDEX change_log_logged_at_idx ON migguard.change_log (logged_at);
CREATE INDEX change_log_objects_idx ON migguard.change_log USING gin (objects jsonb_path_ops);

-- pg_dump keeps the rows, and the identity's position, so that rows written
-- after a restore do not collide with restored ones.
SELECT pg_catalog.pg_extension_config_dump('migguard.change_log', '');
SELECT pg_catalog.pg_extension_config_dump(
    pg_catalog.pg_get_serial_sequence('migguard.change_log', 'id'), '');

REVOKE ALL ON migguard.change_log FROM PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'migguard_reader') THEN
        CREATE ROLE migguard_reader NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA migguard TO migguard_reader;
GRANT SELECT ON migguard.change_log TO migguard_reader;

-- Event triggers: the objects each statement created, altered or dropped.
CREATE FUNCTION migguard.on_ddl_command_end() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'migguard_on_ddl_command_end';

CREATE FUNCTION migguard.on_sql_drop() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'migguard_on_sql_drop';

CREATE FUNCTION migguard.on_table_rewrite() RETURNS event_trigger
LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'migguard_on_table_rewrite';

CREATE EVENT TRIGGER migguard_table_rewrite ON table_rewrite
    EXECUTE FUNCTION migguard.on_table_rewrite();
CREATE EVENT TRIGGER migguard_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION migguard.on_ddl_command_end();
CREATE EVENT TRIGGER migguard_sql_drop ON sql_drop
    EXECUTE FUNCTION migguard.on_sql_drop();

-- The history of one object: every row whose objects name it.
CREATE FUNCTION migguard.history(object text)
RETURNS SETOF migguard.change_log
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF object IS NULL OR object = '' THEN
        RAISE EXCEPTION 'migguard.history() needs an object name, such as ''public.accounts'''
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The object itself, and for a table its columns too.
    RETURN QUERY
        SELECT c.* FROM migguard.change_log AS c
        WHERE EXISTS (
            SELECT FROM pg_catalog.jsonb_array_elements(c.objects) AS o
            WHERE o OPERATOR(pg_catalog.->>) 'identity' OPERATOR(pg_catalog.=) object
               OR (o OPERATOR(pg_catalog.->>) 'type' OPERATOR(pg_catalog.=) 'table column'
                   AND pg_catalog.starts_with(o OPERATOR(pg_catalog.->>) 'identity',
                                              object OPERATOR(pg_catalog.||) '.')))
        ORDER BY c.id;
END
$$;

COMMENT ON FUNCTION migguard.history(text) IS
'change_log rows that created, altered or dropped the object with this identity (schema-qualified, as pg_event_trigger_ddl_commands() names it), or one of its columns';

GRANT EXECUTE ON FUNCTION migguard.history(text) TO migguard_reader;
REVOKE EXECUTE ON FUNCTION migguard.history(text) FROM PUBLIC;

-- Changes by time range, user, application and tag; NULL means any.
CREATE FUNCTION migguard.changes(
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL,
    user_name name DEFAULT NULL,
    application text DEFAULT NULL,
    tag text DEFAULT NULL)
RETURNS SETOF migguard.change_log
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.* FROM migguard.change_log AS c
    WHERE (since IS NULL OR c.logged_at OPERATOR(pg_catalog.>=) since)
      AND (until IS NULL OR c.logged_at OPERATOR(pg_catalog.<) until)
      AND (user_name IS NULL OR c.session_user_name OPERATOR(pg_catalog.=) user_name
           OR c.current_user_name OPERATOR(pg_catalog.=) user_name)
      AND (application IS NULL OR c.application_name OPERATOR(pg_catalog.=) application)
      AND (changes.tag IS NULL OR c.tag OPERATOR(pg_catalog.=) changes.tag)
    ORDER BY c.id
$$;

COMMENT ON FUNCTION migguard.changes(timestamptz, timestamptz, name, text, text) IS
'change_log rows in [since, until), by session or current user, application_name and migguard.tag; NULL arguments match everything';

GRANT EXECUTE ON FUNCTION migguard.changes(timestamptz, timestamptz, name, text, text) TO migguard_reader;
REVOKE EXECUTE ON FUNCTION migguard.changes(timestamptz, timestamptz, name, text, text) FROM PUBLIC;

-- Retention: superusers only (no grant), returns how many rows went.
CREATE FUNCTION migguard.purge(older_than interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'migguard.purge() needs a positive interval, such as ''90 days'''
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM migguard.change_log
    WHERE logged_at < pg_catalog.now() OPERATOR(pg_catalog.-) older_than;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
REVOKE EXECUTE ON FUNCTION migguard.purge(interval) FROM PUBLIC;

-- Audit views.
CREATE VIEW migguard.blocked_attempts AS
    SELECT * FROM migguard.change_log WHERE verdict = 'blocked';
CREATE VIEW migguard.overrides AS
    SELECT * FROM migguard.change_log WHERE verdict = 'overridden';
GRANT SELECT ON migguard.blocked_attempts, migguard.overrides TO migguard_reader;

-- ---------------------------------------------------------------------
-- Objects added in 1.1.  Each also goes, unchanged, into
-- migguard--1.0--1.1.sql, so that ALTER EXTENSION migguard UPDATE from 1.0
-- gives the same objects as a fresh 1.1 install.
-- ---------------------------------------------------------------------

-- section: migration-level hazards (issue 15)

-- end of section: migration-level hazards

-- section: ecosystem (issue 16)

-- end of section: ecosystem

-- section: operations (issue 17)

-- Why each change was made (migguard.reason), the approval that accepted
-- it (approve(), below), and the hash chain (src/chain.c):
-- row_hash = SHA-256 over prev_hash and the row's columns in a fixed
-- encoding; prev_xid is the (sub)transaction that wrote the previous row,
-- so that verify_log() tells a rolled-back row from a deleted one.
ALTER TABLE migguard.change_log
    ADD COLUMN reason text,
    ADD COLUMN approval_id bigint,
    ADD COLUMN prev_xid xid8,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN row_hash bytea;

COMMENT ON COLUMN migguard.change_log.reason IS 'migguard.reason at the time';
COMMENT ON COLUMN migguard.change_log.row_hash IS
'SHA-256 over prev_hash and this row''s columns (encoding in the README, "Tamper evidence")';

-- The views name change_log's columns as they were when created.
CREATE OR REPLACE VIEW migguard.blocked_attempts AS
    SELECT * FROM migguard.change_log WHERE verdict = 'blocked';
CREATE OR REPLACE VIEW migguard.overrides AS
    SELECT * FROM migguard.change_log WHERE verdict = 'overridden';

-- Where the chain starts after purge(): the last purged row's id and hash.
CREATE TABLE migguard.log_anchor (
    last_id     bigint NOT NULL,
    row_hash    bytea,
    anchored_at timestamptz NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('migguard.log_anchor', '');
REVOKE ALL ON migguard.log_anchor FROM PUBLIC;
GRANT SELECT ON migguard.log_anchor TO migguard_reader;

CREATE FUNCTION migguard.verify_log() RETURNS bigint
LANGUAGE C STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'migguard_verify_log';

COMMENT ON FUNCTION migguard.verify_log() IS
'the first change_log id whose hash chain breaks (a row changed or deleted), NULL when intact';

REVOKE EXECUTE ON FUNCTION migguard.verify_log() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migguard.verify_log() TO migguard_reader;

-- Retention keeps the chain verifiable: it removes every row up to the
-- newest one older than the interval, and anchors the chain at that row.
CREATE OR REPLACE FUNCTION migguard.purge(older_than interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
    last bigint;
    last_hash bytea;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'migguard.purge() needs a positive interval, such as ''90 days'''
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One purge at a time, so that the anchor is the last one's.
    LOCK TABLE migguard.log_anchor IN EXCLUSIVE MODE;
    SELECT max(id) INTO last FROM migguard.change_log
    WHERE logged_at < pg_catalog.now() OPERATOR(pg_catalog.-) older_than;
    IF last IS NULL THEN
        RETURN 0;
    END IF;
    SELECT row_hash INTO last_hash FROM migguard.change_log WHERE id = last;
    DELETE FROM migguard.change_log WHERE id <= last;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM migguard.log_anchor;
    INSERT INTO migguard.log_anchor (last_id, row_hash, anchored_at)
        VALUES (last, last_hash, pg_catalog.now());
    RETURN removed;
END
$$;
REVOKE EXECUTE ON FUNCTION migguard.purge(interval) FROM PUBLIC;

-- Live counters from shared memory (src/stats.c), for every database of
-- the server: rule NULL counts statements, a rule its findings.
CREATE FUNCTION migguard.stats_rows(
    OUT database text,
    OUT rule text,
    OUT judged bigint,
    OUT allowed bigint,
    OUT warned bigint,
    OUT overridden bigint,
    OUT blocked bigint,
    OUT lock_timeouts bigint,
    OUT retries bigint,
    OUT retries_succeeded bigint,
    OUT lock_wait_ms bigint,
    OUT longest_strong_lock_hold_ms bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'migguard_stats_rows';

CREATE VIEW migguard.stats AS SELECT * FROM migguard.stats_rows();

COMMENT ON VIEW migguard.stats IS
'per database and rule (NULL: whole statements): statements or findings judged, allowed, warned, overridden, blocked; lock timeouts, retries, retries that succeeded, lock wait, longest strong-lock hold';

CREATE FUNCTION migguard.stats_reset() RETURNS void
LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'migguard_stats_reset';

REVOKE EXECUTE ON FUNCTION migguard.stats_rows() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION migguard.stats_reset() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migguard.stats_rows() TO migguard_reader, pg_monitor;
GRANT SELECT ON migguard.stats TO migguard_reader, pg_monitor;

-- Findings approved ahead (src/approvals.c matches them): a finding of
-- this rule on this relation is overridden while the approval is neither
-- expired nor revoked.  Written only by approve() and revoke_approval().
CREATE TABLE migguard.approved_findings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule        text NOT NULL,
    relation    regclass NOT NULL,
    reason      text NOT NULL,
    approved_by name NOT NULL,
    approved_at timestamptz NOT NULL,
    expires     timestamptz NOT NULL,
    revoked_by  name,
    revoked_at  timestamptz
);
SELECT pg_catalog.pg_extension_config_dump('migguard.approved_findings', '');
SELECT pg_catalog.pg_extension_config_dump(
    pg_catalog.pg_get_serial_sequence('migguard.approved_findings', 'id'), '');
REVOKE ALL ON migguard.approved_findings FROM PUBLIC;

CREATE VIEW migguard.approvals AS
    SELECT a.*,
           CASE WHEN a.revoked_at IS NOT NULL THEN 'revoked'
                WHEN a.expires OPERATOR(pg_catalog.<=) pg_catalog.now() THEN 'expired'
                ELSE 'active' END AS status
      FROM migguard.approved_findings AS a;
GRANT SELECT ON migguard.approvals TO migguard_reader;

-- Superusers, and members of the role migguard.approver_role names.
CREATE FUNCTION migguard.may_approve() RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    approver text := pg_catalog.current_setting('migguard.approver_role', true);
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) session_user) THEN
        RETURN true;
    END IF;
    RETURN approver IS NOT NULL AND approver OPERATOR(pg_catalog.<>) ''
        AND EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) approver)
        AND pg_catalog.pg_has_role(session_user, approver, 'MEMBER');
END
$$;
REVOKE EXECUTE ON FUNCTION migguard.may_approve() FROM PUBLIC;

CREATE FUNCTION migguard.approve(rule text, relation regclass, reason text, expires timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    IF NOT migguard.may_approve() THEN
        RAISE EXCEPTION 'permission denied to approve a migguard finding'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Superusers, and members of the role named by migguard.approver_role, may approve.';
    END IF;
    IF rule IS NULL OR relation IS NULL OR reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'migguard.approve() needs a rule, a relation and a reason'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM migguard.rules() AS r WHERE r.rule OPERATOR(pg_catalog.=) approve.rule) THEN
        RAISE EXCEPTION 'unknown migguard rule "%"', rule
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'SELECT rule FROM migguard.rules() lists them.';
    END IF;
    IF expires IS NULL OR expires OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
        RAISE EXCEPTION 'migguard.approve() needs an expiry in the future'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO migguard.approved_findings (rule, relation, reason, approved_by, approved_at, expires)
        VALUES (approve.rule, approve.relation, approve.reason, session_user, pg_catalog.now(), approve.expires)
        RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

CREATE FUNCTION migguard.revoke_approval(id bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT migguard.may_approve() THEN
        RAISE EXCEPTION 'permission denied to revoke a migguard approval'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Superusers, and members of the role named by migguard.approver_role, may revoke.';
    END IF;
    IF id IS NULL THEN
        RAISE EXCEPTION 'migguard.revoke_approval() needs the id of an approval'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'SELECT id FROM migguard.approvals lists them.';
    END IF;
    UPDATE migguard.approved_findings AS a SET revoked_by = session_user, revoked_at = pg_catalog.now()
     WHERE a.id OPERATOR(pg_catalog.=) revoke_approval.id AND a.revoked_at IS NULL;
    RETURN FOUND;
END
$$;

-- end of section: operations
