"""analytics: administrators' thresholds of the wall's tiles

Revision ID: 0702_analytics_thresholds
Revises: 0701_analytics
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0702_analytics_thresholds'
down_revision: str | Sequence[str] | None = '0701_analytics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_thresholds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('amber', sa.Float(), nullable=False),
    sa.Column('red', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("scope in ('channel','queue')", name=op.f('ck_analytics_thresholds_scope')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_thresholds')),
    sa.UniqueConstraint('scope', 'target', 'metric', name='uq_analytics_thresholds_target_metric')
    )


def downgrade() -> None:
    op.drop_table('analytics_thresholds')
