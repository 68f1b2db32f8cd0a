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

$(MIGGUARD_CHECK): client/migguard-check.c
	$(CC) $(MIGGUARD_CHECK_CFLAGS) -I$(MIGGUARD_CHECK_INCLUDEDIR) -o $@ $< \
		-L$(MIGGUARD_CHECK_LIBDIR) -lpq

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
