"""channels: keep the provider's sending time of a message; place a refused payload in an org unit

Revision ID: 0015_channels_inbound
Revises: 0001_core

`messages.sent_at` is the time the provider (gateway, WeChat, mail server) says the message was sent,
kept beside `created_at`, the time kefu received it. `inbound_rejections.org_unit_id` is the unit of the
gateway whose post was refused, so that an administrator sees only the refusals of their own subtree.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_channels_inbound"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("inbound_rejections") as batch:
        batch.add_column(sa.Column("org_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                   nullable=True))
        batch.create_index("ix_inbound_rejections_org_unit", ["org_unit_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_rejections") as batch:
        batch.drop_index("ix_inbound_rejections_org_unit")
        batch.drop_column("org_unit_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sent_at")
