"""channels: delivery reports that arrive before their send is recorded (a gateway's report can beat the
commit of its submit answer; the web chat widget can show a reply before the sender commits) are held
and applied when the send is recorded

Revision ID: 0018_channels_early_reports
Revises: 0017_channels_config
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_channels_early_reports"
down_revision: str | Sequence[str] | None = "0017_channels_config"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbound_early_reports",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("reported_at", TS, nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("channel", "provider_id", name="uq_outbound_early_reports_provider"),
    )
    op.create_index("ix_outbound_early_reports_received", "outbound_early_reports", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_early_reports_received", table_name="outbound_early_reports")
    op.drop_table("outbound_early_reports")
