/* migguard--1.0--1.1.sql: ALTER EXTENSION migguard UPDATE from 1.0 to 1.1 */

\echo Use "ALTER EXTENSION migguard UPDATE TO '1.1'" to load this file. \quit

-- Everything here is also in migguard--1.1.sql (a fresh install); the
-- upgrade test compares the two.

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
