"""index items.note, concurrently

Revision ID: 6f5b0d2a7c06
Revises: 5e4a9c1f6b05
Create Date: 2024-05-06 10:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "6f5b0d2a7c06"
down_revision = "5e4a9c1f6b05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("items_note_idx", "items", ["note"], postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("items_note_idx", table_name="items", postgresql_concurrently=True)
