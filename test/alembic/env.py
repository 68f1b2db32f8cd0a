"""Alembic env.py of the migguard test: Alembic's generic template plus two
things for migguard.

* transaction_per_migration=True: each revision runs in its own transaction,
  so a revision migguard blocks is rolled back alone, and the ones before it
  stay applied.
* tag_migrations(context) (contrib/alembic_migguard.py): while a revision
  runs, migguard.tag is its revision id, so every row it leaves in
  migguard.change_log -- blocked attempts included -- names it.  Revision
  files need nothing.
"""
from logging.config import fileConfig

from alembic import context
from alembic_migguard import tag_migrations
from sqlalchemy import engine_from_config, pool

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)

# No models: the revisions are written by hand.
target_metadata = None


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: write the SQL, SET migguard.tag included."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    tag_migrations(context)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
        # Shows up in migguard.change_log.application_name.
        connect_args={"application_name": "alembic"},
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
        )
        tag_migrations(context)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
