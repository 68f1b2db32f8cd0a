#!/usr/bin/env bash
# test/sqitch/sqitch_test.sh -- Sqitch (Debian's sqitch) deploys against a
# server running migguard.  TAP output; connection settings from libpq's
# environment (PGHOST, PGPORT, PGUSER, a superuser).  Creates and drops the
# database migguard_sqitch.  The project is generated in a temporary
# directory with contrib/sqitch/templates (each deploy script starts with
# SET migguard.tag = '<change>'):
#
#   create_items       CREATE TABLE items, 5000 rows              deployed
#   index_items_name   CREATE INDEX (plain) on the large table    blocked, Sqitch reports migguard's message
#   index_items_name   rewritten as CREATE INDEX CONCURRENTLY     deployed
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
db=migguard_sqitch
n=0
fails=0
ok() {	# ok CONDITION-EXIT-STATUS DESCRIPTION
	n=$((n + 1))
	if [[ "$1" -eq 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

echo "1..9"
if ! command -v sqitch >/dev/null; then
	echo "Bail out! sqitch is not installed (Debian: sqitch libdbd-pg-perl)"
	exit 1
fi
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
	-c "ALTER DATABASE $db SET migguard.large_table_size = '64kB'" >/dev/null
q "CREATE EXTENSION migguard"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SQITCH_FULLNAME="migguard test" SQITCH_EMAIL="test@example.org" HOME="$work"
cd "$work"
sqitch init app --engine pg --target "db:pg:$db" >/dev/null
add() {	# add CHANGE SQL: a change from migguard's template, its DDL in place of the XXX line
	sqitch add "$1" --template-directory "$root/contrib/sqitch/templates" -n "$1" >/dev/null
	python3 - "deploy/$1.sql" "$2" <<'PY'
import sys
p, sql = sys.argv[1], sys.argv[2]
s = open(p).read().replace('-- XXX Add DDLs here.', sql)
open(p, 'w').write(s)
PY
}

add create_items "CREATE TABLE items (id bigint PRIMARY KEY, name text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5000) g;"
sqitch deploy >"$work/out1" 2>&1
ok $? "sqitch deploy create_items succeeds"
[[ "$(q "SELECT string_agg(command_tag, ',') FROM migguard.change_log WHERE tag = 'create_items'")" == "CREATE TABLE" ]]
ok $? "create_items is recorded in change_log under its name (contrib/sqitch template)"

add index_items_name "CREATE INDEX items_name_idx ON items (name);"
sqitch deploy >"$work/out2" 2>&1
rc=$?
[[ $rc -ne 0 ]]
ok $? "sqitch deploy of a plain CREATE INDEX on the large table fails"
grep -q 'would block writes for the whole index build' "$work/out2"
ok $? "Sqitch shows migguard's message to the user" || cat "$work/out2" | sed 's/^/# /'
[[ "$(q "SELECT count(*) FROM migguard.change_log WHERE tag = 'index_items_name' AND verdict = 'blocked'")" -ge 1 ]] ||
	{ sleep 2; [[ "$(q "SELECT count(*) FROM migguard.change_log WHERE tag = 'index_items_name' AND verdict = 'blocked'")" -ge 1 ]]; }
ok $? "the blocked attempt is recorded under the change's name"
[[ "$(q "SELECT to_regclass('items_name_idx') IS NULL")" == t ]]
ok $? "no index was built"

# The safe form: CREATE INDEX CONCURRENTLY cannot run in a transaction block,
# so the script has no BEGIN/COMMIT (psql runs each statement on its own).
cat >deploy/index_items_name.sql <<'SQL'
-- Deploy app:index_items_name to pg
SET migguard.tag = 'index_items_name';
CREATE INDEX CONCURRENTLY items_name_idx ON items (name);
SQL
sqitch deploy >"$work/out3" 2>&1
ok $? "sqitch deploy of CREATE INDEX CONCURRENTLY succeeds" || sed 's/^/# /' "$work/out3"
[[ "$(q "SELECT count(*) FROM migguard.change_log WHERE tag = 'index_items_name' AND verdict = 'allowed' AND command_tag = 'CREATE INDEX'")" -eq 1 ]]
ok $? "the safe form is recorded as allowed under the change's name"
[[ "$(q "SELECT to_regclass('items_name_idx') IS NOT NULL")" == t ]]
ok $? "the index exists"

cd /
psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
exit $((fails > 0))
