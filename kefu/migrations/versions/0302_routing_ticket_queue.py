"""routing: a ticket sent to a queue by hand (转派 to a queue)

Revision ID: 0302_routing_ticket_queue
Revises: 0301_routing
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0302_routing_ticket_queue'
down_revision: str | Sequence[str] | None = '0301_routing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('routing_ticket_queues',
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('set_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_routing_ticket_queues_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_routing_ticket_queues_set_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_routing_ticket_queues'))
    )


def downgrade() -> None:
    op.drop_table('routing_ticket_queues')
