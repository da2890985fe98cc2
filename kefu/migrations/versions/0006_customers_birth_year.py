"""customers: the birth year (nullable; age bands in the reports), never the date of birth

Revision ID: 0006_customers_birth_year
Revises: 0002_customers
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_customers_birth_year"
down_revision: str | Sequence[str] | None = "0002_customers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("birth_year", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("birth_year")
