"""items.quantity integer -> bigint -- UNSAFE, blocked by migguard (alter_column_type)

int -> bigint rewrites the table and its indexes under an ACCESS EXCLUSIVE
lock.  A branch off 2b1d6f8c3e02 that is never merged (see 3c2e7a9d4f03).

Revision ID: 4d3f8b0e5a04
Revises: 2b1d6f8c3e02
Create Date: 2024-05-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "4d3f8b0e5a04"
down_revision = "2b1d6f8c3e02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("items", "quantity", type_=sa.BigInteger, existing_type=sa.Integer)


def downgrade() -> None:
    op.alter_column("items", "quantity", type_=sa.Integer, existing_type=sa.BigInteger)
