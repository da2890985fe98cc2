"""analytics: a scheduled report's mail keeps its sending state, so a failed send is tried again

Each period's mailing of a schedule is due, being sent, sent or failed, with its attempts, the last error
and when to try next (backoff); the mail goes out after the run's commit. Rows of before were sent.

Revision ID: 0709_analytics_mail_attempts
Revises: 0708_analytics_quality_keys
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0709_analytics_mail_attempts'
down_revision: str | Sequence[str] | None = '0708_analytics_quality_keys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('analytics_report_mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=8), nullable=False, server_default='sent'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=300), nullable=True))
        batch_op.alter_column('sent_at', existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.create_check_constraint('state', "state in ('due','sending','sent','failed')")
        batch_op.create_index('ix_analytics_report_mailings_next', ['state', 'next_try_at'], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM analytics_report_mailings WHERE state <> 'sent'")
    with op.batch_alter_table('analytics_report_mailings', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_report_mailings_next')
        batch_op.drop_constraint('state', type_='check')
        batch_op.alter_column('sent_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_column('last_error')
        batch_op.drop_column('next_try_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('state')
