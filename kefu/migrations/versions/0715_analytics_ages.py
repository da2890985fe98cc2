"""analytics: each contact's customer age band (kefu/customers/ages.py) and the contact sums per local day ×
org unit × channel × age band (channel use by age), backfilled from analytics_daily under '' (unknown): no
birth year was recorded before 0006_customers_birth_year (the customers' branch, upgraded in the same run), so
every contact counted so far is of unknown age (`kefu analytics rebuild` recounts a period with the birth years
recorded since)

Revision ID: 0715_analytics_ages
Revises: 0714_analytics_agent_topics
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0715_analytics_ages'
down_revision: str | Sequence[str] | None = '0714_analytics_agent_topics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
INTS = ('offered', 'answered', 'within_15', 'within_20', 'abandoned', 'short_abandoned')
SUMS = (*INTS, 'wait_sum', 'handled', 'handle_sum', 'pending')


def upgrade() -> None:
    with op.batch_alter_table('analytics_contacts') as batch_op:
        batch_op.add_column(sa.Column('age_band', sa.String(length=8), nullable=False, server_default=''))
    op.create_table('analytics_daily_ages',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    *(sa.Column(n, sa.BigInteger(), nullable=False) for n in INTS),
    sa.Column('wait_sum', sa.Float(), nullable=False),
    sa.Column('handled', sa.BigInteger(), nullable=False),
    sa.Column('handle_sum', sa.Float(), nullable=False),
    sa.Column('pending', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_daily_ages')),
    sa.UniqueConstraint('day', 'org_unit_id', 'channel', 'age_band', name='uq_analytics_daily_ages_key')
    )
    keys, sums = 'day, org_unit_id, channel', ', '.join(SUMS)
    op.execute(f"INSERT INTO analytics_daily_ages ({keys}, age_band, {sums}) SELECT {keys}, '', "
               f"{', '.join(f'SUM({n})' for n in SUMS)} FROM analytics_daily GROUP BY {keys}")


def downgrade() -> None:
    op.drop_table('analytics_daily_ages')
    with op.batch_alter_table('analytics_contacts') as batch_op:
        batch_op.drop_column('age_band')
