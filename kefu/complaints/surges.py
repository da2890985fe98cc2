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
from kefu.core.errors import NotFound
from kefu.org import service as org
from kefu.tickets.models import Ticket

CONFIG = SurgeConfig()


class SurgeNotFound(NotFound):
    code = "surge_not_found"


def _hour(at: datetime) -> datetime:
    return ensure_aware(at).replace(minute=0, second=0, microsecond=0)


def hourly_counts(session: Session, *, category: str, org_unit_id: int, channel: str, end: datetime,
                  hours: int) -> list[int]:
    """Complaints classified into `category` opened in the `hours` hours before `end` (an hour boundary), in
    the unit, on the channel ("" = none): hourly, oldest first."""
    start = end - timedelta(hours=hours)
    q = (select(Ticket.opened_at).join(Classification, Classification.ticket_id == Ticket.id)
         .where(Classification.predicted_category == category, Ticket.org_unit_id == org_unit_id,
                Ticket.opened_at >= start, Ticket.opened_at < end))
    q = q.where(Ticket.channel.is_(None)) if channel == "" else q.where(Ticket.channel == channel)
    counts = [0] * hours
    for (opened,) in session.execute(q):
        counts[int((ensure_aware(opened) - start).total_seconds() // 3600)] += 1
    return counts


def check(session: Session, ticket_id: int, *, at: datetime | None = None,
          config: SurgeConfig = CONFIG) -> Surge | None:
    """Judge the key of a classified ticket at `at` (its opening); record and announce a new surge."""
    c = session.scalars(select(Classification).where(Classification.ticket_id == ticket_id)).first()
    t = session.get(Ticket, ticket_id)
    if c is None or t is None:
        return None
    at = ensure_aware(at or t.opened_at)
    end = _hour(at) + timedelta(hours=1)  # the window ends with the hour the ticket came in
    channel = t.channel or ""
    category, unit = c.predicted_category, t.org_unit_id
    quiet_since = end - timedelta(hours=config.suppress_hours)
    recent = session.scalar(select(func.count()).select_from(Surge).where(
        Surge.category == category, Surge.org_unit_id == unit, Surge.channel == channel,
        Surge.window_end > quiet_since))
    if recent:
        return None
    hist_hours = config.history_days * 24
    counts = hourly_counts(session, category=category, org_unit_id=unit, channel=channel, end=end,
                           hours=hist_hours + config.window_hours)
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
