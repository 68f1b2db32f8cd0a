#!/usr/bin/env bash
#
# scripts/demo.sh -- see migguard stop an unsafe migration, on your machine.
#
#   scripts/demo.sh          install what is missing, build and install
#                            migguard, start a scratch PostgreSQL cluster that
#                            preloads it, load a ~50 MB table and walk through
#                            blocked, safe and overridden schema changes
#   scripts/demo.sh stop     stop the scratch cluster
#
# Run it as root (or as a user with sudo for the install step). As root the
# cluster runs as the postgres user. The cluster lives in .scratch/demo in
# the checkout (or /tmp/migguard-demo-USER when the cluster user cannot reach
# the checkout), listens on localhost only, port 54329 or the next free one,
# with trust authentication: it is a throwaway, not a server to keep.
# Running the script again restarts that cluster and rebuilds the demo
# database, so it always starts from the same state.

set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO_PORT=54329
DEMO_ROWS="${DEMO_ROWS:-400000}"

# The checkout's .scratch/demo if the cluster user can reach it, else /tmp.
demo_dir() {
	if cluster_user_can_reach "$REPO_ROOT"; then
		echo "$REPO_ROOT/.scratch/demo"
	else
		echo "/tmp/migguard-demo-$(cluster_user)"
	fi
}

demo_stop() {
	local dir stopped=0
	for dir in "$REPO_ROOT/.scratch/demo" "/tmp/migguard-demo-$(cluster_user)"; do
		if [[ -d "$dir/data" ]] && stop_scratch_cluster "$dir"; then
			say "stopped the scratch cluster in $dir"
			stopped=1
		fi
	done
	if [[ $stopped -eq 0 ]]; then
		say "no demo cluster is running"
	fi
}

# heading TEXT...: an explanation printed before a step.
heading() {
	printf '\n%s--- %s%s\n' "$_MG_BOLD" "$1" "$_MG_RESET"
	shift
	local line
	for line in "$@"; do
		printf '    %s\n' "$line"
	done
	printf '\n'
}

# psql lines that print the SQLSTATE of the last statement if it failed.
SHOW_SQLSTATE="$(
	cat <<'PSQL'
\if :ERROR
\echo '(SQLSTATE ':SQLSTATE')'
\endif
PSQL
)"

# demo_sql SQL: run SQL in database demo, echoing each statement, showing
# ERROR / WARNING with DETAIL and HINT, and carrying on after an error. When
# the last statement failed, its SQLSTATE follows.
demo_sql() {
	local rc=0
	printf '%s\n%s\n' "$1" "$SHOW_SQLSTATE" |
		cluster_psql "$DIR" -d demo -e -v ON_ERROR_STOP=0 -v VERBOSITY=default \
			-v SHOW_CONTEXT=never -P pager=off 2>&1 || rc=$?
	# psql exits 0 with ON_ERROR_STOP=0 even after an SQL error; anything else
	# (cannot connect, crash) is a real problem.
	if [[ $rc -ne 0 ]]; then
		die "psql failed (exit $rc); server log: $DIR/log/postgresql.log"
	fi
}

demo_setup() {
	say "creating database demo with table public.accounts ($DEMO_ROWS rows)"
	cluster_psql "$DIR" -d postgres -q -v ON_ERROR_STOP=1 <<-'SQL'
		SET client_min_messages = warning;
		DROP DATABASE IF EXISTS demo WITH (FORCE);
		CREATE DATABASE demo;
	SQL
	# One transaction: the table is new in it, so nothing here is a finding.
	cluster_psql "$DIR" -d demo -q -v ON_ERROR_STOP=1 -v rows="$DEMO_ROWS" <<-'SQL'
		BEGIN;
		CREATE TABLE public.accounts (
		    id          bigint PRIMARY KEY,
		    email       text NOT NULL,
		    name        text,
		    created_at  timestamptz NOT NULL DEFAULT now()
		);
		INSERT INTO public.accounts (id, email, name, created_at)
		SELECT g,
		       'user' || g || '@example.com',
		       'Customer number ' || g,
		       timestamptz '2024-01-01' + g * interval '1 minute'
		  FROM generate_series(1, :rows) AS g;
		COMMIT;
		VACUUM ANALYZE public.accounts;
		CREATE EXTENSION migguard;
	SQL
	cluster_psql "$DIR" -d demo -At -c \
		"SELECT 'public.accounts: ' || count(*) || ' rows, ' || pg_size_pretty(pg_table_size('public.accounts')) || ' (migguard.large_table_size = ' || current_setting('migguard.large_table_size') || ')' FROM public.accounts"
}

demo_walkthrough() {
	heading "(a) A plain CREATE INDEX on a large table" \
		"CREATE INDEX takes a SHARE lock: every INSERT, UPDATE and DELETE on" \
		"accounts waits until the whole index is built. migguard blocks it" \
		"(SQLSTATE MG001) and says how to do it safely."
	demo_sql "CREATE INDEX accounts_email_idx ON accounts (email);"

	heading "(b) The safe way: CREATE INDEX CONCURRENTLY" \
		"Builds the index without blocking writes. migguard lets it through."
	demo_sql "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);"

	heading "(c) Renaming a column" \
		"The application that is deployed right now still uses the old name;" \
		"its queries would fail the moment this commits. Blocked."
	demo_sql "ALTER TABLE accounts RENAME COLUMN name TO full_name;"

	heading "(d) Overriding a rule for one transaction" \
		"When you have deployed code that no longer uses the column, accept" \
		"the rule with SET LOCAL migguard.allow: the statement runs with a" \
		"WARNING that says it was overridden. (The demo rolls it back to" \
		"keep the schema as it was.)"
	demo_sql "BEGIN;
SET LOCAL migguard.allow = 'rename_column';
ALTER TABLE accounts RENAME COLUMN name TO full_name;
ROLLBACK;"

	heading "(e) The rules and the levels in effect for this session" \
		"Each rule can be set to error, warning or off with migguard.rules."
	demo_sql "SELECT rule, category, default_level, level FROM migguard.rules();"
}

demo_finish() {
	local user
	user="$(cluster_user)"
	printf '\n%sThe scratch cluster keeps running.%s Connect to it with:\n\n' "$_MG_BOLD" "$_MG_RESET"
	if is_root; then
		printf '    runuser -u postgres -- psql -X -h %q -p %s -d demo\n\n' "$CLUSTER_SOCKDIR" "$CLUSTER_PORT"
		printf 'or, over TCP from any local user:\n\n'
		printf '    psql -X "host=localhost port=%s user=%s dbname=demo"\n\n' "$CLUSTER_PORT" "$user"
	else
		printf '    psql -X -h %q -p %s -d demo\n\n' "$CLUSTER_SOCKDIR" "$CLUSTER_PORT"
	fi
	printf 'Stop it with:\n\n    %s stop\n\n' "$(demo_command)"
}

# How the user typed this script, for the closing message.
demo_command() {
	if [[ "$0" == */* ]]; then
		printf '%s' "$0"
	else
		printf '%s' "scripts/demo.sh"
	fi
}

main() {
	case "${1:-}" in
	stop)
		demo_stop
		return 0
		;;
	"") ;;
	*)
		printf 'usage: %s [stop]\n' "$0" >&2
		return 2
		;;
	esac

	ensure_packages
	build_and_install

	DIR="$(demo_dir)"
	if [[ "$DIR" != "$REPO_ROOT/.scratch/demo" ]]; then
		say "user $(cluster_user) cannot read $REPO_ROOT; the demo cluster goes to $DIR instead"
	fi
	start_scratch_cluster "$DIR" "$DEMO_PORT"
	demo_setup
	demo_walkthrough
	demo_finish
}

main "$@"
