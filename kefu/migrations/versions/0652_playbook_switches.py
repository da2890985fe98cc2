"""playbooks: one-action switches (an IVR announcement, a queue overflow) and incident roles on a run

Revision ID: 0652_playbook_switches
Revises: 0651_playbooks

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0652_playbook_switches'
down_revision: str | Sequence[str] | None = '0651_playbooks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('switches', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('roles', sa.JSON(), nullable=True))

    with op.batch_alter_table('playbooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ivr_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('overflow_from', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('overflow_to', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('playbooks', schema=None) as batch_op:
        batch_op.drop_column('overflow_to')
        batch_op.drop_column('overflow_from')
        batch_op.drop_column('ivr_text')

    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.drop_column('roles')
        batch_op.drop_column('switches')
