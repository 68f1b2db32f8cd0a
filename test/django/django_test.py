#!/usr/bin/env python3
"""test/django/django_test.py -- Django migrations against a server running migguard.

    python3 test/django/django_test.py

Connection settings come from libpq's environment (PGHOST, PGPORT, PGUSER);
the user must be a superuser (the test creates and drops the database
migguard_django and sets migguard.large_table_size = '64kB' on it).  Needs
the Debian packages python3-django and python3-psycopg2.  Output is TAP.

The project in test/django/project (settings, app "shop", migration
0001_initial) is copied to a temporary directory, and the test plays a
developer working on it: it drops the next migration file from
test/django/steps/ into shop/migrations/ and runs
`manage.py migrate shop <name>`.  When migguard blocks a migration, Django's
migrate fails, the schema and django_migrations stay as they were, and the
test deletes that file and adds the safe version, exactly as one would after
reading migguard's HINT.  Unsafe and safe versions share their number (0002,
0003) and differ in name, so the graph never has two leaves; every file is
written by hand, nothing runs makemigrations.

    0001_initial                            shop_order, legacy_code NOT NULL
    (5000 rows are inserted: 64kB makes the table large)
    0002_order_created_at_idx               AddIndex              blocked
    0002_order_created_at_idx_concurrently  AddIndexConcurrently  applied
    0003_rename_number                      RenameField           blocked
    0003_remove_legacy_code                 RemoveField NOT NULL  blocked
    0003_legacy_code_nullable               AlterField null=True  applied
    0004_remove_legacy_code                 RemoveField           applied (warned)
    0005_order_coupon                       AddField null=True    applied, unapplied, applied
    0006_order_channel                      AddField default NOT NULL  blocked
    0006_order_channel_nullable             AddField default null=True applied (warned)

contrib/django_migguard.py (on PYTHONPATH, in INSTALLED_APPS) sets
migguard.tag to '<app>.<migration>' around each migration; the test checks
the tags of the rows in migguard.change_log, blocked attempts included.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

sys.dont_write_bytecode = True

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import pytap  # noqa: E402
from pytap import Tap  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DB = "migguard_django"
PLAN = 37

MSG_CREATE_INDEX = "would block writes for the whole index build"
MSG_RENAME = "would break deployed code that still uses the old name"
MSG_DROP_COLUMN = "would break deployed code that still uses it"
MSG_NOT_NULL = "would leave it NOT NULL without a default"


def connect(dbname):
    return pytap.connect(dbname, "django_test")


def Db(dbname):
    return pytap.Db(dbname, "django_test")


class Project:
    """A scratch copy of test/django/project."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="migguard_django_"))
        shutil.copytree(HERE / "project", self.dir / "project",
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.dir = self.dir / "project"
        self.migrations = self.dir / "shop" / "migrations"
        self.env = dict(os.environ)
        self.env["PGDATABASE"] = DB
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        path = [str(ROOT / "contrib")]
        if self.env.get("PYTHONPATH"):
            path.append(self.env["PYTHONPATH"])
        self.env["PYTHONPATH"] = os.pathsep.join(path)

    def add(self, *names):
        for name in names:
            shutil.copy(HERE / "steps" / (name + ".py"), self.migrations)

    def remove(self, name):
        (self.migrations / (name + ".py")).unlink()

    def migrate(self, *args):
        return subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", *args],
            cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=120)

    def cleanup(self):
        shutil.rmtree(self.dir.parent, ignore_errors=True)


def output(r):
    return "exit status %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr)


def column(db, name):
    """(data_type, is_nullable) of shop_order.NAME, None if absent."""
    rows = db.rows(
        "SELECT data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = 'shop_order' AND column_name = %s",
        [name])
    return rows[0] if rows else None


def recorded(db, name):
    return db.scalar(
        "SELECT count(*) FROM django_migrations WHERE app = 'shop' AND name = %s", [name]) == 1


def applied_ok(t, r, desc):
    return t.ok(r.returncode == 0, desc, output(r))


def blocked_ok(t, r, message, desc):
    return t.ok(r.returncode != 0 and message in r.stderr
                and "MG001" not in r.stdout, desc, output(r))


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


def run(t, project, db):
    # -- 0001: the table, then enough rows to make it large ----------------
    r = project.migrate("shop", "0001_initial")
    applied_ok(t, r, "migrate shop 0001_initial creates shop_order")
    t.is_(column(db, "legacy_code"), ("character varying", "NO"),
          "shop_order.legacy_code is NOT NULL")
    db.rows("INSERT INTO shop_order (number, created_at, total, legacy_code) "
            "SELECT 'N' || g, now() - g * interval '1 minute', g, 'L' || g "
            "FROM generate_series(1, 5000) g")
    size = db.scalar("SELECT pg_table_size('shop_order')")
    t.ok(size >= 65536, "5000 rows make shop_order large (%d bytes >= 64kB)" % size)

    # -- 0002: AddIndex is blocked, AddIndexConcurrently passes -------------
    project.add("0002_order_created_at_idx")
    r = project.migrate("shop", "0002_order_created_at_idx")
    blocked_ok(t, r, MSG_CREATE_INDEX,
               "AddIndex: migrate fails with migguard's create_index message")
    t.ok("HINT:" in r.stderr and
         'CREATE INDEX CONCURRENTLY "shop_order_created_idx" ON "shop_order" ("created_at")'
         in r.stderr,
         "AddIndex: stderr carries the HINT with the CONCURRENTLY statement", output(r))
    t.ok("During handling of the above exception" not in r.stderr,
         "AddIndex: restoring migguard.tag after the failure raises nothing", output(r))
    t.is_(db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'shop_order_created_idx'"),
          0, "AddIndex: the index does not exist")
    t.ok(not recorded(db, "0002_order_created_at_idx"),
         "AddIndex: django_migrations does not list the migration")
    project.remove("0002_order_created_at_idx")

    project.add("0002_order_created_at_idx_concurrently")
    r = project.migrate("shop", "0002_order_created_at_idx_concurrently")
    applied_ok(t, r, "AddIndexConcurrently (atomic = False) is applied")
    t.is_(db.rows("SELECT i.indisvalid FROM pg_index i "
                  "JOIN pg_class c ON c.oid = i.indexrelid "
                  "WHERE c.relname = 'shop_order_created_idx'"),
          [(True,)], "AddIndexConcurrently: the index exists and is valid")

    # -- 0003: RenameField is blocked ----------------------------------------
    project.add("0003_rename_number")
    r = project.migrate("shop", "0003_rename_number")
    blocked_ok(t, r, MSG_RENAME, "RenameField: migrate fails with the rename_column message")
    t.ok(column(db, "number") is not None and column(db, "order_number") is None
         and not recorded(db, "0003_rename_number"),
         "RenameField: the column keeps its name, the migration is not recorded")
    project.remove("0003_rename_number")

    # -- 0003: RemoveField of a NOT NULL column is blocked -------------------
    project.add("0003_remove_legacy_code")
    r = project.migrate("shop", "0003_remove_legacy_code")
    blocked_ok(t, r, MSG_DROP_COLUMN,
               "RemoveField of NOT NULL legacy_code: migrate fails (drop_column)")
    t.ok("Rule drop_column" in r.stderr and
         "ALTER COLUMN legacy_code DROP NOT NULL" in r.stderr,
         "RemoveField: the HINT says to drop NOT NULL first", output(r))
    t.ok(column(db, "legacy_code") == ("character varying", "NO")
         and not recorded(db, "0003_remove_legacy_code"),
         "RemoveField: the column is still there, the migration is not recorded")
    project.remove("0003_remove_legacy_code")

    # -- the safe order: AlterField(null=True), then RemoveField -------------
    project.add("0003_legacy_code_nullable")
    r = project.migrate("shop", "0003_legacy_code_nullable")
    applied_ok(t, r, "AlterField(null=True) on legacy_code (DROP NOT NULL) is applied")
    t.is_(column(db, "legacy_code"), ("character varying", "YES"),
          "legacy_code is nullable")

    # Two migrations in one run: each must get its own tag.
    project.add("0004_remove_legacy_code", "0005_order_coupon")
    r = project.migrate("shop")
    applied_ok(t, r, "one migrate run applies 0004 (RemoveField) and 0005 (AddField null=True)")
    t.ok("Applying shop.0004_remove_legacy_code... OK" in r.stdout and
         "Applying shop.0005_order_coupon... OK" in r.stdout,
         "migrate reports both migrations applied", output(r))
    t.ok(column(db, "legacy_code") is None and
         column(db, "coupon") == ("character varying", "YES"),
         "legacy_code is gone, coupon is a nullable column")

    # Reversing and re-applying 0005.
    r = project.migrate("shop", "0004_remove_legacy_code")
    t.ok(r.returncode == 0 and column(db, "coupon") is None,
         "migrate shop 0004 unapplies 0005 (DROP COLUMN of a nullable column)", output(r))
    r = project.migrate("shop")
    t.ok(r.returncode == 0 and column(db, "coupon") is not None,
         "migrate shop applies 0005 again", output(r))

    # -- 0006: AddField(default=...) NOT NULL is blocked, null=True passes ---
    project.add("0006_order_channel")
    r = project.migrate("shop", "0006_order_channel")
    blocked_ok(t, r, MSG_NOT_NULL,
               "AddField(default='web') NOT NULL: migrate fails (not_null_without_default)")
    t.ok("Rule not_null_without_default" in r.stderr and "db_default" in r.stderr
         and "server_default" in r.stderr,
         "AddField NOT NULL: the HINT gives the Django and Alembic safe forms", output(r))
    t.ok(column(db, "channel") is None and not recorded(db, "0006_order_channel"),
         "AddField NOT NULL: no column, the migration is not recorded")
    project.remove("0006_order_channel")
    project.add("0006_order_channel_nullable")
    r = project.migrate("shop", "0006_order_channel_nullable")
    t.ok(r.returncode == 0 and column(db, "channel") == ("character varying", "YES"),
         "AddField(default='web', null=True) is applied: channel is nullable", output(r))

    t.is_([n for (n,) in db.rows(
        "SELECT name FROM django_migrations WHERE app = 'shop' ORDER BY name")],
        ["0001_initial", "0002_order_created_at_idx_concurrently",
         "0003_legacy_code_nullable", "0004_remove_legacy_code", "0005_order_coupon",
         "0006_order_channel_nullable"],
        "django_migrations lists exactly the applied migrations")

    # -- migguard.change_log --------------------------------------------------
    t.is_(sorted(tag for (tag,) in db.rows(
        "SELECT DISTINCT tag FROM migguard.change_log "
        "WHERE tag LIKE 'shop.%' AND verdict <> 'blocked'")),
        ["shop.0001_initial", "shop.0002_order_created_at_idx_concurrently",
         "shop.0003_legacy_code_nullable", "shop.0004_remove_legacy_code",
         "shop.0005_order_coupon", "shop.0005_order_coupon:unapply",
         "shop.0006_order_channel_nullable"],
        "change_log: every applied migration's DDL is tagged <app>.<migration>")
    t.is_(db.rows("SELECT command_tag, verdict FROM migguard.change_log "
                  "WHERE tag = 'shop.0001_initial' ORDER BY id"),
          [("CREATE TABLE", "allowed"), ("CREATE INDEX", "allowed"), ("CREATE INDEX", "allowed")],
          "change_log: the schema editor's deferred CREATE INDEX statements carry 0001's tag")
    t.is_(db.rows("SELECT command_tag, verdict, statement FROM migguard.change_log "
                  "WHERE tag = 'shop.0002_order_created_at_idx_concurrently' ORDER BY id"),
          [("CREATE INDEX", "allowed",
            'CREATE INDEX CONCURRENTLY "shop_order_created_idx" ON "shop_order" ("created_at")')],
          "change_log: CREATE INDEX CONCURRENTLY (autocommit) is tagged")
    t.is_(db.rows("SELECT verdict, findings->0->>'rule', statement FROM migguard.change_log "
                  "WHERE tag = 'shop.0004_remove_legacy_code' ORDER BY id"),
          [("warned", "drop_column",
            'ALTER TABLE "shop_order" DROP COLUMN "legacy_code" CASCADE')],
          "change_log: RemoveField of the nullable column is 'warned' (drop_column)")
    t.is_(db.rows("SELECT tag, verdict FROM migguard.change_log "
                  "WHERE tag LIKE 'shop.0005_order_coupon%' ORDER BY id"),
          [("shop.0005_order_coupon", "allowed"),
           ("shop.0005_order_coupon:unapply", "warned"),
           ("shop.0005_order_coupon", "allowed")],
          "change_log: apply, unapply, apply of 0005 carry their tags in order")
    t.is_(db.rows("SELECT id, tag, statement FROM migguard.change_log "
                  "WHERE statement LIKE '%shop_order%' AND verdict <> 'blocked' "
                  "AND coalesce(tag, '') NOT LIKE 'shop.%'"),
          [], "change_log: no DDL on shop_order went untagged")
    t.is_(db.rows("SELECT DISTINCT application_name FROM migguard.change_log "
                  "WHERE tag LIKE 'shop.%'"),
          [("django",)], "change_log: rows from Django carry application_name 'django'")

    want = [("shop.0002_order_created_at_idx", "CREATE INDEX", "create_index"),
            ("shop.0003_rename_number", "ALTER TABLE", "rename_column"),
            ("shop.0003_remove_legacy_code", "ALTER TABLE", "drop_column"),
            ("shop.0006_order_channel", "ALTER TABLE", "not_null_without_default")]
    got = db.poll("SELECT tag, command_tag, findings->0->>'rule' FROM migguard.change_log "
                  "WHERE verdict = 'blocked' ORDER BY id", None, want)
    t.is_(got, want, "change_log: the four blocked attempts are recorded with their "
                     "migration's tag and rule (within 3 s)")
    t.is_(db.scalar("SELECT statement FROM migguard.change_log "
                    "WHERE verdict = 'blocked' AND tag = 'shop.0002_order_created_at_idx'"),
          'CREATE INDEX "shop_order_created_idx" ON "shop_order" ("created_at")',
          "change_log: the blocked row holds the statement Django sent")


def main():
    t = Tap(PLAN)
    try:
        setup()
    except Exception as e:  # noqa: BLE001
        print("Bail out! cannot create database %s with migguard: %s" % (DB, e), flush=True)
        return 1
    project = Project()
    db = Db(DB)
    try:
        run(t, project, db)
    except Exception:  # noqa: BLE001
        t.diag(traceback.format_exc())
    finally:
        db.close()
        project.cleanup()
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
