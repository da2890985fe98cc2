"""channels: per org unit channel configuration set on the console (secrets encrypted); the kind of a
notice on its delivery (WeChat sends notices as template messages)

Revision ID: 0017_channels_config
Revises: 0016_channels_outbound
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_channels_config"
down_revision: str | Sequence[str] | None = "0016_channels_outbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_configs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("org_unit_id", ID, sa.ForeignKey("org_units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", ID, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("org_unit_id", "channel", name="uq_channel_configs_unit_channel"),
    )
    with op.batch_alter_table("outbound_deliveries") as batch:
        batch.add_column(sa.Column("notice_kind", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_deliveries") as batch:
        batch.drop_column("notice_kind")
    op.drop_table("channel_configs")
