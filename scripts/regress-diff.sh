#!/usr/bin/env bash
#
# scripts/regress-diff.sh -- the differential test: PostgreSQL 15's own
# regression suite (src/test/regress, parallel_schedule) run by pg_regress
# against plain PostgreSQL and against a server that preloads migguard with
# the extension created, in migguard.mode = audit and = warn; the outputs are
# compared per test file (issue 12, "What to deliver").
#
#   scripts/regress-diff.sh [WORKDIR]
#
# WORKDIR (default .scratch/regress-diff) is emptied and holds the test tree
# and one directory per run (results/, regression.diffs, log/ of its server,
# regressdiff.diffs with every unexplained difference). Run directly, the
# script first builds and installs migguard into the install under test
# (as scripts/test.sh does); suite regressdiff of scripts/test.sh runs it
# with MIGGUARD_REGRESSDIFF_NO_BUILD=1.
#
# Steps:
#   1. The source: `apt-get source --download-only postgresql-15` with a
#      private apt configuration (its own deb-src list for bookworm,
#      bookworm-updates and bookworm-security, its own lists and cache
#      directories under $MIGGUARD_PG_SRC_CACHE/apt; the system's apt sources
#      and lists are never touched), unpacked by dpkg-source -x into the cache
#      $MIGGUARD_PG_SRC_CACHE (default /var/cache/migguard/pg15-src, outside
#      the checkout) and reused from there. The version is the installed
#      server's (pg_config --version) when the archive still has it, else the
#      newest 15.x it has, and the script says so: the test files do not have
#      to match the server exactly, since the plain and the migguard runs use
#      the same files and binaries and only their outputs are compared.
#   2. regress.so is compiled with PGXS from src/test/regress/regress.c;
#      refint.so and autoinc.so (contrib/spi) come from the install's
#      pkglibdir. They go to one --dlpath directory, as `make check` does.
#   3. pg_regress (from the install's PGXS directory) runs parallel_schedule
#      on a --temp-instance, as user postgres when run as root:
#        plain1, plain2  plain PostgreSQL, twice (see "Nondeterminism")
#        audit, warn     shared_preload_libraries = 'migguard' and
#                        migguard.mode set; the schedule starts with the test
#                        migguard_setup (CREATE EXTENSION migguard in
#                        database regression, which pg_regress creates
#                        itself from template0)
#      Every run uses the same binaries and pg_regress's own settings; the
#      migguard runs add only the two lines above.
#   4. scripts/regress-diff-compare.py compares each test's results/NAME.out
#      of a migguard run with the plain runs, after removing migguard's own
#      WARNING blocks, and allows only the differences listed in
#      test/regress-diff/expected-differences. It prints every unexplained
#      difference (hunks, capped) and one line per mode
#          regressdiff MODE: N passed, N failed
#      (one test per regression file). A server log line "terminated by
#      signal" (or TRAP/PANIC) in any run fails the mode.
#
# Nondeterminism: a few core tests vary from run to run (timing, plans after
# autovacuum, stats). A migguard output passes when it matches (after the
# filter) either plain run; a test whose two plain outputs differ is named
# in the report. Tests listed with "ignore:" in the schedule (random) are not
# compared.
#
# Environment:
#   MIGGUARD_PG_CONFIG        the install to test (scripts/lib.sh)
#   MIGGUARD_PG_SRC_CACHE     source cache (default $MIGGUARD_PG_CACHE/pg15-src,
#                             that is /var/cache/migguard/pg15-src)
#   MIGGUARD_REGRESSDIFF_MODES       migguard modes to run (default "audit warn")
#   MIGGUARD_REGRESSDIFF_PLAIN_RUNS  plain runs, 1 or 2 (default 2)
#   MIGGUARD_REGRESSDIFF_TESTS       instead of parallel_schedule, these tests
#                                    (test_setup is always run first)
#   MIGGUARD_REGRESSDIFF_PORT        a fixed port for the temporary instances
#                                    (default: pg_regress's choice; they listen
#                                    on a private Unix socket only)
#
# Exit status: 0 when every compared test of every mode passed and no server
# crashed; 1 otherwise; 2 when the harness itself could not run.
#
# Timings, measured 2026-12-01 on the 2-core development machine shared with
# other builds (PostgreSQL 15.18 test files against a 15.20 server):
#   cold (nothing in the cache): apt-get update, download and unpack 12 s;
#     the suite regressdiff 3 min 15 s in all (four runs of 39-54 s, the
#     comparison 5 s)
#   warm (source cached; apt-get update still runs, to look for the
#     server's own version): 5 min 25 s with the machine busier (runs of
#     61-80 s)
# Well inside CI's 90 minutes.

set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC_CACHE="${MIGGUARD_PG_SRC_CACHE:-${MIGGUARD_PG_CACHE:-/var/cache/migguard}/pg15-src}"
MODES="${MIGGUARD_REGRESSDIFF_MODES:-audit warn}"
PLAIN_RUNS="${MIGGUARD_REGRESSDIFF_PLAIN_RUNS:-2}"
BASE_PORT="${MIGGUARD_REGRESSDIFF_PORT:-}"
WORKDIR="${1:-$REPO_ROOT/.scratch/regress-diff}"
EXPECTED_DIFFERENCES="$REPO_ROOT/test/regress-diff/expected-differences"

harness_failed() {
	printf 'error: %s\n' "$*" >&2
	printf 'REGRESSDIFF harness 0 1\n'
	exit 2
}

# --------------------------------------------------------------------------
# 1. The source, in the cache
# --------------------------------------------------------------------------

# private_apt ARGS...: apt-get or apt-cache with our own source list, lists
# and cache; nothing under /etc/apt or /var/lib/apt/lists is read or written
# (the dpkg status file is only read).
APT_DIR="$SRC_CACHE/apt"
private_apt() {
	local tool="$1"
	shift
	"$tool" -q \
		-o Dir::Etc::sourcelist="$APT_DIR/sources.list" \
		-o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$APT_DIR/lists" \
		-o Dir::Cache="$APT_DIR/cache" \
		-o APT::Sandbox::User=root \
		"$@"
}

# source_dir_for VERSION: where that upstream version is unpacked.
source_dir_for() {
	echo "$SRC_CACHE/postgresql-15-$1"
}

# The upstream version of the server under test, such as 15.20.
server_version() {
	"$PG_CONFIG" --version | sed -n 's/^PostgreSQL \([0-9][0-9.]*\).*/\1/p'
}

# fetch_source: sets PG_SRC to an unpacked postgresql-15 source tree.
fetch_source() {
	local want have dsc v
	want="$(server_version)"
	if [[ -f "$(source_dir_for "$want")/src/test/regress/parallel_schedule" ]]; then
		PG_SRC="$(source_dir_for "$want")"
		say "PostgreSQL $want source: cached in $PG_SRC"
		return 0
	fi
	if ! is_root && [[ ! -w "$SRC_CACHE" && ! -w "$(dirname "$SRC_CACHE")" ]]; then
		harness_failed "no cached source in $SRC_CACHE and no right to create it (run as root, or set MIGGUARD_PG_SRC_CACHE)"
	fi
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	cat >"$APT_DIR/sources.list" <<-'EOF'
		# Written by scripts/regress-diff.sh: source packages only, for the
		# regression suite of postgresql-15. Used through -o Dir::Etc::sourcelist.
		deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
		deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
		deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
	EOF
	if ! command -v dpkg-source >/dev/null 2>&1; then
		is_root || harness_failed "dpkg-source not found (apt-get install dpkg-dev)"
		say "installing dpkg-dev (for dpkg-source)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpkg-dev >/dev/null ||
			harness_failed "could not install dpkg-dev"
	fi
	say "fetching the postgresql-15 source package list (private apt configuration in $APT_DIR)"
	if ! private_apt apt-get update >"$APT_DIR/update.log" 2>&1 &&
		! { sleep 5 && private_apt apt-get update >"$APT_DIR/update.log" 2>&1; }; then
		# Offline: another version fetched before still serves (see the
		# header); the newest one cached.
		PG_SRC="$(find "$SRC_CACHE" -mindepth 5 -maxdepth 5 \
			-path "$SRC_CACHE/postgresql-15-*/src/test/regress/parallel_schedule" 2>/dev/null |
			sed 's|/src/test/regress/parallel_schedule$||' | sort -V | tail -n 1)"
		if [[ -z "$PG_SRC" ]]; then
			cat "$APT_DIR/update.log" >&2
			harness_failed "apt-get update (private lists) failed and nothing is cached"
		fi
		say "NOTE: apt-get update failed; using the cached $PG_SRC"
		return 0
	fi

	# Versions the archive offers, newest first; the server's own first.
	local versions=()
	mapfile -t versions < <(private_apt apt-cache showsrc postgresql-15 2>/dev/null |
		sed -n 's/^Version: //p' | sort -rV | uniq)
	[[ ${#versions[@]} -gt 0 ]] || harness_failed "the archive lists no postgresql-15 source package"
	local ordered=()
	for v in "${versions[@]}"; do
		[[ "${v%%-*}" == "$want" ]] && ordered+=("$v")
	done
	for v in "${versions[@]}"; do
		[[ "${v%%-*}" == "$want" ]] || ordered+=("$v")
	done

	mkdir -p "$SRC_CACHE/download"
	for v in "${ordered[@]}"; do
		have="${v%%-*}"
		if [[ -f "$(source_dir_for "$have")/src/test/regress/parallel_schedule" ]]; then
			PG_SRC="$(source_dir_for "$have")"
			break
		fi
		say "downloading source package postgresql-15 $v"
		# Some mirrors list a version whose files they do not (yet) serve;
		# then the next older one is tried.
		if ! (cd "$SRC_CACHE/download" &&
			private_apt apt-get source --download-only "postgresql-15=$v") >"$SRC_CACHE/download/$v.log" 2>&1; then
			say "postgresql-15 $v could not be downloaded ($(grep -m1 '^E:' "$SRC_CACHE/download/$v.log" || echo 'see the log'))"
			continue
		fi
		dsc="$SRC_CACHE/download/postgresql-15_${v}.dsc"
		rm -rf "$(source_dir_for "$have").tmp"
		(cd "$SRC_CACHE/download" &&
			dpkg-source --no-copy -x "$dsc" "$(source_dir_for "$have").tmp") >"$SRC_CACHE/download/$v.unpack.log" 2>&1 ||
			{
				tail -n 20 "$SRC_CACHE/download/$v.unpack.log" >&2
				continue
			}
		mv "$(source_dir_for "$have").tmp" "$(source_dir_for "$have")"
		PG_SRC="$(source_dir_for "$have")"
		break
	done
	[[ -n "${PG_SRC:-}" ]] || harness_failed "no postgresql-15 source package could be fetched"
	have="$(basename "$PG_SRC")"
	have="${have#postgresql-15-}"
	if [[ "$have" != "$want" ]]; then
		say "NOTE: the archive does not serve the source of the installed server ($want); using the regression suite of $have"
	fi
	say "PostgreSQL $have source in $PG_SRC"
}

# --------------------------------------------------------------------------
# 2. The test tree and the C modules
# --------------------------------------------------------------------------

prepare_tree() {
	local regress="$PG_SRC/src/test/regress" pkglibdir
	pkglibdir="$("$PG_CONFIG" --pkglibdir)"
	make_cluster_user_dir "$WORKDIR"
	mkdir -p "$WORKDIR/src" "$WORKDIR/lib"
	cp -r "$regress/sql" "$regress/expected" "$regress/data" \
		"$regress/parallel_schedule" "$regress/resultmap" "$WORKDIR/src/"
	# The first test of the migguard runs. Its output is not compared.
	cat >"$WORKDIR/src/sql/migguard_setup.sql" <<-'EOF'
		-- scripts/regress-diff.sh: migguard's extension in database regression,
		-- before PostgreSQL's own tests run.
		CREATE EXTENSION migguard;
		SELECT current_setting('migguard.mode') AS mode;
	EOF
	: >"$WORKDIR/src/expected/migguard_setup.out"

	if [[ -n "${MIGGUARD_REGRESSDIFF_TESTS:-}" ]]; then
		local t
		echo "test: test_setup" >"$WORKDIR/src/schedule"
		for t in $MIGGUARD_REGRESSDIFF_TESTS; do
			[[ "$t" == test_setup ]] || echo "test: $t" >>"$WORKDIR/src/schedule"
		done
	else
		cp "$WORKDIR/src/parallel_schedule" "$WORKDIR/src/schedule"
	fi
	{
		echo "test: migguard_setup"
		cat "$WORKDIR/src/schedule"
	} >"$WORKDIR/src/schedule_migguard"

	# regress.so, built like contrib modules (PGXS); no bitcode.
	cp "$regress/regress.c" "$WORKDIR/lib/"
	cat >"$WORKDIR/lib/Makefile" <<-'EOF'
		MODULES = regress
		PGXS := $(shell $(PG_CONFIG) --pgxs)
		include $(PGXS)
	EOF
	make -C "$WORKDIR/lib" -s PG_CONFIG="$PG_CONFIG" with_llvm=no >"$WORKDIR/lib/build.log" 2>&1 ||
		{
			cat "$WORKDIR/lib/build.log" >&2
			harness_failed "could not build regress.so"
		}
	cp "$pkglibdir/refint.so" "$pkglibdir/autoinc.so" "$WORKDIR/lib/" ||
		harness_failed "refint.so/autoinc.so (contrib/spi) not in $pkglibdir"
	if is_root; then
		chown -R postgres: "$WORKDIR"
	fi
}

# --------------------------------------------------------------------------
# 3. The runs
# --------------------------------------------------------------------------

# run_suite NAME SCHEDULE [CONF_LINES...]: one pg_regress run on a
# temporary instance in WORKDIR/NAME.
run_suite() {
	local name="$1" schedule="$2" out="$WORKDIR/$1" rc=0 start port_opt=()
	shift 2
	if [[ -n "$BASE_PORT" ]]; then
		port_opt=(--port="$BASE_PORT")
	fi
	run_as_cluster_user mkdir -p "$out"
	printf '%s\n' "# scripts/regress-diff.sh, run $name" "$@" |
		run_as_cluster_user tee "$WORKDIR/$name.conf" >/dev/null
	start=$SECONDS
	run_in_dir_as_cluster_user "$WORKDIR" \
		"$(dirname "$("$PG_CONFIG" --pgxs)")/../../src/test/regress/pg_regress" \
		--bindir="$PG_BINDIR" \
		--inputdir="$WORKDIR/src" \
		--outputdir="$out" \
		--dlpath="$WORKDIR/lib" \
		--schedule="$WORKDIR/src/$schedule" \
		--max-concurrent-tests=20 \
		--temp-instance="$out/tmp_check" \
		--temp-config="$WORKDIR/$name.conf" \
		"${port_opt[@]}" >"$out/pg_regress.log" 2>&1 || rc=$?
	# pg_regress exits 1 when a test output differs from PostgreSQL's
	# expected file, which is no concern here; it must have run the tests.
	if [[ ! -d "$out/results" ]] || ! grep -q -E 'tests (passed|failed)|of [0-9]+ tests' "$out/pg_regress.log"; then
		tail -n 30 "$out/pg_regress.log" >&2
		find "$out" -path '*/log/*.log' -exec tail -n 30 {} + >&2 2>/dev/null || true
		harness_failed "pg_regress run $name did not run the suite (exit $rc)"
	fi
	# The stopped instance's data directory (some 350 MB); its server log
	# is in $out/log.
	rm -rf "$out/tmp_check"
	say "run $name: $(grep -E 'tests (passed|failed)|of [0-9]+ tests' "$out/pg_regress.log" | tr -s ' ' | head -n1) in $((SECONDS - start)) s"
}

main() {
	[[ -x "$PG_CONFIG" ]] || harness_failed "$PG_CONFIG not found"
	command -v python3 >/dev/null 2>&1 || harness_failed "python3 not found"
	if [[ -z "${MIGGUARD_REGRESSDIFF_NO_BUILD:-}" ]]; then
		build_and_install || harness_failed "building or installing migguard failed"
	fi
	fetch_source
	prepare_tree

	local plain=() i mode rc=0
	for ((i = 1; i <= PLAIN_RUNS; i++)); do
		run_suite "plain$i" schedule
		plain+=("$WORKDIR/plain$i")
	done
	for mode in $MODES; do
		run_suite "$mode" schedule_migguard \
			"shared_preload_libraries = 'migguard'" \
			"migguard.mode = '$mode'"
	done

	# 4. The comparison, one report per mode, then the total.
	local compare_args=()
	for i in "${plain[@]}"; do
		compare_args+=(--plain "$i")
	done
	for mode in $MODES; do
		python3 "$REPO_ROOT/scripts/regress-diff-compare.py" \
			--schedule "$WORKDIR/src/schedule" \
			--expected-differences "$EXPECTED_DIFFERENCES" \
			--mode "$mode" "${compare_args[@]}" "$WORKDIR/$mode" |
			tee "$WORKDIR/compare-$mode.log" || rc=1
	done
	cat "$WORKDIR"/compare-*.log | awk '
		/^REGRESSDIFF / { p += $3; f += $4 }
		END { printf "\nregressdiff total: %d passed, %d failed\n", p, f }'
	return $rc
}

main "$@"
