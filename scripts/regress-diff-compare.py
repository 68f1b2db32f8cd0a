#!/usr/bin/env python3
#
# scripts/regress-diff-compare.py -- the comparison step of
# scripts/regress-diff.sh: PostgreSQL's regression outputs of one migguard
# run against those of the plain runs, one test per regression file.
#
#   regress-diff-compare.py --schedule FILE --expected-differences FILE
#       --mode MODE --plain DIR [--plain DIR] RUNDIR
#
# For each test of the schedule (not the "ignore:" ones, not migguard_setup)
# it diffs results/NAME.out of each plain run with that of RUNDIR (GNU diff,
# -U0), then
#   1. removes migguard's own WARNING blocks: a "WARNING:  " line followed by
#      "DETAIL:  Rule <name>: " and the continuation lines of its DETAIL and
#      HINT, exactly as the server log of the run holds the message (psql
#      output alone cannot tell where a HINT ending in SQL ends; without the
#      log the alignment with the plain output decides, see
#      strip_warning_blocks()); test/t/020_regress_diff_compare.pl proves
#      what this removes and what it keeps;
#   2. within each remaining hunk, cancels lines that differ only in blanks
#      (psql's column padding changes when a listing has one more row);
#   3. allows the changed lines that an entry of the expected-differences
#      file explains for this test and mode (see that file's header), and a
#      "(N rows)" line that changes by as many rows as were explained;
# and passes when nothing is left against at least one plain run (the core
# suite is not fully deterministic; see regress-diff.sh). Every other
# difference fails the test and is printed (capped; the whole list is in
# RUNDIR/regressdiff.diffs). A crash in the server log of RUNDIR
# ("terminated by signal", "TRAP:", "PANIC:") fails the mode.
#
# Output ends with
#   regressdiff MODE: N passed, N failed
# and a line "REGRESSDIFF MODE PASSED FAILED" for scripts/test.sh.
# Exit status 0 when nothing failed.

import argparse
import glob
import os
import re
import subprocess
import sys
from collections import Counter

WARNING_START = re.compile(r"^WARNING:  ")
RULE_DETAIL = re.compile(r"^DETAIL:  Rule [a-z0-9_]+: ")
# A line that starts another server message: it ends a WARNING block.
MESSAGE_LINE = re.compile(r"^(ERROR|WARNING|NOTICE|INFO|LOG|FATAL|PANIC|DEBUG[1-5]?):  ")
HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
CRASH = re.compile(r"terminated by signal|TRAP:|PANIC:")

# WARNING blocks removed, by how their end was found (for the report).
BLOCKS = {"log": 0, "alignment": 0}

PRINT_LINES_PER_TEST = 40
PRINT_LINES_TOTAL = 600


def parse_schedule(path):
    tests, ignored = [], set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line.startswith("test:"):
                tests.extend(line[len("test:"):].split())
            elif line.startswith("ignore:"):
                ignored.update(line[len("ignore:"):].split())
    return [t for t in tests if t not in ignored and t != "migguard_setup"], ignored


class Entry:
    def __init__(self, where):
        self.where = where
        self.tests = []
        self.modes = []
        self.matches = []
        self.reason = ""
        self.used = False

    def applies(self, test, mode):
        return test in self.tests and ("*" in self.modes or mode in self.modes)

    def explains(self, line):
        return any(m.search(line) for m in self.matches)


def parse_expected(path):
    """Entries of blank-line separated "key: value" blocks (see the file)."""
    entries, cur = [], None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                cur = None
                continue
            key, sep, value = line.partition(": ")
            if not sep:
                sys.exit("%s:%d: expected \"key: value\"" % (path, n))
            if cur is None:
                cur = Entry("%s:%d" % (path, n))
                entries.append(cur)
            if key == "test":
                cur.tests.extend(value.split())
            elif key == "modes":
                cur.modes.extend(value.split())
            elif key == "match":
                try:
                    cur.matches.append(re.compile(value))
                except re.error as e:
                    sys.exit("%s:%d: bad pattern: %s" % (path, n, e))
            elif key == "reason":
                cur.reason = (cur.reason + " " + value).strip()
            else:
                sys.exit("%s:%d: unknown key %r" % (path, n, key))
    for e in entries:
        if not (e.tests and e.modes and e.matches and e.reason):
            sys.exit("%s: an entry needs test, modes, match and reason" % e.where)
    return entries


def read_lines(path):
    # newline="": a "\r" inside a line stays in it; surrogateescape: bytes
    # that are not UTF-8 (encoding tests) come back out unchanged.
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        text = f.read()
    # The lines; psql ends the last one with a newline too.
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def diff_hunks(old, new):
    """GNU diff -U0 of two files as [(header, deleted, inserted)]."""
    p = subprocess.run(["diff", "-U0", old, new], stdout=subprocess.PIPE,
                       encoding="utf-8", errors="surrogateescape")
    if p.returncode > 1:
        raise RuntimeError("diff %s %s failed" % (old, new))
    hunks, cur = [], None
    for line in p.stdout.split("\n"):
        # (diff ends each line with "\n" only; a "\r" stays in its line.)
        if line.startswith("--- ") or line.startswith("+++ "):
            if cur is None:
                continue
        m = HUNK_HEADER.match(line)
        if m:
            cur = (line, [], [])
            hunks.append(cur)
        elif cur is not None and line.startswith("-"):
            cur[1].append(line[1:])
        elif cur is not None and line.startswith("+"):
            cur[2].append(line[1:])
    return hunks


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        f.write("".join(l + "\n" for l in lines))


def alignment(plain_out, run_out, n):
    """For each of the n lines of run_out, the index of the plain_out line
    GNU diff pairs it with, or None for a line only run_out has."""
    match = [None] * n
    a = b = 0
    for header, deleted, inserted in diff_hunks(plain_out, run_out):
        m = HUNK_HEADER.match(header)
        c, d = int(m.group(3)), int(m.group(4) if m.group(4) is not None else 1)
        start_b = c if d == 0 else c - 1     # 0-based first line of the hunk
        while b < start_b:
            match[b] = a
            a += 1
            b += 1
        a += len(deleted)
        b += len(inserted)
    while b < n:
        match[b] = a
        a += 1
        b += 1
    return match


LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ .*?\[(\d+)\] (\S*) ?"
    r"(WARNING|DETAIL|HINT|CONTEXT|STATEMENT|ERROR|LOG|NOTICE|INFO|FATAL|PANIC|DEBUG[1-5]?):  (.*)$")


def logged_warnings(rundir):
    """migguard's WARNING messages in the server log of a run, per test, in
    the order they were raised: {test: [[line, ...], ...]}, each message as
    psql shows it (WARNING, DETAIL, HINT; CONTEXT kept apart as the last
    element's "context" lines are shown only with SHOW_CONTEXT always).

    pg_regress names each test's session "pg_regress/TEST" (%a of
    log_line_prefix); a message's continuation lines follow it with a tab.
    Each message is written at once, so sessions do not interleave inside
    one.
    """
    by_test, current = {}, {}
    for log in sorted(glob.glob(os.path.join(rundir, "log", "*.log"))):
        last_pid = None
        for line in read_lines(log):
            m = LOG_LINE.match(line)
            if not m:
                if line.startswith("\t") and last_pid in current:
                    msg = current[last_pid]
                    (msg["context"] if msg["in_context"] else msg["lines"]).append(line[1:])
                continue
            pid, app, key, text = m.groups()
            last_pid = pid
            if key == "WARNING" and app.startswith("pg_regress/"):
                msg = {"lines": ["WARNING:  " + text], "context": [], "in_context": False}
                current[pid] = msg
                by_test.setdefault(app[len("pg_regress/"):], []).append(msg)
            elif key in ("DETAIL", "HINT", "CONTEXT") and pid in current:
                msg = current[pid]
                if key == "CONTEXT":
                    msg["in_context"] = True
                    msg["context"].append("CONTEXT:  " + text)
                elif not msg["in_context"]:
                    msg["lines"].append(key + ":  " + text)
            else:
                current.pop(pid, None)
    result = {}
    for test, msgs in by_test.items():
        result[test] = [(m["lines"], m["context"]) for m in msgs
                        if len(m["lines"]) > 1 and RULE_DETAIL.match(m["lines"][1])]
    return result


def strip_warning_blocks(plain_out, run_out, scratch, logged):
    """The lines of run_out without migguard's WARNING blocks (also written
    to scratch, for diff).

    A block starts with a WARNING line and its "DETAIL:  Rule" line that
    only the migguard output has. Where it ends cannot be told from the text
    alone (a HINT may end in SQL, as the next statement echoed by psql
    does), so it is the next not yet matched message of this test from the
    server log (logged), line for line. Without one the alignment with the
    plain output decides: the lines after it that only the migguard output
    has, up to the next server message line. A line of the plain output that
    diff paired with a HINT line equal to it is paired instead with the same
    line before the WARNING (the statement psql echoed), where it belongs.
    """
    lines = read_lines(run_out)
    n = len(lines)

    def block_start(i, match):
        return (i + 1 < n and match[i] is None and match[i + 1] is None
                and WARNING_START.match(lines[i]) is not None
                and RULE_DETAIL.match(lines[i + 1]) is not None)

    match = alignment(plain_out, run_out, n)
    for m in range(1, n):
        if match[m] is None or match[m - 1] is not None:
            continue
        r = m - 1
        while r > 0 and match[r - 1] is None:
            r -= 1
        for p in range(r, m - 1):
            if lines[p] == lines[m] and block_start(p + 1, match):
                match[p], match[m] = match[m], None
                break

    kept, i, next_logged = [], 0, 0
    while i < n:
        if block_start(i, match):
            # The exact message from the server log, when it is there.
            end = None
            for k in range(next_logged, len(logged)):
                body, context = logged[k]
                if lines[i:i + len(body)] == body:
                    end = i + len(body)
                    if context and lines[end:end + len(context)] == context:
                        end += len(context)
                    next_logged = k + 1
                    BLOCKS["log"] += 1
                    break
            if end is None:
                BLOCKS["alignment"] += 1
                end = i + 2
                while end < n and match[end] is None and not MESSAGE_LINE.match(lines[end]):
                    end += 1
            i = end
            continue
        kept.append(lines[i])
        i += 1
    write_lines(scratch, kept)
    return kept


SEPARATOR = re.compile(r"^[-+]+$")
ROW_COUNT = re.compile(r"^\((\d+) rows?\)$")


def normalize(line):
    """A line as compared inside a hunk: psql pads every column to its widest
    value, so a row only one output has changes the padding of all others;
    runs of blanks and of the dashes of a header rule are one."""
    if SEPARATOR.match(line):
        return re.sub(r"-+", "-", line)
    return " ".join(line.split())


def unexplained(test, mode, plain_out, run_out, entries, scratch, logged):
    """Hunks [(header, lines, count)] of run_out against plain_out left after
    the WARNING filter and the expected differences: lines are context lines
    (" ") and count changed lines ("-", "+")."""
    strip_warning_blocks(plain_out, run_out, scratch, logged)
    plain_lines = read_lines(plain_out)
    left = []
    for header, deleted, inserted in diff_hunks(plain_out, scratch):
        # Lines that differ in padding only cancel out.
        counts = Counter(normalize(l) for l in inserted)
        counts.subtract(Counter(normalize(l) for l in deleted))
        minus, plus = [], []
        for l in deleted:
            if counts[normalize(l)] < 0:
                counts[normalize(l)] += 1
                minus.append(l)
        for l in inserted:
            if counts[normalize(l)] > 0:
                counts[normalize(l)] -= 1
                plus.append(l)
        rest, row_delta = [], 0
        for l in ["-" + l for l in minus] + ["+" + l for l in plus]:
            hit = None
            for e in entries:
                if e.applies(test, mode) and e.explains(l):
                    hit = e
                    break
            if hit is None:
                rest.append(l)
                continue
            hit.used = True
            if l[1:2] == " ":   # a table row
                row_delta += 1 if l[0] == "+" else -1
        # "(N rows)" lines pass when they change by the explained rows.
        counts_only = all(ROW_COUNT.match(l[1:]) for l in rest)
        if rest and counts_only and row_delta != 0:
            delta = sum(int(ROW_COUNT.match(l[1:]).group(1)) * (1 if l[0] == "+" else -1)
                        for l in rest)
            if delta == row_delta:
                rest = []
        if rest:
            # Two lines of the plain output before the hunk, as context (the
            # statement, mostly); they do not count as differences.
            m = HUNK_HEADER.match(header)
            a = int(m.group(1)) if m.group(2) != "0" else int(m.group(1)) + 1
            context = [" " + l for l in plain_lines[max(0, a - 3):max(0, a - 1)]]
            left.append((header, context + rest, len(rest)))
    return left


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schedule", required=True)
    ap.add_argument("--expected-differences", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--plain", action="append", required=True)
    ap.add_argument("rundir")
    args = ap.parse_args()
    # Outputs of the encoding tests hold bytes that are not UTF-8.
    sys.stdout.reconfigure(errors="surrogateescape")

    tests, _ = parse_schedule(args.schedule)
    entries = parse_expected(args.expected_differences)
    mode = args.mode
    warnings = logged_warnings(args.rundir)
    passed = failed = 0
    printed = 0
    unstable = []
    report_path = os.path.join(args.rundir, "regressdiff.diffs")
    report = open(report_path, "w", encoding="utf-8", errors="surrogateescape")
    report.write("# Unexplained differences, mode %s. In each hunk header the first\n"
                 "# range is of the plain output, the second of the migguard output\n"
                 "# without migguard's WARNING blocks.\n" % mode)

    print("\n===== regressdiff %s: PostgreSQL's regression outputs, plain vs. "
          "migguard.mode = %s =====" % (mode, mode))
    for test in tests:
        run_out = os.path.join(args.rundir, "results", test + ".out")
        plain_outs = [os.path.join(p, "results", test + ".out") for p in args.plain]
        missing = [p for p in [run_out] + plain_outs if not os.path.exists(p)]
        if missing:
            failed += 1
            msg = "FAILED %s: no output %s" % (test, " ".join(missing))
            print(msg)
            report.write(msg + "\n")
            continue
        if len(plain_outs) > 1 and read_lines(plain_outs[0]) != read_lines(plain_outs[1]):
            unstable.append(test)
        best = None
        for p in plain_outs:
            before = dict(BLOCKS)
            left = unexplained(test, mode, p, run_out, entries,
                               os.path.join(args.rundir, "regressdiff.tmp"),
                               warnings.get(test, []))
            found = {k: BLOCKS[k] - before[k] for k in BLOCKS}
            BLOCKS.update(before)
            if best is None or sum(h[2] for h in left) < sum(h[2] for h in best[1]):
                best = (p, left, found)
            if not left:
                break
        for k in BLOCKS:
            BLOCKS[k] += best[2][k]
        if not best[1]:
            passed += 1
            continue
        failed += 1
        nlines = sum(h[2] for h in best[1])
        head = "FAILED %s (%s): %d unexplained changed lines against %s" % (
            test, mode, nlines, best[0])
        print(head)
        report.write(head + "\n")
        shown = 0
        for header, lines, _ in best[1]:
            report.write(header + "\n" + "\n".join(lines) + "\n")
            for l in [header] + lines:
                if shown < PRINT_LINES_PER_TEST and printed < PRINT_LINES_TOTAL:
                    print("    " + l)
                    shown += 1
                    printed += 1
        if shown < sum(len(h[1]) + 1 for h in best[1]):
            print("    [... more in %s]" % report_path)

    crashes = []
    for log in glob.glob(os.path.join(args.rundir, "log", "*.log")):
        with open(log, encoding="utf-8", errors="replace") as f:
            crashes.extend(l.rstrip("\n") for l in f if CRASH.search(l))
    if crashes:
        failed += 1
        print("FAILED %s: the server crashed:" % mode)
        for l in crashes[:20]:
            print("    " + l)
        report.write("server crashes:\n" + "\n".join(crashes) + "\n")

    stale = [e for e in entries if "*" in e.modes or mode in e.modes]
    stale = [e for e in stale if not e.used and any(t in tests for t in e.tests)]
    for e in stale:
        print("note: expected difference at %s (%s) did not occur in mode %s"
              % (e.where, " ".join(e.tests), mode))
    print("note: migguard WARNING blocks removed: %d as in the server log, %d by "
          "alignment alone" % (BLOCKS["log"], BLOCKS["alignment"]))
    if unstable:
        print("note: tests whose two plain outputs differ: %s" % " ".join(unstable))
    report.close()
    scratch = os.path.join(args.rundir, "regressdiff.tmp")
    if os.path.exists(scratch):
        os.remove(scratch)
    print("regressdiff %s: %d passed, %d failed" % (mode, passed, failed))
    print("REGRESSDIFF %s %d %d" % (mode, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
