"""playbooks: emergency plans (应急预案), their runs, steps, timeline

Revision ID: 0651_playbooks
Revises: 0001_core
Create Date: 2026-12-06 17:43:33.600080
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0651_playbooks'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('playbooks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('trigger', sa.String(length=8), nullable=False),
    sa.Column('category_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('min_count', sa.Integer(), nullable=False),
    sa.Column('notice_template', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("trigger in ('manual','surge')", name=op.f('ck_playbooks_trigger')),
    sa.CheckConstraint('min_count >= 0', name=op.f('ck_playbooks_min_count')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_playbooks_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_playbooks_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbooks')),
    sa.UniqueConstraint('key', name=op.f('uq_playbooks_key'))
    )
    op.create_table('playbook_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('playbook_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('trigger', sa.String(length=8), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('surge', sa.JSON(), nullable=True),
    sa.Column('started_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('review', sa.Text(), nullable=True),
    sa.CheckConstraint("state in ('active','ended')", name=op.f('ck_playbook_runs_state')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_playbook_runs_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ended_by'], ['users.id'], name=op.f('fk_playbook_runs_ended_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_playbook_runs_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['playbook_id'], ['playbooks.id'], name=op.f('fk_playbook_runs_playbook_id_playbooks'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['started_by'], ['users.id'], name=op.f('fk_playbook_runs_started_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_runs'))
    )
    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.create_index('ix_playbook_runs_started', ['started_at'], unique=False)
        batch_op.create_index('uq_playbook_runs_one_active', ['playbook_id'], unique=True, sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))

    op.create_table('playbook_steps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('playbook_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_role', sa.String(length=16), nullable=False),
    sa.Column('owner_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('due_minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('due_minutes >= 1', name=op.f('ck_playbook_steps_due_minutes')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_playbook_steps_owner_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['playbook_id'], ['playbooks.id'], name=op.f('fk_playbook_steps_playbook_id_playbooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_steps'))
    )
    with op.batch_alter_table('playbook_steps', schema=None) as batch_op:
        batch_op.create_index('ix_playbook_steps_playbook', ['playbook_id', 'position'], unique=False)

    op.create_table('playbook_run_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_playbook_run_log_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['playbook_runs.id'], name=op.f('fk_playbook_run_log_run_id_playbook_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_run_log'))
    )
    with op.batch_alter_table('playbook_run_log', schema=None) as batch_op:
        batch_op.create_index('ix_playbook_run_log_run', ['run_id', 'id'], unique=False)

    op.create_table('playbook_run_steps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_role', sa.String(length=16), nullable=False),
    sa.Column('owner_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state in ('pending','done','skipped')", name=op.f('ck_playbook_run_steps_state')),
    sa.ForeignKeyConstraint(['done_by'], ['users.id'], name=op.f('fk_playbook_run_steps_done_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_playbook_run_steps_owner_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['playbook_runs.id'], name=op.f('fk_playbook_run_steps_run_id_playbook_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_run_steps'))
    )
    with op.batch_alter_table('playbook_run_steps', schema=None) as batch_op:
        batch_op.create_index('ix_playbook_run_steps_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_playbook_run_steps_run', ['run_id', 'position'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('playbook_run_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_playbook_run_steps_run')
        batch_op.drop_index('ix_playbook_run_steps_due')

    op.drop_table('playbook_run_steps')
    with op.batch_alter_table('playbook_run_log', schema=None) as batch_op:
        batch_op.drop_index('ix_playbook_run_log_run')

    op.drop_table('playbook_run_log')
    with op.batch_alter_table('playbook_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_playbook_steps_playbook')

    op.drop_table('playbook_steps')
    with op.batch_alter_table('playbook_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_playbook_runs_one_active', sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))
        batch_op.drop_index('ix_playbook_runs_started')

    op.drop_table('playbook_runs')
    op.drop_table('playbooks')
