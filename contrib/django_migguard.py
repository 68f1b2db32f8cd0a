"""django_migguard -- label each Django migration's DDL in migguard's audit log.

migguard records every DDL statement in ``migguard.change_log`` together with
the value of the ``migguard.tag`` setting at the time.  This module sets that
tag to ``<app_label>.<migration name>`` (for example ``shop.0002_add_index``)
while Django applies a migration, and to ``<app_label>.<migration name>:unapply``
while it reverses one, so that

    SELECT command_tag, verdict, statement
      FROM migguard.change_log WHERE tag = 'shop.0002_add_index';

lists what that migration did -- including the attempts migguard blocked.

Usage: put this file on the Python path and add its app config to
INSTALLED_APPS (the ``.MigguardConfig`` part is needed: the module is not a
package, so Django would not find the config on its own):

    INSTALLED_APPS = [
        "django_migguard.MigguardConfig",
        ...
    ]

or call ``django_migguard.install()`` from one of your own AppConfig.ready()
methods.  Either way ``MigrationExecutor.apply_migration`` and
``unapply_migration`` are wrapped, so ``manage.py migrate``, the test runner's
database setup and any tool that drives Django's MigrationExecutor are
covered.  Nothing else changes: connections that are not PostgreSQL and fake
migrations are passed through untouched.

How it works: before the migration's schema editor opens its transaction, the
wrapper runs ``SELECT set_config('migguard.tag', %s, false)`` -- a session-level
SET, not SET LOCAL, so it also covers migrations with ``atomic = False`` (such
as ``AddIndexConcurrently``, whose statements run in autocommit mode) and the
SQL the schema editor defers to the end of the migration (indexes of a new
model).  Afterwards the previous value of the setting is put back.  When the
migration fails (migguard blocked it) the tag stays set until it is restored,
so the blocked attempt that migguard's background worker writes to
``change_log`` carries the migration's tag as well.

The tag is a plain setting: on a server without migguard it is a harmless
placeholder variable.  migguard keeps the first 127 bytes of a tag in the rows
of blocked attempts.
"""

import contextlib
import functools

from django.apps import AppConfig

TAG_SETTING = "migguard.tag"


def migration_tag(migration, backwards=False):
    """The tag recorded for MIGRATION: '<app_label>.<name>' (':unapply' appended
    when it is being reversed)."""
    tag = "%s.%s" % (migration.app_label, migration.name)
    return tag + ":unapply" if backwards else tag


@contextlib.contextmanager
def tagged(connection, tag):
    """Set migguard.tag to TAG on CONNECTION (a Django connection wrapper) for
    the duration of the block, then restore the previous value.

    Also usable on its own, e.g. around hand-run DDL in a management command:

        with tagged(connections["default"], "backfill-2024-05"):
            ...
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [TAG_SETTING])
        previous = cursor.fetchone()[0] or ""
        cursor.execute("SELECT set_config(%s, %s, false)", [TAG_SETTING, tag])
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        try:
            # A failed atomic migration has been rolled back by now, so the
            # connection accepts commands again (a SET made inside a rolled
            # back transaction is undone by PostgreSQL anyway).
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, %s, false)", [TAG_SETTING, previous])
        except Exception:
            # Never hide the migration's own error behind one from the
            # restore (a broken connection, say).
            if not failed:
                raise


def _is_fake(args, kwargs):
    # apply_migration(state, migration, fake=False, fake_initial=False) and
    # unapply_migration(state, migration, fake=False): 'fake' is the first
    # argument after the migration.
    return bool(kwargs.get("fake", args[0] if args else False))


def install():
    """Wrap MigrationExecutor.apply_migration/unapply_migration (idempotent)."""
    from django.db.migrations.executor import MigrationExecutor

    if getattr(MigrationExecutor, "_migguard_tagging", False):
        return

    def wrap(method, backwards):
        @functools.wraps(method)
        def wrapper(self, state, migration, *args, **kwargs):
            if _is_fake(args, kwargs):
                return method(self, state, migration, *args, **kwargs)
            with tagged(self.connection, migration_tag(migration, backwards)):
                return method(self, state, migration, *args, **kwargs)

        return wrapper

    MigrationExecutor.apply_migration = wrap(MigrationExecutor.apply_migration, False)
    MigrationExecutor.unapply_migration = wrap(MigrationExecutor.unapply_migration, True)
    MigrationExecutor._migguard_tagging = True


class MigguardConfig(AppConfig):
    """INSTALLED_APPS entry 'django_migguard.MigguardConfig'."""

    name = "django_migguard"
    label = "django_migguard"
    verbose_name = "migguard migration tags"

    def ready(self):
        install()
