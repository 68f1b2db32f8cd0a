"""test/lockobs/lockobs_test.py -- what migguard says about locks, against pg_locks.

Issue 13's lock-observation test.  Every entry of corpus.sql (one DDL
statement each) is run against the schema of setup.sql, and what migguard
says is compared with what PostgreSQL really locks.  Prints TAP for prove;
test/t/010_lock_observation.pl starts the server and runs this script.

Ground truth
    Transactional entries: session 1 (superuser) runs the statement inside
    BEGIN ... ROLLBACK; session 2 then reads pg_locks for session 1's pid
    (locktype 'relation', this database).  A relation's observed mode is the
    strongest mode session 1 holds on it.  Only relations that existed before
    the statement count (session 2 resolves the OID in its own snapshot, so
    relations the statement creates are invisible to it), and only those
    outside pg_catalog, pg_toast, information_schema and migguard.  A
    *strong lock* is ShareLock or stronger (Share, ShareRowExclusive,
    Exclusive, AccessExclusive): it blocks writes or reads.
    Entries marked "-- autocommit" cannot run in a transaction block; their
    locks are declared by "-- expect: REL MODE" lines (from PostgreSQL's
    documentation and the core function cited next to them) and verified
    while the statement waits in the busy case: session 2 polls pg_locks and
    must see session 1 wait for REL in MODE (aspect "ground").

Aspects, one TAP test per entry and aspect (busy: per strongly locked relation)
    runs       the statement runs (in the observation pass) and check()
               analyses it without an error.
    recall     check() names every strongly locked relation with its observed
               mode.  check() runs in its own transaction before the
               statement with migguard.lock_timeout = 0, lock_timeout = 0 and
               migguard.large_table_size = 0, so the lock_timeout rule fires
               and names each protected relation; a row "names R with M" when
               its relation column resolves to R and its lock_mode is M.  A
               strongly locked index also counts as named when its table is
               named with the index's mode (the finding is about the table).
    precision  every check() row with a relation and a lock_mode names a
               relation that was observed with exactly that mode (strongest
               mode; for a table, also the strongest mode of one of its
               indexes).  Rows naming relations that did not exist before are
               not judged.
    log        the statement's change_log row (the least nested one of xid =
               pg_current_xact_id(), read in session 1 before the rollback;
               the statement runs with migguard.mode = warn and both lock
               timeouts 0): lock_mode is the strongest observed strong mode
               (NULL or the strongest observed mode when there is no strong
               lock), and every strongly locked relation is named in
               findings[].relation or objects[].identity (an index also
               through its table).  LOCK, TRUNCATE, VACUUM, ANALYZE and
               REINDEX need no row (PostgreSQL 15's event triggers do not
               see them); any other statement without a row passes only
               when it takes no strong lock.
    rewrite    change_log.rewrite is true exactly when the storage
               (pg_relation_filenode) of an existing table or materialized
               view changed, as session 1 sees it against session 2.
               TRUNCATE replaces storage too but is not a rewrite: its
               entries skip this aspect.
    busy       for each strongly locked relation R: session 2 holds the
               weakest lock that conflicts with R's mode (LOCK TABLE ONLY for
               tables and views; a SELECT, nextval or EXPLAIN of the owning
               table where LOCK TABLE cannot name R) in an open transaction;
               session 1 runs the statement with migguard.lock_timeout = 1s,
               migguard.lock_retries = 0, statement_timeout = 6s and
               lock_timeout = 0.  It must fail with SQLSTATE 55P03 within 3 s.
               57014 (statement_timeout) counts as "waits past the timeout".
               An index's busy case is left out when the statement locks its
               table at least as strongly: session 2 cannot lock the index
               without its table, so the table's case is the same test.
               Entries marked "-- queues-nobody" (the CONCURRENTLY index
               commands: they only wait for other transactions, holding
               SHARE UPDATE EXCLUSIVE, and take ACCESS EXCLUSIVE only on an
               index PostgreSQL has marked dead) get no migguard timeout by
               design: their busy case passes when the statement keeps
               waiting, as without migguard, until statement_timeout (57014).
    ground     autocommit entries, per busy case: while session 1 waits,
               session 2 sees it wait for REL in the declared MODE, or only
               for session 2's transaction (virtualxid: WaitForLockers of the
               CONCURRENTLY commands).

Corpus markers (comment lines before an entry's statement)
    -- name: N            TAP name of the entry (default: the statement)
    -- autocommit         cannot run in a transaction block
    -- expect: REL MODE   a lock of an autocommit entry (several lines)
    -- before: SQL        autocommit only: run (committed) before the entry
    -- after: SQL         autocommit only: run after it, restoring the schema
    -- queues-nobody      waits for other transactions only: no timeout (busy)
    -- known: ASPECT WHY  a known failure: that aspect's tests become TODO;
                          busy:REL and ground:REL name one relation's case

Environment: PGHOST, PGPORT, PGUSER (libpq); LOCKOBS_WORKERS (default 4)
databases, each a copy of the template, run entries in parallel;
LOCKOBS_ONLY, a regular expression, runs only matching entries;
LOCKOBS_RESULTS, a file for the JSON results.
"""

import json
import multiprocessing
import os
import re
import sys
import tempfile
import time

import psycopg2
import psycopg2.extras

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from pytap import Tap, connect  # noqa: E402

MODES = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
]
STRENGTH = {m: i for i, m in enumerate(MODES)}
STRONG = STRENGTH["ShareLock"]
ASPECTS = ("runs", "recall", "precision", "log", "rewrite", "busy", "ground")

# The weakest mode that conflicts with each strong mode (the lock conflict
# table of lock.c, LockConflicts).
CONFLICTING = {
    "ShareLock": "RowExclusiveLock",
    "ShareRowExclusiveLock": "RowExclusiveLock",
    "ExclusiveLock": "RowShareLock",
    "AccessExclusiveLock": "AccessShareLock",
}
LOCK_SQL_MODE = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
}
TEMPLATE = "lockobs_template"
SYSTEM_SCHEMAS = ("pg_catalog", "pg_toast", "information_schema", "migguard")
BUSY_LIMIT = 3.0
# check()'s row for a statement it cannot analyse without executing it.
NOT_ANALYSED = "not_analysed"
# Commands PostgreSQL 15's event triggers do not see (no row is required).
NOT_RECORDED = re.compile(r"(?i)\s*(lock|truncate|vacuum|analyze|reindex)\b")


def short_name(qualified):
    """A relation's name as the corpus writes it (public. left out)."""
    return qualified[len("public."):] if qualified.startswith("public.") else qualified


def strongest(modes):
    return max(modes, key=STRENGTH.get) if modes else None


# --------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------

class Entry:
    def __init__(self, number, line):
        self.number = number
        self.line = line
        self.name = None
        self.autocommit = False
        self.expect = []
        self.before = []
        self.after = []
        self.known = {}
        self.queues_nobody = False
        self.sql = ""

    @property
    def title(self):
        text = self.name or " ".join(self.sql.split())
        if len(text) > 90:
            text = text[:87] + "..."
        return "[%d] %s" % (self.number, text)


def read_corpus(path):
    """Entries of PATH: blocks separated by blank lines; comment lines at the
    start of a block carry the markers, the rest is the statement."""
    entries = []
    block = []
    start = 0
    with open(path) as f:
        lines = f.read().split("\n") + [""]
    for lineno, line in enumerate(lines, 1):
        if line.strip():
            if not block:
                start = lineno
            block.append(line)
            continue
        if block:
            entry = parse_entry(len(entries) + 1, start, block)
            if entry is not None:
                entries.append(entry)
            block = []
    return entries


def parse_entry(number, start, block):
    entry = Entry(number, start)
    body = []
    for line in block:
        marker = re.match(r"--\s*(name|autocommit|queues-nobody|expect|before|after|known)\b:?\s*(.*)$", line)
        if body or not line.startswith("--"):
            body.append(line)
        elif marker:
            key, value = marker.group(1), marker.group(2).strip()
            if key == "name":
                entry.name = value
            elif key == "autocommit":
                entry.autocommit = True
            elif key == "queues-nobody":
                entry.queues_nobody = True
            elif key == "expect":
                rel, mode = value.split()
                if mode not in STRENGTH:
                    raise ValueError("line %d: unknown lock mode %s" % (start, mode))
                entry.expect.append((rel, mode))
            elif key == "before":
                entry.before.append(value)
            elif key == "after":
                entry.after.append(value)
            else:
                aspect, _, why = value.partition(" ")
                if aspect.split(":")[0] not in ASPECTS:
                    raise ValueError("line %d: unknown aspect %s" % (start, aspect))
                entry.known[aspect] = why.strip()
    entry.sql = "\n".join(body).strip()
    return entry if entry.sql else None


# --------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------

def rows(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)


class Catalog:
    """Relations as session 2 sees them (committed, before the statement)."""

    def __init__(self, conn):
        self.by_oid = {}
        self.by_name = {}
        for oid, schema, name, kind, table in rows(conn, """
                SELECT c.oid, n.nspname, c.relname, c.relkind::text,
                       i.indrelid::regclass::text
                  FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid"""):
            rel = {"oid": oid, "schema": schema, "name": name, "kind": kind,
                   "qualified": "%s.%s" % (schema, name), "table": table}
            self.by_oid[oid] = rel
            self.by_name[rel["qualified"]] = rel
            if schema == "public":
                self.by_name.setdefault(name, rel)

    def resolve(self, text):
        if not text:
            return None
        return self.by_name.get(text.replace('"', ""))

    def user_relation(self, qualified):
        rel = self.by_name.get(qualified)
        return rel is not None and rel["schema"] not in SYSTEM_SCHEMAS

    def table_of(self, qualified):
        """The qualified name of an index's table, else None."""
        rel = self.by_name.get(qualified)
        if rel is None or rel["table"] is None:
            return None
        table = self.resolve(rel["table"])
        return table["qualified"] if table else None


def observed_locks(s2, pid, catalog):
    """{qualified name: strongest mode} of session 1's relation locks."""
    held = {}
    for oid, mode in rows(s2, """
            SELECT relation, mode FROM pg_catalog.pg_locks
             WHERE pid = %s AND locktype = 'relation'
               AND database = (SELECT oid FROM pg_catalog.pg_database
                                WHERE datname = pg_catalog.current_database())""", (pid,)):
        rel = catalog.by_oid.get(oid)
        if rel is not None:
            held.setdefault(rel["qualified"], []).append(mode)
    return {name: strongest(modes) for name, modes in held.items()}


CHECK_PASS = """
    SET LOCAL migguard.lock_timeout = 0;
    SET LOCAL lock_timeout = 0;
    SET LOCAL migguard.large_table_size = 0;
"""
EXEC_PASS = """
    SET LOCAL migguard.mode = 'warn';
    SET LOCAL migguard.lock_timeout = 0;
    SET LOCAL lock_timeout = 0;
"""
BUSY_PASS = """
    SET LOCAL migguard.mode = 'warn';
    SET LOCAL migguard.lock_timeout = '1s';
    SET LOCAL migguard.lock_retries = 0;
    SET LOCAL lock_timeout = 0;
    SET LOCAL statement_timeout = '6s';
"""


def check_rows(s1, entry, catalog):
    """[(qualified name or raw text, mode, rule)] of check()'s rows with both
    a relation and a lock mode, and its not_analysed row (no relation)."""
    run(s1, "BEGIN")
    try:
        run(s1, CHECK_PASS)
        got = rows(s1, "SELECT relation, lock_mode, rule FROM migguard.check(%s)"
                   " WHERE (relation IS NOT NULL AND lock_mode IS NOT NULL)"
                   " OR rule = %s", (entry.sql, NOT_ANALYSED))
    finally:
        run(s1, "ROLLBACK")
    named = []
    for relation, mode, rule in got:
        rel = catalog.resolve(relation) if relation is not None else None
        named.append((rel["qualified"] if rel else None, mode, rule, relation))
    return named


def filenodes(conn, catalog, tables):
    """{qualified name: relfilenode} of TABLES (qualified names) as CONN
    sees them; a table CONN does not see is left out."""
    oids = [catalog.by_name[name]["oid"] for name in tables]
    return {catalog.by_oid[oid]["qualified"]: node for oid, node in rows(conn, """
        SELECT c.oid, pg_catalog.pg_relation_filenode(c.oid)
          FROM pg_catalog.pg_class c WHERE c.oid = ANY (%s::oid[])""", (oids,))}


def change_log_of_xact(s1):
    got = rows(s1, """
        SELECT lock_mode, findings, objects, rewrite FROM migguard.change_log
         WHERE xid = pg_catalog.pg_current_xact_id()
         ORDER BY nesting, id""")
    return got[0] if got else None


def observe_transactional(s1, s2, pid, entry, catalog, result):
    """Runs the statement in a transaction; returns its observed locks."""
    table_names = [r["qualified"] for r in catalog.by_oid.values()
                   if r["kind"] in ("r", "m") and r["schema"] not in SYSTEM_SCHEMAS]
    run(s1, "BEGIN")
    try:
        run(s1, EXEC_PASS)
        try:
            run(s1, entry.sql)
        except psycopg2.Error as e:
            result["error"] = "%s: %s" % (e.pgcode, e.pgerror)
            return None
        locks = observed_locks(s2, pid, catalog)
        log = change_log_of_xact(s1)
        mine = filenodes(s1, catalog, table_names)
        theirs = filenodes(s2, catalog, table_names)
        result["replaced"] = sorted(n for n in theirs
                                    if n in mine and mine[n] != theirs[n])
        result["log"] = log
        return locks
    finally:
        run(s1, "ROLLBACK")


def hold_conflicting(s2, catalog, qualified, mode):
    """Opens a transaction in session 2 holding a lock that conflicts with
    MODE on QUALIFIED; returns how, or None when none can be held."""
    want = CONFLICTING[mode]
    rel = catalog.by_name[qualified]
    ident = '"%s"."%s"' % (rel["schema"], rel["name"])
    # LOCK TABLE takes tables and views only (RangeVarCallbackForLockTable);
    # a foreign table without a handler cannot even be read.
    if rel["kind"] in ("r", "p", "v"):
        sql = "LOCK TABLE ONLY %s IN %s MODE" % (ident, LOCK_SQL_MODE[want])
    elif rel["kind"] in ("m", "S") and want == "AccessShareLock":
        sql = "SELECT 1 FROM %s LIMIT 0" % ident
    elif rel["kind"] == "S" and want == "RowExclusiveLock":
        sql = "SELECT pg_catalog.nextval('%s')" % ident.replace("'", "''")
    elif rel["kind"] == "i" and want == "AccessShareLock" and rel["table"]:
        # The planner opens every index of the table (get_relation_info)
        # and keeps AccessShareLock on it until the end of the transaction.
        sql = "EXPLAIN SELECT * FROM %s" % rel["table"]
    else:
        return None
    run(s2, "BEGIN")
    run(s2, sql)
    return sql


def s1_async_poll(conn):
    """None while the statement runs; then "00000" or its SQLSTATE."""
    try:
        state = conn.poll()
    except psycopg2.Error as e:
        return e.pgcode or "XX000"
    if state == psycopg2.extensions.POLL_OK:
        return "00000"
    return None


def run_entry(db, entry):
    """Everything measured for ENTRY, as a JSON-able dict."""
    result = {"number": entry.number}
    s1 = connect(db, "lockobs s1")
    # Session 1 again, asynchronous: a busy case waits, and session 2 must
    # read pg_locks meanwhile.
    busy = psycopg2.connect(dbname=db, application_name="lockobs s1 busy", async_=True)
    psycopg2.extras.wait_select(busy)
    s2 = connect(db, "lockobs s2")
    try:
        pid = rows(s1, "SELECT pg_catalog.pg_backend_pid()")[0][0]
        for sql in entry.before:
            run(s1, sql)
        catalog = Catalog(s2)
        try:
            result["check"] = check_rows(s1, entry, catalog)
        except psycopg2.Error as e:
            result["check_error"] = "%s: %s" % (e.pgcode, e.pgerror)
            result["check"] = []
        if entry.autocommit:
            locks = {}
            for rel, mode in entry.expect:
                r = catalog.resolve(rel)
                if r is None:
                    result["error"] = "expected relation %s does not exist" % rel
                    return result
                locks[r["qualified"]] = mode
        else:
            locks = observe_transactional(s1, s2, pid, entry, catalog, result)
            if locks is None:
                return result
        result["locks"] = locks
        strong = {r: m for r, m in locks.items()
                  if STRENGTH[m] >= STRONG and catalog.user_relation(r)}
        result["strong"] = strong
        result["index_table"] = {r: catalog.table_of(r) for r in locks}
        result["busy"] = []
        for rel, mode in sorted(strong.items()):
            table = catalog.table_of(rel)
            if table is not None and STRENGTH.get(locks.get(table), -1) >= STRENGTH[mode]:
                # Session 2 cannot hold the index without its table (the
                # planner locks both), and the statement locks the table
                # at least as strongly: the table's busy case is this one.
                continue
            result["busy"].append(busy_case(busy, s2, entry, catalog, rel, mode))
            if entry.autocommit:
                restore(s1, entry, result)
                catalog = Catalog(s2)
        if entry.autocommit:
            result["log"], result["replaced"] = run_autocommit(s1, s2, entry, catalog)
    except psycopg2.Error as e:
        result["error"] = "%s: %s" % (e.pgcode, e.pgerror)
    finally:
        restore(s1, entry, result, again=False)
        busy.close()
        s1.close()
        s2.close()
    return result


def restore(s1, entry, result, again=True):
    """Runs the "after" lines (errors only noted: what they undo may not have
    happened), then, with AGAIN, the "before" lines."""
    for sql in entry.after:
        try:
            run(s1, sql)
        except psycopg2.Error as e:
            result.setdefault("after_errors", []).append(e.pgerror)
    if again:
        for sql in entry.before:
            run(s1, sql)


def run_setting_async(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    psycopg2.extras.wait_select(conn)
    cur.close()


def busy_case(a, s2, entry, catalog, qualified, mode):
    """{sqlstate, seconds, how, waited_on} of the statement, run on session
    1's asynchronous connection A, behind a conflicting lock on QUALIFIED."""
    apid = a.get_backend_pid()
    out = {"relation": qualified, "mode": mode}
    how = hold_conflicting(s2, catalog, qualified, mode)
    out["how"] = how
    if how is None:
        return out
    waited = {}
    try:
        if entry.autocommit:
            run_setting_async(a, BUSY_PASS.replace("SET LOCAL", "SET"))
            script = entry.sql
        else:
            script = "BEGIN;" + BUSY_PASS + entry.sql
        start = time.monotonic()
        cur = a.cursor()  # referenced until the end: psycopg2 needs it
        cur.execute(script)
        while True:
            state = s1_async_poll(a)
            if state is not None:
                break
            for locktype, oid, wmode in rows(s2, """
                    SELECT locktype, relation, mode FROM pg_catalog.pg_locks
                     WHERE pid = %s AND NOT granted""", (apid,)):
                rel = catalog.by_oid.get(oid) if locktype == "relation" else None
                waited[rel["qualified"] if rel else locktype] = wmode
            time.sleep(0.02)
        out["seconds"] = round(time.monotonic() - start, 2)
        out["sqlstate"] = state
        out["waited_on"] = waited
    finally:
        run(s2, "ROLLBACK")
        run_setting_async(a, "ROLLBACK")
        if entry.autocommit:
            run_setting_async(a, "RESET ALL")
    return out


def run_autocommit(s1, s2, entry, catalog):
    """Runs an autocommit entry for real; its change_log row and replaced
    storage."""
    table_names = [r["qualified"] for r in catalog.by_oid.values()
                   if r["kind"] in ("r", "m") and r["schema"] not in SYSTEM_SCHEMAS]
    before = filenodes(s2, catalog, table_names)
    last = rows(s1, "SELECT coalesce(max(id), 0) FROM migguard.change_log")[0][0]
    run(s1, EXEC_PASS.replace("SET LOCAL", "SET"))
    try:
        run(s1, entry.sql)
    finally:
        run(s1, "RESET ALL")
    got = rows(s1, """
        SELECT lock_mode, findings, objects, rewrite FROM migguard.change_log
         WHERE id > %s AND pid = pg_catalog.pg_backend_pid()
         ORDER BY nesting, id LIMIT 1""", (last,))
    after = filenodes(s2, catalog, table_names)
    replaced = sorted(n for n in before if n in after and after[n] != before[n])
    return (got[0] if got else None), replaced


def worker(args):
    db, entries = args
    return [run_entry(db, entry) for entry in entries]


# --------------------------------------------------------------------------
# Judging
# --------------------------------------------------------------------------

def names_with(named, rel, mode, index_table):
    if (rel, mode) in named:
        return True
    table = index_table.get(rel)
    return table is not None and (table, mode) in named


class Judge:
    def __init__(self, tap):
        self.tap = tap
        self.strong_total = 0
        self.strong_named = 0
        self.rows_total = 0
        self.rows_right = 0
        self.log_total = 0
        self.log_named = 0
        self.waited_past = []
        self.failures = []
        self.not_analysed_locks = 0
        self.not_analysed_statements = 0

    def test(self, entry, aspect, cond, desc, diag=None, relation=None):
        """One TAP test; a "-- known:" marker for ASPECT (or, for the busy
        and ground aspects, for ASPECT:RELATION) makes it a TODO."""
        known = entry.known.get(aspect)
        if relation is not None:
            known = entry.known.get("%s:%s" % (aspect, short_name(relation)), known)
        if known is not None:
            desc = "%s # TODO %s" % (desc, known)
        self.tap.ok(cond, desc, diag)
        if not cond:
            self.failures.append({"entry": entry.number, "title": entry.title,
                                  "sql": entry.sql, "desc": desc, "relation": relation,
                                  "aspect": aspect, "diag": diag or "",
                                  "known": known})

    def entry(self, entry, r):
        t = entry.title
        ran = "error" not in r
        self.test(entry, "runs", ran and "check_error" not in r,
                  "%s: runs, and check() analyses it" % t,
                  r.get("error", r.get("check_error")))
        if not ran:
            return
        named = {(q, m) for q, m, _rule, _raw in r["check"] if q is not None}
        strong = r["strong"]
        index_table = r["index_table"]
        locks = r["locks"]

        missing = [(rel, m) for rel, m in sorted(strong.items())
                   if not names_with(named, rel, m, index_table)]
        if any(rule == NOT_ANALYSED for _q, _m, rule, _raw in r["check"]):
            # check() executes nothing, so it cannot know what code (a DO
            # body) will run; it says so in a row of its own.  These locks
            # are counted apart: the busy cases below prove them protected
            # live, where the hook sees each statement as it runs.
            self.not_analysed_locks += len(strong)
            self.not_analysed_statements += 1
            self.tap.ok(True, "%s: check() says it does not analyse this statement (%s);"
                        " protected live" % (
                            t, ", ".join("%s %s" % rm for rm in sorted(strong.items())) or "none"))
        else:
            self.strong_total += len(strong)
            self.strong_named += len(strong) - len(missing)
            self.test(entry, "recall", not missing,
                      "%s: check() names every strong lock (%s)" % (
                          t, ", ".join("%s %s" % rm for rm in sorted(strong.items())) or "none"),
                      "not named: %s\ncheck() rows: %s" % (missing, r["check"]))

        # Precision: each (relation, mode) row against the observed modes.
        table_modes = {}
        for rel, m in locks.items():
            table = index_table.get(rel)
            if table:
                table_modes.setdefault(table, set()).add(m)
        wrong = []
        for q, m, rule, raw in r["check"]:
            if q is None:
                continue
            self.rows_total += 1
            if locks.get(q) == m or m in table_modes.get(q, ()):
                self.rows_right += 1
            else:
                wrong.append("%s names %s %s (observed %s)" % (rule, raw, m, locks.get(q)))
        self.test(entry, "precision", not wrong,
                  "%s: check() names no relation with a mode it does not take" % t,
                  "\n".join(wrong))

        log = r.get("log")
        if log is None and NOT_RECORDED.match(entry.sql):
            self.tap.ok(True, "%s: no change_log row: PostgreSQL 15's event triggers"
                        " do not see this command" % t)
        elif log is None:
            self.test(entry, "log", not strong,
                      "%s: no change_log row, so no strong lock" % t,
                      "strong locks %s but no change_log row" % (strong,))
        else:
            lock_mode, findings, objects, rewrite = log
            want = strongest(list(strong.values()))
            mentioned = set()
            for f in findings or []:
                rel = f.get("relation")
                if rel:
                    mentioned.add(rel.replace('"', ""))
            for o in objects or []:
                if o.get("identity"):
                    mentioned.add(o["identity"].replace('"', ""))
            unnamed = [rel for rel in sorted(strong)
                       if rel not in mentioned and rel.split(".", 1)[1] not in mentioned
                       and (index_table.get(rel) or "-") not in mentioned]
            self.log_total += len(strong)
            self.log_named += len(strong) - len(unnamed)
            if want is not None:
                mode_ok = lock_mode == want
            else:
                mode_ok = lock_mode in (None, "", strongest(list(locks.values())))
            self.test(entry, "log", mode_ok and not unnamed,
                      "%s: change_log records lock_mode %s and names every strong lock" % (
                          t, want),
                      "lock_mode %r, not named: %s\nfindings %s\nobjects %s" % (
                          lock_mode, unnamed, json.dumps(findings), json.dumps(objects)))
            if not re.match(r"(?i)\s*truncate\b", entry.sql):
                replaced = r.get("replaced", [])
                self.test(entry, "rewrite", bool(rewrite) == bool(replaced),
                          "%s: change_log.rewrite is %s (storage replaced: %s)" % (
                              t, "true" if replaced else "false",
                              ", ".join(replaced) or "none"),
                          "rewrite %r" % (rewrite,))

        for b in r["busy"]:
            desc = "%s: busy %s (%s held), fails with 55P03 within %gs" % (
                t, b["relation"], b["mode"], BUSY_LIMIT)
            if b["how"] is None:
                self.tap.ok(True, "%s # SKIP no conflicting lock can be held on %s" % (
                    desc, b["relation"]))
                continue
            if entry.queues_nobody:
                desc = "%s: busy %s (%s held), waits as without migguard (queues nobody)" % (
                    t, b["relation"], b["mode"])
                self.test(entry, "busy", b["sqlstate"] == "57014",
                          desc, "got SQLSTATE %s after %ss (session 2: %s)" % (
                              b["sqlstate"], b["seconds"], b["how"]), relation=b["relation"])
            else:
                if b["sqlstate"] == "57014":
                    self.waited_past.append(entry.title)
                self.test(entry, "busy", b["sqlstate"] == "55P03" and b["seconds"] <= BUSY_LIMIT,
                          desc, "got SQLSTATE %s after %ss (session 2: %s)" % (
                              b["sqlstate"], b["seconds"], b["how"]), relation=b["relation"])
            if entry.autocommit:
                waited = b["waited_on"]
                # Session 2 holds an index through EXPLAIN of its table,
                # which locks every index of the table: the statement may
                # first meet a sibling index it locks earlier (REINDEX goes
                # by index OID), in the mode declared for that one.
                declared = dict(entry.expect)
                sibling = b["how"].startswith("EXPLAIN") and any(
                    index_table.get(k) is not None
                    and index_table.get(k) == index_table.get(b["relation"])
                    and declared.get(short_name(k)) == v
                    for k, v in waited.items())
                self.test(entry, "ground",
                          waited.get(b["relation"]) == b["mode"] or sibling
                          or (waited and all(k == "virtualxid" for k in waited)),
                          "%s: waits for %s in %s as declared (or for session 2's"
                          " transaction)" % (t, b["relation"], b["mode"]),
                          "waited on %s" % (waited,), relation=b["relation"])

    def summary(self):
        def ratio(a, b):
            return "%d/%d = %.3f" % (a, b, (a / b) if b else 1.0)
        text = ("summary: check() lock recall %s, precision %s; change_log recall %s;"
                " statements waiting past the timeout: %d" % (
                    ratio(self.strong_named, self.strong_total),
                    ratio(self.rows_right, self.rows_total),
                    ratio(self.log_named, self.log_total),
                    len(set(self.waited_past))))
        if self.not_analysed_statements:
            text += ("; not analysable by check(), protected live: %d strong locks in %d"
                     " statements" % (self.not_analysed_locks, self.not_analysed_statements))
        self.tap.diag(text)
        return text


# --------------------------------------------------------------------------

def plan_of(entry, r):
    n = 1
    if "error" not in r:
        n += 3 + (0 if r.get("log") is None or re.match(r"(?i)\s*truncate\b", entry.sql) else 1)
        for b in r["busy"]:
            n += 1 + (1 if entry.autocommit and b["how"] is not None else 0)
    return n


def prepare(workers):
    admin = connect("postgres", "lockobs setup")
    tablespace_dir = tempfile.mkdtemp(prefix="lockobs-ts-")
    for i in range(workers):
        run(admin, "DROP DATABASE IF EXISTS lockobs_%d" % i)
    run(admin, "DROP DATABASE IF EXISTS " + TEMPLATE)
    run(admin, "DROP TABLESPACE IF EXISTS lockobs_ts")
    run(admin, "DROP ROLE IF EXISTS lockobs_role")
    run(admin, "CREATE ROLE lockobs_role")
    run(admin, "CREATE TABLESPACE lockobs_ts LOCATION %s", (tablespace_dir,))
    run(admin, "CREATE DATABASE " + TEMPLATE)
    conn = connect(TEMPLATE, "lockobs setup")
    run(conn, "CREATE EXTENSION migguard")
    with open(os.path.join(HERE, "setup.sql")) as f:
        run(conn, f.read())
    conn.close()
    for i in range(workers):
        run(admin, "CREATE DATABASE lockobs_%d TEMPLATE %s" % (i, TEMPLATE))
    admin.close()


def cleanup(workers):
    admin = connect("postgres", "lockobs cleanup")
    for i in range(workers):
        run(admin, "DROP DATABASE IF EXISTS lockobs_%d" % i)
    run(admin, "DROP DATABASE IF EXISTS " + TEMPLATE)
    run(admin, "DROP TABLESPACE IF EXISTS lockobs_ts")
    run(admin, "DROP ROLE IF EXISTS lockobs_role")
    admin.close()


def main():
    entries = read_corpus(os.path.join(HERE, "corpus.sql"))
    only = os.environ.get("LOCKOBS_ONLY")
    if only:
        entries = [e for e in entries if re.search(only, e.sql) or re.search(only, e.name or "")]
    workers = int(os.environ.get("LOCKOBS_WORKERS", "4"))
    started = time.monotonic()
    prepare(workers)
    shares = [("lockobs_%d" % i, entries[i::workers]) for i in range(workers)]
    with multiprocessing.Pool(workers) as pool:
        parts = pool.map(worker, shares)
    results = {}
    for part in parts:
        for r in part:
            results[r["number"]] = r
    cleanup(workers)

    tap = Tap(sum(plan_of(e, results[e.number]) for e in entries))
    judge = Judge(tap)
    for e in entries:
        judge.entry(e, results[e.number])
    summary = judge.summary()
    tap.diag("%d statements in %.0f s" % (len(entries), time.monotonic() - started))
    out = os.environ.get("LOCKOBS_RESULTS")
    if out:
        with open(out, "w") as f:
            json.dump({"summary": summary, "results": results, "failures": judge.failures,
                       "waited_past": sorted(set(judge.waited_past))}, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
