"""tickets: the inbox's work order as stored columns with indexes (work_rank, work_due_at)

The inbox's default order (priority, then reply deadline, then age) was computed per query, so every
page sorted all matching tickets. Two generated columns hold the order's inputs, computed by the database
from the row itself (so every writer keeps them right, ORM or Core): `work_rank` (urgent 0, high 1,
normal 2, low 3) and `work_due_at` (the reply deadline, or a far date for tickets without one). The page
then reads (work_rank, work_due_at, opened_at, id) off an index and stops after a page.

PostgreSQL stores them (STORED); SQLite cannot add a stored column to an existing table, so there they are
VIRTUAL: computed on read, and kept in the indexes, which is where the inbox reads them.

Revision ID: 0303_tickets_work_order
Revises: 0302_routing_ticket_queue
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0303_tickets_work_order'
down_revision: str | Sequence[str] | None = '0302_routing_ticket_queue'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same text as kefu.tickets.models.WORK_RANK_SQL / WORK_DUE_SQL (kept literal: a migration does not
# follow later changes of the model).
WORK_RANK_SQL = ("CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END")
WORK_DUE_SQL = "COALESCE(reply_due_at, '9000-01-01 00:00:00')"


def upgrade() -> None:
    stored = op.get_bind().dialect.name != 'sqlite'
    op.add_column('tickets', sa.Column('work_rank', sa.SmallInteger(),
                                       sa.Computed(WORK_RANK_SQL, persisted=stored), nullable=True))
    op.add_column('tickets', sa.Column('work_due_at', sa.DateTime(timezone=True),
                                       sa.Computed(WORK_DUE_SQL, persisted=stored), nullable=True))
    op.create_index('ix_tickets_work', 'tickets', ['work_rank', 'work_due_at', 'opened_at', 'id'])
    op.create_index('ix_tickets_assignee_work', 'tickets',
                    ['assignee_id', 'work_rank', 'work_due_at', 'opened_at', 'id'])
    op.create_index('ix_tickets_org_work', 'tickets', ['org_unit_id', 'work_rank', 'work_due_at', 'opened_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_tickets_org_work', table_name='tickets')
    op.drop_index('ix_tickets_assignee_work', table_name='tickets')
    op.drop_index('ix_tickets_work', table_name='tickets')
    op.drop_column('tickets', 'work_due_at')
    op.drop_column('tickets', 'work_rank')
