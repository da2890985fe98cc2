"""analytics: contact sums per local day × org unit × channel × agent × first-level category (rows per agent ×
category read it instead of the full daily table) and per local day × org unit × channel × customer tier
(channel use by tier), backfilled from analytics_daily

Revision ID: 0714_analytics_agent_topics
Revises: 0713_analytics_journeys
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0714_analytics_agent_topics'
down_revision: str | Sequence[str] | None = '0713_analytics_journeys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
KEYS = ('day', 'org_unit_id', 'channel', 'agent_id', 'category')
TIER_KEYS = ('day', 'org_unit_id', 'channel', 'tier')
INTS = ('offered', 'answered', 'within_15', 'within_20', 'abandoned', 'short_abandoned')
SUMS = (*INTS, 'wait_sum', 'handled', 'handle_sum', 'pending')


def _table(name: str, keys: tuple[str, ...]) -> None:
    """A roll-up of analytics_daily with these keys, backfilled from it."""
    cols: dict[str, Any] = {'channel': sa.String(length=16), 'agent_id': ID, 'category': sa.String(length=40),
            'tier': sa.String(length=16)}
    op.create_table(name,
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    *(sa.Column(k, cols[k], nullable=False) for k in keys[2:]),
    *(sa.Column(n, sa.BigInteger(), nullable=False) for n in INTS),
    sa.Column('wait_sum', sa.Float(), nullable=False),
    sa.Column('handled', sa.BigInteger(), nullable=False),
    sa.Column('handle_sum', sa.Float(), nullable=False),
    sa.Column('pending', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    sa.UniqueConstraint(*keys, name=f'uq_{name}_key')
    )
    names, sums = ', '.join(keys), ', '.join(SUMS)
    op.execute(f"INSERT INTO {name} ({names}, {sums}) SELECT {names}, "
               f"{', '.join(f'SUM({n})' for n in SUMS)} FROM analytics_daily GROUP BY {names}")


def upgrade() -> None:
    _table('analytics_daily_agent_topics', KEYS)
    _table('analytics_daily_tiers', TIER_KEYS)


def downgrade() -> None:
    op.drop_table('analytics_daily_tiers')
    op.drop_table('analytics_daily_agent_topics')
