"""complaints: the classifier's verdict on each ticket and the agent's review; complaint surges; compensations; appeals

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
    sa.Column('repeat_of_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status in ('applied','suggested','confirmed','corrected')",
                       name=op.f('ck_complaint_classifications_status')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                            name=op.f('fk_complaint_classifications_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'],
                            name=op.f('fk_complaint_classifications_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['repeat_of_id'], ['tickets.id'],
                            name=op.f('fk_complaint_classifications_repeat_of_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_complaint_classifications_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_classifications')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_complaint_classifications_ticket_id'))
    )
    with op.batch_alter_table('complaint_classifications', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_classifications_status', ['status', 'reviewed_at'], unique=False)

    op.create_table('complaint_surges',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('observed', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Float(), nullable=False),
    sa.Column('p_value', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('acknowledged_by_id', ID, nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status in ('open','acknowledged')", name=op.f('ck_complaint_surges_status')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'],
                            name=op.f('fk_complaint_surges_acknowledged_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                            name=op.f('fk_complaint_surges_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_surges'))
    )
    with op.batch_alter_table('complaint_surges', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_surges_detected', ['detected_at'], unique=False)
        batch_op.create_index('ix_complaint_surges_key', ['category', 'org_unit_id', 'channel', 'detected_at'],
                              unique=False)

    op.create_table('complaint_compensations',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=True),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', ID, nullable=True),
    sa.Column('decided_by_id', ID, nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_complaint_compensations_amount')),
    sa.CheckConstraint("kind in ('bill_credit','refund','data_pack','minutes','free_trial','gift_points')",
                       name=op.f('ck_complaint_compensations_kind')),
    sa.CheckConstraint("status in ('granted','pending_approval','rejected')",
                       name=op.f('ck_complaint_compensations_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_complaint_compensations_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                            name=op.f('fk_complaint_compensations_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                            name=op.f('fk_complaint_compensations_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_complaint_compensations_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_complaint_compensations_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_compensations'))
    )
    with op.batch_alter_table('complaint_compensations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_compensations_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('complaint_appeals',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('source', sa.String(length=24), nullable=False),
    sa.Column('about_charges', sa.Boolean(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('acceptance_due', sa.Date(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('answer_due', sa.Date(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('created_by_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome is null or outcome in ('upheld','partly_upheld','not_upheld','withdrawn')",
                       name=op.f('ck_complaint_appeals_outcome')),
    sa.CheckConstraint("source in ('miit_12300','provincial_authority','consumer_12315','media','group_hq')",
                       name=op.f('ck_complaint_appeals_source')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_complaint_appeals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                            name=op.f('fk_complaint_appeals_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_complaint_appeals_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_appeals'))
    )
    with op.batch_alter_table('complaint_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_appeals_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_appeals_ticket_id'))
    op.drop_table('complaint_appeals')
    with op.batch_alter_table('complaint_compensations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_compensations_ticket_id'))
    op.drop_table('complaint_compensations')
    with op.batch_alter_table('complaint_surges', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_surges_key')
        batch_op.drop_index('ix_complaint_surges_detected')
    op.drop_table('complaint_surges')
    with op.batch_alter_table('complaint_classifications', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_classifications_status')
    op.drop_table('complaint_classifications')
