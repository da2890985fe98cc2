"""routing: a work item carries its ticket's priority (raised by the customer's segment), which its initial
priority reads

Revision ID: 0305_routing_ticket_priority
Revises: 0304_routing_after_hours
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0305_routing_ticket_priority'
down_revision: str | Sequence[str] | None = '0304_routing_after_hours'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('routing_items', sa.Column('ticket_priority', sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column('routing_items', 'ticket_priority')
