"""channels: a notice's link (a survey's answer page), sent as a WeChat template notice's button (url)

Revision ID: 0019_channels_notice_link
Revises: 0018_channels_early_reports
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_channels_notice_link"
down_revision: str | Sequence[str] | None = "0018_channels_early_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_deliveries", schema=None) as batch_op:
        batch_op.drop_column("link")
