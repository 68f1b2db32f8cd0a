"""test/lockobs/mark_known.py -- known-failure markers from a run's results.

    python3 mark_known.py RESULTS.json [OUT.md]

Adds "-- known: ASPECT WHY" to corpus.sql for every failing aspect of an
entry that has no marker for it yet (markers already there are kept), and
writes OUT.md (default KNOWN-ON-MAIN.md): the run's summary and the failing
statements grouped by cause.  RESULTS.json is what lockobs_test.py writes to
LOCKOBS_RESULTS.  Markers for aspects that now pass are not removed: the
lead removes them as fixes land (a passing TODO test shows as "ok # TODO").
"""

import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lockobs_test  # noqa: E402


def short(rel):
    return rel.replace("public.", "")


def reason(f, r):
    """(marker text, cause group) of failure F of result R."""
    aspect = f["aspect"]
    if aspect == "recall" and ("error" in r or "check_error" in r):
        text = (r.get("error") or r.get("check_error")).splitlines()[0]
        return "fails: " + text, "the statement or check() fails"
    if aspect == "recall":
        named = {(q, m) for q, m, _r, _raw in r["check"] if q}
        missing = [(rel, m) for rel, m in sorted(r["strong"].items())
                   if not lockobs_test.names_with(named, rel, m, r["index_table"])]
        kinds = set()
        for rel, _m in missing:
            if r["index_table"].get(rel):
                kinds.add("an index")
            else:
                kinds.add("a table")
        text = "check() misses " + ", ".join("%s %s" % (short(rel), m.replace("Lock", ""))
                                             for rel, m in missing)
        if not r["check"]:
            return text, "check() names no relation at all"
        return text, "check() misses %s the statement locks" % " and ".join(sorted(kinds))
    if aspect == "log":
        log = r.get("log")
        if log is None:
            return "no change_log row", "change_log: no row for a statement with strong locks"
        first = f["diag"].splitlines()[0]
        if first.startswith("lock_mode None"):
            return "change_log " + first, "change_log: lock_mode NULL"
        if "not named: []" in first:
            return "change_log " + first, "change_log: wrong lock_mode"
        return "change_log " + first, "change_log: a strongly locked relation is not named"
    if aspect == "rewrite":
        return "rewrite false though storage was replaced", \
            "change_log.rewrite false although the storage was replaced"
    if aspect == "busy":
        states = collections.OrderedDict()
        for b in r["busy"]:
            if b.get("how") and not (b["sqlstate"] == "55P03"
                                     and b["seconds"] <= lockobs_test.BUSY_LIMIT):
                states.setdefault(b["sqlstate"], []).append(short(b["relation"]))
        parts = ["SQLSTATE %s behind %s" % (st, ", ".join(rels)) for st, rels in states.items()]
        if "57014" in states:
            group = "busy: waits past the timeout (57014 statement_timeout)"
        elif "25001" in states:
            group = "busy: 25001 cannot run inside a transaction block (issue 12 item 2)"
        else:
            group = "busy: " + ", ".join(states)
        return "; ".join(parts), group
    return f["diag"].splitlines()[0] if f["diag"] else "fails", aspect + ": fails"


def main():
    data = json.load(open(sys.argv[1]))
    out_md = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "KNOWN-ON-MAIN.md")
    results = data["results"]
    corpus_path = os.path.join(HERE, "corpus.sql")
    entries = {e.number: e for e in lockobs_test.read_corpus(corpus_path)}

    markers = collections.defaultdict(dict)
    groups = collections.defaultdict(list)
    for f in data["failures"]:
        r = results[str(f["entry"])]
        text, group = reason(f, r)
        if f["aspect"] not in markers[f["entry"]]:
            markers[f["entry"]][f["aspect"]] = text
            groups[group].append((f["entry"], entries[f["entry"]].sql.split("\n")[0], text))

    lines = open(corpus_path).read().split("\n")
    for number in sorted(markers, reverse=True):
        e = entries[number]
        add = ["-- known: %s %s" % (aspect, text)
               for aspect, text in markers[number].items() if aspect not in e.known]
        # The statement's first line: after the block's marker lines.
        at = e.line - 1
        while lines[at].startswith("--"):
            at += 1
        lines[at:at] = add
    with open(corpus_path, "w") as f:
        f.write("\n".join(lines))

    with open(out_md, "w") as f:
        f.write("# Lock observation on main: known failures\n\n")
        f.write("Written by `test/lockobs/mark_known.py` from a run of "
                "`test/lockobs/lockobs_test.py`; each\nfailure is a `-- known:` "
                "marker in `corpus.sql` (a TAP TODO).\n\n")
        f.write("%s\n\n" % data.get("summary", ""))
        for group in sorted(groups, key=lambda g: -len(groups[g])):
            items = groups[group]
            f.write("## %s (%d)\n\n" % (group, len(items)))
            for number, sql, text in sorted(items):
                f.write("- [%d] `%s` -- %s\n" % (number, sql, text))
            f.write("\n")


if __name__ == "__main__":
    main()
