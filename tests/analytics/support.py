"""A small generated day of contacts and complaints for the analytics tests, with known figures."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kefu.interactions.models import Interaction
from kefu.tickets.models import Ticket

# 2026-03-02 00:00 in China (UTC+8).
DAY0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


def call(session: Session, unit: int, at: datetime, *, wait: float | None = None, talk: float | None = None,
         abandon_after: float | None = None, channel: str = "voice", customer_id: int | None = None,
         queued: bool = True, outcome: str | None = None) -> Interaction:
    """A contact offered at ``at``: answered after ``wait`` s and ended ``talk`` s later, or abandoned after
    ``abandon_after`` s, or still waiting (neither)."""
    queued_at = at + timedelta(seconds=2) if channel == "voice" and queued else None
    start = queued_at or at
    it = Interaction(org_unit_id=unit, channel=channel, direction="inbound", offered_at=at, queued_at=queued_at,
                     customer_id=customer_id, status="open")
    if wait is not None:
        it.answered_at = start + timedelta(seconds=wait)
        if talk is not None:
            it.ended_at = it.answered_at + timedelta(seconds=talk)
            it.status, it.outcome = "closed", outcome or "answered"
    elif abandon_after is not None:
        it.ended_at = start + timedelta(seconds=abandon_after)
        it.status, it.outcome = "closed", outcome or "abandoned"
    elif outcome is not None:
        it.ended_at, it.status, it.outcome = at + timedelta(seconds=30), "closed", outcome
    session.add(it)
    return it


def counted(session: Session, contacts: list[Interaction]) -> None:
    """Bring the summary tables up to date with these contacts, as the events consumer does."""
    from kefu.analytics import summary

    session.flush()
    summary.observe(session, [c.id for c in contacts])


def random_day(session: Session, units: list[int], n: int, seed: int = 1) -> list[Interaction]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        at = DAY0 + timedelta(seconds=rng.randrange(0, 86_400), milliseconds=rng.randrange(0, 1000))
        kind = rng.random()
        ch = rng.choice(["voice", "voice", "sms", "wechat"])
        unit = rng.choice(units)
        if kind < 0.6:
            out.append(call(session, unit, at, wait=rng.choice([0, 5, 15, 15.5, 20, 20.001, 60]),
                            talk=rng.randrange(30, 600), channel=ch))
        elif kind < 0.7:
            out.append(call(session, unit, at, wait=rng.randrange(0, 40), channel=ch))
        elif kind < 0.85:
            out.append(call(session, unit, at, abandon_after=rng.choice([1, 4.999, 5, 30]), channel=ch))
        elif kind < 0.9:
            out.append(call(session, unit, at, channel=ch, outcome="self_served", queued=False))
        elif kind < 0.95:
            out.append(call(session, unit, at, channel="voice", queued=False))  # still in the IVR
        else:
            out.append(call(session, unit, at, channel=ch))
    session.flush()
    return out


def complaint(session: Session, unit: int, opened: datetime, *, customer_id: int | None = None,
              replied_after_days: float | None = None, type: str = "complaint", category_id: int | None = None,
              channel: str = "voice") -> Ticket:
    t = Ticket(type=type, subject="测试投诉", org_unit_id=unit, customer_id=customer_id, channel=channel,
               category_id=category_id, opened_at=opened, updated_at=opened, status="new",
               reply_due_at=opened + timedelta(days=15) if type == "complaint" else None)
    if replied_after_days is not None:
        t.first_reply_at = opened + timedelta(days=replied_after_days)
    session.add(t)
    session.flush()
    return t


def province_day_report(client: Any, province: int, day: date) -> tuple[str, list[list[str]]]:
    """The province's daily report of ``day`` as its supervisor reads it: the page and the CSV export's rows."""
    import csv
    import io

    from tests.web.conftest import login

    login(client, "sup_gd")
    q = f"period=day&day={day.isoformat()}&unit={province}"
    page = client.get(f"/console/reports?{q}").text
    return page, list(csv.reader(io.StringIO(client.get(f"/console/reports/export.csv?{q}").text.lstrip("\ufeff"))))


def redeliver_presence(db: Any, n: int) -> None:
    """Hand the ``n``-th agent presence event (from 0) to the occupancy consumer again, as a redelivery."""
    from sqlalchemy import select

    from kefu.analytics import consumers
    from kefu.core import events

    with db.unit_of_work() as s:
        ev = s.scalars(select(events.OutboxEvent).where(events.OutboxEvent.name == "routing.agent_presence_changed")
                       .order_by(events.OutboxEvent.id)).all()[n]
        consumers.on_presence_event(s, events.Event(ev.id, ev.name, ev.aggregate_type, ev.aggregate_id,
                                                    ev.org_unit_id, ev.payload, ev.occurred_at))
