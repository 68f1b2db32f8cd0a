# shellcheck shell=bash
#
# scripts/lib.sh -- shared steps for scripts/demo.sh and scripts/test.sh.
#
# Sourced, never run. It provides:
#
#   say MSG / die MSG        a progress line / an error line and exit 1
#   copy_tools_into_copy     copy pg_repack, pg_partman, pg_cron into a relocated
#                            MIGGUARD_PG_CONFIG copy
#   ensure_packages          install the Debian packages migguard needs (apt-get
#                            as root; otherwise print the sudo line and exit 1)
#   build_and_install        make && make install (sudo make install when not
#                            root; nothing when the installed files match)
#   cluster_user             the user that owns scratch clusters: postgres when
#                            run as root (initdb refuses root), else the caller
#   run_as_cluster_user CMD  run CMD as that user (from /)
#   run_in_dir_as_cluster_user DIR CMD
#                            the same, from DIR
#   cluster_user_can_reach DIR
#                            whether that user can read and enter DIR
#   make_cluster_user_dir DIR
#                            create DIR (emptied) owned by the cluster user
#   copy_tree_for_cluster_user DEST
#                            copy the checkout (without .git, .scratch) to DEST,
#                            owned by the cluster user
#   start_scratch_cluster DIR PORT [EXTRA_CONF]
#                            initdb DIR/data if needed, preload migguard, listen
#                            on localhost only, socket in DIR/socket, port PORT
#                            or the next free one, start (or restart) it; sets
#                            CLUSTER_PORT and CLUSTER_SOCKDIR
#   stop_scratch_cluster DIR stop it if it runs
#   cluster_psql DIR ARGS    psql as the cluster user against that cluster
#
# Everything targets PostgreSQL $MIGGUARD_PG_MAJOR (15 unless overridden).

set -euo pipefail

MIGGUARD_PG_MAJOR="${MIGGUARD_PG_MAJOR:-15}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# MIGGUARD_PG_CONFIG points the scripts at another installation, such as a
# private copy of Debian's tree (PostgreSQL is relocatable), so that several
# checkouts can build and test at once without sharing one install.
PG_CONFIG="${MIGGUARD_PG_CONFIG:-/usr/lib/postgresql/${MIGGUARD_PG_MAJOR}/bin/pg_config}"
PG_BINDIR="$(dirname "$PG_CONFIG")"

# Debian packages: server, headers for PGXS, client, pgTAP and pg_prove, the
# Perl modules PostgreSQL's TAP framework needs, a C toolchain, and Django,
# Alembic, SQLAlchemy and psycopg2 for the client tests in test/django and
# test/alembic, Sqitch and ActiveRecord for those in test/sqitch and
# test/rails.
MIGGUARD_PACKAGES=(
	"postgresql-${MIGGUARD_PG_MAJOR}"
	"postgresql-server-dev-${MIGGUARD_PG_MAJOR}"
	"postgresql-client-${MIGGUARD_PG_MAJOR}"
	"postgresql-${MIGGUARD_PG_MAJOR}-pgtap"
	libtap-parser-sourcehandler-pgtap-perl
	libipc-run-perl
	make
	gcc
	libpq-dev
	python3-django
	python3-alembic
	python3-sqlalchemy
	python3-psycopg2
	"postgresql-${MIGGUARD_PG_MAJOR}-repack"
	"postgresql-${MIGGUARD_PG_MAJOR}-partman"
	"postgresql-${MIGGUARD_PG_MAJOR}-cron"
	postgresql-server-dev-all
	debhelper
	dpkg-dev
	fakeroot
	sqitch
	libdbd-pg-perl
	ruby-activerecord
	ruby-pg
)

# Installed only when the command is missing, "COMMAND PACKAGE...": Node.js
# may come from elsewhere (NodeSource's nodejs bundles npm and conflicts
# with Debian's npm package), and any node >= 18.19 with npm does for
# test/node.
MIGGUARD_COMMAND_PACKAGES=(
	"npm nodejs npm"
)

# The maintenance tools test/t/05x run on a guarded server (issue 16): their
# Debian packages install into /usr; a relocated copy (MIGGUARD_PG_CONFIG)
# gets their programs, libraries and extension files copied in.
MIGGUARD_TOOL_PACKAGES=(
	"postgresql-${MIGGUARD_PG_MAJOR}-repack"
	"postgresql-${MIGGUARD_PG_MAJOR}-partman"
	"postgresql-${MIGGUARD_PG_MAJOR}-cron"
)

# A fixed, always-present locale so initdb works on a bare machine and test
# output (sorting, messages) does not depend on the caller's environment.
export LC_ALL=C.UTF-8
export LANG=C.UTF-8
# Connection settings inherited from the caller must not redirect our psql.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS PGPASSWORD \
	PGDATA 2>/dev/null || true

if [[ -t 1 ]]; then
	_MG_BOLD=$'\e[1m'
	_MG_RESET=$'\e[0m'
else
	_MG_BOLD=''
	_MG_RESET=''
fi

# say MSG: a progress line on stdout.
say() {
	printf '%s==>%s %s\n' "$_MG_BOLD" "$_MG_RESET" "$*"
}

# die MSG: an error line on stderr, then exit 1.
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

is_root() {
	[[ "$(id -u)" -eq 0 ]]
}

# ---------------------------------------------------------------------------
# Packages, build, install
# ---------------------------------------------------------------------------

package_installed() {
	local status
	status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
	[[ "$status" == "install ok installed" ]]
}

ensure_packages() {
	local missing=() pkg
	command -v dpkg-query >/dev/null 2>&1 ||
		die "dpkg-query not found: these scripts expect Debian or Ubuntu (install ${MIGGUARD_PACKAGES[*]} by hand elsewhere)"
	for pkg in "${MIGGUARD_PACKAGES[@]}"; do
		package_installed "$pkg" || missing+=("$pkg")
	done
	local entry cmd pkgs=()
	for entry in "${MIGGUARD_COMMAND_PACKAGES[@]}"; do
		read -r cmd <<<"$entry"
		if ! command -v "$cmd" >/dev/null 2>&1; then
			read -r -a pkgs <<<"${entry#"$cmd"}"
			missing+=("${pkgs[@]}")
		fi
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		return 0
	fi
	if ! is_root; then
		printf 'Missing packages: %s\n' "${missing[*]}" >&2
		printf 'Install them with:\n\n    sudo apt-get install -y %s\n\n' "${missing[*]}" >&2
		exit 1
	fi
	say "installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# One retry each: a mirror hiccup should not fail a CI run.
	apt-get update -q || { sleep 5 && apt-get update -q; }
	apt-get install -y -q "${missing[@]}" || { sleep 5 && apt-get install -y -q "${missing[@]}"; }
	for pkg in "${missing[@]}"; do
		package_installed "$pkg" || die "package $pkg did not install"
	done
}

# copy_tools_into_copy: when PG_CONFIG is not Debian's own, copy each file
# of the tool packages under /usr/lib/postgresql/N and /usr/share/postgresql/N
# to the same place in the copy (bindir, pkglibdir, sharedir); no-op for /usr.
copy_tools_into_copy() {
	local sys_bin="/usr/lib/postgresql/${MIGGUARD_PG_MAJOR}/bin"
	[[ "$PG_BINDIR" -ef "$sys_bin" ]] && return 0
	# The packages are built for Debian's PostgreSQL: never copy them into
	# an install of another major version (their libraries would not load).
	[[ "$("$PG_CONFIG" --version)" =~ ^PostgreSQL\ ${MIGGUARD_PG_MAJOR}[.a-z] ]] || return 0
	local pkg f dest libdir sharedir
	libdir="$("$PG_CONFIG" --pkglibdir)"
	sharedir="$("$PG_CONFIG" --sharedir)"
	for pkg in "${MIGGUARD_TOOL_PACKAGES[@]}"; do
		package_installed "$pkg" || continue
		while read -r f; do
			[[ -f "$f" ]] || continue
			case "$f" in
				"$sys_bin"/*) dest="$PG_BINDIR/${f#"$sys_bin"/}" ;;
				/usr/lib/postgresql/${MIGGUARD_PG_MAJOR}/lib/*)
					dest="$libdir/${f#/usr/lib/postgresql/${MIGGUARD_PG_MAJOR}/lib/}" ;;
				/usr/share/postgresql/${MIGGUARD_PG_MAJOR}/*)
					dest="$sharedir/${f#/usr/share/postgresql/${MIGGUARD_PG_MAJOR}/}" ;;
				*) continue ;;
			esac
			if ! cmp -s "$f" "$dest"; then
				mkdir -p "$(dirname "$dest")"
				cp -p "$f" "$dest"
			fi
		done < <(dpkg -L "$pkg")
	done
}

# installed_copy_is_current: the installed library, control file and
# extension scripts are byte-identical to the ones in the checkout, so a
# user who is not root needs no sudo (say after `sudo make install`).
installed_copy_is_current() {
	local sharedir pkglibdir f
	sharedir="$("$PG_CONFIG" --sharedir)/extension"
	pkglibdir="$("$PG_CONFIG" --pkglibdir)"
	cmp -s "$REPO_ROOT/migguard.so" "$pkglibdir/migguard.so" || return 1
	cmp -s "$REPO_ROOT/migguard.control" "$sharedir/migguard.control" || return 1
	for f in "$REPO_ROOT"/sql/migguard--*.sql; do
		[[ -f "$f" ]] || continue
		cmp -s "$f" "$sharedir/$(basename "$f")" || return 1
	done
	return 0
}

# build_and_install: compile with PGXS in the checkout and install into
# PostgreSQL's directories (root, or sudo).
build_and_install() {
	[[ -x "$PG_CONFIG" ]] || die "$PG_CONFIG not found (is postgresql-server-dev-${MIGGUARD_PG_MAJOR} installed?)"
	say "building migguard ($("$PG_CONFIG" --version))"
	# Objects compiled against another PostgreSQL would be linked in as they
	# are (make sees them up to date): a change of install cleans first.
	local built_for="$REPO_ROOT/.scratch/built-for" target
	target="$PG_CONFIG $("$PG_CONFIG" --version)"
	if [[ "$(cat "$built_for" 2>/dev/null)" != "$target" ]]; then
		make -C "$REPO_ROOT" -s PG_CONFIG="$PG_CONFIG" clean >/dev/null 2>&1 || true
	fi
	mkdir -p "$REPO_ROOT/.scratch"
	printf '%s\n' "$target" >"$built_for"
	make -C "$REPO_ROOT" -s -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$PG_CONFIG" || return 1
	if is_root; then
		say "installing into $("$PG_CONFIG" --pkglibdir) and $("$PG_CONFIG" --sharedir)/extension"
		make -C "$REPO_ROOT" -s PG_CONFIG="$PG_CONFIG" install || return 1
		return 0
	fi
	if installed_copy_is_current; then
		say "the installed migguard already matches this build; not installing"
		return 0
	fi
	say "installing into $("$PG_CONFIG" --pkglibdir) and $("$PG_CONFIG" --sharedir)/extension"
	if command -v sudo >/dev/null 2>&1; then
		sudo make -C "$REPO_ROOT" -s PG_CONFIG="$PG_CONFIG" install || return 1
	else
		printf 'Installing needs root and sudo is not available. Run as root:\n\n    make -C %q PG_CONFIG=%q install\n\n' \
			"$REPO_ROOT" "$PG_CONFIG" >&2
		exit 1
	fi
}

# ---------------------------------------------------------------------------
# The cluster user
# ---------------------------------------------------------------------------

cluster_user() {
	if is_root; then
		echo postgres
	else
		id -un
	fi
}

# run_as_cluster_user CMD...: run CMD as the cluster user, keeping the
# environment (PATH, LC_ALL, variables set by the caller). Give it absolute
# paths: as root it runs from /, since the caller's directory (say /root) may
# be closed to postgres, and initdb, pg_ctl and psql complain about that.
run_as_cluster_user() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# run_in_dir_as_cluster_user DIR CMD...: the same, from directory DIR.
run_in_dir_as_cluster_user() {
	local dir="$1"
	shift
	if is_root; then
		(cd "$dir" && runuser -u postgres -- "$@")
	else
		(cd "$dir" && "$@")
	fi
}

# cluster_user_can_reach DIR: can the cluster user enter and read DIR?
cluster_user_can_reach() {
	run_as_cluster_user test -d "$1" -a -x "$1" -a -r "$1"
}

# make_cluster_user_dir DIR: an empty directory owned by the cluster user.
make_cluster_user_dir() {
	rm -rf "$1"
	mkdir -p "$1"
	if is_root; then
		chown postgres: "$1"
	fi
}

# copy_tree_for_cluster_user DEST: the checkout minus .git and .scratch, in
# DEST, owned (and so writable) by the cluster user.
copy_tree_for_cluster_user() {
	local dest="$1"
	make_cluster_user_dir "$dest"
	tar -C "$REPO_ROOT" --exclude=./.git --exclude=./.scratch --exclude=./bench/.work -cf - . | tar -C "$dest" -xf -
	if is_root; then
		chown -R postgres: "$dest"
	fi
}

# ---------------------------------------------------------------------------
# Scratch clusters
# ---------------------------------------------------------------------------

# port_in_use PORT: true if something accepts TCP connections on it.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	(exec 3<>"/dev/tcp/::1/$1") 2>/dev/null && return 0
	return 1
}

# free_port FROM: the first port at or above FROM that nothing listens on.
free_port() {
	local port="$1" limit=$(($1 + 100))
	while [[ $port -lt $limit ]]; do
		if ! port_in_use "$port"; then
			echo "$port"
			return 0
		fi
		port=$((port + 1))
	done
	die "no free TCP port between $1 and $limit"
}

scratch_cluster_running() {
	local dir="$1"
	[[ -f "$dir/data/PG_VERSION" ]] &&
		run_as_cluster_user "$PG_BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# The socket directory: DIR/socket, unless that path is too long for a Unix
# socket name (107 bytes on Linux), then a short directory under /tmp.
_scratch_sockdir() {
	local dir="$1" port="$2"
	local sock="$dir/socket/.s.PGSQL.$port"
	if [[ ${#sock} -le 100 ]]; then
		echo "$dir/socket"
	else
		echo "/tmp/migguard-sock-$(cluster_user)-$port"
	fi
}

# start_scratch_cluster DIR PORT [EXTRA_CONF]: see the header. A cluster that
# already runs is restarted so it loads the freshly installed library; its
# port is kept. EXTRA_CONF, if given, is a file appended to the settings.
start_scratch_cluster() {
	local dir="$1" want_port="$2" extra_conf="${3:-}"
	local data="$dir/data" conf="$dir/data/migguard_scratch.conf" port

	if [[ -d "$data" && ! -f "$data/PG_VERSION" ]]; then
		rm -rf "$data"
	fi
	if [[ ! -d "$data" ]]; then
		mkdir -p "$dir"
		if is_root; then
			chown postgres: "$dir"
		fi
		run_as_cluster_user mkdir -p "$dir/log"
		run_as_cluster_user "$PG_BINDIR/initdb" -D "$data" -A trust -E UTF8 \
			--locale=C.UTF-8 -U "$(cluster_user)" >"$dir/initdb.log" 2>&1 ||
			{
				cat "$dir/initdb.log" >&2
				die "initdb failed for $data"
			}
		printf "\n# Scratch settings, written by scripts/lib.sh.\ninclude 'migguard_scratch.conf'\n" |
			run_as_cluster_user tee -a "$data/postgresql.conf" >/dev/null
	fi

	if scratch_cluster_running "$dir"; then
		say "stopping the running scratch cluster in $dir, to restart it with the installed migguard"
		run_as_cluster_user "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null
	fi
	# Keep the port of the previous run when it is still free.
	port="$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$conf" 2>/dev/null || true)"
	if [[ -z "$port" ]] || port_in_use "$port"; then
		port="$(free_port "$want_port")"
	fi
	say "starting the scratch cluster in $dir on port $port"

	# Read by the callers (demo.sh, test.sh).
	# shellcheck disable=SC2034
	CLUSTER_PORT="$port"
	CLUSTER_SOCKDIR="$(_scratch_sockdir "$dir" "$port")"
	run_as_cluster_user mkdir -p "$CLUSTER_SOCKDIR" "$dir/log"

	{
		echo "# Rewritten at every start by scripts/lib.sh."
		echo "port = $port"
		echo "listen_addresses = 'localhost'"
		echo "unix_socket_directories = '$CLUSTER_SOCKDIR'"
		echo "shared_preload_libraries = 'migguard'"
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = off"
		echo "max_wal_size = '1GB'"
		echo "log_line_prefix = '%m [%p] %q%u@%d '"
		if [[ -n "$extra_conf" && -f "$extra_conf" ]]; then
			echo "# from $extra_conf"
			cat "$extra_conf"
		fi
	} | run_as_cluster_user tee "$conf" >/dev/null

	if ! run_as_cluster_user "$PG_BINDIR/pg_ctl" -D "$data" -l "$dir/log/postgresql.log" \
		-w -t 60 start >/dev/null; then
		tail -n 30 "$dir/log/postgresql.log" >&2 || true
		die "the scratch cluster in $dir did not start (log: $dir/log/postgresql.log)"
	fi
}

# stop_scratch_cluster DIR: stop the cluster in DIR if it runs.
stop_scratch_cluster() {
	local dir="$1"
	if scratch_cluster_running "$dir"; then
		run_as_cluster_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
		return 0
	fi
	return 1
}

# cluster_psql DIR ARGS...: psql against the running cluster in DIR, as the
# cluster user, ignoring ~/.psqlrc.
cluster_psql() {
	local dir="$1"
	shift
	local port sockdir
	port="$(sed -n "s/^port = \([0-9]*\)$/\1/p" "$dir/data/migguard_scratch.conf")"
	sockdir="$(sed -n "s/^unix_socket_directories = '\(.*\)'$/\1/p" "$dir/data/migguard_scratch.conf")"
	run_as_cluster_user "$PG_BINDIR/psql" -X -h "$sockdir" -p "$port" -U "$(cluster_user)" "$@"
}
