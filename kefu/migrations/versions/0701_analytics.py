"""analytics: reports made on a schedule, kept for download

Revision ID: 0701_analytics
Revises: 0001_core
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0701_analytics'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('csv', sa.Text(), nullable=False),
    sa.Column('xlsx', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_analytics_reports_org_unit_id_org_units'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_reports')),
    sa.UniqueConstraint('period', 'first_day', 'org_unit_id', name='uq_analytics_reports_period_unit')
    )
    op.create_index('ix_analytics_reports_unit_made', 'analytics_reports', ['org_unit_id', 'made_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_analytics_reports_unit_made', table_name='analytics_reports')
    op.drop_table('analytics_reports')
