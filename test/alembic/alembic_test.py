#!/usr/bin/env python3
"""test/alembic/alembic_test.py -- Alembic migrations against a server running migguard.

    python3 test/alembic/alembic_test.py

Connection settings come from libpq's environment (PGHOST, PGPORT, PGUSER);
the user must be a superuser (the test creates and drops the database
migguard_alembic and sets migguard.large_table_size = '64kB' on it).  Needs
the Debian packages python3-alembic, python3-sqlalchemy and python3-psycopg2.
Output is TAP.

The environment is test/alembic itself (alembic.ini, env.py, versions/),
run as `python3 -m alembic -c test/alembic/alembic.ini ...` with
contrib/ on PYTHONPATH; env.py tags each revision with its id through
contrib/alembic_migguard.py.  The history, written by hand:

    1a0c5e7b2d01  create_table items              applied; then 5000 rows are inserted
    2b1d6f8c3e02  create_index CONCURRENTLY       applied (autocommit_block)
      3c2e7a9d4f03  create_index (plain)          blocked   } branches off 2b1d6f8c3e02
      4d3f8b0e5a04  alter_column Integer->BigInt  blocked   } that are never merged
    5e4a9c1f6b05  add_column note (nullable)      applied   } in one upgrade run,
    6f5b0d2a7c06  create_index CONCURRENTLY       applied   } then 6f5b downgraded, upgraded

The unsafe revisions are sibling branches, so each is attempted on its own
(`alembic upgrade <id>`) and the real history continues past them; no
revision file is added or removed during the test.
"""

import os
import subprocess
import sys
import traceback
from pathlib import Path

sys.dont_write_bytecode = True

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import pytap  # noqa: E402
from pytap import Tap  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DB = "migguard_alembic"
PLAN = 23

R1, R2, R3, R4, R5, R6 = ("1a0c5e7b2d01", "2b1d6f8c3e02", "3c2e7a9d4f03",
                          "4d3f8b0e5a04", "5e4a9c1f6b05", "6f5b0d2a7c06")

MSG_CREATE_INDEX = "would block writes for the whole index build"
MSG_ALTER_TYPE = 'ALTER COLUMN "quantity" TYPE bigint would rewrite "public.items"'


def connect(dbname):
    return pytap.connect(dbname, "alembic_test")


def Db(dbname):
    return pytap.Db(dbname, "alembic_test")


ENV = dict(os.environ)
ENV["PGDATABASE"] = DB
ENV["PYTHONDONTWRITEBYTECODE"] = "1"
ENV["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT / "contrib")] + ([ENV["PYTHONPATH"]] if ENV.get("PYTHONPATH") else []))


def alembic(*args):
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(HERE / "alembic.ini"), *args],
        cwd=HERE, env=ENV, capture_output=True, text=True, timeout=120)


def output(r):
    return "exit status %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr)


def version(db):
    return [v for (v,) in db.rows("SELECT version_num FROM alembic_version")]


def valid_index(db, name):
    return db.rows("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE c.relname = %s", [name]) == [(True,)]


def column_type(db, name):
    return db.scalar("SELECT data_type FROM information_schema.columns WHERE table_schema = "
                     "'public' AND table_name = 'items' AND column_name = %s", [name])


def setup():
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
        cur.execute("CREATE DATABASE %s" % DB)
        cur.execute("ALTER DATABASE %s SET migguard.large_table_size = '64kB'" % DB)
    admin.close()
    conn = connect(DB)
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION migguard")
    conn.close()


def drop_database():
    admin = connect("postgres")
    try:
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s" % DB)
    finally:
        admin.close()


def run(t, db):
    r = alembic("upgrade", R1)
    t.ok(r.returncode == 0 and column_type(db, "quantity") == "integer",
         "upgrade %s creates items (quantity integer)" % R1, output(r))
    db.rows("INSERT INTO items (quantity, email) "
            "SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 5000) g")
    size = db.scalar("SELECT pg_table_size('items')")
    t.ok(size >= 65536, "5000 rows make items large (%d bytes >= 64kB)" % size)

    # -- the safe index ------------------------------------------------------
    r = alembic("upgrade", R2)
    t.ok(r.returncode == 0, "create_index(postgresql_concurrently=True) in "
                            "autocommit_block() is applied", output(r))
    t.ok(valid_index(db, "items_email_idx") and version(db) == [R2],
         "items_email_idx is valid, alembic_version is %s" % R2)

    # -- blocked: plain create_index ------------------------------------------
    r = alembic("upgrade", R3)
    t.ok(r.returncode != 0 and MSG_CREATE_INDEX in r.stderr,
         "plain create_index on the large table: upgrade fails with migguard's message",
         output(r))
    t.ok("HINT:" in r.stderr and
         "CREATE INDEX CONCURRENTLY items_quantity_idx ON items (quantity);" in r.stderr,
         "plain create_index: stderr carries the HINT with the CONCURRENTLY statement",
         output(r))
    t.ok(db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'items_quantity_idx'") == 0
         and version(db) == [R2],
         "plain create_index: no index, alembic_version still %s" % R2)

    # -- blocked: alter_column Integer -> BigInteger ---------------------------
    r = alembic("upgrade", R4)
    t.ok(r.returncode != 0 and MSG_ALTER_TYPE in r.stderr
         and "Rule alter_column_type" in r.stderr,
         "alter_column(type_=BigInteger): upgrade fails (alter_column_type)", output(r))
    t.ok(column_type(db, "quantity") == "integer" and version(db) == [R2],
         "alter_column: quantity is still integer, alembic_version still %s" % R2)

    # -- two revisions in one run, then a downgrade and upgrade ---------------
    r = alembic("upgrade", R6)
    t.ok(r.returncode == 0 and "Running upgrade %s -> %s" % (R2, R5) in r.stderr
         and "Running upgrade %s -> %s" % (R5, R6) in r.stderr,
         "one upgrade run applies %s (add_column) and %s (concurrent index)" % (R5, R6),
         output(r))
    t.ok(column_type(db, "note") == "text" and valid_index(db, "items_note_idx")
         and version(db) == [R6],
         "items.note and items_note_idx exist, alembic_version is %s" % R6)
    r = alembic("downgrade", R5)
    t.ok(r.returncode == 0 and
         db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'items_note_idx'") == 0,
         "downgrade %s drops items_note_idx concurrently" % R5, output(r))
    r = alembic("upgrade", R6)
    t.ok(r.returncode == 0 and valid_index(db, "items_note_idx") and version(db) == [R6],
         "upgrade %s again" % R6, output(r))

    # -- migguard.change_log -------------------------------------------------
    t.is_(sorted(tag for (tag,) in db.rows(
        "SELECT DISTINCT tag FROM migguard.change_log "
        "WHERE verdict <> 'blocked' AND tag <> ''")),
        sorted([R1, R2, R5, R6, R6 + ":downgrade"]),
        "change_log: the DDL of every applied revision is tagged with its revision id")
    t.is_(db.rows("SELECT tag, command_tag, verdict FROM migguard.change_log "
                  "WHERE tag <> '' AND verdict <> 'blocked' ORDER BY id"),
          [(R1, "CREATE TABLE", "allowed"), (R2, "CREATE INDEX", "allowed"),
           (R5, "ALTER TABLE", "allowed"), (R6, "CREATE INDEX", "allowed"),
           (R6 + ":downgrade", "DROP INDEX", "allowed"), (R6, "CREATE INDEX", "allowed")],
          "change_log: one row per statement, in order, each with its revision's tag")
    t.is_(db.scalar("SELECT statement FROM migguard.change_log WHERE tag = %s", [R2]),
          "CREATE INDEX CONCURRENTLY items_email_idx ON items (email)",
          "change_log: CREATE INDEX CONCURRENTLY inside autocommit_block() keeps the tag")
    t.is_(db.rows("SELECT command_tag, statement LIKE 'CREATE TABLE alembic_version%%' "
                  "FROM migguard.change_log "
                  "WHERE coalesce(tag, '') = '' AND application_name = 'alembic'"),
          [("CREATE TABLE", True)],
          "change_log: only alembic's own version table is untagged")
    t.is_(db.rows("SELECT DISTINCT application_name FROM migguard.change_log WHERE tag <> ''"),
          [("alembic",)], "change_log: rows carry application_name 'alembic'")

    want = [(R3, "CREATE INDEX", "create_index"), (R4, "ALTER TABLE", "alter_column_type")]
    got = db.poll("SELECT tag, command_tag, findings->0->>'rule' FROM migguard.change_log "
                  "WHERE verdict = 'blocked' ORDER BY id", None, want)
    t.is_(got, want, "change_log: both blocked attempts are recorded with their revision id "
                     "and rule (within 3 s)")
    t.is_(db.scalar("SELECT statement FROM migguard.change_log "
                    "WHERE verdict = 'blocked' AND tag = %s", [R4]),
          "ALTER TABLE items ALTER COLUMN quantity TYPE BIGINT",
          "change_log: the blocked row holds the statement SQLAlchemy sent")

    # -- offline mode ----------------------------------------------------------
    rows_before = db.scalar("SELECT count(*) FROM migguard.change_log")
    r = alembic("upgrade", "%s:%s" % (R2, R6), "--sql")
    sql = r.stdout

    def pos(s):
        return sql.find(s)

    order = [pos("SET migguard.tag = '%s';" % R5), pos("ALTER TABLE items ADD COLUMN note"),
             pos("RESET migguard.tag;"), pos("SET migguard.tag = '%s';" % R6),
             pos("CREATE INDEX CONCURRENTLY items_note_idx")]
    t.ok(r.returncode == 0 and -1 not in order and order == sorted(order),
         "upgrade --sql: each revision's SQL is preceded by SET migguard.tag and "
         "followed by RESET", output(r))
    t.ok(db.scalar("SELECT count(*) FROM migguard.change_log") == rows_before
         and version(db) == [R6],
         "upgrade --sql runs nothing: no change_log row, alembic_version unchanged")


def main():
    t = Tap(PLAN)
    try:
        setup()
    except Exception as e:  # noqa: BLE001
        print("Bail out! cannot create database %s with migguard: %s" % (DB, e), flush=True)
        return 1
    db = Db(DB)
    try:
        run(t, db)
    except Exception:  # noqa: BLE001
        t.diag(traceback.format_exc())
    finally:
        db.close()
    try:
        drop_database()
        t.ok(True, "database %s dropped" % DB)
    except Exception as e:  # noqa: BLE001
        t.ok(False, "database %s dropped" % DB, str(e))
    if t.n != PLAN:
        t.diag("planned %d tests, ran %d" % (PLAN, t.n))
        return 1
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
