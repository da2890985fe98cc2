"""Agent occupancy (占用率) kept from routing's presence events: the seconds each agent spent available, in
after-call work, on a break or not ready, per UTC hour (analytics_agent_hours, migration 0705) and per
local day × org unit (analytics_agent_days, migration 0711: weeks and months read it, a thousand agents' month
is 90,000 rows there and 720,000 hour rows), and the agent's presence since its last change
(analytics_agent_presence).

Occupancy is time on work over staffed time (kefu.analytics.kpi.Staffing): work is handling contacts (the
hotline's handle time of the agent's calls, answer to end, from the contact summaries; a chat or message
thread stays open for hours beside others, so its open time is no measure of the agent's work) plus
after-call work; staffed is available plus after-call work. Per agent over a period, and per interval over
the agents of a subtree.

Each `routing.agent_presence_changed` closes the interval of the agent's previous presence (split over the
hours it spans, added to their hours and their local days with one INSERT ... ON CONFLICT each) and opens
the next. An event older than the presence already seen (a redelivery, or one delivered out of order)
changes nothing; readers add the open interval of each agent's presence up to now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.analytics import kpi
from kefu.analytics.models import AgentDaySummary, AgentHourSummary, AgentPresenceNow
from kefu.analytics.summary import DAY, DAY_OFFSET, bump, writer_lock

#: The presences counted (offline time is no staffed time and is not kept).
COUNTED = ("available", "after_call_work", "break", "not_ready")


def observe(session: Session, user_id: int, presence: str, at: datetime) -> bool:
    """The agent's presence changed to ``presence`` at ``at``; returns whether anything was counted."""
    from kefu.org import service as org

    writer_lock(session, 2)
    t = at.timestamp()
    row = session.get(AgentPresenceNow, user_id, populate_existing=True)
    if row is None:
        user = org.user(session, user_id)
        if user is None:
            return False
        session.add(AgentPresenceNow(user_id=user_id, org_unit_id=user.org_unit_id, presence=presence, since=t))
        session.flush()
        return True
    if t < row.since or (t == row.since and presence == row.presence):
        return False  # older than what was seen, or seen
    if row.presence in COUNTED and t > row.since:
        days: dict[int, float] = {}
        for hour, seconds in kpi.split_by_hour(row.since, t):
            bump(session, AgentHourSummary, {"hour": hour, "user_id": user_id, "presence": row.presence},
                 {"seconds": seconds}, 1, ("seconds",), extra={"org_unit_id": row.org_unit_id})
            days[day_of_hour(hour)] = days.get(day_of_hour(hour), 0.0) + seconds
        for day, seconds in days.items():
            bump(session, AgentDaySummary, {"day": day, "org_unit_id": row.org_unit_id, "user_id": user_id,
                                            "presence": row.presence}, {"seconds": seconds}, 1, ("seconds",))
    row.presence, row.since = presence, t
    session.flush()
    return True


def day_of_hour(hour: int) -> int:
    """The local day (of the daily summaries' zone) holding a UTC hour."""
    return (hour * kpi.HOUR + DAY_OFFSET) // DAY


def presence_seconds(session: Session, start: datetime, end: datetime, *, unit_ids: Sequence[int], now: datetime,
                     hours: int | None = 1, offset: float = 0.0,
                     agents: bool = True) -> dict[tuple[int, int, str], float]:
    """Seconds per (bucket, agent, presence) in [start, end) (whole UTC hours), buckets of ``hours`` hours
    aligned on local time (``offset`` seconds east of UTC; the bucket is its number since the epoch), with
    each agent's current presence counted up to ``now``; ``hours`` None: one bucket (0) for the whole span;
    ``agents`` False: summed over the agents (agent 0). Whole local days of the daily summaries' zone in
    whole-day buckets are read from the day roll-up (a row per agent and day, not per hour)."""
    lo, hi = int(start.timestamp() // kpi.HOUR), -int(-end.timestamp() // kpi.HOUR)
    width = (hours or 1) * kpi.HOUR
    out: dict[tuple[int, int, str], float] = {}

    def add(hour: int, user: int, presence: str, seconds: float) -> None:
        k = (int((hour * kpi.HOUR + offset) // width) if hours is not None else 0, user if agents else 0, presence)
        out[k] = out.get(k, 0.0) + seconds

    whole_days = (lo * kpi.HOUR + DAY_OFFSET) % DAY == 0 and (hi * kpi.HOUR + DAY_OFFSET) % DAY == 0
    t: Any
    if whole_days and (hours is None or (hours % 24 == 0 and offset == DAY_OFFSET)):
        t = AgentDaySummary  # a day's local start is day * DAY: its bucket as its hours'
        bucket = (t.day * DAY) // width
        span = (t.day >= day_of_hour(lo), t.day < day_of_hour(hi))
    else:
        # summed per bucket by the database (a month of a thousand agents is 720,000 hour rows, 4 s in Python)
        t = AgentHourSummary
        bucket = (t.hour * kpi.HOUR + int(offset)) // width
        span = (t.hour >= lo, t.hour < hi)
    keys = [*([bucket] if hours is not None else []), *([t.user_id] if agents else []), t.presence]
    for *key, seconds in session.execute(
            select(*keys, func.sum(t.seconds)).where(*span, t.org_unit_id.in_(list(unit_ids))).group_by(*keys)):
        b = int(key.pop(0)) if hours is not None else 0
        user = key.pop(0) if agents else 0
        out[(b, user, key[0])] = out.get((b, user, key[0]), 0.0) + float(seconds)
    n = AgentPresenceNow
    for user, presence, since in session.execute(
            select(n.user_id, n.presence, n.since).where(n.org_unit_id.in_(list(unit_ids)),
                                                         n.presence.in_(COUNTED))):
        for hour, seconds in kpi.split_by_hour(max(since, lo * kpi.HOUR), min(now.timestamp(), hi * kpi.HOUR)):
            add(hour, user, presence, seconds)
    return out


def staffing(seconds: dict[tuple[int, int, str], float], handling: dict[Any, float],
             key: Any) -> dict[Any, kpi.Staffing]:
    """Re-key presence seconds with ``key((bucket, agent))`` and add the handling seconds (already keyed)."""
    out: dict[Any, kpi.Staffing] = {}
    for (bucket, user, presence), secs in seconds.items():
        if presence not in ("available", "after_call_work"):
            continue
        k = key((bucket, user))
        s = out.setdefault(k, kpi.Staffing())
        if presence == "available":
            s.available += secs
        else:
            s.after_call_work += secs
    for k, secs in handling.items():
        out.setdefault(k, kpi.Staffing()).handling += secs
    return out


def per_agent(session: Session, first: Any, end: Any, *, unit_ids: Sequence[int], now: datetime,
              zone_start: datetime, zone_end: datetime) -> dict[int, kpi.Staffing]:
    """Each agent's staffing over the local days [first, end) (the instants ``zone_start``, ``zone_end``):
    presence from the hours, handling from the agent's hotline calls of the daily summary."""
    from kefu.analytics import summary

    calls = summary.breakdown(session, first, end, by=("agent_id",), unit_ids=unit_ids, channels=["voice"])
    handling = {agent: t.handle_sum for (agent,), t in calls.items() if agent}
    secs = presence_seconds(session, zone_start, zone_end, unit_ids=unit_ids, now=now, hours=None)
    return staffing(secs, handling, lambda k: k[1])


def per_interval(session: Session, grid: Any, *, unit_ids: Sequence[int],
                 now: datetime) -> dict[datetime, kpi.Staffing]:
    """The staffing of the agents of the units per interval of ``grid`` (whole hours): presence from the
    hours, handling from the hotline's calls offered in the interval."""
    from kefu.analytics import service

    hours = grid.minutes // 60
    secs = presence_seconds(session, grid.start, grid.end, unit_ids=unit_ids, now=now, hours=hours,
                            offset=grid.offset, agents=False)
    calls = service.sum_by(service.tallies(session, grid, unit_ids=unit_ids, channels=["voice"]), lambda k: k[0])
    handling = {at: t.handle_sum for at, t in calls.items()}
    return staffing(secs, handling, lambda k: grid.bucket_start(k[0]))


def names(session: Session, agents: Iterable[int]) -> dict[int, str]:
    from kefu.org import service as org

    return {uid: u.display_name for uid, u in org.users(session, [a for a in agents if a]).items()}
