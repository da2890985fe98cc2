"""handoffs: links sent to finish a task in another channel, and what became of them

Revision ID: 0951_handoffs
Revises: 0001_core
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0951_handoffs'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('handoffs',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('from_channel', sa.String(length=16), nullable=False),
    sa.Column('to_channel', sa.String(length=16), nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('ivr_node', sa.String(length=40), nullable=True),
    sa.Column('from_interaction_id', ID, nullable=True),
    sa.Column('link_interaction_id', ID, nullable=True),
    sa.Column('agent_id', ID, nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('saved_seconds', sa.Float(), nullable=False),
    sa.CheckConstraint("status in ('offered','opened','completed','returned')", name=op.f('ck_handoffs_status')),
    sa.CheckConstraint("to_channel in ('sms','wechat','app')", name=op.f('ck_handoffs_to_channel')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_handoffs_agent_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_handoffs_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_interaction_id'], ['interactions.id'],
                            name=op.f('fk_handoffs_from_interaction_id_interactions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['link_interaction_id'], ['interactions.id'],
                            name=op.f('fk_handoffs_link_interaction_id_interactions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_handoffs_org_unit_id_org_units'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoffs'))
    )
    op.create_index('ix_handoffs_customer_offered', 'handoffs', ['customer_id', 'offered_at'], unique=False)
    op.create_index('ix_handoffs_org_offered', 'handoffs', ['org_unit_id', 'offered_at'], unique=False)
    op.create_index('ix_handoffs_from_interaction', 'handoffs', ['from_interaction_id'], unique=False)


def downgrade() -> None:
    op.drop_table('handoffs')
