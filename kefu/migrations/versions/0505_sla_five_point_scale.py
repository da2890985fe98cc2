"""sla: survey answers on a 1-5 scale (5 best; the old 1 satisfied / 2 neutral / 3 unsatisfied become 4 / 3 / 2),
a policy's escalation queue, the supervisor's follow-up of an unsatisfied answer

Revision ID: 0505_sla_five_point_scale
Revises: 0504_sla_escalation_queue

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0505_sla_five_point_scale'
down_revision: str | Sequence[str] | None = '0504_sla_escalation_queue'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sla_surveys', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sla_surveys_choice'), type_='check')
    op.execute("UPDATE sla_surveys SET choice = CASE choice WHEN 1 THEN 4 WHEN 2 THEN 3 WHEN 3 THEN 2 END "
               "WHERE choice IS NOT NULL")
    with op.batch_alter_table('sla_surveys', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_sla_surveys_choice'), 'choice IS NULL OR choice BETWEEN 1 AND 5')
        batch_op.add_column(sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('followed_up_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('follow_up_note', sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(op.f('fk_sla_surveys_followed_up_by_id_users'), 'users', ['followed_up_by_id'],
                                    ['id'], ondelete='SET NULL')
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('breach_queue_key', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_column('breach_queue_key')
    with op.batch_alter_table('sla_surveys', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_sla_surveys_followed_up_by_id_users'), type_='foreignkey')
        batch_op.drop_column('follow_up_note')
        batch_op.drop_column('followed_up_by_id')
        batch_op.drop_column('followed_up_at')
        batch_op.drop_constraint(op.f('ck_sla_surveys_choice'), type_='check')
    op.execute("UPDATE sla_surveys SET choice = CASE WHEN choice >= 4 THEN 1 WHEN choice = 3 THEN 2 ELSE 3 END "
               "WHERE choice IS NOT NULL")
    with op.batch_alter_table('sla_surveys', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_sla_surveys_choice'), 'choice IS NULL OR choice BETWEEN 1 AND 3')
