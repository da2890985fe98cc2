"""knowledge: the title's own embedding, for the pair model that matches a question to an FAQ

Revision ID: 0102_knowledge_title_vector
Revises: 0101_knowledge

Rows indexed before this revision keep NULL until they are indexed again (`kefu knowledge
reindex`); search falls back to the article's embedding for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0102_knowledge_title_vector"
down_revision: str | Sequence[str] | None = "0101_knowledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("knowledge_index") as batch:
        batch.add_column(sa.Column("title_embedding", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("knowledge_index") as batch:
        batch.drop_column("title_embedding")
