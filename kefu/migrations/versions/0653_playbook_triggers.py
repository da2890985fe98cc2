"""playbooks: keyword and threshold triggers, tickets linked to a run

Revision ID: 0653_playbook_triggers
Revises: 0652_playbook_switches

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTCDateTime = sa.DateTime(timezone=True)

revision: str = '0653_playbook_triggers'
down_revision: str | Sequence[str] | None = '0652_playbook_switches'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('playbooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keywords', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('window_minutes', sa.Integer(), nullable=False, server_default='60'))
        batch_op.alter_column('trigger', existing_type=sa.String(length=8), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.drop_constraint(op.f('ck_playbooks_trigger'), type_='check')
        batch_op.create_check_constraint(op.f('ck_playbooks_trigger'),
                                         "trigger in ('manual','surge','keyword','threshold')")
        batch_op.create_check_constraint(op.f('ck_playbooks_window_minutes'), 'window_minutes >= 1')
    with op.batch_alter_table('playbooks', schema=None) as batch_op:
        batch_op.alter_column('window_minutes', server_default=None)
    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.alter_column('trigger', existing_type=sa.String(length=8), type_=sa.String(length=16),
                              existing_nullable=False)
    op.create_table(
        'playbook_run_tickets',
        sa.Column('run_id', BigId, nullable=False),
        sa.Column('ticket_id', BigId, nullable=False),
        sa.Column('how', sa.String(length=8), nullable=False),
        sa.Column('linked_by', BigId, nullable=True),
        sa.Column('linked_at', UTCDateTime, nullable=False),
        sa.CheckConstraint("how in ('auto','manual')", name=op.f('ck_playbook_run_tickets_how')),
        sa.ForeignKeyConstraint(['linked_by'], ['users.id'], name=op.f('fk_playbook_run_tickets_linked_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['run_id'], ['playbook_runs.id'],
                                name=op.f('fk_playbook_run_tickets_run_id_playbook_runs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_playbook_run_tickets_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', 'ticket_id', name=op.f('pk_playbook_run_tickets')),
    )
    op.create_index('ix_playbook_run_tickets_ticket', 'playbook_run_tickets', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_playbook_run_tickets_ticket', table_name='playbook_run_tickets')
    op.drop_table('playbook_run_tickets')
    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.alter_column('trigger', existing_type=sa.String(length=16), type_=sa.String(length=8),
                              existing_nullable=False)
    with op.batch_alter_table('playbooks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_playbooks_window_minutes'), type_='check')
        batch_op.drop_constraint(op.f('ck_playbooks_trigger'), type_='check')
        batch_op.create_check_constraint(op.f('ck_playbooks_trigger'), "trigger in ('manual','surge')")
        batch_op.alter_column('trigger', existing_type=sa.String(length=16), type_=sa.String(length=8),
                              existing_nullable=False)
        batch_op.drop_column('window_minutes')
        batch_op.drop_column('keywords')
