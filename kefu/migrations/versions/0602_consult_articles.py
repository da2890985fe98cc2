"""collaboration: a consult's accepted answer drafted as a knowledge article

Revision ID: 0602_consult_articles
Revises: 0601_collaboration

"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0602_consult_articles'
down_revision: str | Sequence[str] | None = '0601_collaboration'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = '0101_knowledge'


def upgrade() -> None:
    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.add_column(sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_consults_article_id_knowledge_articles'), 'knowledge_articles',
                                    ['article_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consults_article_id_knowledge_articles'), type_='foreignkey')
        batch_op.drop_column('article_id')
