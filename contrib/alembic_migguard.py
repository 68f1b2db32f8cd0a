"""alembic_migguard -- label each Alembic revision's DDL in migguard's audit log.

migguard records every DDL statement in ``migguard.change_log`` together with
the value of the ``migguard.tag`` setting at the time.  This module sets that
tag to the revision id while Alembic runs a revision's ``upgrade()`` (and to
``<revision>:downgrade`` while it runs ``downgrade()``), so that

    SELECT command_tag, verdict, statement
      FROM migguard.change_log WHERE tag = '3f1c2a7d9b01';

lists what that revision did -- including the attempts migguard blocked.

Usage, in env.py, after ``context.configure(...)`` and before
``context.run_migrations()`` (online and offline mode alike):

    from alembic_migguard import tag_migrations

    context.configure(connection=connection, target_metadata=target_metadata,
                      transaction_per_migration=True)
    tag_migrations(context)
    with context.begin_transaction():
        context.run_migrations()

``transaction_per_migration=True`` is recommended with migguard: a revision
that migguard blocks is rolled back on its own, and the revisions before it
stay applied and recorded.

How it works: ``tag_migrations`` wraps the ``upgrade``/``downgrade``
functions of every revision module of the script directory.  The wrapper
first runs ``SELECT set_config('migguard.tag', <tag>, false)`` on the
migration connection -- a session-level SET, not SET LOCAL, so the tag
survives ``op.get_context().autocommit_block()`` (which commits the
migration's transaction before ``CREATE INDEX CONCURRENTLY``) -- then the
revision's own function, then puts the previous value back.  Revision files
need no change.  In offline mode (``alembic upgrade --sql``) the script gets
``SET migguard.tag = '<tag>';`` before each revision and
``RESET migguard.tag;`` after it.

Revisions that prefer to say it themselves can call ``set_tag(tag)`` at the
top of ``upgrade()`` instead.
"""

import functools

import sqlalchemy as sa
from alembic import op

TAG_SETTING = "migguard.tag"
DOWNGRADE_SUFFIX = ":downgrade"


def _quote_literal(value):
    return "'" + value.replace("'", "''") + "'"


def set_tag(tag):
    """Set migguard.tag to TAG on the migration connection (inside upgrade()
    or downgrade()); returns the previous value (None in offline mode)."""
    ctx = op.get_context()
    if ctx.as_sql:
        op.execute("SET %s = %s" % (TAG_SETTING, _quote_literal(tag)))
        return None
    bind = op.get_bind()
    previous = bind.execute(
        sa.text("SELECT current_setting(:name, true)"), {"name": TAG_SETTING}
    ).scalar()
    bind.execute(
        sa.text("SELECT set_config(:name, :tag, false)"),
        {"name": TAG_SETTING, "tag": tag},
    )
    return previous or ""


def restore_tag(previous):
    """Undo set_tag: put PREVIOUS back (RESET in offline mode)."""
    if op.get_context().as_sql:
        op.execute("RESET %s" % TAG_SETTING)
        return
    op.get_bind().execute(
        sa.text("SELECT set_config(:name, :tag, false)"),
        {"name": TAG_SETTING, "tag": previous or ""},
    )


def _tagged(fn, tag):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous = set_tag(tag)
        result = fn(*args, **kwargs)
        # Only on success: after a failure the transaction is aborted (and
        # its SET undone by the rollback), and alembic stops anyway.
        restore_tag(previous)
        return result

    wrapper._migguard_tag = tag
    return wrapper


def tag_migrations(context, fmt="{revision}"):
    """Make every revision of CONTEXT's script directory set migguard.tag.

    CONTEXT is ``alembic.context`` (the EnvironmentContext in env.py).  FMT
    builds the tag from the revision id ``{revision}``; downgrades get
    ':downgrade' appended.  Calling it twice changes nothing.
    """
    for script in context.script.walk_revisions():
        module = script.module
        tag = fmt.format(revision=script.revision)
        for name, suffix in (("upgrade", ""), ("downgrade", DOWNGRADE_SUFFIX)):
            fn = getattr(module, name, None)
            if fn is None or hasattr(fn, "_migguard_tag"):
                continue
            setattr(module, name, _tagged(fn, tag + suffix))
