"""routing: queues and their rules, agents' routing state, work items, offers, the single writer's inputs

Revision ID: 0301_routing
Revises: 0001_core

Two unique partial indexes make the fatal mistakes impossible whatever the code does: at most one live
offer or assignment per item, at most one live item per ticket.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0301_routing'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('routing_inputs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_inputs'))
    )
    with op.batch_alter_table('routing_inputs', schema=None) as batch_op:
        batch_op.create_index('ix_routing_inputs_pending', ['processed_at', 'id'], unique=False)

    op.create_table('routing_state',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_routing_state'))
    )
    op.create_table('routing_queues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('base_priority', sa.Float(), nullable=False),
    sa.Column('aging_per_minute', sa.Float(), nullable=False),
    sa.Column('rings', sa.JSON(), nullable=False),
    sa.Column('overflow_to', sa.String(length=40), nullable=True),
    sa.Column('overflow_after', sa.Float(), nullable=True),
    sa.Column('offer_timeout', sa.Float(), nullable=False),
    sa.Column('wrap_up', sa.Float(), nullable=False),
    sa.Column('preferred_window', sa.Float(), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('calendar_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('aging_per_minute >= 0', name=op.f('ck_routing_queues_aging')),
    sa.CheckConstraint('offer_timeout > 0', name=op.f('ck_routing_queues_offer_timeout')),
    sa.CheckConstraint('weight >= 1', name=op.f('ck_routing_queues_weight')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_routing_queues_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_queues')),
    sa.UniqueConstraint('key', name=op.f('uq_routing_queues_key'))
    )
    op.create_table('routing_agents',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('queues', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('presence', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('presence_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idle_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acw_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("presence in ('available','after_call_work','break','not_ready','offline')", name=op.f('ck_routing_agents_presence')),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_routing_agents_capacity')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_routing_agents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_routing_agents'))
    )
    op.create_table('routing_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('types', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['queue_key'], ['routing_queues.key'], name=op.f('fk_routing_rules_queue_key_routing_queues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.create_index('ix_routing_rules_position', ['position', 'id'], unique=False)

    op.create_table('routing_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('interaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('entry_queue_key', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('sla_at_risk', sa.Boolean(), nullable=False),
    sa.Column('repeat_contact', sa.Boolean(), nullable=False),
    sa.Column('city', sa.String(length=32), nullable=True),
    sa.Column('province', sa.String(length=32), nullable=True),
    sa.Column('preferred_agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('parked_with', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queue_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=40), nullable=True),
    sa.CheckConstraint("state in ('waiting','offered','assigned','completed','withdrawn')", name=op.f('ck_routing_items_state')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_routing_items_agent_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_routing_items_interaction_id_interactions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_routing_items_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_routing_items_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_items'))
    )
    with op.batch_alter_table('routing_items', schema=None) as batch_op:
        batch_op.create_index('ix_routing_items_agent', ['agent_id', 'state'], unique=False)
        batch_op.create_index('ix_routing_items_state_queue', ['state', 'queue_key', 'enqueued_at'], unique=False)
        batch_op.create_index('uq_routing_items_live_ticket', ['ticket_id'], unique=True, sqlite_where=sa.text("state in ('waiting','offered','assigned')"), postgresql_where=sa.text("state in ('waiting','offered','assigned')"))

    op.create_table('routing_offers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.CheckConstraint("state in ('offered','accepted','rejected','timed_out','revoked')", name=op.f('ck_routing_offers_state')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_routing_offers_agent_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['routing_items.id'], name=op.f('fk_routing_offers_item_id_routing_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_offers'))
    )
    with op.batch_alter_table('routing_offers', schema=None) as batch_op:
        batch_op.create_index('ix_routing_offers_agent_state', ['agent_id', 'state'], unique=False)
        batch_op.create_index('uq_routing_offers_live_item', ['item_id'], unique=True, sqlite_where=sa.text("state in ('offered','accepted')"), postgresql_where=sa.text("state in ('offered','accepted')"))



def downgrade() -> None:
    with op.batch_alter_table('routing_offers', schema=None) as batch_op:
        batch_op.drop_index('uq_routing_offers_live_item', sqlite_where=sa.text("state in ('offered','accepted')"), postgresql_where=sa.text("state in ('offered','accepted')"))
        batch_op.drop_index('ix_routing_offers_agent_state')

    op.drop_table('routing_offers')
    with op.batch_alter_table('routing_items', schema=None) as batch_op:
        batch_op.drop_index('uq_routing_items_live_ticket', sqlite_where=sa.text("state in ('waiting','offered','assigned')"), postgresql_where=sa.text("state in ('waiting','offered','assigned')"))
        batch_op.drop_index('ix_routing_items_state_queue')
        batch_op.drop_index('ix_routing_items_agent')

    op.drop_table('routing_items')
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_rules_position')

    op.drop_table('routing_rules')
    op.drop_table('routing_agents')
    op.drop_table('routing_queues')
    op.drop_table('routing_state')
    with op.batch_alter_table('routing_inputs', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_inputs_pending')

    op.drop_table('routing_inputs')
