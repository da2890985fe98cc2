"""voice: the IVR menu

Revision ID: 0902_voice_ivr
Revises: 0901_voice
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0902_voice_ivr'
down_revision: str | Sequence[str] | None = '0901_voice'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('ivr_nodes',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('parent_id', ID, nullable=True),
    sa.Column('digit', sa.String(length=1), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('service', sa.String(length=40), nullable=True),
    sa.Column('queue_key', sa.String(length=40), nullable=True),
    sa.Column('handoff_channel', sa.String(length=16), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('menu','self_service','agent','handoff')", name=op.f('ck_ivr_nodes_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['ivr_nodes.id'], name=op.f('fk_ivr_nodes_parent_id_ivr_nodes'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_nodes')),
    sa.UniqueConstraint('key', name=op.f('uq_ivr_nodes_key')),
    sa.UniqueConstraint('parent_id', 'digit', name='uq_ivr_nodes_parent_digit')
    )
    op.create_index('ix_ivr_nodes_parent', 'ivr_nodes', ['parent_id', 'position'], unique=False)


def downgrade() -> None:
    op.drop_table('ivr_nodes')
