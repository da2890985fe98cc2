"""collaboration: consults (会商), expert teams across regions, frontline suggestions

Revision ID: 0601_collaboration
Revises: 0001_core
Create Date: 2026-12-06 17:31:04.485541
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0601_collaboration'
down_revision: str | Sequence[str] | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('expert_teams',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_teams')),
    sa.UniqueConstraint('key', name=op.f('uq_expert_teams_key'))
    )
    op.create_table('expert_team_members',
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lead', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['expert_teams.id'], name=op.f('fk_expert_team_members_team_id_expert_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_expert_team_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_expert_team_members'))
    )
    with op.batch_alter_table('expert_team_members', schema=None) as batch_op:
        batch_op.create_index('ix_expert_team_members_user', ['user_id'], unique=False)

    op.create_table('consults',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_path', sa.String(length=255), nullable=False),
    sa.Column('requester_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_kind', sa.String(length=8), nullable=False),
    sa.Column('target_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('target_role', sa.String(length=16), nullable=True),
    sa.Column('target_team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('target_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(target_kind = 'unit' AND target_unit_id IS NOT NULL) OR (target_kind = 'role' AND target_role IS NOT NULL) OR (target_kind = 'team' AND target_team_id IS NOT NULL) OR (target_kind = 'user' AND target_user_id IS NOT NULL)", name=op.f('ck_consults_target')),
    sa.CheckConstraint("state in ('open','answered','accepted','cancelled')", name=op.f('ck_consults_state')),
    sa.CheckConstraint("target_kind in ('unit','role','team','user')", name=op.f('ck_consults_target_kind')),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], name=op.f('fk_consults_answered_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_consults_closed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_consults_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_consults_requester_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['target_team_id'], ['expert_teams.id'], name=op.f('fk_consults_target_team_id_expert_teams'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['target_unit_id'], ['org_units.id'], name=op.f('fk_consults_target_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['target_user_id'], ['users.id'], name=op.f('fk_consults_target_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_consults_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consults'))
    )
    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.create_index('ix_consults_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_consults_ticket', ['ticket_id', 'id'], unique=False)

    op.create_table('suggestions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('topic', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('submitter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind in ('problem','suggestion')", name=op.f('ck_suggestions_kind')),
    sa.CheckConstraint("status in ('submitted','accepted','rejected','in_progress','done','merged')", name=op.f('ck_suggestions_status')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['suggestions.id'], name=op.f('fk_suggestions_merged_into_id_suggestions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_suggestions_org_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_unit_id'], ['org_units.id'], name=op.f('fk_suggestions_owner_unit_id_org_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_suggestions_submitter_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_suggestions_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions'))
    )
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_suggestions_owner_status', ['owner_unit_id', 'status'], unique=False)

    op.create_table('suggestion_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('suggestion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_suggestion_changes_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['suggestions.id'], name=op.f('fk_suggestion_changes_suggestion_id_suggestions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestion_changes'))
    )
    with op.batch_alter_table('suggestion_changes', schema=None) as batch_op:
        batch_op.create_index('ix_suggestion_changes_suggestion', ['suggestion_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('suggestion_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestion_changes_suggestion')

    op.drop_table('suggestion_changes')
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_owner_status')

    op.drop_table('suggestions')
    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.drop_index('ix_consults_ticket')
        batch_op.drop_index('ix_consults_state_due')

    op.drop_table('consults')
    with op.batch_alter_table('expert_team_members', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_team_members_user')

    op.drop_table('expert_team_members')
    op.drop_table('expert_teams')
