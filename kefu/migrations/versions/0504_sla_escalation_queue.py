"""sla: a policy's escalation assignee, the queue of a survey's ticket, call-task surveys without a message

Revision ID: 0504_sla_escalation_queue
Revises: 0503_sla_next_response

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0504_sla_escalation_queue'
down_revision: str | Sequence[str] | None = '0503_sla_next_response'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('breach_assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_foreign_key('fk_sla_policies_breach_assignee_id_users', 'users', ['breach_assignee_id'],
                                    ['id'], ondelete='SET NULL')
    with op.batch_alter_table('sla_surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_key', sa.String(length=40), nullable=True))
        batch_op.alter_column('interaction_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=True)
        batch_op.alter_column('message_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('sla_surveys', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=False)
        batch_op.alter_column('interaction_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=False)
        batch_op.drop_column('queue_key')
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sla_policies_breach_assignee_id_users', type_='foreignkey')
        batch_op.drop_column('breach_assignee_id')
