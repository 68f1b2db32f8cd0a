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
-- it (not written yet: always NULL), and the hash chain (src/chain.c):
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

-- end of section: operations
