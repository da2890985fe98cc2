"""analytics: reports scheduled by e-mail, and the periods sent

Revision ID: 0706_analytics_report_mail
Revises: 0705_analytics_occupancy
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0706_analytics_report_mail'
down_revision: str | Sequence[str] | None = '0705_analytics_occupancy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('analytics_report_schedules',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('cadence', sa.String(length=8), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('breakdown', sa.String(length=16), nullable=True),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('created_by_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.CheckConstraint("cadence in ('day','week','month')", name=op.f('ck_analytics_report_schedules_cadence')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                            name=op.f('fk_analytics_report_schedules_org_unit_id_org_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_analytics_report_schedules_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_report_schedules'))
    )
    op.create_table('analytics_report_mailings',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('schedule_id', ID, nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['analytics_report_schedules.id'],
                            name=op.f('fk_analytics_report_mailings_schedule_id_analytics_report_schedules'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_report_mailings')),
    sa.UniqueConstraint('schedule_id', 'first_day', name='uq_analytics_report_mailings_period')
    )


def downgrade() -> None:
    op.drop_table('analytics_report_mailings')
    op.drop_table('analytics_report_schedules')
