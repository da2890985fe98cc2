"""analytics: contact facts and the hourly and daily summary tables (and their roll-ups) kept from events

Revision ID: 0703_analytics_summaries
Revises: 0702_analytics_thresholds
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0703_analytics_summaries'
down_revision: str | Sequence[str] | None = '0702_analytics_thresholds'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _sums() -> list[sa.Column]:  # type: ignore[type-arg]
    ints = ('offered', 'answered', 'within_15', 'within_20', 'abandoned', 'short_abandoned')
    return [*(sa.Column(n, sa.BigInteger(), nullable=False) for n in ints),
            sa.Column('wait_sum', sa.Float(), nullable=False),
            sa.Column('handled', sa.BigInteger(), nullable=False),
            sa.Column('handle_sum', sa.Float(), nullable=False),
            sa.Column('pending', sa.BigInteger(), nullable=False)]


def _key(name: str) -> sa.Column:  # type: ignore[type-arg]
    """A key column of the daily roll-ups beyond day, unit, channel and queue."""
    if name == 'agent_id':
        return sa.Column('agent_id', ID, nullable=False)
    return sa.Column(name, sa.String(length=40 if name == 'category' else 16), nullable=False)


def upgrade() -> None:
    op.create_table('analytics_contacts',
    sa.Column('interaction_id', ID, autoincrement=False, nullable=False),
    sa.Column('hour', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('offered', sa.Float(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('answered', sa.Float(), nullable=True),
    sa.Column('ended', sa.Float(), nullable=True),
    sa.Column('abandoned', sa.Boolean(), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('interaction_id', name=op.f('pk_analytics_contacts'))
    )
    op.create_index('ix_analytics_contacts_waiting', 'analytics_contacts', ['pending', 'org_unit_id', 'offered'])
    op.create_index('ix_analytics_contacts_hour', 'analytics_contacts', ['hour'])
    op.create_table('analytics_hourly',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('hour', sa.BigInteger(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    *_sums(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_hourly')),
    sa.UniqueConstraint('hour', 'org_unit_id', 'channel', 'queue_key', name='uq_analytics_hourly_key')
    )
    for name, extra in (('analytics_daily_units', ()), ('analytics_daily_agents', ('agent_id',)),
                        ('analytics_daily_topics', ('category', 'tier'))):
        op.create_table(name,
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('org_unit_id', ID, nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('queue_key', sa.String(length=40), nullable=False),
        *(_key(c) for c in extra),
        *_sums(),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
        sa.UniqueConstraint('day', 'org_unit_id', 'channel', 'queue_key', *extra, name=f'uq_{name}_key')
        )
    op.create_table('analytics_daily',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    *_sums(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_daily')),
    sa.UniqueConstraint('day', 'org_unit_id', 'channel', 'queue_key', 'category', 'tier', 'agent_id',
                        name='uq_analytics_daily_key')
    )


def downgrade() -> None:
    op.drop_table('analytics_daily')
    op.drop_table('analytics_daily_topics')
    op.drop_table('analytics_daily_agents')
    op.drop_table('analytics_daily_units')
    op.drop_table('analytics_hourly')
    op.drop_index('ix_analytics_contacts_hour', table_name='analytics_contacts')
    op.drop_index('ix_analytics_contacts_waiting', table_name='analytics_contacts')
    op.drop_table('analytics_contacts')
