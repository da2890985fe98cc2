"""collaboration: the customer notice templates per state (administrators edit them) and the notices told on a
ticket (no state told twice in a row)

Revision ID: 0604_customer_notices
Revises: 0603_consult_notes

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTCDateTime = sa.DateTime(timezone=True)

revision: str = '0604_customer_notices'
down_revision: str | Sequence[str] | None = '0603_consult_notes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'collab_notice_templates',
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_by', BigId, nullable=True),
        sa.Column('updated_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_collab_notice_templates_updated_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('state', name=op.f('pk_collab_notice_templates')),
    )
    op.create_table(
        'collab_customer_notices',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('ticket_id', BigId, nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('message_id', BigId, nullable=True),
        sa.Column('actor_id', BigId, nullable=True),
        sa.Column('sent_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_collab_customer_notices_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                name=op.f('fk_collab_customer_notices_message_id_messages'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_collab_customer_notices_actor_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collab_customer_notices')),
    )
    op.create_index('ix_collab_customer_notices_ticket', 'collab_customer_notices', ['ticket_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_collab_customer_notices_ticket', table_name='collab_customer_notices')
    op.drop_table('collab_customer_notices')
    op.drop_table('collab_notice_templates')
