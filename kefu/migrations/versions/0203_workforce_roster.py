"""workforce: named agents' shifts (a unit's day roster) and the agent states adherence is measured from

Revision ID: 0203_workforce_roster
Revises: 0202_workforce_special_days
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0203_workforce_roster"
down_revision: str | Sequence[str] | None = "0202_workforce_special_days"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workforce_shifts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("org_unit_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("start_at", AT, nullable=False),
        sa.Column("end_at", AT, nullable=False),
        sa.Column("break_start_at", AT, nullable=True),
        sa.Column("break_end_at", AT, nullable=True),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_units.id"],
                                name=op.f("fk_workforce_shifts_org_unit_id_org_units"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_workforce_shifts_user_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_workforce_shifts_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_shifts")),
    )
    op.create_index("ix_workforce_shifts_org_day", "workforce_shifts", ["org_unit_id", "day"])
    op.create_index("ix_workforce_shifts_user_start", "workforce_shifts", ["user_id", "start_at"])
    op.create_table(
        "workforce_agent_states",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("presence", sa.String(length=16), nullable=False),
        sa.Column("at", AT, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_workforce_agent_states_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_agent_states")),
        sa.UniqueConstraint("event_id", name="uq_workforce_agent_states_event_id"),
    )
    op.create_index("ix_workforce_agent_states_user_at", "workforce_agent_states", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_workforce_agent_states_user_at", table_name="workforce_agent_states")
    op.drop_table("workforce_agent_states")
    op.drop_index("ix_workforce_shifts_user_start", table_name="workforce_shifts")
    op.drop_index("ix_workforce_shifts_org_day", table_name="workforce_shifts")
    op.drop_table("workforce_shifts")
