"""analytics: complaint, appeal and first-contact sums per routing queue and agent

The quality facts gain the queue and agent that handled them (a contact's own; a complaint's or appeal's
first contact's), and analytics_daily_quality_handlers keeps the sums per day × unit × channel × queue ×
agent. Facts counted before keep '' and 0 (and no handler rows) until `kefu analytics rebuild` recounts
their days.

Revision ID: 0710_analytics_quality_handlers
Revises: 0709_analytics_mail_attempts
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0710_analytics_quality_handlers'
down_revision: str | Sequence[str] | None = '0709_analytics_mail_attempts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
SUMS = ("complaints", "complaint_repeats", "replied_on_time", "replied_late", "unreplied", "appeals",
        "contacts", "contacts_returned")


def upgrade() -> None:
    with op.batch_alter_table('analytics_quality_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_key', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('agent_id', ID, nullable=False, server_default='0'))
    op.create_table('analytics_daily_quality_handlers',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('queue_key', sa.String(length=40), nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    *(sa.Column(n, sa.BigInteger(), nullable=False) for n in SUMS),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_daily_quality_handlers')),
    sa.UniqueConstraint('day', 'org_unit_id', 'channel', 'queue_key', 'agent_id',
                        name='uq_analytics_daily_quality_handlers_key')
    )


def downgrade() -> None:
    op.drop_table('analytics_daily_quality_handlers')
    with op.batch_alter_table('analytics_quality_facts', schema=None) as batch_op:
        batch_op.drop_column('agent_id')
        batch_op.drop_column('queue_key')
