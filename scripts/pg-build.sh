#!/usr/bin/env bash
#
# scripts/pg-build.sh -- build a PostgreSQL release from Debian's source
# package into a cache outside the checkout, for testing migguard on it.
#
#     scripts/pg-build.sh VERSION        VERSION is 15, 17, 18 or 19
#
# Prints the pg_config of the install as its last line, so that
#
#     MIGGUARD_PG_CONFIG="$(scripts/pg-build.sh 18 | tail -n 1)"
#
# points scripts/test.sh at it.
#
# Steps, each reported on stdout:
#   1. installs the build dependencies it lacks (apt-get install, as root);
#   2. fetches the source package postgresql-VERSION through a PRIVATE apt
#      configuration: its own deb-src list, lists and cache directories under
#      $CACHE/apt-VERSION (the -o Dir::... options below); the system's apt
#      sources (/etc/apt) are never read or changed for this;
#   3. unpacks it (dpkg-source -x --skip-patches: upstream's tree, see below),
#      configures it, builds it under "nice -n 19" with at most 2 jobs, and
#      installs the server, the client programs, the PGXS files, pg_regress,
#      the isolation tester and the Perl TAP modules
#      (PostgreSQL::Test::Cluster) into $CACHE/pg-VERSION;
#   4. writes $CACHE/pg-VERSION/.migguard-build-stamp: the source package
#      version and the configure flags.
# A later run whose stamp names the same configure flags reuses the install
# and touches no network.  MIGGUARD_PG_REFRESH=1 asks the mirror for the
# current source version and rebuilds when it differs from the stamp's.
#
# Environment:
#   MIGGUARD_PG_CACHE    the cache (default /var/cache/migguard)
#   MIGGUARD_PG_CASSERT  1 builds with --enable-cassert --enable-debug, 0
#                        without; default 1 for 18 (assertions run on one
#                        version at least), 0 for the others
#   MIGGUARD_PG_JOBS     make jobs (default 2, at most 2)
#   MIGGUARD_PG_REFRESH  1: check the mirror for a newer source version
#
# Where each version comes from (http://deb.debian.org/debian):
#   15  bookworm (or bookworm-security)    17  trixie (or trixie-security)
#   18  sid                                19  experimental
#
# A cold build takes minutes.  Measured on this project's 2-core machine
# while other jobs compiled and tested (load average 3 to 7, so an idle
# machine is faster), fetch + configure + build + install, make -j2 under
# nice -n 19, 2026-12-01:
#   18  18.6-3 from sid, --enable-cassert --enable-debug:  552 s and 714 s
#       (84 MB installed, 180 MB of sources kept in $CACHE/build-18)
#   17  not built: trixie and trixie-security list 17.12-0+deb13u1, but the
#       mirror answers 404 Not Found for its .dsc, .orig.tar.bz2 and
#       .debian.tar.xz (the binary packages of that version do download)
#   19  not built: experimental lists 19~rc1-1 and 19~beta2-1, the mirror
#       answers 404 Not Found for the source files of both
# A warm run (stamp present) takes well under a second.
#
# Runs as root (apt-get, writing the cache); clusters are run later as
# another user, so the install stays world-readable.

set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	printf 'usage: %s VERSION   (15, 17, 18 or 19)\n' "$0" >&2
	exit 2
}

[[ $# -eq 1 ]] || usage
VERSION="$1"
# Where the source package is looked for, in this order: "ARCHIVE SUITE",
# ARCHIVE under http://deb.debian.org/.  A stable release's point update
# may sit in its security archive only.
case "$VERSION" in
	15) CANDIDATES=("debian bookworm" "debian-security bookworm-security") ;;
	17) CANDIDATES=("debian trixie" "debian-security trixie-security") ;;
	18) CANDIDATES=("debian sid") ;;
	19) CANDIDATES=("debian experimental") ;;
	*) usage ;;
esac
SRCPKG="postgresql-${VERSION}"

CACHE="${MIGGUARD_PG_CACHE:-/var/cache/migguard}"
PREFIX="$CACHE/pg-$VERSION"
STAMP="$PREFIX/.migguard-build-stamp"
APTDIR="$CACHE/apt-$VERSION"
BUILDROOT="$CACHE/build-$VERSION"
JOBS="${MIGGUARD_PG_JOBS:-2}"
((JOBS >= 1 && JOBS <= 2)) || JOBS=2

if [[ -n "${MIGGUARD_PG_CASSERT:-}" ]]; then
	CASSERT="$MIGGUARD_PG_CASSERT"
elif [[ "$VERSION" == 18 ]]; then
	CASSERT=1
else
	CASSERT=0
fi

# Only what migguard's tests use: no LLVM JIT, no contrib, no docs.  ICU is
# the default from 16 on and wanted anyway (collations); readline for psql;
# zlib for pg_dump and pg_basebackup, which the TAP framework calls.
CONFIGURE_FLAGS=(--prefix="$PREFIX" --enable-tap-tests --without-llvm --with-icu)
if [[ "$CASSERT" == 1 ]]; then
	CONFIGURE_FLAGS+=(--enable-cassert --enable-debug)
fi
FLAGS_LINE="configure=${CONFIGURE_FLAGS[*]}"

# The private apt configuration: nothing from /etc/apt/sources.list{,.d}.
APT_OPTS=(
	-o "Dir::Etc::sourcelist=$APTDIR/sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$APTDIR/lists"
	-o "Dir::Cache=$APTDIR/cache"
	-o "APT::Get::List-Cleanup=0"
)

stamp_value() {
	# stamp_value KEY: the value of KEY= in the stamp, empty if none.
	[[ -f "$STAMP" ]] || return 0
	sed -n "s/^$1=//p" "$STAMP"
}

# find_source [download]: the first candidate whose list has the package
# sets SRCVERSION; with "download", the first one from which the files also
# download into $BUILDROOT.  Dies with what the mirror answered for each.
find_source() {
	local cand archive suite ver versions answers=() log="$APTDIR/answer.log"
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	for cand in "${CANDIDATES[@]}"; do
		read -r archive suite <<<"$cand"
		printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/%s %s main\n' \
			"$archive" "$suite" >"$APTDIR/sources.list"
		say "asking deb.debian.org/$archive ($suite) for $SRCPKG (private apt lists in $APTDIR)"
		if ! apt-get -q "${APT_OPTS[@]}" update >"$log" 2>&1; then
			answers+=("$archive $suite: apt-get update failed: $(grep -E '^(E|Err):' "$log" | tr '\n' ' ')")
			continue
		fi
		# Every version the list names, newest first: the archive may list a
		# version whose files the mirror does not (yet) hold.
		mapfile -t versions < <(apt-cache "${APT_OPTS[@]}" showsrc "$SRCPKG" 2>/dev/null |
			sed -n 's/^Version: //p' | sort -u -V -r)
		if [[ ${#versions[@]} -eq 0 ]]; then
			answers+=("$archive $suite: lists no source package $SRCPKG")
			continue
		fi
		if [[ "${1:-}" != download ]]; then
			SRCVERSION="${versions[0]}"
			return 0
		fi
		for ver in "${versions[@]}"; do
			say "fetching $SRCPKG $ver from $archive $suite"
			rm -rf "$BUILDROOT"
			mkdir -p "$BUILDROOT"
			if (cd "$BUILDROOT" &&
				apt-get -q "${APT_OPTS[@]}" source --download-only "$SRCPKG=$ver") >"$log" 2>&1; then
				SRCVERSION="$ver"
				return 0
			fi
			answers+=("$archive $suite lists $ver, but: $(grep -E '^E:' "$log" | tr '\n' ' ')")
		done
	done
	printf '  %s\n' "${answers[@]}" >&2
	[[ "${1:-}" == download ]] && return 1
	die "could not fetch $SRCPKG; the mirror answered as above"
}

# pgTAP for the pgtap suite and the api test: Debian's postgresql-VERSION-pgtap
# is architecture-independent SQL built for that major version, so the
# binary package's extension files are what a source build would install.
# Fetched like the source, from the first suite that has it; a missing
# package costs only those tests, so it warns instead of failing.
install_pgtap() {
	local cand archive suite pkg="postgresql-${VERSION}-pgtap" dl="$BUILDROOT/pgtap"
	for cand in "${CANDIDATES[@]}"; do
		read -r archive suite <<<"$cand"
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/%s %s main\n' \
			"$archive" "$suite" >"$APTDIR/sources.list"
		rm -rf "$dl"
		mkdir -p "$dl"
		if apt-get -q "${APT_OPTS[@]}" -o Dir::State::status=/dev/null update >"$APTDIR/pgtap.log" 2>&1 &&
			(cd "$dl" && apt-get -q "${APT_OPTS[@]}" -o Dir::State::status=/dev/null download "$pkg") \
			>>"$APTDIR/pgtap.log" 2>&1 &&
			dpkg-deb -x "$dl"/"${pkg}"_*.deb "$dl/root" &&
			[[ -d "$dl/root/usr/share/postgresql/$VERSION/extension" ]]; then
			cp "$dl/root/usr/share/postgresql/$VERSION/extension/"* "$($PREFIX/bin/pg_config --sharedir)/extension/"
			say "installed pgTAP from $pkg ($archive $suite)"
			return 0
		fi
	done
	say "warning: no $pkg could be fetched (log: $APTDIR/pgtap.log); the pgTAP tests will fail"
}

# have_pgtap: whether the install has pgTAP's control file.
have_pgtap() {
	[[ -f "$("$PREFIX/bin/pg_config" --sharedir)/extension/pgtap.control" ]]
}

# ---------------------------------------------------------------------------
# Binary mode: when the mirror lists a version whose source files it does
# not hold (17 and 19 on 2026-12-01: 404 Not Found for the .dsc and the
# tarballs), the same suite's BINARY packages are unpacked instead into a
# private sysroot, $PREFIX, with the newer runtime libraries they need
# (bookworm's glibc 2.36 is older than the 2.38+ they were linked against).
# Nothing is installed into the system: the packages are fetched with the
# private apt configuration (binary lists, Dir::State::status=/dev/null so
# that apt ignores what the system has), unpacked with dpkg-deb -x, and every
# ELF file is patched (patchelf) to use the sysroot's dynamic loader and
# library directories first.  migguard itself is compiled by the system's
# gcc against the unpacked headers; its .so needs only glibc <= 2.36
# symbols, which the newer glibc in the server process provides.
#
# Debian ships what the tests need: pg_config, PGXS, pg_regress, the
# isolation tester and the TAP modules in postgresql-client-VERSION
# (lib/pgxs/src/test/...), the headers in postgresql-server-dev-VERSION,
# pgTAP in postgresql-VERSION-pgtap.  Debian's binaries are built without
# --enable-cassert: assertions run on 18 (the source build) only.
#
# pg_config and the server are relocatable (they find share/, lib/ and the
# headers relative to their own path, src/port/path.c make_relative_path),
# so PREFIX/usr/lib/postgresql/VERSION/bin/pg_config answers with paths
# inside the sysroot.

# Suites of the binary packages, "ARCHIVE SUITE" each: 19 is in experimental,
# which holds only the packages that differ from sid, so its libraries come
# from sid.
binary_suites() {
	case "$VERSION" in
		15) printf '%s\n' "debian bookworm" "debian-security bookworm-security" ;;
		17) printf '%s\n' "debian trixie" "debian-security trixie-security" ;;
		18) printf '%s\n' "debian sid" ;;
		19) printf '%s\n' "debian experimental" "debian sid" ;;
	esac
}

BIN_APT_OPTS=(
	-o "Dir::Etc::sourcelist=$APTDIR/bin-sources.list"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$APTDIR/bin-lists"
	-o "Dir::Cache=$APTDIR/bin-cache"
	-o "Dir::State::status=/dev/null"
	-o "APT::Get::List-Cleanup=0"
)

# library_closure PKG...: PKG and, transitively, every library package
# (lib*, zlib1g) they depend on, one name a line.  Only libraries are
# followed: the server needs their files, not Debian's maintainer scripts,
# perl or postgresql-common (scripts/test.sh runs initdb and pg_ctl itself).
library_closure() {
	local -A seen=()
	local queue=("$@") pkg dep
	while [[ ${#queue[@]} -gt 0 ]]; do
		pkg="${queue[0]}"
		queue=("${queue[@]:1}")
		[[ -n "${seen[$pkg]:-}" ]] && continue
		seen[$pkg]=1
		printf '%s\n' "$pkg"
		# The first alternative of each dependency, real packages only.
		while read -r dep; do
			[[ "$dep" =~ ^(lib|zlib1g) ]] && [[ -z "${seen[$dep]:-}" ]] && queue+=("$dep")
		done < <(apt-cache "${BIN_APT_OPTS[@]}" depends --no-recommends --no-suggests \
			--no-conflicts --no-breaks --no-replaces --no-enhances "$pkg" 2>/dev/null |
			sed -n 's/^ *\(Pre\)\{0,1\}Depends: \([^<][^ ]*\)$/\2/p' |
			sed 's/:any$//')
	done
}

install_binary() {
	local cand archive suite dl="$BUILDROOT/debs" pkgs=() deb f lib_dirs interp
	mkdir -p "$APTDIR/bin-lists/partial" "$APTDIR/bin-cache/archives/partial"
	: >"$APTDIR/bin-sources.list"
	while read -r archive suite; do
		printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/%s %s main\n' \
			"$archive" "$suite" >>"$APTDIR/bin-sources.list"
	done < <(binary_suites)
	say "binary mode: Debian's binary packages of PostgreSQL $VERSION (the source could not be fetched)"
	say "asking deb.debian.org for the binary lists ($(binary_suites | tr '\n' ' '))"
	apt-get -q "${BIN_APT_OPTS[@]}" update >"$APTDIR/bin-update.log" 2>&1 ||
		die "apt-get update failed (log: $APTDIR/bin-update.log)"
	BINVERSION="$(apt-cache "${BIN_APT_OPTS[@]}" policy "postgresql-$VERSION" | sed -n 's/^ *Candidate: //p')"
	[[ -n "$BINVERSION" && "$BINVERSION" != "(none)" ]] || die "no binary package postgresql-$VERSION"
	mapfile -t pkgs < <(library_closure "postgresql-$VERSION" "postgresql-client-$VERSION" \
		"postgresql-server-dev-$VERSION" libpq-dev)
	# pgTAP: the version's own package, else the newest one for an earlier
	# major (19 has none yet): pgTAP is SQL, its scripts are copied below.
	local pgtap="" pgtap_major="" m
	for ((m = VERSION; m >= 15; m--)); do
		if apt-cache "${BIN_APT_OPTS[@]}" show "postgresql-$m-pgtap" >/dev/null 2>&1; then
			pgtap="postgresql-$m-pgtap"
			pgtap_major=$m
			break
		fi
	done
	if [[ -n "$pgtap" ]]; then
		pkgs+=("$pgtap")
	else
		say "warning: no postgresql-N-pgtap for $VERSION or an earlier major; the pgTAP tests will fail"
	fi
	say "downloading ${#pkgs[@]} packages (postgresql-$VERSION $BINVERSION and its libraries)"
	rm -rf "$dl"
	mkdir -p "$dl"
	chown _apt "$dl" 2>/dev/null || true
	(cd "$dl" && apt-get -q "${BIN_APT_OPTS[@]}" download "${pkgs[@]}") >"$APTDIR/bin-download.log" 2>&1 ||
		{ tail -n 20 "$APTDIR/bin-download.log" >&2; die "apt-get download failed (log: $APTDIR/bin-download.log)"; }

	say "unpacking into $PREFIX (dpkg-deb -x)"
	rm -rf "$PREFIX"
	mkdir -p "$PREFIX"
	for deb in "$dl"/*.deb; do
		dpkg-deb -x "$deb" "$PREFIX"
	done
	if [[ -n "$pgtap_major" && "$pgtap_major" != "$VERSION" ]]; then
		say "no postgresql-$VERSION-pgtap: installing $pgtap's SQL scripts for $VERSION"
		cp "$PREFIX/usr/share/postgresql/$pgtap_major/extension/pgtap"* \
			"$PREFIX/usr/share/postgresql/$VERSION/extension/"
	fi
	# Merged /usr: the loader is /usr/lib64/ld-linux-x86-64.so.2 in trixie
	# and sid's libc6, the libraries under usr/lib/x86_64-linux-gnu (and
	# lib/x86_64-linux-gnu for older packages).
	interp="$(find "$PREFIX" -name 'ld-linux-x86-64.so.2' -path '*x86_64-linux-gnu*' | head -n 1)"
	[[ -n "$interp" ]] || die "no ld-linux-x86-64.so.2 among the unpacked libraries"
	lib_dirs="$PREFIX/usr/lib/postgresql/$VERSION/lib:$PREFIX/usr/lib/x86_64-linux-gnu"
	[[ -d "$PREFIX/lib/x86_64-linux-gnu" ]] && lib_dirs+=":$PREFIX/lib/x86_64-linux-gnu"

	say "patching the ELF files to use $interp and $lib_dirs"
	# DT_RPATH (--force-rpath), not RUNPATH: RPATH also applies to the
	# libraries' own dependencies and to dlopen() by the server, so no
	# library of the system's older glibc is mixed in.
	while IFS= read -r -d '' f; do
		head -c 4 "$f" 2>/dev/null | grep -q $'^\x7fELF' || continue
		if patchelf --print-interpreter "$f" >/dev/null 2>&1; then
			patchelf --set-interpreter "$interp" "$f"
		fi
		# The loader itself and libc's own objects keep theirs.
		case "$(basename "$f")" in ld-linux*) continue ;; esac
		patchelf --force-rpath --set-rpath "$lib_dirs" "$f" 2>/dev/null || true
	done < <(find "$PREFIX/usr/lib/postgresql" "$PREFIX/usr/bin" -type f -print0 2>/dev/null)
	"$PREFIX/usr/lib/postgresql/$VERSION/bin/postgres" --version >/dev/null ||
		die "the unpacked server does not run: $("$PREFIX/usr/lib/postgresql/$VERSION/bin/postgres" --version 2>&1)"
	chmod -R a+rX "$PREFIX"
}

# installed_pg_config: the install's pg_config (a source build's PREFIX/bin,
# a binary sysroot's Debian path).
installed_pg_config() {
	if [[ -x "$PREFIX/bin/pg_config" ]]; then
		printf '%s\n' "$PREFIX/bin/pg_config"
	else
		printf '%s\n' "$PREFIX/usr/lib/postgresql/$VERSION/bin/pg_config"
	fi
}

# A binary sysroot is reused as it is (MIGGUARD_PG_REFRESH=1 unpacks the
# current packages again).
if [[ -f "$STAMP" && "$(stamp_value mode)" == binary && -x "$(installed_pg_config)" &&
	"${MIGGUARD_PG_REFRESH:-0}" != 1 && "${MIGGUARD_PG_BINARY:-}" != 0 ]]; then
	say "reusing $PREFIX ($(stamp_value source); MIGGUARD_PG_REFRESH=1 fetches them again)"
	installed_pg_config
	exit 0
fi

if [[ -f "$STAMP" && "$(stamp_value configure)" == "${CONFIGURE_FLAGS[*]}" &&
	-x "$PREFIX/bin/pg_config" ]]; then
	if [[ "${MIGGUARD_PG_REFRESH:-0}" != 1 ]]; then
		say "reusing $PREFIX ($(stamp_value source); MIGGUARD_PG_REFRESH=1 checks for a newer one)"
		have_pgtap || install_pgtap
		printf '%s\n' "$PREFIX/bin/pg_config"
		exit 0
	fi
	find_source
	if [[ "$(stamp_value source)" == "$SRCPKG $SRCVERSION" ]]; then
		say "reusing $PREFIX ($SRCPKG $SRCVERSION is current)"
		have_pgtap || install_pgtap
		printf '%s\n' "$PREFIX/bin/pg_config"
		exit 0
	fi
	say "$(stamp_value source) is cached, the mirror has $SRCVERSION: rebuilding"
fi

is_root || die "run as root: it installs build dependencies and writes $CACHE"

say "building PostgreSQL $VERSION into $PREFIX; a cold build takes several minutes on 2 cores"
started=$SECONDS

# Build dependencies: a C toolchain, the parser generators (Debian's tarball
# ships the generated files, but a patched grammar regenerates them),
# readline, zlib and ICU headers, pkg-config to find ICU, IPC::Run for the
# TAP framework, dpkg-dev for dpkg-source, and the decompressors of the
# source tarballs.
MIGGUARD_PACKAGES=(
	gcc make bison flex perl pkg-config
	libreadline-dev zlib1g-dev libicu-dev
	libipc-run-perl dpkg-dev xz-utils bzip2
)
ensure_packages

# MIGGUARD_PG_BINARY=1 skips the source; a source that cannot be fetched
# falls back to the binary packages (MIGGUARD_PG_BINARY=0 forbids that).
if [[ "${MIGGUARD_PG_BINARY:-}" == 1 ]] || ! find_source download; then
	[[ "${MIGGUARD_PG_BINARY:-}" != 0 ]] || die "could not fetch $SRCPKG (MIGGUARD_PG_BINARY=0: no binary fallback)"
	MIGGUARD_PACKAGES=(patchelf dpkg-dev libipc-run-perl)
	ensure_packages
	install_binary
	elapsed=$((SECONDS - started))
	printf 'source=%s %s (binary packages)\nmode=binary\nbuilt=%s in %ds\n' "$SRCPKG" "$BINVERSION" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$elapsed" >"$STAMP"
	say "PostgreSQL $("$(installed_pg_config)" --version | sed 's/^PostgreSQL //') unpacked in $PREFIX (${elapsed}s)"
	installed_pg_config
	exit 0
fi
dsc="$(find "$BUILDROOT" -maxdepth 1 -name "${SRCPKG}_*.dsc" | head -n 1)"
[[ -n "$dsc" ]] || die "no .dsc for $SRCPKG in $BUILDROOT"
# apt-get checked the files against the signed lists; dpkg-source checks them
# against the .dsc (and only warns that the uploader's key is not at hand).
# --skip-patches: the upstream tree as released.  Debian's patches hard-wire
# /usr/lib/postgresql/VERSION/lib as pkglibdir (50-per-version-dirs.patch),
# so "make install" would write outside the cache, and move the default
# socket directory; neither is wanted for a private test install.
(cd "$BUILDROOT" && dpkg-source --skip-patches -x "$dsc" src >/dev/null) ||
	die "dpkg-source -x $dsc failed"
SRC="$BUILDROOT/src"

say "configuring (${CONFIGURE_FLAGS[*]})"
(cd "$SRC" && nice -n 19 ./configure -q "${CONFIGURE_FLAGS[@]}") >"$BUILDROOT/configure.log" 2>&1 ||
	{ tail -n 30 "$BUILDROOT/configure.log" >&2; die "configure failed (log: $BUILDROOT/configure.log)"; }

say "compiling with make -j$JOBS under nice -n 19 (log: $BUILDROOT/make.log)"
nice -n 19 make -C "$SRC" -j"$JOBS" -s >"$BUILDROOT/make.log" 2>&1 ||
	{ tail -n 30 "$BUILDROOT/make.log" >&2; die "make failed (log: $BUILDROOT/make.log)"; }
# The isolation tester is not part of "make all"; PGXS's ISOLATION runs
# pgxs/src/test/isolation/pg_isolation_regress, which its install target puts
# there.  The TAP modules go to pgxs/src/test/perl, where PGXS's
# prove_installcheck and scripts/test.sh look for them.
nice -n 19 make -C "$SRC/src/test/isolation" -j"$JOBS" -s >>"$BUILDROOT/make.log" 2>&1 ||
	{ tail -n 30 "$BUILDROOT/make.log" >&2; die "make of the isolation tester failed"; }

say "installing into $PREFIX"
rm -rf "$PREFIX"
{
	make -C "$SRC" -s install &&
		make -C "$SRC/src/test/isolation" -s install &&
		make -C "$SRC/src/test/perl" -s install
} >"$BUILDROOT/install.log" 2>&1 ||
	{ tail -n 30 "$BUILDROOT/install.log" >&2; die "make install failed (log: $BUILDROOT/install.log)"; }

install_pgtap
chmod -R a+rX "$PREFIX"

elapsed=$((SECONDS - started))
printf 'source=%s %s\n%s\nbuilt=%s in %ds\n' "$SRCPKG" "$SRCVERSION" "$FLAGS_LINE" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$elapsed" >"$STAMP"
say "PostgreSQL $("$PREFIX/bin/pg_config" --version | sed 's/^PostgreSQL //') installed in $PREFIX (${elapsed}s)"
# The sources stay in $BUILDROOT (release notes in doc/src/sgml); the objects
# do not need to.
make -C "$SRC" -s clean >/dev/null 2>&1 || true
printf '%s\n' "$PREFIX/bin/pg_config"
