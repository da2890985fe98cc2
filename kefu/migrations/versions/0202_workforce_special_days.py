"""workforce: special days an administrator enters for the forecast (campaigns, outages, local holidays)

Revision ID: 0202_workforce_special_days
Revises: 0201_workforce
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0202_workforce_special_days"
down_revision: str | Sequence[str] | None = "0201_workforce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "workforce_special_days",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("org_unit_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("effect_pct", sa.Float(), nullable=True),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('campaign','outage','holiday')", name=op.f("ck_workforce_special_days_kind")),
        sa.CheckConstraint("last_day >= first_day", name=op.f("ck_workforce_special_days_days")),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_workforce_special_days_org_unit_id_org_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_workforce_special_days_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_special_days")),
    )
    op.create_index("ix_workforce_special_days_org_day", "workforce_special_days", ["org_unit_id", "first_day"])


def downgrade() -> None:
    op.drop_index("ix_workforce_special_days_org_day", table_name="workforce_special_days")
    op.drop_table("workforce_special_days")
