"""add items.note (nullable)

ADD COLUMN without default or NOT NULL only changes the catalog.

Revision ID: 5e4a9c1f6b05
Revises: 2b1d6f8c3e02
Create Date: 2024-05-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "5e4a9c1f6b05"
down_revision = "2b1d6f8c3e02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("note", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("items", "note")
