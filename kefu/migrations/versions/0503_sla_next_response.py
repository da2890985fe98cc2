"""sla: a next-response target on policies

Revision ID: 0503_sla_next_response
Revises: 0502_sla_surveys

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0503_sla_next_response'
down_revision: str | Sequence[str] | None = '0502_sla_surveys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_response_minutes', sa.Integer(), nullable=True))
        batch_op.create_check_constraint('next_response',
                                         'next_response_minutes IS NULL OR next_response_minutes > 0')


def downgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_constraint('next_response', type_='check')
        batch_op.drop_column('next_response_minutes')
