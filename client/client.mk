# client/client.mk: build and install the migguard-check linter.
#
# Included by the top-level Makefile after `include $(PGXS)`, so bindir,
# MKDIR_P and INSTALL_PROGRAM come from PGXS.  migguard-check is a plain
# libpq client: it is compiled on its own, without the server's CFLAGS,
# and PGXS's OBJS and PROGRAM stay the extension's.

PG_CONFIG ?= pg_config

MIGGUARD_CHECK = client/migguard-check
MIGGUARD_CHECK_CFLAGS = -Wall -Wextra -Werror -O2
MIGGUARD_CHECK_INCLUDEDIR := $(shell $(PG_CONFIG) --includedir)
MIGGUARD_CHECK_LIBDIR := $(shell $(PG_CONFIG) --libdir)
MIGGUARD_CHECK_LIBPQ = -I$(MIGGUARD_CHECK_INCLUDEDIR) -L$(MIGGUARD_CHECK_LIBDIR) -lpq
# An install whose library directory carries its own C library (Debian
# packages of a newer release unpacked into a private sysroot by
# scripts/pg-build.sh) has a libpq the system's compiler cannot link or run:
# the client then uses the system's libpq (libpq-dev), which speaks the same
# protocol to every server version.
ifneq ($(wildcard $(MIGGUARD_CHECK_LIBDIR)/ld-linux-x86-64.so.2),)
MIGGUARD_CHECK_LIBPQ = $(shell pkg-config --cflags --libs libpq)
endif

$(MIGGUARD_CHECK): client/migguard-check.c
	$(CC) $(MIGGUARD_CHECK_CFLAGS) -o $@ $< $(MIGGUARD_CHECK_LIBPQ)

# Extra prerequisites only: PGXS keeps its own recipes for these targets.
all: $(MIGGUARD_CHECK)
install: install-client
uninstall: uninstall-client

install-client: $(MIGGUARD_CHECK)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(MIGGUARD_CHECK) '$(DESTDIR)$(bindir)/migguard-check'

uninstall-client:
	rm -f '$(DESTDIR)$(bindir)/migguard-check'

.PHONY: install-client uninstall-client

EXTRA_CLEAN += $(MIGGUARD_CHECK)
