"""analytics: agents' presence time per local day (the agent hours' daily roll-up, occupancy over weeks and
months), backfilled from the agent hours

Revision ID: 0711_analytics_agent_days
Revises: 0710_analytics_quality_handlers
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0711_analytics_agent_days'
down_revision: str | Sequence[str] | None = '0710_analytics_quality_handlers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
#: The local day of an hour (China, UTC+8: kefu.analytics.summary.DAY_OFFSET); hours are positive.
DAY_OF_HOUR = '(hour * 3600 + 28800) / 86400'


def upgrade() -> None:
    op.create_table('analytics_agent_days',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('presence', sa.String(length=16), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_agent_days')),
    sa.UniqueConstraint('day', 'org_unit_id', 'user_id', 'presence', name='uq_analytics_agent_days_key')
    )
    op.create_index('ix_analytics_agent_days_unit', 'analytics_agent_days', ['org_unit_id', 'day'])
    op.execute(f"INSERT INTO analytics_agent_days (day, org_unit_id, user_id, presence, seconds) "
               f"SELECT {DAY_OF_HOUR}, org_unit_id, user_id, presence, SUM(seconds) FROM analytics_agent_hours "
               f"GROUP BY {DAY_OF_HOUR}, org_unit_id, user_id, presence")


def downgrade() -> None:
    op.drop_index('ix_analytics_agent_days_unit', table_name='analytics_agent_days')
    op.drop_table('analytics_agent_days')
