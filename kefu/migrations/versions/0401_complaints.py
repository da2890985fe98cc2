"""complaints: the classifier's verdict on each ticket and the agent's review

Revision ID: 0401_complaints
Revises: 0001_core
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0401_complaints'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('complaint_classifications',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('predicted_type', sa.String(length=16), nullable=False),
    sa.Column('type_confidence', sa.Float(), nullable=False),
    sa.Column('predicted_category', sa.String(length=16), nullable=False),
    sa.Column('category_confidence', sa.Float(), nullable=False),
    sa.Column('escalation', sa.Boolean(), nullable=False),
    sa.Column('escalation_terms', sa.JSON(), nullable=False),
    sa.Column('applied_type', sa.String(length=16), nullable=True),
    sa.Column('applied_category', sa.String(length=16), nullable=True),
    sa.Column('model_version', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('final_type', sa.String(length=16), nullable=True),
    sa.Column('final_category', sa.String(length=16), nullable=True),
    sa.Column('final_escalation', sa.Boolean(), nullable=True),
    sa.Column('reviewed_by_id', ID, nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status in ('applied','suggested','confirmed','corrected')",
                       name=op.f('ck_complaint_classifications_status')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                            name=op.f('fk_complaint_classifications_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'],
                            name=op.f('fk_complaint_classifications_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_complaint_classifications_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_classifications')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_complaint_classifications_ticket_id'))
    )
    with op.batch_alter_table('complaint_classifications', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_classifications_status', ['status', 'reviewed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_classifications', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_classifications_status')
    op.drop_table('complaint_classifications')
