"""routing: what a queue does with a text contact that arrives outside its service hours (an auto-reply)

Revision ID: 0304_routing_after_hours
Revises: 0303_tickets_work_order
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0304_routing_after_hours'
down_revision: str | Sequence[str] | None = '0303_tickets_work_order'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('routing_queues', sa.Column('after_hours_reply', sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column('routing_queues', 'after_hours_reply')
