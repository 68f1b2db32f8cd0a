# shellcheck shell=bash
#
# bench/lib.sh -- helpers for bench/run (sourced, never run).
#
#   say MSG                     progress line (stdout, timestamped from start)
#   cluster_init NAME PRELOAD [EXTRA_CONF_LINE]...
#                               initdb $BENCH_WORK/NAME with the common settings
#   cluster_start NAME / cluster_stop NAME
#   bpsql NAME DB [PSQL ARGS]   psql against that cluster, as user postgres
#   bpgbench NAME DB [ARGS]     pgbench against that cluster
#   median / minmax             statistics over numbers on stdin
#
# Clusters listen on a Unix socket only ($BENCH_WORK/NAME/sock, port 5432),
# so they never collide with another PostgreSQL on this machine.

set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
# MIGGUARD_PG_CONFIG (as for scripts/test.sh) benchmarks another install,
# e.g. a private relocated copy; default: Debian's PostgreSQL $PG_MAJOR.
if [[ -n "${MIGGUARD_PG_CONFIG:-}" ]]; then
	PGBIN="$(dirname "$MIGGUARD_PG_CONFIG")"
else
	PGBIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
fi
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
BENCH_WORK="${BENCH_WORK:-$BENCH_DIR/.work}"
BENCH_T0="${BENCH_T0:-$(date +%s)}"

export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGPASSWORD \
	PGDATA 2>/dev/null || true

say() {
	local el=$(($(date +%s) - BENCH_T0))
	printf '[%02d:%02d] %s\n' $((el / 60)) $((el % 60)) "$*"
}

die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

# The OS user that owns the clusters: initdb refuses root.
if [[ "$(id -u)" -eq 0 ]]; then
	CLUSTER_USER=postgres
else
	CLUSTER_USER="$(id -un)"
fi

as_cluster_user() {
	if [[ "$(id -u)" -eq 0 ]]; then
		(cd / && runuser -u "$CLUSTER_USER" -- "$@")
	else
		(cd / && "$@")
	fi
}

# Settings every cluster gets, identical for A, B and C.  fsync is off (a
# scratch cluster; it only removes disk flush noise), autovacuum is off and
# each run starts after an explicit VACUUM + CHECKPOINT instead, so that
# background work does not land at random inside one side's runs.
common_conf() {
	local dir="$1"
	cat <<EOF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
port = 5432
max_connections = 50
shared_buffers = 256MB
max_locks_per_transaction = 512
fsync = off
full_page_writes = off
autovacuum = off
max_wal_size = 8GB
checkpoint_timeout = 1h
jit = off
lc_messages = 'C'
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF
}

cluster_dir() { printf '%s/%s' "$BENCH_WORK" "$1"; }

# cluster_init NAME PRELOAD [EXTRA LINE]...
cluster_init() {
	local name="$1" preload="$2" dir
	shift 2
	dir="$(cluster_dir "$name")"
	mkdir -p "$dir"
	chown "$CLUSTER_USER" "$dir" 2>/dev/null || true
	as_cluster_user "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb $name failed"; }
	as_cluster_user mkdir -p "$dir/sock"
	{
		echo "# --- bench common settings"
		common_conf "$dir"
		echo "# --- bench cluster $name"
		echo "shared_preload_libraries = '$preload'"
		local line
		for line in "$@"; do echo "$line"; done
	} | as_cluster_user tee -a "$dir/data/postgresql.conf" >/dev/null
}

cluster_start() {
	local dir
	dir="$(cluster_dir "$1")"
	as_cluster_user $SERVER_PIN "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{ tail -20 "$dir/server.log" >&2; die "cluster $1 did not start"; }
	note_loaded_libraries "$1"
}

# The libraries a server just loaded: their sha256 goes to
# $BENCH_WORK/libraries.seen (bench/run warns when migguard.so changed
# during a run, e.g. someone ran make install), and a copy goes to a
# private perf build-id cache, so that perf can still name migguard's
# functions if the installed file is replaced while the server runs.
note_loaded_libraries() {
	local lib f
	lib="$("$PGBIN/pg_config" --pkglibdir)"
	for f in migguard.so pgaudit.so; do
		[[ -f "$lib/$f" ]] || continue
		printf '%s %s %s %s\n' "$(date +%H:%M:%S)" "$1" "$f" "$(sha256sum "$lib/$f" | cut -c1-16)" >>"$BENCH_WORK/libraries.seen"
		if command -v perf >/dev/null; then
			perf --buildid-dir "$BENCH_WORK/buildid" buildid-cache --add "$lib/$f" >/dev/null 2>&1 || true
		fi
	done
}

cluster_stop() {
	local dir
	dir="$(cluster_dir "$1")"
	[[ -f "$dir/data/postmaster.pid" ]] || return 0
	as_cluster_user "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# Backend pid of the postmaster (for perf).
cluster_pid() { head -1 "$(cluster_dir "$1")/data/postmaster.pid"; }

bpsql() {
	local name="$1" db="$2"
	shift 2
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(cluster_dir "$name")/sock" -p 5432 \
		-U postgres -d "$db" "$@"
}

bpgbench() {
	local name="$1" db="$2"
	shift 2
	$CLIENT_PIN "$PGBIN/pgbench" -h "$(cluster_dir "$name")/sock" -p 5432 -U postgres "$@" "$db"
}

# Numbers on stdin, one per line.
median() {
	sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit}
		if (NR%2) printf "%.6g\n", a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2}'
}
minmax() {
	sort -g | awk 'NR==1{mn=$1} {mx=$1} END {printf "%.6g %.6g\n", mn, mx}'
}

# pgbench output -> tps / average latency (ms).
pgb_tps() { awk '/^tps = /{print $3; exit}'; }
pgb_lat() { awk '/^latency average = /{print $4; exit}'; }

now_ns() { date +%s%N; }

# Optional CPU pinning (BENCH_PIN=1): servers on CPU 0, clients on CPU 1.
# Off by default: on the 2-vCPU VM of RESULTS.md it cut throughput by 2-5x
# (every round trip becomes a cross-CPU wake-up) without reducing noise.
SERVER_PIN=""
CLIENT_PIN=""
if [[ "${BENCH_PIN:-0}" == 1 ]] && command -v taskset >/dev/null && [[ "$(nproc)" -ge 2 ]]; then
	SERVER_PIN="taskset -c 0"
	CLIENT_PIN="taskset -c 1"
fi
