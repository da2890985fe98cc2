"""customers: identity link codes indexed by number and time, to count the codes sent to one number (web chat
logins are limited per number across visitors and processes)

Revision ID: 0905_identity_link_codes_phone
Revises: 0904_voice_ivr_callback
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0905_identity_link_codes_phone"
down_revision: str | Sequence[str] | None = "0904_voice_ivr_callback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_identity_link_codes_phone", "identity_link_codes", ["phone", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_identity_link_codes_phone", table_name="identity_link_codes")
