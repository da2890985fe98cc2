"""voice: an IVR node of kind 'callback' (预约回拨): a caller outside the queue's service hours leaves a request
to be called back, which routing offers when the queue opens

Revision ID: 0904_voice_ivr_callback
Revises: 0903_identity_links
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0904_voice_ivr_callback"
down_revision: str | Sequence[str] | None = "0903_identity_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind in ('menu','self_service','agent','handoff')"
NEW_KINDS = "kind in ('menu','self_service','agent','handoff','callback')"


def upgrade() -> None:
    with op.batch_alter_table("ivr_nodes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ivr_nodes_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ivr_nodes_kind"), NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM ivr_nodes WHERE kind = 'callback'")
    with op.batch_alter_table("ivr_nodes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ivr_nodes_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ivr_nodes_kind"), OLD_KINDS)
