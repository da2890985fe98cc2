"""analytics: agents' presence time per hour (occupancy), kept from routing's presence events

Revision ID: 0705_analytics_occupancy
Revises: 0704_analytics_quality
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0705_analytics_occupancy'
down_revision: str | Sequence[str] | None = '0704_analytics_quality'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('analytics_agent_presence',
    sa.Column('user_id', ID, autoincrement=False, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('presence', sa.String(length=16), nullable=False),
    sa.Column('since', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_analytics_agent_presence'))
    )
    op.create_table('analytics_agent_hours',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('hour', sa.BigInteger(), nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('presence', sa.String(length=16), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_agent_hours')),
    sa.UniqueConstraint('hour', 'user_id', 'presence', name='uq_analytics_agent_hours_key')
    )
    op.create_index('ix_analytics_agent_hours_unit', 'analytics_agent_hours', ['org_unit_id', 'hour'])


def downgrade() -> None:
    op.drop_index('ix_analytics_agent_hours_unit', table_name='analytics_agent_hours')
    op.drop_table('analytics_agent_hours')
    op.drop_table('analytics_agent_presence')
