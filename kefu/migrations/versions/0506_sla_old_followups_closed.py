"""sla: close the follow-ups migration 0505 made of old answers

0505 put the answers stored on the old 1-3 scale onto the 1-5 scale (3 unsatisfied became 2) and added the
follow-up columns empty, so every old unsatisfied answer became an open follow-up (回访跟进) at once: the
supervisors' list filled with answers long dealt with. This closes exactly those, with a note saying why and
nobody as the closer, and leaves the follow-ups the application made alone.

Which they are: an open follow-up (answered, not followed up) with the score 2, whose answer the application
did not record on the 1-5 scale. Since 0505 the application records every unsatisfied answer as a
`survey.unsatisfied` outbox event whose payload carries the score ("choice"; the outbox keeps its events);
the old code's events have no score, and an old answer never became a 1 (old 3 → 2). So a score-2 open
follow-up without such an event for its survey is one 0505 made.

Downgrade reopens the follow-ups closed here (the note and no closer tell them).

Revision ID: 0506_sla_old_followups_closed
Revises: 0505_sla_five_point_scale

"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0506_sla_old_followups_closed'
down_revision: str | Sequence[str] | None = '0505_sla_five_point_scale'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASON = ("迁移关闭：旧三分制的“不满意”答复（迁移0505换算为2分），不作跟进。"
          "Closed by migration 0506: an answer on the old 1-3 scale, not a follow-up.")
OLD_UNSATISFIED = 2  # the old 3 (不满意) on the 1-5 scale, as 0505 wrote it

surveys = sa.table('sla_surveys', sa.column('id', sa.BigInteger()), sa.column('status', sa.String()),
                   sa.column('choice', sa.Integer()), sa.column('followed_up_at', sa.DateTime(timezone=True)),
                   sa.column('followed_up_by_id', sa.BigInteger()), sa.column('follow_up_note', sa.String()))
events = sa.table('outbox_events', sa.column('name', sa.String()), sa.column('payload', sa.JSON()))


def upgrade() -> None:
    bind = op.get_bind()
    candidates = set(bind.execute(sa.select(surveys.c.id).where(
        surveys.c.status == 'answered', surveys.c.choice == OLD_UNSATISFIED,
        surveys.c.followed_up_at.is_(None))).scalars())
    if not candidates:
        return
    recorded = set()  # the surveys whose unsatisfied answer the application recorded on the 1-5 scale
    for (payload,) in bind.execute(sa.select(events.c.payload).where(events.c.name == 'survey.unsatisfied')):
        if isinstance(payload, dict) and 'choice' in payload:
            recorded.add(payload.get('survey_id'))
    backfilled = sorted(candidates - recorded)
    now = datetime.now(UTC)
    if bind.dialect.name == 'sqlite':  # stored as the application stores it there: UTC, without the zone
        now = now.replace(tzinfo=None)
    for i in range(0, len(backfilled), 500):
        bind.execute(surveys.update().where(surveys.c.id.in_(backfilled[i:i + 500]))
                     .values(followed_up_at=now, follow_up_note=REASON))


def downgrade() -> None:
    op.get_bind().execute(surveys.update().where(surveys.c.follow_up_note == REASON,
                                                 surveys.c.followed_up_by_id.is_(None))
                          .values(followed_up_at=None, follow_up_note=None))
