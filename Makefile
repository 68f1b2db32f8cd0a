# migguard: PGXS build.
#
#   make && make install        build and install the extension
#   make installcheck           regression tests on a temporary instance that
#                               preloads migguard (initdb refuses root: run it as
#                               an ordinary user, or use scripts/test.sh)
#
# TESTOUT is where pg_regress writes its results and its temporary instance;
# scripts/test.sh points it at a directory the test user can write.

EXTENSION = migguard
MODULE_big = migguard
OBJS = \
	src/migguard.o \
	src/classify.o \
	src/rules.o \
	src/policy.o \
	src/relsize.o \
	src/act.o \
	src/sqltext.o \
	src/check.o \
	src/audit.o \
	src/catalog.o \
	src/event_triggers.o \
	src/gate.o \
	src/json_out.o \
	src/blocked.o \
	src/lockguard.o \
	src/stmtkind.o \
	src/hazards.o \
	src/holds.o \
	src/chain.o \
	src/stats.o \
	src/approvals.o \
	src/judge.o \
	src/lockfacts.o \
	src/subxact.o \
	src/facts.o \
	src/dml_watch.o

DATA = $(wildcard sql/migguard--*.sql)

PG_CONFIG ?= pg_config
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Werror
PG_CPPFLAGS = -I$(srcdir)/src

TESTOUT ?= $(CURDIR)/test/out

# Regression tests: one file per area, run in this order.
REGRESS = setup settings create_index indexes_maintenance columns constraints partitions destructive modes nesting check lock_queue lock_kinds audit audit_gaps rewrite api security transparency hints check_memory permissions

# Tests added per issue, one line each (keeps parallel work mergeable).
# Lock protection (issue 13):
REGRESS_LOCKS = lock_gaps

# Versions (issue 14):
REGRESS_VERSIONS = versions_maintain versions_ddl versions_temporal versions_19

# Migration-level hazards (issue 15):
REGRESS_HAZARDS = hazards_not_null hazards_locks hazards_fk_enum

# Ecosystem (issue 16):
REGRESS_ECOSYSTEM =

# Operations (issue 17):
REGRESS_OPERATIONS = operations_log operations_stats operations_repeats operations_approvals

# Architecture (issue 18):
REGRESS_ARCH = arch_nesting

REGRESS += $(REGRESS_LOCKS) $(REGRESS_VERSIONS) $(REGRESS_HAZARDS) $(REGRESS_ECOSYSTEM) $(REGRESS_OPERATIONS) $(REGRESS_ARCH)
REGRESS_OPTS = \
	--inputdir=test \
	--outputdir=$(TESTOUT) \
	--temp-instance=$(TESTOUT)/tmp_check \
	--temp-config=test/migguard.conf

# Isolation tests (test/specs): sessions that block each other.  PGXS puts
# its own --inputdir and --outputdir first; these override them.
ISOLATION = lock_retry chain_interleaving
ISOLATION_OPTS = \
	--inputdir=test \
	--outputdir=$(TESTOUT)/iso \
	--temp-instance=$(TESTOUT)/tmp_check_iso \
	--temp-config=test/migguard.conf

EXTRA_CLEAN = test/out .pg-build-id

PGXS := $(shell $(PG_CONFIG) --pgxs)

# Debian builds its packages with LLVM, so PGXS also makes bitcode for JIT
# inlining, with the clang of that Debian release.  When that clang is not
# here (a newer release's packages unpacked by scripts/pg-build.sh's binary
# mode), the bitcode is left out: JIT still works, without inlining
# migguard's functions.
MG_PGXS_CLANG := $(shell sed -n 's/^CLANG *= *//p' $(dir $(PGXS))../Makefile.global)
ifeq ($(shell command -v $(firstword $(MG_PGXS_CLANG) none) 2>/dev/null),)
override with_llvm = no
endif

include $(PGXS)

# Warning options of the newer gcc a newer Debian release was built with
# (19's -Wmissing-variable-declarations, gcc 14) that this system's gcc
# does not know: left out rather than failing every compile.
MG_UNKNOWN_CFLAGS := $(foreach f,-Wmissing-variable-declarations,$(if $(shell $(CC) $(f) -x c -c -o /dev/null /dev/null 2>/dev/null && echo ok),,$(f)))
ifneq ($(MG_UNKNOWN_CFLAGS),)
override CFLAGS := $(filter-out $(MG_UNKNOWN_CFLAGS),$(CFLAGS))
endif
# 19's headers cast copyObject()'s result with typeof_unqual when the
# compiler they were configured with had it (gcc 14, pg_config.h
# HAVE_TYPEOF_UNQUAL); an older gcc gets nodes.h's own fallback, the
# untyped void * result.
ifeq ($(shell printf 'int x; typeof_unqual(x) y;\n' | $(CC) -x c -c -o /dev/null - 2>/dev/null && echo ok),)
override CPPFLAGS += '-Dtypeof_unqual(x)=void'
endif

# PGXS does not track header dependencies: every object depends on them all.
$(OBJS): $(wildcard src/*.h)

# Objects compiled against another PostgreSQL (scripts/test.sh --pg N, a
# private copy) look up to date to make: every object also depends on a
# stamp naming the PostgreSQL it is built for, rewritten when that changes.
PG_BUILD_ID := $(shell $(PG_CONFIG) --version) $(shell $(PG_CONFIG) --includedir-server)
.pg-build-id: FORCE
	@echo '$(PG_BUILD_ID)' | cmp -s - $@ || echo '$(PG_BUILD_ID)' > $@
$(OBJS): .pg-build-id
FORCE:
.PHONY: FORCE
include client/client.mk

# Benchmarks against plain PostgreSQL and pgaudit (bench/RESULTS.md).
.PHONY: bench
bench:
	bench/run
