#!/bin/bash
# test/client/migguard_check_test.sh: end-to-end tests of the migguard-check
# linter against a live server where the migguard extension is installed.
#
#   test/client/migguard_check_test.sh PATH/TO/migguard-check
#
# Connection settings come from the libpq environment (PGHOST, PGPORT,
# PGUSER, PGDATABASE).  The user must be a superuser: the linter's
# connections lower migguard.large_table_size to 64kB through PGOPTIONS, and
# the test creates a scratch database to show the missing-extension error.
# It creates public.mgc_big (about 300 kB) and the database mgc_check_noext,
# and drops both on exit.  Output is TAP.

# The predicates below are only called through check().
# shellcheck disable=SC2317

set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/migguard-check" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PSQL=${PSQL:-psql}
NOEXT_DB=mgc_check_noext
LINTER_PGOPTIONS="${PGOPTIONS:-} -c migguard.large_table_size=64kB"

work=$(mktemp -d "${TMPDIR:-/tmp}/migguard_check_test.XXXXXX")
status=0
n=0
failures=0

psql_quiet() {
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -c 'SET client_min_messages = error' "$@"
}

# Drop what the test creates.  A non-empty table may only be dropped with
# the drop_table rule allowed, like in production.
drop_test_objects() {
	psql_quiet -c "BEGIN" \
		-c "SET LOCAL migguard.allow = 'drop_table'" \
		-c "DROP TABLE IF EXISTS public.mgc_big" \
		-c "COMMIT" >/dev/null 2>&1
	psql_quiet -c "DROP DATABASE IF EXISTS $NOEXT_DB" >/dev/null 2>&1
}
trap 'drop_test_objects; rm -rf "$work"' EXIT

# mgc_big is created, filled and indexed in one transaction (a table new in
# its transaction is exempt from every rule), and committed before the
# linter looks at it, so that it is an existing large table by then.
setup() {
	drop_test_objects
	psql_quiet -c "BEGIN" \
		-c "CREATE TABLE public.mgc_big (id int NOT NULL, filler text)" \
		-c "INSERT INTO public.mgc_big SELECT g, repeat('x', 20) FROM generate_series(1, 5000) g" \
		-c "CREATE INDEX mgc_big_drop_me ON public.mgc_big (id)" \
		-c "COMMIT" \
		-c "CREATE DATABASE $NOEXT_DB" >"$work/setup.log" 2>&1 &&
	[ "$(psql_quiet -A -t -c "SELECT pg_table_size('public.mgc_big') > 65536")" = t ]
}

# Run the linter; sets $status and leaves its output in out and err.
run() {
	PGOPTIONS=$LINTER_PGOPTIONS "$BIN" "$@" >"$work/out" 2>"$work/err"
	status=$?
}

# check DESCRIPTION COMMAND...: one TAP line; on failure, show the last run.
check() {
	local description=$1

	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $description"
	else
		echo "not ok $n - $description"
		failures=$((failures + 1))
		echo "# exit status: $status"
		sed 's/^/# stdout: /' "$work/out"
		sed 's/^/# stderr: /' "$work/err"
	fi
}

status_is() { [ "$status" -eq "$1" ]; }
stdout_has() { grep -Eq -- "$1" "$work/out"; }
stdout_lacks() { ! grep -Eq -- "$1" "$work/out"; }
stderr_has() { grep -Eq -- "$1" "$work/err"; }
stdout_empty() { [ ! -s "$work/out" ]; }
stderr_empty() { [ ! -s "$work/err" ]; }
stderr_last_line_is() { [ "$(tail -n 1 "$work/err")" = "$1" ]; }

# json_holds PYTHON-EXPRESSION: stdout is one JSON document d for which the
# expression is true.
json_holds() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError as e:
    print("# stdout is not valid JSON:", e)
    sys.exit(1)
sys.exit(0 if eval(sys.argv[1]) else 1)
' "$1" <"$work/out"
}

if ! setup; then
	echo "Bail out! could not create the test table or database"
	sed 's/^/# /' "$work/setup.log"
	exit 1
fi
cd "$work" || exit 1

printf 'CREATE INDEX mgc_big_idx ON public.mgc_big (id);\n' >create_index.sql
printf '%s\n' \
	'-- A table new in the script may be indexed at once: nobody sees it yet.' \
	'CREATE TABLE public.mgc_clean (id int);' \
	'CREATE INDEX mgc_clean_idx ON public.mgc_clean (id);' >clean.sql
printf 'DROP INDEX public.mgc_big_drop_me;\n' >warning.sql
printf 'CREAT TABLE public.mgc_typo (id int);\n' >syntax.sql
printf '%s\n' \
	'-- migration 0042' \
	'CREATE INDEX mgc_big_idx2 ON public.mgc_big (id);' \
	'CREATE TABLE public.mgc_new (id int);' \
	'' \
	'  CREATE INDEX mgc_big_idx3 ON public.mgc_big (id);' >positions.sql
printf 'CREATE INDEX "mgc_""quoted\\\xc3\xafdx" ON public.mgc_big\n\t(id);\n' >escapes.sql

echo "1..37"

# compiler-style text output
run create_index.sql
check "CREATE INDEX on a large table exits 2" status_is 2
check "the finding is FILE:1:1: error: ... [create_index]" \
	stdout_has '^create_index\.sql:1:1: error: .* \[create_index\]$'
check "the hint follows on an indented line" stdout_has '^  hint: .+'
check "the summary counts one error in one file" \
	stderr_last_line_is 'migguard-check: 1 error, 0 warnings in 1 file'

run --quiet create_index.sql
check "--quiet keeps the finding" stdout_has '\[create_index\]$'
check "--quiet drops the hint" stdout_lacks '^  '

run clean.sql
check "a clean migration exits 0" status_is 0
check "a clean migration prints nothing on stdout" stdout_empty
check "a clean migration prints nothing on stderr" stderr_empty

run warning.sql
check "DROP INDEX on a large table exits 1 (warnings only)" status_is 1
check "the finding is FILE:1:1: warning: ... [drop_index]" \
	stdout_has '^warning\.sql:1:1: warning: .* \[drop_index\]$'

run syntax.sql
check "a syntax error exits 2" status_is 2
check "the syntax error is reported as rule syntax_error" \
	stdout_has '^syntax\.sql:[0-9]+:[0-9]+: error: syntax error at or near "CREAT" \[syntax_error\]$'

# positions: where each statement starts, past comments and blank lines
run positions.sql
check "the first statement starts after the leading comment" \
	stdout_has '^positions\.sql:2:1: error: .* \[create_index\]$'
check "a later statement starts at its first token" \
	stdout_has '^positions\.sql:5:3: error: .* \[create_index\]$'

# several files, standard input
run create_index.sql warning.sql clean.sql
check "the worst finding decides: error and warning exit 2" status_is 2
check "the summary counts every file" \
	stderr_last_line_is 'migguard-check: 1 error, 1 warning in 3 files'

run - <create_index.sql
check "standard input is read with -" status_is 2
check "standard input is named <stdin>" \
	stdout_has '^<stdin>:1:1: error: .* \[create_index\]$'

# JSON output
if command -v python3 >/dev/null; then
	run --format=json create_index.sql warning.sql
	check "--format=json exits like text output" status_is 2
	check "--format=json prints one array with both findings" json_holds \
		'[(f["file"], f["rule"], f["level"]) for f in d] == [("create_index.sql", "create_index", "error"), ("warning.sql", "drop_index", "warning")]'
	check "every JSON finding has exactly the documented keys" json_holds \
		'all(sorted(f) == sorted(["file", "line", "column", "statement_no", "rule", "level", "lock_mode", "relation", "table_size", "message", "hint", "statement"]) for f in d)'
	check "JSON positions and sizes are numbers" json_holds \
		'all(f["line"] == 1 and f["column"] == 1 and f["statement_no"] == 1 and f["table_size"] > 65536 for f in d)'
	check "JSON names the relation, lock and statement" json_holds \
		'"mgc_big" in d[0]["relation"] and isinstance(d[0]["lock_mode"], str) and "mgc_big_idx" in d[0]["statement"]'

	run --format=json syntax.sql
	check "JSON escapes quotes and gives SQL NULL as null" json_holds \
		'd[0]["message"] == "syntax error at or near \"CREAT\"" and d[0]["relation"] is None and d[0]["table_size"] is None'

	run --format=json escapes.sql
	check "JSON escapes backslashes and control characters, keeps UTF-8" json_holds \
		'"\"mgc_\"\"quoted\\\u00efdx\" ON public.mgc_big\n\t(id)" in d[0]["statement"]'

	run --format=json clean.sql
	check "JSON output of a clean migration is an empty array" json_holds 'd == []'
else
	for description in "--format=json exits like text output" \
		"--format=json prints one array with both findings" \
		"every JSON finding has exactly the documented keys" \
		"JSON positions and sizes are numbers" \
		"JSON names the relation, lock and statement" \
		"JSON escapes quotes and gives SQL NULL as null" \
		"JSON escapes backslashes and control characters, keeps UTF-8" \
		"JSON output of a clean migration is an empty array"; do
		n=$((n + 1))
		echo "ok $n - $description # skip python3 not found"
	done
fi

# connections
run -p 1 clean.sql
check "an unreachable server exits 3" status_is 3
check "an unreachable server is reported with libpq's message" \
	stderr_has '^migguard-check: could not connect: .+'

run -p 1 -d "port=${PGPORT:-5432}" clean.sql
check "--dbname takes a connection string, as in psql" status_is 0

run -d "$NOEXT_DB" create_index.sql
check "a database without the extension exits 3" status_is 3
check "the missing extension is reported with a hint to create it" \
	stderr_has '^migguard-check: hint: Run CREATE EXTENSION migguard'

# files and usage
run create_index.sql missing.sql
check "an unreadable file exits 3" status_is 3
check "the unreadable file is named, the other files still checked" \
	eval 'stderr_has "could not open file \"missing\.sql\"" && stdout_has "^create_index\.sql:1:1: error:"'

run --no-such-option clean.sql
check "an unknown option exits 3" status_is 3

run --format=xml clean.sql
check "an unknown format exits 3" status_is 3

run
check "no input files exits 3 with a pointer to --help" \
	eval 'status_is 3 && stderr_has "Try \"migguard-check --help\""'

exit $((failures > 0))
