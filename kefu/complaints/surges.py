"""Complaint surges in the product: after each classification, the ticket's key (predicted category × city ×
channel) is judged by the pure detector (kefu/complaints/surge.py) on its hourly counts; a surge not already
alerted within the quiet period is recorded and announced as `complaint.surge_detected` (the playbooks
consume it). Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.complaints.models import Classification, Surge
from kefu.complaints.surge import SurgeConfig, hour_of_week, judge
from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import ensure_aware, utcnow
from kefu.core.db import among
from kefu.core.errors import NotFound
from kefu.org import service as org
from kefu.tickets.models import Ticket

CONFIG = SurgeConfig()


class SurgeNotFound(NotFound):
    code = "surge_not_found"


def _hour(at: datetime) -> datetime:
    return ensure_aware(at).replace(minute=0, second=0, microsecond=0)


def _hourly_many(session: Session, keys: list[tuple[str, int, str, datetime]], hours: int
                 ) -> dict[tuple[str, int, str, datetime], list[int]]:
    """Each key's (category, unit, channel ("" = none), window end: an hour boundary) complaints classified
    into the category opened in the `hours` hours before its end, in the unit, on the channel: hourly, oldest
    first. Counted by the database in one query, an hour a row, from the earliest window's start to the
    latest end."""
    from kefu.analytics.sql import epoch, ifloor

    if not keys:
        return {}
    base = min(end for *_, end in keys) - timedelta(hours=hours)
    last = max(end for *_, end in keys)
    hour = ifloor((epoch(Ticket.opened_at) - base.timestamp()) / 3600)
    channel = func.coalesce(Ticket.channel, "")
    q = (select(Classification.predicted_category, Ticket.org_unit_id, channel, hour, func.count())
         .join(Classification, Classification.ticket_id == Ticket.id)
         .where(among(session, Classification.predicted_category, {k[0] for k in keys}),
                among(session, Ticket.org_unit_id, {k[1] for k in keys}),
                Ticket.opened_at >= base, Ticket.opened_at < last)
         .group_by(Classification.predicted_category, Ticket.org_unit_id, channel, hour))
    found: dict[tuple[str, int, str], dict[int, int]] = {}
    for cat, unit, ch, h, n in session.execute(q):
        by_hour = found.setdefault((cat, unit, ch), {})
        by_hour[int(h)] = by_hour.get(int(h), 0) + n
    out = {}
    for key in keys:
        first = round((key[3] - base).total_seconds()) // 3600 - hours  # the key's first hour from `base`
        by_hour = found.get(key[:3], {})
        out[key] = [by_hour.get(first + i, 0) for i in range(hours)]
    return out


def check(session: Session, ticket_id: int, *, at: datetime | None = None,
          config: SurgeConfig = CONFIG) -> Surge | None:
    """Judge the key of a classified ticket at `at` (its opening); record and announce a new surge."""
    return check_many(session, [(ticket_id, at)], config=config)[0]


def check_many(session: Session, work: list[tuple[int, datetime | None]], *,
               config: SurgeConfig = CONFIG) -> list[Surge | None]:
    """`check` for each (ticket, time) in turn: the tickets' classifications are read with one query, and the
    keys' recent surges and hourly counts with one query each (a surge recorded meanwhile is counted)."""
    ids = {tid for tid, _ in work}
    classified = {c.ticket_id: c for c in session.scalars(select(Classification)
                                                           .where(among(session, Classification.ticket_id, ids)))}
    keys: list[tuple[str, int, str, datetime] | None] = []
    for ticket_id, at in work:
        c, t = classified.get(ticket_id), session.get(Ticket, ticket_id)
        if c is None or t is None:
            keys.append(None)
            continue
        end = _hour(ensure_aware(at or t.opened_at)) + timedelta(hours=1)  # the window ends with the ticket's hour
        keys.append((c.predicted_category, t.org_unit_id, t.channel or "", end))
    distinct = list(dict.fromkeys(k for k in keys if k is not None))
    alerted = _alerted_many(session, distinct, timedelta(hours=config.suppress_hours))
    history: dict[tuple[str, int, str, datetime], list[int]] = {}
    out: list[Surge | None] = []
    for key in keys:
        if key is None or alerted[key]:
            out.append(None)
            continue
        if not history:  # the counts of every key not alerted, at once (only when one is judged)
            history = _hourly_many(session, [k for k in distinct if not alerted[k]],
                                   config.history_days * 24 + config.window_hours)
        s = _judged(session, *key, history[key], config)
        if s is not None:  # the key is quiet now, at every window end this batch judges it at
            alerted.update({k: True for k in alerted if k[:3] == key[:3] and k[3] - timedelta(
                hours=config.suppress_hours) < s.window_end})
        out.append(s)
    return out


def _alerted_many(session: Session, keys: list[tuple[str, int, str, datetime]], suppress: timedelta
                  ) -> dict[tuple[str, int, str, datetime], bool]:
    """Whether each key (category, unit, channel, window end) had a surge whose window ended within
    `suppress` before its end (or after it), in one query."""
    if not keys:
        return {}
    since = min(end for *_, end in keys) - suppress
    latest: dict[tuple[str, int, str], datetime] = {}
    for cat, unit, ch, last in session.execute(
            select(Surge.category, Surge.org_unit_id, Surge.channel, func.max(Surge.window_end))
            .where(among(session, Surge.category, {k[0] for k in keys}),
                   among(session, Surge.org_unit_id, {k[1] for k in keys}), Surge.window_end > since)
            .group_by(Surge.category, Surge.org_unit_id, Surge.channel)):
        latest[(cat, unit, ch)] = ensure_aware(last)
    return {k: k[:3] in latest and latest[k[:3]] > k[3] - suppress for k in keys}


def _judged(session: Session, category: str, unit: int, channel: str, end: datetime, counts: list[int],
            config: SurgeConfig) -> Surge | None:
    """Judge a key's hourly counts (history, then the window ending at `end`); record a surge if it is one."""
    window = counts[-config.window_hours:]
    if sum(window) < config.min_count:
        return None
    window_start = end - timedelta(hours=config.window_hours)
    v = judge(counts[:-config.window_hours], window, hour_of_week(window_start), config)
    if not v.surge:
        return None
    s = Surge(category=category, org_unit_id=unit, channel=channel, window_start=window_start,
              window_end=end, observed=v.observed, expected=round(v.expected, 4), p_value=v.p_value,
              status="open", detected_at=utcnow())
    session.add(s)
    session.flush()
    events.record(session, "complaint.surge_detected",
                  {"surge_id": s.id, "category": s.category, "org_unit_id": s.org_unit_id, "channel": channel,
                   "window_start": window_start.isoformat(), "window_end": end.isoformat(),
                   "observed": v.observed, "expected": round(v.expected, 3), "ratio": round(v.ratio, 2),
                   "p_value": v.p_value},
                  aggregate_type="complaint_surge", aggregate_id=s.id, org_unit_id=s.org_unit_id)
    return s


@dataclass(frozen=True)
class SurgePage:
    items: list[Surge]
    total: int


def list_visible(session: Session, principal: Principal, *, status: str | None, limit: int,
                 offset: int) -> SurgePage:
    units = org.visible_unit_ids(session, principal)
    conds: list[Any] = [Surge.org_unit_id.in_(units)]
    if status:
        conds.append(Surge.status == status)
    total = session.scalar(select(func.count()).select_from(Surge).where(*conds)) or 0
    items = list(session.scalars(select(Surge).where(*conds).order_by(Surge.detected_at.desc(), Surge.id.desc())
                                 .limit(limit).offset(offset)))
    return SurgePage(items, total)


def get_visible(session: Session, principal: Principal, surge_id: int) -> Surge:
    s = session.get(Surge, surge_id)
    if s is None or s.org_unit_id not in set(org.visible_unit_ids(session, principal)):
        raise SurgeNotFound(f"surge {surge_id} not found")
    return s


def acknowledge(session: Session, principal: Principal, surge_id: int, *, at: datetime | None = None) -> Surge:
    s = get_visible(session, principal, surge_id)
    if s.status == "open":
        s.status = "acknowledged"
        s.acknowledged_by_id, s.acknowledged_at = principal.user_id, at or utcnow()
        session.flush()
    return s
