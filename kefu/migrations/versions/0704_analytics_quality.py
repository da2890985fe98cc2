"""analytics: complaint, appeal and first-contact facts and their daily summary, kept from events

Revision ID: 0704_analytics_quality
Revises: 0703_analytics_summaries
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0704_analytics_quality'
down_revision: str | Sequence[str] | None = '0703_analytics_summaries'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
SUMS = ('complaints', 'complaint_repeats', 'replied_on_time', 'replied_late', 'unreplied', 'appeals', 'contacts',
        'contacts_returned')


def upgrade() -> None:
    op.create_table('analytics_quality_facts',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('ref_id', ID, autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('opened', sa.Float(), nullable=False),
    sa.Column('reply_due', sa.Float(), nullable=True),
    sa.Column('first_reply', sa.Float(), nullable=True),
    sa.Column('repeat', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'ref_id', name=op.f('pk_analytics_quality_facts'))
    )
    op.create_index('ix_analytics_quality_facts_day', 'analytics_quality_facts', ['day'])
    op.create_index('ix_analytics_quality_facts_unreplied', 'analytics_quality_facts',
                    ['type', 'first_reply', 'reply_due'])
    op.create_table('analytics_daily_quality',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    *(sa.Column(n, sa.BigInteger(), nullable=False) for n in SUMS),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_daily_quality')),
    sa.UniqueConstraint('day', 'org_unit_id', 'channel', name='uq_analytics_daily_quality_key')
    )


def downgrade() -> None:
    op.drop_table('analytics_daily_quality')
    op.drop_index('ix_analytics_quality_facts_unreplied', table_name='analytics_quality_facts')
    op.drop_index('ix_analytics_quality_facts_day', table_name='analytics_quality_facts')
    op.drop_table('analytics_quality_facts')
