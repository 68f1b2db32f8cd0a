"""test/pytap.py -- what the Python client tests (test/django, test/alembic) share.

Tap prints TAP (1..N, ok / not ok N - description) for prove; connect and Db
are thin psycopg2 helpers in autocommit mode, with a poll for rows that the
blocked-attempt writer adds asynchronously.  Connection settings come from
libpq's environment (PGHOST, PGPORT, PGUSER).
"""

import time

import psycopg2


class Tap:
    def __init__(self, plan):
        self.n = 0
        self.failed = 0
        print("1..%d" % plan, flush=True)

    def ok(self, cond, desc, diag=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc), flush=True)
        if not cond:
            self.failed += 1
            if diag:
                self.diag(diag)
        return cond

    def is_(self, got, want, desc):
        return self.ok(got == want, desc, "     got: %r\nexpected: %r" % (got, want))

    @staticmethod
    def diag(text):
        for line in str(text).rstrip("\n").splitlines()[-40:]:
            print("# " + line, flush=True)


def connect(dbname, application_name):
    conn = psycopg2.connect(dbname=dbname, application_name=application_name)
    conn.autocommit = True
    return conn


class Db:
    def __init__(self, dbname, application_name):
        self.conn = connect(dbname, application_name)

    def rows(self, sql, args=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def scalar(self, sql, args=None):
        rows = self.rows(sql, args)
        return rows[0][0] if rows else None

    def poll(self, sql, args, want, timeout=3.0):
        """Rows of SQL once they equal WANT, or at TIMEOUT (the blocked-attempt
        writer is asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.rows(sql, args)
            if got == want or time.monotonic() >= deadline:
                return got
            time.sleep(0.1)

    def close(self):
        self.conn.close()
