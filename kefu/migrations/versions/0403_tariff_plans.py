"""complaints: the operator's plan catalogue for tariff advice (资费推荐), kept by an administrator

Revision ID: 0403_tariff_plans
Revises: 0402_complaint_segments
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0403_tariff_plans'
down_revision: str | Sequence[str] | None = '0402_complaint_segments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('tariff_plans',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('monthly_fee', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('data_gb', sa.Float(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('sms', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', ID, nullable=True),
    sa.CheckConstraint('monthly_fee >= 0', name=op.f('ck_tariff_plans_fee')),
    sa.CheckConstraint('data_gb IS NULL OR data_gb >= 0', name=op.f('ck_tariff_plans_data_gb')),
    sa.CheckConstraint('minutes IS NULL OR minutes >= 0', name=op.f('ck_tariff_plans_minutes')),
    sa.CheckConstraint('sms IS NULL OR sms >= 0', name=op.f('ck_tariff_plans_sms')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_tariff_plans_updated_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_plans')),
    sa.UniqueConstraint('key', name=op.f('uq_tariff_plans_key'))
    )


def downgrade() -> None:
    op.drop_table('tariff_plans')
