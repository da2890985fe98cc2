"""channels: outbound deliveries (status, retries, provider parts) and concatenated SMS fragments

Revision ID: 0016_channels_outbound
Revises: 0015_channels_inbound
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_channels_outbound"
down_revision: str | Sequence[str] | None = "0015_channels_inbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbound_deliveries",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("message_id", ID, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("interaction_id", ID, nullable=False),
        sa.Column("org_unit_id", ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("message_id", name="uq_outbound_deliveries_message"),
        sa.UniqueConstraint("key", name="uq_outbound_deliveries_key"),
        sa.CheckConstraint("status in ('queued','sent','delivered','failed')",
                           name=op.f("ck_outbound_deliveries_status")),
    )
    op.create_index("ix_outbound_deliveries_due", "outbound_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "outbound_parts",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", ID, sa.ForeignKey("outbound_deliveries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("reported_at", TS, nullable=True),
        sa.UniqueConstraint("channel", "provider_id", name="uq_outbound_parts_provider"),
    )
    op.create_index("ix_outbound_parts_delivery", "outbound_parts", ["delivery_id"])
    op.create_table(
        "sms_fragments",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("sender", sa.String(32), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("sender", "ref", "total", "seq", name="uq_sms_fragments_part"),
    )


def downgrade() -> None:
    op.drop_table("sms_fragments")
    op.drop_index("ix_outbound_parts_delivery", "outbound_parts")
    op.drop_table("outbound_parts")
    op.drop_index("ix_outbound_deliveries_due", "outbound_deliveries")
    op.drop_table("outbound_deliveries")
