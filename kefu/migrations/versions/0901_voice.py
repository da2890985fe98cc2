"""voice: CTI events as received and each call's state folded from them

Revision ID: 0901_voice
Revises: 0001_core
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0901_voice'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('cti_events',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cti_events')),
    sa.UniqueConstraint('call_id', 'event_id', name='uq_cti_events_call_event')
    )
    op.create_index('ix_cti_events_call', 'cti_events', ['call_id', 'at'], unique=False)
    op.create_table('voice_calls',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=100), nullable=False),
    sa.Column('interaction_id', ID, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('ani', sa.String(length=40), nullable=True),
    sa.Column('dnis', sa.String(length=40), nullable=True),
    sa.Column('phase', sa.String(length=12), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=True),
    sa.Column('ivr_path', sa.JSON(), nullable=False),
    sa.Column('transfers', sa.JSON(), nullable=False),
    sa.Column('agent_id', ID, nullable=True),
    sa.Column('agent_ref', sa.String(length=100), nullable=True),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ivr_seconds', sa.Float(), nullable=False),
    sa.Column('queue_seconds', sa.Float(), nullable=False),
    sa.Column('talk_seconds', sa.Float(), nullable=False),
    sa.Column('hold_seconds', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('recording_url', sa.String(length=1000), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("phase in ('offered','ivr','queued','ringing','talking','held','ended')",
                       name=op.f('ck_voice_calls_phase')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_voice_calls_agent_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                            name=op.f('fk_voice_calls_interaction_id_interactions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_voice_calls_org_unit_id_org_units'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_calls')),
    sa.UniqueConstraint('call_id', name=op.f('uq_voice_calls_call_id'))
    )
    op.create_index('ix_voice_calls_interaction', 'voice_calls', ['interaction_id'], unique=False)
    op.create_index('ix_voice_calls_org_offered', 'voice_calls', ['org_unit_id', 'offered_at'], unique=False)
    op.create_index('ix_voice_calls_ani', 'voice_calls', ['ani', 'offered_at'], unique=False)


def downgrade() -> None:
    op.drop_table('voice_calls')
    op.drop_table('cti_events')
