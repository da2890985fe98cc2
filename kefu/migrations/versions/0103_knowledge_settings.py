"""knowledge: settings an administrator changes on the console (the duplicate finder's precision)

Revision ID: 0103_knowledge_settings
Revises: 0102_knowledge_title_vector
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0103_knowledge_settings"
down_revision: str | Sequence[str] | None = "0102_knowledge_title_vector"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "knowledge_settings",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", ID, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_knowledge_settings_updated_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_knowledge_settings")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_settings")
