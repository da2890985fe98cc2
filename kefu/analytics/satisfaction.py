"""Satisfaction (回访) figures kept from the surveys' events: per local day sent × org unit × channel × agent
× routing queue, the surveys sent, answered, satisfied (kefu.sla.survey_reply.is_satisfied, the one
definition) and the answers' score total (analytics_daily_surveys, migration 0712), so a month's report
reads a few thousand summary rows instead of the month's surveys.

Each survey has a fact row (analytics_survey_facts) with what the summary counted of it; observing a
survey nets its old contribution against its new one (kefu.analytics.summary.net_change, one INSERT ... ON
CONFLICT per changed row): a redelivered event, or a survey observed twice, changes nothing. The consumer
(kefu/analytics/consumers.py) observes the survey of `survey.sent` and `survey.answered` (kefu/sla/surveys.py);
:func:`rebuild` recounts from the surveys (`kefu analytics rebuild`).
Days are China's (kefu.analytics.summary.DAY_OFFSET); a report in another zone counts the raw surveys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kefu.analytics.models import DaySurveySummary, SurveyFact
from kefu.analytics.summary import DAY, DAY_OFFSET, chunks, day_number, net_change, net_facts, writer_lock

KEYS = ("day", "org_unit_id", "channel", "agent_id", "queue_key")
SUMS = ("sent", "answered", "satisfied", "score_total")


def fact_of(survey: Any) -> dict[str, Any]:
    """The fact row a survey (kefu.sla.models.SlaSurvey) makes now."""
    from kefu.sla.survey_reply import is_satisfied

    answered = survey.status == "answered" and survey.choice is not None
    return {"survey_id": survey.id, "day": int((survey.sent_at.timestamp() + DAY_OFFSET) // DAY),
            "org_unit_id": survey.org_unit_id, "channel": survey.channel, "agent_id": survey.agent_id or 0,
            "queue_key": survey.queue_key or "", "answered": answered,
            "satisfied": answered and is_satisfied(survey.choice), "score": survey.choice if answered else 0}


def _sums(f: dict[str, Any] | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {"sent": 1, "answered": int(f["answered"]), "satisfied": int(f["satisfied"]), "score_total": f["score"]}


def _deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Any]:
    """What replacing survey fact ``old`` by ``new`` changes in the daily survey summary."""
    return [(DaySurveySummary, key, change)
            for key, change in net_change(old, _sums(old), new, _sums(new), KEYS, SUMS)]


def observe(session: Session, survey_ids: Iterable[int], *, seen: set[int] | None = None) -> int:
    """Bring facts and summary up to date with these surveys as they are now (a survey gone: taken out);
    returns how many changed. ``seen``: surveys observed already in this transaction (skipped; the ones
    observed now added)."""
    from kefu.sla.models import SlaSurvey

    ids = sorted(set(survey_ids) - (seen or set()))
    if seen is not None:
        seen.update(ids)
    if not ids:
        return 0
    writer_lock(session, 3)
    cols = SurveyFact.__table__.c
    olds: dict[int, dict[str, Any]] = {}
    news: dict[int, dict[str, Any]] = {}
    for part in chunks(ids):
        olds.update((r["survey_id"], dict(r)) for r in session.execute(
            select(*cols).where(SurveyFact.survey_id.in_(part))).mappings())
        news.update((s.id, fact_of(s)) for s in session.scalars(select(SlaSurvey).where(SlaSurvey.id.in_(part))))
    changed, gone, added = net_facts(session, ids, olds, news, _deltas)
    for part in chunks(gone):
        session.execute(delete(SurveyFact).where(SurveyFact.survey_id.in_(part)))
    if added:
        session.execute(insert(SurveyFact), added)
    session.flush()
    return changed


def csat(session: Session, first: date, end: date, *, unit_ids: Sequence[int],
         channels: Sequence[str] | None = None) -> Any:
    """The surveys sent on the local days [first, end) in these units (and channels): a
    kefu.sla.surveys.Csat (no key) of the summary, what csat_by counts from the surveys."""
    from kefu.sla.surveys import Csat

    d = DaySurveySummary
    q = select(*(func.coalesce(func.sum(getattr(d, n)), 0) for n in SUMS)).where(
        d.day >= day_number(first), d.day < day_number(end), d.org_unit_id.in_(list(unit_ids)))
    if channels is not None:
        q = q.where(d.channel.in_(list(channels)))
    sums = session.execute(q).one()
    return Csat(None, *(int(v) for v in sums))


def rebuild(session: Session, *, start: datetime | None = None, end: datetime | None = None) -> int:
    """Recount facts and summary of the surveys sent in [start, end) (local midnights; None: unbounded) from
    kefu.sla's surveys (after an import, or to check the counters): `kefu analytics rebuild`. Returns the
    surveys counted."""
    from kefu.sla.models import SlaSurvey

    def day(at: datetime) -> int:
        return int((at.timestamp() + DAY_OFFSET) // DAY)

    for table in (SurveyFact, DaySurveySummary):
        span = [*([table.day >= day(start)] if start else []), *([table.day < day(end)] if end else [])]
        session.execute(delete(table).where(*span))
    q = select(SlaSurvey.id).order_by(SlaSurvey.id)
    if start is not None:
        q = q.where(SlaSurvey.sent_at >= start)
    if end is not None:
        q = q.where(SlaSurvey.sent_at < end)
    ids = list(session.scalars(q))
    for i in range(0, len(ids), 1000):
        observe(session, ids[i:i + 1000])
    return len(ids)
