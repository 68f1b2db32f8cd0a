"""index items.quantity -- UNSAFE, blocked by migguard (create_index)

A plain CREATE INDEX holds a SHARE lock on items (no INSERT, UPDATE or DELETE)
for the whole build.  Like 4d3f8b0e5a04 this revision is a branch off
2b1d6f8c3e02 that is never merged: the test upgrades to it by id and expects
it to fail; 5e4a9c1f6b05 continues the real history.

Revision ID: 3c2e7a9d4f03
Revises: 2b1d6f8c3e02
Create Date: 2024-05-03 10:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "3c2e7a9d4f03"
down_revision = "2b1d6f8c3e02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("items_quantity_idx", "items", ["quantity"])


def downgrade() -> None:
    op.drop_index("items_quantity_idx", table_name="items")
