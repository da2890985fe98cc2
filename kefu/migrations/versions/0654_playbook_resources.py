"""playbooks: resources (staff, scripts, FAQ to push, compensation budget), extra queues opened by a switch, a
restoration notice, and the notices each customer got on a run (one per state)

Revision ID: 0654_playbook_resources
Revises: 0653_playbook_triggers

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTCDateTime = sa.DateTime(timezone=True)

revision: str = '0654_playbook_resources'
down_revision: str | Sequence[str] | None = '0653_playbook_triggers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = '0101_knowledge'  # the FAQ's foreign key


def upgrade() -> None:
    with op.batch_alter_table('playbooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('script_article_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('faq_article_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('budget_yuan', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('extra_queues', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('restore_template', sa.Text(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_playbooks_faq_article_id_knowledge_articles'), 'knowledge_articles',
                                    ['faq_article_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_playbooks_budget_yuan'), 'budget_yuan >= 0')
    op.create_table(
        'playbook_run_notices',
        sa.Column('run_id', BigId, nullable=False),
        sa.Column('customer_id', BigId, nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('ticket_id', BigId, nullable=True),
        sa.Column('message_id', BigId, nullable=True),
        sa.Column('sent_at', UTCDateTime, nullable=False),
        sa.CheckConstraint("state in ('fault','restored')", name=op.f('ck_playbook_run_notices_state')),
        sa.ForeignKeyConstraint(['run_id'], ['playbook_runs.id'],
                                name=op.f('fk_playbook_run_notices_run_id_playbook_runs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_playbook_run_notices_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_playbook_run_notices_ticket_id_tickets'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                                name=op.f('fk_playbook_run_notices_message_id_messages'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('run_id', 'customer_id', 'state', name=op.f('pk_playbook_run_notices')),
    )


def downgrade() -> None:
    op.drop_table('playbook_run_notices')
    with op.batch_alter_table('playbooks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_playbooks_budget_yuan'), type_='check')
        batch_op.drop_constraint(op.f('fk_playbooks_faq_article_id_knowledge_articles'), type_='foreignkey')
        batch_op.drop_column('restore_template')
        batch_op.drop_column('extra_queues')
        batch_op.drop_column('budget_yuan')
        batch_op.drop_column('faq_article_id')
        batch_op.drop_column('script_article_ids')
        batch_op.drop_column('staff_ids')
