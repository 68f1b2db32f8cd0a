#!/usr/bin/env bash
#
# scripts/test.sh -- build, install and run every migguard test suite.
#
# Installs missing Debian packages (as root; otherwise prints the sudo line),
# builds and installs migguard, then runs each suite below and ends with a
# per-suite summary and the line
#
#     N passed, N failed
#
# Exit status: 0 only if every test passed and at least one test ran.
#
# The tests run as the cluster user (postgres when run as root, since initdb
# refuses root) in a copy of the checkout that user owns: .scratch/test/tree
# in the checkout, or /tmp/migguard-test-USER when that user cannot reach the
# checkout. Results stay there after the run (regression.diffs, logs).
#
# Suites, one function each (add a function and list it in SUITES;
# MIGGUARD_SUITES picks some of them, MIGGUARD_PG_CONFIG another install):
#   suite_installcheck  `make installcheck`: the pg_regress tests (REGRESS) on
#                       a temporary instance preloading migguard, then the
#                       isolation specs (ISOLATION) when the Makefile sets it
#   suite_tap           Perl TAP tests test/t/*.pl, run by prove with
#                       PostgreSQL::Test::Cluster on the path
#   suite_pgtap         pgTAP files test/pgtap/*.sql, run by pg_prove in a
#                       database migguard_pgtap (extensions pgtap and migguard
#                       created) of a scratch cluster this script starts;
#                       write each file inside BEGIN ... ROLLBACK
#   suite_client        TAP scripts test/client/*_test.sh, given the path of
#                       the built client/migguard-check, run by prove against
#                       database migguard_client (extension created) of that
#                       scratch cluster, through PGHOST/PGPORT/PGUSER/PGDATABASE
#   suite_python        Python TAP scripts test/django/*_test.py and
#                       test/alembic/*_test.py (real Django and Alembic
#                       migrations), run by prove with Debian's python3
#                       against that scratch cluster through
#                       PGHOST/PGPORT/PGUSER; each creates and drops its own
#                       database (migguard_django, migguard_alembic)
#   suite_regressdiff   scripts/regress-diff.sh: PostgreSQL 15's own
#                       regression suite, plain vs. migguard preloaded with
#                       the extension created (modes audit and warn); one
#                       test per regression file and mode, the differences
#                       allowed in test/regress-diff/expected-differences;
#                       fetches the source into /var/cache/migguard once
#                       (about 5 minutes on 2 cores)
#   suite_migrations    TAP scripts of real migration tools, run by prove
#                       against that scratch cluster through
#                       PGHOST/PGPORT/PGUSER (MIGRATION_TOOLS):
#                       test/sqitch/*_test.sh (Sqitch deploys, bash),
#                       test/rails/*_test.rb (ActiveRecord migrations, ruby),
#                       test/node/*_test.js (node-pg-migrate, node; its
#                       packages installed by npm ci from
#                       test/node/package-lock.json into the results
#                       directory); each creates and drops its own database
#   suite_deb           scripts/deb-test.sh: builds postgresql-15-migguard from
#                       debian/ (pg_buildext), installs it (dpkg -i with
#                       CI=true as root, else dpkg-deb -x into the
#                       MIGGUARD_PG_CONFIG copy) and runs make installcheck
#                       against the installed files
# A suite whose directory holds no test file is skipped, with a note.

set -euo pipefail

# Which PostgreSQL (before lib.sh, which reads MIGGUARD_PG_CONFIG):
#   scripts/test.sh                  15: MIGGUARD_PG_CONFIG, else PG_CONFIG,
#                                    else Debian's /usr/lib/postgresql/15
#   scripts/test.sh --pg N           N = 15, 17, 18 or 19: 15 as above, the
#                                    others from scripts/pg-build.sh N (built
#                                    or unpacked into /var/cache/migguard on
#                                    first use, reused later)
#   scripts/test.sh --all-versions   15, 17, 18 and 19 one after the other,
#                                    each in its own .scratch/test-N, then
#                                    one summary line per version and one
#                                    closing "N passed, N failed" line
# Suites that do not apply to a version are skipped with a note: the
# differential suite runs on 15 only (scripts/regress-diff.sh replays
# PostgreSQL 15's own regression suite and its list of allowed differences;
# the other versions' suites differ in files and expected output).
MG_TEST_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
MG_ALL_VERSIONS=(15 17 18 19)
MG_PG_VERSION=""
MG_RUN_ALL=0
while [[ $# -gt 0 ]]; do
	case "$1" in
		--pg) MG_PG_VERSION="${2:-}"; shift 2 || { echo "--pg needs a version" >&2; exit 2; } ;;
		--pg=*) MG_PG_VERSION="${1#--pg=}"; shift ;;
		--all-versions) MG_RUN_ALL=1; shift ;;
		*) printf 'usage: %s [--pg 15|17|18|19 | --all-versions]\n' "$0" >&2; exit 2 ;;
	esac
done
if [[ -z "${MIGGUARD_PG_CONFIG:-}" && -n "${PG_CONFIG:-}" ]]; then
	MIGGUARD_PG_CONFIG="$PG_CONFIG"
fi
unset PG_CONFIG

# pg_config_for VERSION: the pg_config to test VERSION with (the last line
# of scripts/pg-build.sh's output; its progress goes to stderr).
pg_config_for() {
	if [[ "$1" == 15 ]]; then
		printf '%s\n' "${MIGGUARD_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
		return 0
	fi
	# Progress goes to our stderr through the inherited descriptor: "tee
	# /dev/stderr" would reopen it, and when it is a file (a CI log) that
	# truncates the log.
	bash "$(dirname "$MG_TEST_SCRIPT")/pg-build.sh" "$1" | tee >(cat >&2) | tail -n 1
}

if [[ $MG_RUN_ALL == 1 ]]; then
	mg_lines=()
	mg_passed=0
	mg_failed=0
	for mg_v in "${MG_ALL_VERSIONS[@]}"; do
		mg_log="$(mktemp)"
		printf '\n==> PostgreSQL %s\n' "$mg_v"
		mg_started=$SECONDS
		mg_rc=0
		if mg_pgc="$(pg_config_for "$mg_v")" && [[ -x "$mg_pgc" ]]; then
			MIGGUARD_PG_CONFIG="$mg_pgc" MIGGUARD_TEST_WORK_SUFFIX="-$mg_v" \
				bash "$MG_TEST_SCRIPT" 2>&1 | tee "$mg_log" || mg_rc=$?
			mg_result="$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$mg_log" | tail -n 1)"
		else
			mg_result=""
		fi
		[[ -n "$mg_result" ]] || mg_result="0 1"
		read -r mg_p mg_f <<<"$mg_result"
		mg_lines+=("$(printf '  PostgreSQL %-3s %5d passed, %4d failed  (%ds)' "$mg_v" "$mg_p" "$mg_f" $((SECONDS - mg_started)))")
		mg_passed=$((mg_passed + mg_p))
		mg_failed=$((mg_failed + mg_f))
		rm -f "$mg_log"
	done
	printf '\nAll versions\n'
	printf '%s\n' "${mg_lines[@]}"
	printf '\n%d passed, %d failed\n' "$mg_passed" "$mg_failed"
	[[ $mg_failed -eq 0 && $mg_passed -gt 0 ]]
	exit
fi
if [[ -n "$MG_PG_VERSION" ]]; then
	case "$MG_PG_VERSION" in
		15 | 17 | 18 | 19) ;;
		*) echo "--pg: 15, 17, 18 or 19" >&2; exit 2 ;;
	esac
	MIGGUARD_PG_CONFIG="$(pg_config_for "$MG_PG_VERSION")"
	MIGGUARD_TEST_WORK_SUFFIX="${MIGGUARD_TEST_WORK_SUFFIX:--$MG_PG_VERSION}"
fi
[[ -z "${MIGGUARD_PG_CONFIG:-}" ]] || export MIGGUARD_PG_CONFIG

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The major version of the server under test.
PG_MAJOR_UNDER_TEST="$("$PG_CONFIG" --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')"

SUITES=(suite_installcheck suite_tap suite_pgtap suite_client suite_python suite_migrations suite_deb suite_regressdiff)
# MIGGUARD_SUITES="installcheck tap" runs only those suites (names without
# the suite_ prefix), for work on one area; CI runs them all.
if [[ -n "${MIGGUARD_SUITES:-}" ]]; then
	read -r -a SUITES <<<"${MIGGUARD_SUITES}"
	SUITES=("${SUITES[@]/#/suite_}")
fi
SCRATCH_PORT=54340
DIFF_BYTES=20000

SUITE_NAMES=()
SUITE_PASSED=()
SUITE_FAILED=()
SUITE_NOTES=()
SCRATCH_DIR=""

# record NAME PASSED FAILED [NOTE]: one line of the final summary.
record() {
	SUITE_NAMES+=("$1")
	SUITE_PASSED+=("$2")
	SUITE_FAILED+=("$3")
	SUITE_NOTES+=("${4:-}")
}

# show_file FILE: the head of FILE, for CI logs.
show_file() {
	if [[ -s "$1" ]]; then
		printf '\n===== %s =====\n' "$1"
		head -c "$DIFF_BYTES" "$1"
		if [[ $(wc -c <"$1") -gt $DIFF_BYTES ]]; then
			printf '\n[... cut at %s bytes ...]\n' "$DIFF_BYTES"
		fi
		printf '\n'
	fi
}

# show_crashes DIR: server log lines under DIR that tell of a crashed
# backend (signal, assertion, PANIC) with the statement it was running.
show_crashes() {
	local crashes
	crashes="$(find "$1" -path '*/log/*' -name '*.log' -exec grep -h -A1 \
		-E 'terminated by signal|TRAP:|PANIC:' {} + 2>/dev/null || true)"
	if [[ -n "$crashes" ]]; then
		printf '\n===== server crashes, from the server logs under %s =====\n' "$1"
		head -c "$DIFF_BYTES" <<<"$crashes"
		printf '\n'
	fi
}

# count_tap LOG: "PASSED FAILED" from TAP lines at the start of a line
# (prove -v / pg_prove -v output); "# TODO" failures do not count.
count_tap() {
	awk '
		/^ok [0-9]+/ { pass++; next }
		/^not ok [0-9]+/ { if ($0 ~ /# *TODO/) pass++; else fail++ }
		END { printf "%d %d\n", pass, fail }
	' "$1"
}

# --------------------------------------------------------------------------
# pg_regress and isolation: make installcheck
# --------------------------------------------------------------------------

suite_installcheck() {
	local log="$WORK/installcheck.log" testout="$TREE/test/out" rc=0 counts
	say "suite: make installcheck (pg_regress, isolation)"
	run_in_dir_as_cluster_user "$TREE" make -s PG_CONFIG="$PG_CONFIG" TESTOUT="$testout" \
		installcheck 2>&1 | tee "$log" || rc=$?

	# pg_regress prints, per test (PG15):
	#   test setup                        ... ok           12 ms
	#        setup                        ... FAILED       12 ms   (parallel group)
	# and PG16+ prints TAP: "ok 1  - setup  12 ms", "not ok 2  + setup".
	# "make installcheck" announces each runner with "+++ regress ..." and
	# "+++ isolation ...".
	counts="$(awk '
		/^(# )?\+\+\+ regress/{ suite = "pg_regress"; seen[suite] = 1; next }
		/^(# )?\+\+\+ isolation/{ suite = "isolation";  seen[suite] = 1; next }
		suite == "" { next }
		/^(test +|[ \t]+)[^ \t]+[ \t]+\.\.\. +ok/            { pass[suite]++; next }
		/^(test +|[ \t]+)[^ \t]+[ \t]+\.\.\. +failed \(ignored\)/ { ign[suite]++; next }
		/^(test +|[ \t]+)[^ \t]+[ \t]+\.\.\. +FAILED/        { fail[suite]++; next }
		# pg_regress gave up on the test (missing file, diff error): a failure.
		/^(test +|[ \t]+)[^ \t]+[ \t]+\.\.\. /               { fail[suite]++; next }
		/^ok [0-9]+ +[-+] /     { pass[suite]++; next }
		/^not ok [0-9]+ +[-+] / { if ($0 ~ /# \(ignored\)|# *TODO/) ign[suite]++; else fail[suite]++; next }
		END {
			n = split("pg_regress isolation", order, " ")
			for (i = 1; i <= n; i++)
				if (order[i] in seen)
					printf "%s %d %d %d\n", order[i], pass[order[i]], fail[order[i]], ign[order[i]]
		}
	' "$log")"

	local name passed failed ignored any=0 note
	while read -r name passed failed ignored; do
		[[ -n "$name" ]] || continue
		any=1
		note=""
		if [[ $ignored -gt 0 ]]; then
			note="$ignored failed but ignored (counted as passed)"
			passed=$((passed + ignored))
		fi
		record "$name" "$passed" "$failed" "$note"
	done <<<"$counts"

	if [[ $any -eq 0 ]]; then
		record "installcheck" 0 1 "no test ran (make exited $rc)"
	elif [[ $rc -ne 0 && -z "$(awk '$3 > 0' <<<"$counts")" ]]; then
		# make failed although no test line failed: the runner itself broke.
		record "installcheck" 0 1 "make installcheck exited $rc"
	fi

	if [[ $rc -ne 0 ]]; then
		# regression.diffs of pg_regress (TESTOUT) and of the isolation tester
		# (output_iso, or wherever ISOLATION_OPTS sends it); the logs of the
		# temporary instances when there is no diff (initdb or startup failed).
		local f diffs
		show_crashes "$TREE"
		diffs="$(find "$TREE" -name regression.diffs -size +0 2>/dev/null | sort)"
		if [[ -n "$diffs" ]]; then
			while read -r f; do
				show_file "$f"
			done <<<"$diffs"
		else
			# No diff: the temporary instance did not come up or went away.
			while read -r f; do
				if [[ -z "$f" ]]; then
					continue
				fi
				if [[ "$f" == */initdb.log ]] && ! grep -q 'initdb failed' "$log"; then
					continue
				fi
				show_file "$f"
			done <<<"$(find "$TREE" -path '*/log/*.log' 2>/dev/null | sort)"
		fi
	fi
}

# --------------------------------------------------------------------------
# Perl TAP: test/t/*.pl
# --------------------------------------------------------------------------

suite_tap() {
	local files=("$TREE"/test/t/*.pl)
	if [[ ! -e "${files[0]}" ]]; then
		record "tap" 0 0 "skipped: no test/t/*.pl"
		return 0
	fi
	local log="$WORK/tap.log" rc=0 passed failed pgxs
	pgxs="$(dirname "$("$PG_CONFIG" --pgxs)")/../.."
	say "suite: Perl TAP tests (prove test/t/*.pl)"
	# The environment "make installcheck" gives TAP tests under PGXS.
	run_in_dir_as_cluster_user "$TREE/test" env \
		TESTDIR="$TREE/test" \
		PATH="$PG_BINDIR:$PATH" \
		PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
		prove -v -I "$pgxs/src/test/perl" -I "$TREE/test" "${files[@]#"$TREE/test/"}" 2>&1 | tee "$log" || rc=$?
	read -r passed failed < <(count_tap "$log")
	if [[ $rc -ne 0 && $failed -eq 0 ]]; then
		failed=1
		record "tap" "$passed" "$failed" "prove exited $rc (bad plan or a script died)"
	else
		record "tap" "$passed" "$failed"
	fi
	if [[ $rc -ne 0 ]]; then
		local f
		show_crashes "$TREE/test/tmp_check"
		for f in "$TREE"/test/tmp_check/log/regress_log_*; do
			if [[ -f "$f" ]]; then
				show_file "$f"
			fi
		done
	fi
}

# --------------------------------------------------------------------------
# The scratch cluster shared by the suites that need a running server
# --------------------------------------------------------------------------

# use_scratch_cluster: start it on first use (migguard preloaded, settings
# of test/migguard.conf); sets CLUSTER_PORT and CLUSTER_SOCKDIR.
use_scratch_cluster() {
	if [[ -z "$SCRATCH_DIR" ]]; then
		SCRATCH_DIR="$WORK/cluster"
		start_scratch_cluster "$SCRATCH_DIR" "$SCRATCH_PORT" "$TREE/test/migguard.conf"
	fi
}

stop_scratch_cluster_at_exit() {
	if [[ -n "$SCRATCH_DIR" ]]; then
		stop_scratch_cluster "$SCRATCH_DIR" || true
		SCRATCH_DIR=""
	fi
}

# --------------------------------------------------------------------------
# pgTAP: test/pgtap/*.sql
# --------------------------------------------------------------------------

suite_pgtap() {
	local files=("$TREE"/test/pgtap/*.sql)
	if [[ ! -e "${files[0]}" ]]; then
		record "pgtap" 0 0 "skipped: no test/pgtap/*.sql"
		return 0
	fi
	local log="$WORK/pgtap.log" rc=0 passed failed
	say "suite: pgTAP (pg_prove test/pgtap/*.sql)"
	use_scratch_cluster
	cluster_psql "$SCRATCH_DIR" -d postgres -q -v ON_ERROR_STOP=1 \
		-c "CREATE DATABASE migguard_pgtap"
	cluster_psql "$SCRATCH_DIR" -d migguard_pgtap -q -v ON_ERROR_STOP=1 \
		-c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION migguard"
	run_in_dir_as_cluster_user "$TREE" pg_prove -v --ext .sql \
		-h "$CLUSTER_SOCKDIR" -p "$CLUSTER_PORT" -U "$(cluster_user)" -d migguard_pgtap \
		"${files[@]#"$TREE/"}" 2>&1 | tee "$log" || rc=$?
	read -r passed failed < <(count_tap "$log")
	if [[ $rc -ne 0 && $failed -eq 0 ]]; then
		failed=1
		record "pgtap" "$passed" "$failed" "pg_prove exited $rc (bad plan or an SQL error)"
	else
		record "pgtap" "$passed" "$failed"
	fi
	if [[ $rc -ne 0 ]]; then
		show_crashes "$SCRATCH_DIR"
	fi
}

# --------------------------------------------------------------------------
# Client: test/client/*_test.sh, TAP scripts that take the path of the
# migguard-check binary and reach the server through PGHOST/PGPORT/...
# --------------------------------------------------------------------------

suite_client() {
	local files=("$TREE"/test/client/*_test.sh)
	if [[ ! -e "${files[0]}" ]]; then
		record "client" 0 0 "skipped: no test/client/*_test.sh"
		return 0
	fi
	if [[ ! -x "$TREE/client/migguard-check" ]]; then
		record "client" 0 0 "skipped: client/migguard-check was not built"
		return 0
	fi
	local log="$WORK/client.log" rc=0 passed failed
	say "suite: client (prove test/client/*_test.sh)"
	use_scratch_cluster
	cluster_psql "$SCRATCH_DIR" -d postgres -q -v ON_ERROR_STOP=1 \
		-c "CREATE DATABASE migguard_client"
	cluster_psql "$SCRATCH_DIR" -d migguard_client -q -v ON_ERROR_STOP=1 \
		-c "CREATE EXTENSION migguard"
	run_in_dir_as_cluster_user "$TREE" env \
		PGHOST="$CLUSTER_SOCKDIR" PGPORT="$CLUSTER_PORT" \
		PGUSER="$(cluster_user)" PGDATABASE=migguard_client \
		PATH="$PG_BINDIR:$PATH" \
		prove -v --exec bash "${files[@]#"$TREE/"}" :: "$TREE/client/migguard-check" \
		2>&1 | tee "$log" || rc=$?
	read -r passed failed < <(count_tap "$log")
	if [[ $rc -ne 0 && $failed -eq 0 ]]; then
		failed=1
		record "client" "$passed" "$failed" "prove exited $rc (bad plan or a script died)"
	else
		record "client" "$passed" "$failed"
	fi
	if [[ $rc -ne 0 ]]; then
		show_crashes "$SCRATCH_DIR"
	fi
}

# --------------------------------------------------------------------------
# Python: test/django/*_test.py and test/alembic/*_test.py, TAP scripts that
# run Django's migrate and Alembic's upgrade against the scratch cluster
# (libpq environment) and create their own databases
# --------------------------------------------------------------------------

suite_python() {
	local files=("$TREE"/test/django/*_test.py "$TREE"/test/alembic/*_test.py) existing=() f
	for f in "${files[@]}"; do
		if [[ -e "$f" ]]; then
			existing+=("$f")
		fi
	done
	if [[ ${#existing[@]} -eq 0 ]]; then
		record "python" 0 0 "skipped: no test/django/*_test.py or test/alembic/*_test.py"
		return 0
	fi
	# Debian's interpreter: python3-django and friends are installed for it,
	# and a python3 earlier on PATH (pyenv, a virtualenv) would not see them.
	local python=/usr/bin/python3
	if [[ ! -x "$python" ]]; then
		python="$(command -v python3 || true)"
	fi
	if [[ -z "$python" ]] || ! run_as_cluster_user "$python" -c \
		'import django, alembic, sqlalchemy, psycopg2' >/dev/null 2>&1; then
		record "python" 0 1 "python3 cannot import django, alembic, sqlalchemy and psycopg2"
		return 0
	fi
	local log="$WORK/python.log" rc=0 passed failed
	say "suite: Python clients (prove test/django/*_test.py test/alembic/*_test.py)"
	use_scratch_cluster
	run_in_dir_as_cluster_user "$TREE" env \
		PGHOST="$CLUSTER_SOCKDIR" PGPORT="$CLUSTER_PORT" PGUSER="$(cluster_user)" \
		PYTHONDONTWRITEBYTECODE=1 \
		prove -v --exec "$python" "${existing[@]#"$TREE/"}" 2>&1 | tee "$log" || rc=$?
	read -r passed failed < <(count_tap "$log")
	if [[ $rc -ne 0 && $failed -eq 0 ]]; then
		failed=1
		record "python" "$passed" "$failed" "prove exited $rc (bad plan or a script died)"
	else
		record "python" "$passed" "$failed"
	fi
	if [[ $rc -ne 0 ]]; then
		show_crashes "$SCRATCH_DIR"
	fi
}

# --------------------------------------------------------------------------
# Migration tools: Sqitch, Rails ActiveRecord, node-pg-migrate end to end
# against the scratch cluster (MIGRATION_TOOLS)
# --------------------------------------------------------------------------

# MIGRATION_TOOLS: one line per migration tool, "GLOB INTERPRETER": the TAP
# scripts of suite_migrations and what prove runs them with.
MIGRATION_TOOLS=(
	"test/sqitch/*_test.sh bash"
	"test/rails/*_test.rb ruby"
	"test/node/*_test.js node"
)

# prepare_node_modules: npm ci of test/node/package-lock.json into
# $WORK/node (outside the checkout's tracked files), as the cluster user;
# prints the node_modules directory, or nothing when npm failed.
prepare_node_modules() {
	local dir="$WORK/node"
	run_as_cluster_user mkdir -p "$dir"
	run_as_cluster_user cp "$TREE/test/node/package.json" "$TREE/test/node/package-lock.json" "$dir/"
	if run_in_dir_as_cluster_user "$dir" npm ci --no-audit --no-fund --no-update-notifier --loglevel=error >&2; then
		printf '%s\n' "$dir/node_modules"
	fi
}

suite_migrations() {
	local entry glob interpreter files f tool log rc p q passed=0 failed=0 any=0
	local node_path="" notes=()
	for entry in "${MIGRATION_TOOLS[@]}"; do
		read -r glob interpreter <<<"$entry"
		files=()
		for f in "$TREE"/$glob; do
			if [[ -e "$f" ]]; then
				files+=("${f#"$TREE/"}")
			fi
		done
		if [[ ${#files[@]} -eq 0 ]]; then
			continue
		fi
		if [[ $any -eq 0 ]]; then
			say "suite: migration tools (prove ${MIGRATION_TOOLS[*]%% *})"
			use_scratch_cluster
			any=1
		fi
		tool="${glob#test/}"
		tool="${tool%%/*}"
		if [[ "$interpreter" == node && -z "$node_path" ]]; then
			node_path="$(prepare_node_modules)"
			if [[ -z "$node_path" ]]; then
				failed=$((failed + 1))
				notes+=("$tool: npm ci failed")
				continue
			fi
		fi
		log="$WORK/migrations-$tool.log"
		rc=0
		run_in_dir_as_cluster_user "$TREE" env \
			PATH="$PG_BINDIR:$PATH" \
			PGHOST="$CLUSTER_SOCKDIR" PGPORT="$CLUSTER_PORT" PGUSER="$(cluster_user)" \
			NODE_PATH="$node_path" \
			prove -v --exec "$interpreter" "${files[@]}" 2>&1 | tee "$log" || rc=$?
		read -r p q < <(count_tap "$log")
		if [[ $rc -ne 0 && $q -eq 0 ]]; then
			# prove failed without a failing test line: a script died or
			# broke its plan.
			q=1
			notes+=("$tool: prove exited $rc")
		fi
		passed=$((passed + p))
		failed=$((failed + q))
	done
	if [[ $any -eq 0 ]]; then
		record "migrations" 0 0 "skipped: no test/sqitch, test/rails or test/node test"
		return 0
	fi
	record "migrations" "$passed" "$failed" "${notes[*]:-}"
}

# --------------------------------------------------------------------------
# Debian package: scripts/deb-test.sh
# --------------------------------------------------------------------------

suite_deb() {
	local log="$WORK/deb.log" rc=0 passed failed
	if [[ "$PG_MAJOR_UNDER_TEST" != 15 ]]; then
		# pg_buildext builds for the PostgreSQL versions Debian has installed
		# (postgresql-server-dev-N); 17 to 19 here are private installs.
		record "deb" 0 0 "skipped: the package builds against Debian's installed PostgreSQL 15, this is $PG_MAJOR_UNDER_TEST"
		return 0
	fi
	say "suite: Debian package (scripts/deb-test.sh)"
	bash "$REPO_ROOT/scripts/deb-test.sh" "$WORK/deb" 2>&1 | tee "$log" || rc=$?
	read -r passed failed < <(count_tap "$log")
	if [[ $rc -ne 0 && $failed -eq 0 ]]; then
		failed=1
	fi
	record "deb" "$passed" "$failed"
}

# --------------------------------------------------------------------------
# Differential: PostgreSQL's own regression suite, plain vs. migguard
# (scripts/regress-diff.sh; migguard is already built and installed)
# --------------------------------------------------------------------------

suite_regressdiff() {
	local log="$WORK/regressdiff.log" rc=0 name passed failed any=0
	if [[ "$PG_MAJOR_UNDER_TEST" != 15 ]]; then
		record "regressdiff" 0 0 "skipped: replays PostgreSQL 15's regression suite, this is $PG_MAJOR_UNDER_TEST"
		return 0
	fi
	say "suite: PostgreSQL's regression suite, plain vs. migguard (scripts/regress-diff.sh)"
	MIGGUARD_REGRESSDIFF_NO_BUILD=1 bash "$REPO_ROOT/scripts/regress-diff.sh" \
		"$WORK/regress-diff" 2>&1 | tee "$log" || rc=$?
	# One line per mode (and "harness" when it could not run at all):
	#   REGRESSDIFF MODE PASSED FAILED
	while read -r name passed failed; do
		any=1
		record "regressdiff-$name" "$passed" "$failed"
	done < <(sed -n 's/^REGRESSDIFF \([^ ]*\) \([0-9]*\) \([0-9]*\)$/\1 \2 \3/p' "$log")
	if [[ $any -eq 0 ]]; then
		record "regressdiff" 0 1 "regress-diff.sh exited $rc without a result"
	fi
	if [[ $rc -ne 0 ]]; then
		show_crashes "$WORK/regress-diff"
	fi
}

# --------------------------------------------------------------------------

summarize() {
	local i total_passed=0 total_failed=0 line
	printf '\n%sSummary%s\n' "$_MG_BOLD" "$_MG_RESET"
	for i in "${!SUITE_NAMES[@]}"; do
		line="$(printf '  %-12s %4d passed, %4d failed' "${SUITE_NAMES[$i]}" \
			"${SUITE_PASSED[$i]}" "${SUITE_FAILED[$i]}")"
		if [[ -n "${SUITE_NOTES[$i]}" ]]; then
			line+="  (${SUITE_NOTES[$i]})"
		fi
		printf '%s\n' "$line"
		total_passed=$((total_passed + SUITE_PASSED[i]))
		total_failed=$((total_failed + SUITE_FAILED[i]))
	done
	printf '  PostgreSQL %s (%s), results in %s\n\n' "$PG_MAJOR_UNDER_TEST" "$PG_CONFIG" "$WORK"
	printf '%d passed, %d failed\n' "$total_passed" "$total_failed"
	if [[ $total_failed -ne 0 ]]; then
		return 1
	fi
	if [[ $total_passed -eq 0 ]]; then
		printf 'error: no test ran\n' >&2
		return 1
	fi
	return 0
}

main() {
	ensure_packages
	copy_tools_into_copy
	if ! build_and_install; then
		printf '\nbuild or install failed\n0 passed, 1 failed\n'
		exit 1
	fi

	if cluster_user_can_reach "$REPO_ROOT"; then
		WORK="$REPO_ROOT/.scratch/test${MIGGUARD_TEST_WORK_SUFFIX:-}"
		mkdir -p "$REPO_ROOT/.scratch"
	else
		WORK="/tmp/migguard-test-$(cluster_user)${MIGGUARD_TEST_WORK_SUFFIX:-}"
		say "user $(cluster_user) cannot read $REPO_ROOT; testing a copy in $WORK"
	fi
	TREE="$WORK/tree"
	if [[ -d "$WORK/cluster/data" ]]; then
		stop_scratch_cluster "$WORK/cluster" || true
	fi
	make_cluster_user_dir "$WORK"
	copy_tree_for_cluster_user "$TREE"
	trap stop_scratch_cluster_at_exit EXIT

	local suite
	for suite in "${SUITES[@]}"; do
		"$suite"
	done
	summarize
}

main "$@"
