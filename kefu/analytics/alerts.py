"""The wall's alerts pushed to supervisors: a periodic check (kefu/analytics/jobs.py, every minute) colours
each org unit's channel tiles and queue tiles as the wall does (kefu.analytics.service.channel_tiles and
queue_tiles, the administrators' thresholds per channel and per queue) and raises an alert for a tile that
turned red (`analytics.alert_raised`) and clears it when it
is red no more (`analytics.alert_cleared`). The live console (kefu/web/live.py) turns those events into a
`wall-alert` notice for the pages that see the unit: every supervisor's console shows the open alerts of
their subtree at once (analytics/_alerts.html), and the wall refreshes. One open alert per unit and tile,
so a tile that stays red raises nothing more. A queue's tile alerts the queue's own unit and the units
above it (target ``queue:<key>``), not the units below that merely see the queue on their wall.

The minute's check recomputes only the units whose tiles can have changed since its last run
(:func:`units_to_check`): those with a contact of today offered, answered or ended since then, a contact or
a routing item waiting now (a longest wait grows with no event), an open alert (to clear it), and the units
above them. Everything else cannot change colour without one of those, except the thresholds and the day
(today's figures start again at local midnight): a changed threshold, a new day, a first run and every
quarter hour (``FULL_EVERY``, a safety net for what no row dates, such as an override removed) check every
unit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu.analytics import service
from kefu.analytics import wall as colours
from kefu.analytics.models import WallAlert
from kefu.core import events

#: How many open alerts the console shows.
SHOWN = 10


#: Every unit is checked on the minutes that are a multiple of this.
FULL_EVERY = 15
#: How far before the last run the activity is looked at again (a transaction that committed late).
SLACK = timedelta(minutes=2)


def units_to_check(session: Session, *, now: datetime, since: datetime | None) -> set[int] | None:
    """The org units whose tiles can have changed since ``since`` (the last run), or None for every unit
    (no last run, a new day, a changed threshold, the quarter-hour full check)."""
    from kefu.analytics.models import ContactFact, WallThreshold
    from kefu.org.models import OrgUnit
    from kefu.routing.models import RoutingItem, RoutingQueue

    midnight = service.local_midnight(now)
    if since is None or since < midnight or now.minute % FULL_EVERY == 0:
        return None
    if session.scalar(select(WallThreshold.id).where(WallThreshold.updated_at > since - SLACK).limit(1)) is not None:
        return None
    t0 = (since - SLACK).timestamp()
    f = ContactFact
    active: set[int] = set(session.scalars(select(f.org_unit_id).distinct().where(
        f.hour >= int(midnight.timestamp() // 3600), or_(f.offered > t0, f.answered > t0, f.ended > t0))))
    active |= set(session.scalars(select(f.org_unit_id).distinct().where(
        f.pending.is_(True), f.offered >= (now - service.WAITING_LOOKBACK - SLACK).timestamp())))
    active |= set(session.scalars(select(RoutingQueue.org_unit_id).distinct().join(
        RoutingItem, RoutingItem.queue_key == RoutingQueue.key).where(RoutingItem.state == "waiting")))
    active |= set(session.scalars(select(WallAlert.org_unit_id).distinct().where(WallAlert.cleared_at.is_(None))))
    if not active:
        return set()
    paths: dict[int, str] = {i: p for i, p in session.execute(select(OrgUnit.id, OrgUnit.path))}
    prefixes = {paths[u] for u in active if u in paths}
    return {u for u, path in paths.items() if any(p.startswith(path) for p in prefixes)}


def check(session: Session, *, now: datetime, since: datetime | None = None) -> tuple[list[int], list[int]]:
    """Raise and clear the alerts of the org units whose tiles can have changed since ``since`` (the last
    run; None: of every unit); returns (raised, cleared) alert ids."""
    from kefu.org import service as org
    from kefu.org.models import OrgUnit

    only = units_to_check(session, now=now, since=since)
    if only is not None and not only:
        return [], []
    overrides = service.thresholds(session)
    open_: dict[tuple[int, str], WallAlert] = {
        (a.org_unit_id, a.target): a for a in session.scalars(select(WallAlert).where(WallAlert.cleared_at.is_(None)))}
    raised, cleared = [], []
    units = select(OrgUnit).order_by(OrgUnit.path)
    for unit in session.scalars(units if only is None else units.where(OrgUnit.id.in_(only))):
        unit_ids = org.subtree_ids(session, unit.path)
        tiles = service.channel_tiles(session, unit_ids, now=now, overrides=overrides)
        queues = [q for q in service.queue_tiles(session, unit_ids, unit.path, now=now, overrides=overrides)
                  if q.stats.queue.org_unit_id in unit_ids]  # a queue alerts its own unit and those above it
        red = {f"channel:{t.channel}": _red(t.levels) for t in tiles if t.levels["tile"] == colours.RED}
        red |= {f"queue:{q.stats.queue.key}": _red(q.levels) for q in queues if q.levels["tile"] == colours.RED}
        for target, metrics in red.items():
            alert = open_.pop((unit.id, target), None)
            if alert is not None:
                alert.metrics = ",".join(metrics)  # still red (perhaps on other figures): no new alert
                continue
            alert = WallAlert(org_unit_id=unit.id, target=target, metrics=",".join(metrics), raised_at=now)
            session.add(alert)
            session.flush()
            events.record(session, "analytics.alert_raised", {"alert_id": alert.id, "target": target,
                                                              "metrics": metrics},
                          aggregate_type="analytics_alert", aggregate_id=alert.id, org_unit_id=unit.id, at=now)
            raised.append(alert.id)
        for (unit_id, target), alert in list(open_.items()):
            if unit_id == unit.id:
                alert.cleared_at = now
                events.record(session, "analytics.alert_cleared", {"alert_id": alert.id, "target": target},
                              aggregate_type="analytics_alert", aggregate_id=alert.id, org_unit_id=unit.id, at=now)
                cleared.append(alert.id)
                del open_[(unit_id, target)]
    session.flush()
    return raised, cleared


def _red(levels: dict[str, str]) -> list[str]:
    return [m for m in colours.METRICS if levels.get(m) == colours.RED]


def open_alerts(session: Session, unit_ids: list[int]) -> list[WallAlert]:
    """The open alerts of these units, newest first."""
    return list(session.scalars(select(WallAlert).where(WallAlert.cleared_at.is_(None),
                                                        WallAlert.org_unit_id.in_(unit_ids))
                                .order_by(WallAlert.raised_at.desc(), WallAlert.id.desc()).limit(SHOWN)))
