"""analytics: the wall's alerts (red channel tiles per org unit), raised and cleared by a periodic check

Revision ID: 0707_analytics_alerts
Revises: 0706_analytics_report_mail
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0707_analytics_alerts'
down_revision: str | Sequence[str] | None = '0706_analytics_report_mail'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('analytics_alerts',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('target', sa.String(length=60), nullable=False),
    sa.Column('metrics', sa.String(length=100), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_analytics_alerts_org_unit_id_org_units'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_alerts'))
    )
    op.create_index('ix_analytics_alerts_open', 'analytics_alerts', ['cleared_at', 'org_unit_id'])


def downgrade() -> None:
    op.drop_index('ix_analytics_alerts_open', table_name='analytics_alerts')
    op.drop_table('analytics_alerts')
