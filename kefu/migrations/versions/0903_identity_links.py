"""customers: identity link suggestions and one-time codes for binding a number

Revision ID: 0903_identity_links
Revises: 0902_voice_ivr
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0903_identity_links'
down_revision: str | Sequence[str] | None = '0902_voice_ivr'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('identity_link_suggestions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('other_customer_id', ID, nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('evidence', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', ID, nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('open','linked','dismissed')", name=op.f('ck_identity_link_suggestions_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_identity_link_suggestions_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_customer_id'], ['customers.id'],
                            name=op.f('fk_identity_link_suggestions_other_customer_id_customers'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_identity_link_suggestions_decided_by_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_link_suggestions'))
    )
    op.create_index('ix_identity_link_suggestions_customer', 'identity_link_suggestions', ['customer_id', 'status'],
                    unique=False)
    op.create_table('identity_link_codes',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_link_codes'))
    )
    op.create_index('ix_identity_link_codes_address', 'identity_link_codes', ['kind', 'value', 'phone'], unique=False)


def downgrade() -> None:
    op.drop_table('identity_link_codes')
    op.drop_table('identity_link_suggestions')
