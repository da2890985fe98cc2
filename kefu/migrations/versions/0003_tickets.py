"""tickets: inbox indexes

Every inbox filter gets an index that starts with the filter column and continues with the inbox
order (updated_at, id), so an equality filter reads its first page straight off the index and the
bounded total counts index entries; the at-risk filter reads a partial index of unanswered clocks.

Revision ID: 0003_tickets
Revises: 0001_core
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_tickets"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: list[tuple[str, list[str]]] = [
    ("ix_tickets_channel_updated", ["channel", "updated_at", "id"]),
    ("ix_tickets_type_updated", ["type", "updated_at", "id"]),
    ("ix_tickets_tier_updated", ["customer_tier", "updated_at", "id"]),
    ("ix_tickets_category_updated", ["category_id", "updated_at", "id"]),
    ("ix_tickets_assignee_updated", ["assignee_id", "updated_at", "id"]),
    ("ix_tickets_org_status_updated", ["org_unit_id", "status", "updated_at", "id"]),
]
UNANSWERED = "first_reply_at IS NULL"


def upgrade() -> None:
    for name, cols in INDEXES:
        op.create_index(name, "tickets", cols, unique=False)
    op.create_index("ix_tickets_reply_open", "tickets", ["reply_due_at"], unique=False,
                    sqlite_where=sa.text(UNANSWERED), postgresql_where=sa.text(UNANSWERED))


def downgrade() -> None:
    op.drop_index("ix_tickets_reply_open", table_name="tickets")
    for name, _cols in reversed(INDEXES):
        op.drop_index(name, table_name="tickets")
