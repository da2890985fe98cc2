"""The handoff report kept from events: per local day × org unit × from channel × to channel, the handoffs
offered, opened, completed (the effect: finished in the other channel, not returned to the hotline within
``handoff_return_hours``), returned and the hotline seconds the completed ones saved, and the hotline's
inbound calls (the handoff rate's denominator) (analytics_daily_handoffs, migration 0713), so a month's
handoff report reads a few hundred summary rows instead of counting the month's calls.

Each handoff and each inbound hotline call has a fact row (analytics_handoff_facts) with what the summary
counted of it; observing nets the old contribution against the new (kefu.analytics.summary.net_facts): a
redelivered event changes nothing. The consumer (kefu/analytics/consumers.py) observes the handoff of
`handoff.offered / opened / completed / returned` and the interaction of `interaction.opened / updated`;
:func:`rebuild` recounts from the raw tables (`kefu analytics rebuild`). The figures are those of
kefu.handoffs.service.stats (which counts the raw rows, for another zone than China's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from kefu.analytics.models import HANDOFF_SUMS, DayHandoffSummary, HandoffFact
from kefu.analytics.summary import (
    DAY,
    DAY_OFFSET,
    chunks,
    day_number,
    net_change,
    net_facts,
    unseen,
    writer_lock,
)

KEYS = ("day", "org_unit_id", "from_channel", "to_channel")
HANDOFF_EVENTS = ("handoff.offered", "handoff.opened", "handoff.completed", "handoff.returned")
CALL_EVENTS = ("interaction.opened", "interaction.updated")


def _day(at: datetime) -> int:
    return int((at.timestamp() + DAY_OFFSET) // DAY)


def handoff_fact(h: Any) -> dict[str, Any]:
    """The fact row a handoff (kefu.handoffs.models.Handoff) makes now."""
    return {"kind": "handoff", "ref_id": h.id, "day": _day(h.offered_at), "org_unit_id": h.org_unit_id,
            "from_channel": h.from_channel, "to_channel": h.to_channel, "status": h.status,
            "opened": h.opened_at is not None,
            "saved_seconds": float(h.saved_seconds or 0.0) if h.status == "completed" else 0.0}


def call_fact(it: Any) -> dict[str, Any] | None:
    """The fact row an interaction makes now: one for an inbound hotline call, none otherwise."""
    if it.channel != "voice" or it.direction != "inbound":
        return None
    return {"kind": "call", "ref_id": it.id, "day": _day(it.offered_at), "org_unit_id": it.org_unit_id,
            "from_channel": "voice", "to_channel": "", "status": "", "opened": False, "saved_seconds": 0.0}


def sums_of(f: dict[str, Any] | None) -> dict[str, Any] | None:
    if f is None:
        return None
    if f["kind"] == "call":
        return {"calls": 1, "offered": 0, "opened": 0, "completed": 0, "returned": 0, "saved_seconds": 0.0}
    return {"calls": 0, "offered": 1, "opened": int(bool(f["opened"])), "completed": int(f["status"] == "completed"),
            "returned": int(f["status"] == "returned"), "saved_seconds": f["saved_seconds"]}


def _deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Any]:
    return [(DayHandoffSummary, key, change)
            for key, change in net_change(old, sums_of(old), new, sums_of(new), KEYS, HANDOFF_SUMS)]


def observe(session: Session, *, handoffs: Iterable[int] = (), calls: Iterable[int] = (),
            seen: set[tuple[str, int]] | None = None) -> int:
    """Bring facts and summary up to date with these handoffs and interactions as they are now (one gone, or
    an interaction that is no inbound call: taken out); returns how many facts changed. ``seen``: the
    ("handoff" | "call", id) observed already in this transaction (skipped; the others added)."""
    from kefu.handoffs.models import Handoff
    from kefu.interactions.models import Interaction

    work = unseen({"handoff": handoffs, "call": calls}, seen)
    if not work:
        return 0
    writer_lock(session, 4)
    cols = HandoffFact.__table__.c
    olds: dict[tuple[str, int], dict[str, Any]] = {}
    news: dict[tuple[str, int], dict[str, Any]] = {}
    sources: list[tuple[str, Any, Any]] = [("handoff", Handoff, handoff_fact), ("call", Interaction, call_fact)]
    for kind, table, make in sources:
        refs = [ref for k, ref in work if k == kind]
        for part in chunks(refs):
            olds.update(((kind, r["ref_id"]), dict(r)) for r in session.execute(
                select(*cols).where(cols.kind == kind, cols.ref_id.in_(part))).mappings())
            for row in session.scalars(select(table).where(table.id.in_(part))
                                       .execution_options(populate_existing=True)):
                fact = make(row)
                if fact is not None:
                    news[(kind, row.id)] = fact
    changed, gone, added = net_facts(session, work, olds, news, _deltas)
    for kind in ("handoff", "call"):
        for part in chunks([ref for k, ref in gone if k == kind]):
            session.execute(delete(HandoffFact).where(HandoffFact.kind == kind, HandoffFact.ref_id.in_(part)))
    if added:
        session.execute(insert(HandoffFact), added)
    session.flush()
    return changed


def stats(session: Session, first: date, end: date, *, unit_ids: Sequence[int]) -> Any:
    """kefu.handoffs.service.stats of the local days [first, end) in these units, from the summary."""
    from kefu.handoffs.service import DirectionStats, HandoffStats

    d = DayHandoffSummary
    rows = session.execute(
        select(d.from_channel, d.to_channel, *(func.sum(getattr(d, n)) for n in HANDOFF_SUMS))
        .where(d.day >= day_number(first), d.day < day_number(end), d.org_unit_id.in_(list(unit_ids)))
        .group_by(d.from_channel, d.to_channel)).all()
    calls = sum(int(r[2] or 0) for r in rows)
    dirs = [DirectionStats(f, t, int(offered or 0), int(opened or 0), int(done or 0), int(back or 0))
            for f, t, _, offered, opened, done, back, _ in rows]
    return HandoffStats.of(calls, dirs, sum(float(r[7] or 0.0) for r in rows))


def rebuild(session: Session, *, start: datetime | None = None, end: datetime | None = None) -> int:
    """Recount facts and summary of the handoffs and inbound hotline calls offered in [start, end) (local
    midnights; None: unbounded) from the raw tables: `kefu analytics rebuild`. Returns the facts counted."""
    from kefu.handoffs.models import Handoff
    from kefu.interactions.models import Interaction as i

    for table in (HandoffFact, DayHandoffSummary):
        span = [*([table.day >= _day(start)] if start else []), *([table.day < _day(end)] if end else [])]
        session.execute(delete(table).where(*span))
    counted = 0
    for kind, q in (
            ("handoff", select(Handoff.id).order_by(Handoff.id)),
            ("call", select(i.id).where(i.channel == "voice", i.direction == "inbound").order_by(i.id))):
        col = Handoff.offered_at if kind == "handoff" else i.offered_at
        if start is not None:
            q = q.where(col >= start)
        if end is not None:
            q = q.where(col < end)
        ids = list(session.scalars(q))
        for n in range(0, len(ids), 1000):
            part = ids[n:n + 1000]
            counted += (observe(session, handoffs=part) if kind == "handoff" else observe(session, calls=part))
    return counted
