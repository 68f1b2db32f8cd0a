"""index items.email, concurrently

The safe way to index an existing table: CREATE INDEX CONCURRENTLY does not
block writes, but cannot run in a transaction block, hence autocommit_block()
(which commits the revision's transaction first).

Revision ID: 2b1d6f8c3e02
Revises: 1a0c5e7b2d01
Create Date: 2024-05-02 10:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "2b1d6f8c3e02"
down_revision = "1a0c5e7b2d01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("items_email_idx", "items", ["email"], postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("items_email_idx", table_name="items", postgresql_concurrently=True)
