"""analytics: the complaint, appeal and first-contact summary keyed by category and customer tier too

The facts and the daily quality sums gain the complaint's (or the contact's ticket's) first-level category
and the customer's tier ('' when none). Rows counted before keep '' for both until
`kefu analytics rebuild` recounts their days.

Revision ID: 0708_analytics_quality_keys
Revises: 0707_analytics_alerts
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0708_analytics_quality_keys'
down_revision: str | Sequence[str] | None = '0707_analytics_alerts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keys() -> list[sa.Column[str]]:
    return [sa.Column('category', sa.String(length=40), nullable=False, server_default=''),
            sa.Column('tier', sa.String(length=16), nullable=False, server_default='')]


def upgrade() -> None:
    with op.batch_alter_table('analytics_quality_facts', schema=None) as batch_op:
        for c in _keys():
            batch_op.add_column(c)
    with op.batch_alter_table('analytics_daily_quality', schema=None) as batch_op:
        for c in _keys():
            batch_op.add_column(c)
        batch_op.drop_constraint('uq_analytics_daily_quality_key', type_='unique')
        batch_op.create_unique_constraint('uq_analytics_daily_quality_key',
                                          ['day', 'org_unit_id', 'channel', 'category', 'tier'])


def downgrade() -> None:
    op.execute('DELETE FROM analytics_daily_quality')  # the sums of several tiers would collide: recount them
    with op.batch_alter_table('analytics_daily_quality', schema=None) as batch_op:
        batch_op.drop_constraint('uq_analytics_daily_quality_key', type_='unique')
        batch_op.create_unique_constraint('uq_analytics_daily_quality_key', ['day', 'org_unit_id', 'channel'])
        batch_op.drop_column('tier')
        batch_op.drop_column('category')
    with op.batch_alter_table('analytics_quality_facts', schema=None) as batch_op:
        batch_op.drop_column('tier')
        batch_op.drop_column('category')
