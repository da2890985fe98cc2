"""The wall's alerts pushed to supervisors: a periodic check (kefu/analytics/jobs.py, every minute) colours
each org unit's channel tiles and queue tiles as the wall does (kefu.analytics.service.channel_tiles and
queue_tiles, the administrators' thresholds per channel and per queue) and raises an alert for a tile that
turned red (`analytics.alert_raised`) and clears it when it
is red no more (`analytics.alert_cleared`). The live console (kefu/web/live.py) turns those events into a
`wall-alert` notice for the pages that see the unit: every supervisor's console shows the open alerts of
their subtree at once (analytics/_alerts.html), and the wall refreshes. One open alert per unit and tile,
so a tile that stays red raises nothing more. A queue's tile alerts the queue's own unit and the units
above it (target ``queue:<key>``), not the units below that merely see the queue on their wall.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import service
from kefu.analytics import wall as colours
from kefu.analytics.models import WallAlert
from kefu.core import events

#: How many open alerts the console shows.
SHOWN = 10


def check(session: Session, *, now: datetime) -> tuple[list[int], list[int]]:
    """Raise and clear the alerts of every org unit; returns (raised, cleared) alert ids."""
    from kefu.org import service as org
    from kefu.org.models import OrgUnit

    overrides = service.thresholds(session)
    open_: dict[tuple[int, str], WallAlert] = {
        (a.org_unit_id, a.target): a for a in session.scalars(select(WallAlert).where(WallAlert.cleared_at.is_(None)))}
    raised, cleared = [], []
    for unit in session.scalars(select(OrgUnit).order_by(OrgUnit.path)):
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
