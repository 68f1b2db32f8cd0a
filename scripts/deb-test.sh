#!/usr/bin/env bash
#
# scripts/deb-test.sh WORKDIR -- build the Debian package and run the
# regression tests against the installed package's files (issue 16).
#
# Builds postgresql-15-migguard (debian/, pg_buildext) with dpkg-buildpackage
# from a copy of the checkout in WORKDIR/src, then installs it: with CI=true
# as root, `dpkg -i` into the system (a CI machine is disposable); otherwise
# `dpkg-deb -x` and copies the package's library and extension files into
# the MIGGUARD_PG_CONFIG copy (a shared development machine's /usr is not
# touched).  Then `make installcheck` (pg_regress on a temporary instance
# whose test/migguard.conf sets shared_preload_libraries = 'migguard') runs
# against those installed files without building anything.
#
# Prints TAP lines (ok N - ... / not ok N - ...), which scripts/test.sh
# (suite_deb) counts.

set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

work="${1:?usage: deb-test.sh WORKDIR}"
n=0
result() {	# result OK|FAIL DESCRIPTION
	n=$((n + 1))
	if [[ "$1" == OK ]]; then
		printf 'ok %d - %s\n' "$n" "$2"
	else
		printf 'not ok %d - %s\n' "$n" "$2"
	fi
}

rm -rf "$work"
mkdir -p "$work/src"
(cd "$REPO_ROOT" && git ls-files --cached --others --exclude-standard -z |
	xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$work/src"

if (cd "$work/src" && dpkg-buildpackage -b -uc -us) >"$work/build.log" 2>&1; then
	result OK "dpkg-buildpackage builds the package (log: $work/build.log)"
else
	tail -40 "$work/build.log"
	result FAIL "dpkg-buildpackage builds the package (log: $work/build.log)"
	exit 1
fi
deb="$(ls "$work"/postgresql-"${MIGGUARD_PG_MAJOR}"-migguard_*.deb)"
contents="$(dpkg-deb -c "$deb")"
missing=""
for f in lib/migguard.so extension/migguard.control extension/migguard--1.1.sql \
	extension/migguard--1.0.sql extension/migguard--1.0--1.1.sql; do
	grep -q "/${MIGGUARD_PG_MAJOR}/$f\$" <<<"$contents" || missing+=" $f"
done
if [[ -z "$missing" ]]; then
	result OK "$(basename "$deb") holds the library and every extension script"
else
	result FAIL "$(basename "$deb") lacks:$missing"
fi

target_pg_config="$PG_CONFIG"
if [[ "${CI:-}" == true ]] && is_root; then
	target_pg_config="/usr/lib/postgresql/${MIGGUARD_PG_MAJOR}/bin/pg_config"
	if dpkg -i "$deb" >"$work/install.log" 2>&1; then
		result OK "dpkg -i installs the package"
	else
		cat "$work/install.log"
		result FAIL "dpkg -i installs the package"
		exit 1
	fi
else
	if [[ "$PG_BINDIR" -ef "/usr/lib/postgresql/${MIGGUARD_PG_MAJOR}/bin" ]]; then
		printf '# not CI=true as root and no MIGGUARD_PG_CONFIG copy: not installing into /usr\n'
		exit 0
	fi
	dpkg-deb -x "$deb" "$work/root"
	libdir="$("$PG_CONFIG" --pkglibdir)"
	sharedir="$("$PG_CONFIG" --sharedir)"
	cp --remove-destination "$work/root/usr/lib/postgresql/${MIGGUARD_PG_MAJOR}/lib/migguard.so" "$libdir/"
	cp --remove-destination "$work/root/usr/share/postgresql/${MIGGUARD_PG_MAJOR}/extension/"migguard* "$sharedir/extension/"
	result OK "dpkg-deb -x: the package's files copied into $libdir and $sharedir/extension"
fi

# installcheck in a tree the cluster user owns, against the installed files.
check="$work/check"
make_cluster_user_dir "$check"
cp -r "$work/src/." "$check/"
if is_root; then
	chown -R "$(cluster_user)" "$check"
fi
if run_in_dir_as_cluster_user "$check" make -s PG_CONFIG="$target_pg_config" \
	TESTOUT="$check/test/out" installcheck >"$work/installcheck.log" 2>&1; then
	result OK "make installcheck against the installed package's files, migguard preloaded ($(grep -c '\.\.\. ok' "$work/installcheck.log") tests)"
else
	tail -40 "$work/installcheck.log"
	result FAIL "make installcheck against the installed package's files (log: $work/installcheck.log)"
fi
