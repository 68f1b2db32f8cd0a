"""create items

Revision ID: 1a0c5e7b2d01
Revises:
Create Date: 2024-05-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "1a0c5e7b2d01"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("email", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("items")
