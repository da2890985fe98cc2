"""tickets: the subject with ID and phone numbers masked, which roles without `pii` search

A role that sees 客户139****5678反映扣费 could otherwise find the hidden digits by searching the subject for
guesses (issue 8). Every writer keeps the column (the ORM on setting the subject, Core inserts through the
column's default); existing tickets are filled here, in batches, with the product's masking at the time of
the upgrade.

Revision ID: 0004_tickets_subject_masked
Revises: 0003_tickets
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_tickets_subject_masked"
down_revision: str | Sequence[str] | None = "0003_tickets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    from kefu.customers.pii import mask_pii_text

    # (not batch mode: on SQLite that copies the table, which its virtual work-order columns refuse)
    op.add_column("tickets", sa.Column("subject_masked", sa.String(200), nullable=True))
    tickets = sa.table("tickets", sa.column("id", sa.BigInteger), sa.column("subject", sa.String),
                       sa.column("subject_masked", sa.String))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.select(tickets.c.id, tickets.c.subject).where(tickets.c.id > last)
                            .order_by(tickets.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(sa.update(tickets).where(tickets.c.id == sa.bindparam("tid"))
                     .values(subject_masked=sa.bindparam("masked")),
                     [{"tid": i, "masked": mask_pii_text(s)[:200] if s is not None else None} for i, s in rows])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_column("tickets", "subject_masked")
