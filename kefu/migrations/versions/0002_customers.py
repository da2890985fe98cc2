"""customers: index the merge pointer (customer_ids_of follows it on every timeline)

Revision ID: 0002_customers
Revises: 0001_core
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_customers"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_merged_into_id", ["merged_into_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_merged_into_id")
