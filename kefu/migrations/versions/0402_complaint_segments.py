"""complaints: fitted customer segmentations, each customer's segment, monthly compensation budgets per org unit

Revision ID: 0402_complaint_segments
Revises: 0401_complaints
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0402_complaint_segments'
down_revision: str | Sequence[str] | None = '0401_complaints'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('complaint_segment_models',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('kept', sa.JSON(), nullable=False),
    sa.Column('mean', sa.JSON(), nullable=False),
    sa.Column('std', sa.JSON(), nullable=False),
    sa.Column('centroids', sa.JSON(), nullable=False),
    sa.Column('segments', sa.JSON(), nullable=False),
    sa.Column('choice', sa.JSON(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('fitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_segment_models'))
    )
    op.create_table('complaint_customer_segments',
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('model_id', ID, nullable=False),
    sa.Column('segment', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('authority_multiplier', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('offer', sa.String(length=16), nullable=False),
    sa.Column('profile', sa.String(length=200), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("priority in ('low','normal','high','urgent')",
                       name=op.f('ck_complaint_customer_segments_priority')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_complaint_customer_segments_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['complaint_segment_models.id'],
                            name=op.f('fk_complaint_customer_segments_model_id_complaint_segment_models'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_complaint_customer_segments'))
    )
    with op.batch_alter_table('complaint_customer_segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_customer_segments_model_id'), ['model_id'], unique=False)
    op.create_table('complaint_budgets',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('set_by_id', ID, nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_complaint_budgets_amount')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                            name=op.f('fk_complaint_budgets_org_unit_id_org_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'],
                            name=op.f('fk_complaint_budgets_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_budgets')),
    sa.UniqueConstraint('org_unit_id', 'month', name='uq_complaint_budgets_unit_month')
    )


def downgrade() -> None:
    op.drop_table('complaint_budgets')
    with op.batch_alter_table('complaint_customer_segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_customer_segments_model_id'))
    op.drop_table('complaint_customer_segments')
    op.drop_table('complaint_segment_models')
