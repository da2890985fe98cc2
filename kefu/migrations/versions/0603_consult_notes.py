"""collaboration: the shared timeline of notes on a consult (会诊)

Revision ID: 0603_consult_notes
Revises: 0602_consult_articles

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0603_consult_notes'
down_revision: str | Sequence[str] | None = '0602_consult_articles'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'consult_notes',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('consult_id', BigId, nullable=False),
        sa.Column('author_id', BigId, nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_consult_notes_author_id_users'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['consult_id'], ['consults.id'], name=op.f('fk_consult_notes_consult_id_consults'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consult_notes')),
    )
    op.create_index('ix_consult_notes_consult', 'consult_notes', ['consult_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_consult_notes_consult', table_name='consult_notes')
    op.drop_table('consult_notes')
