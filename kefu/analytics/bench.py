"""`kefu bench wall`: KPI query latency on a realistic day (default 100,000 contacts in one province's
three cities), against a plain COUNT over the same rows of the same table measured in the same run."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from kefu.core.db import Database

DAY = date(2026, 3, 2)


def generate(db: Database, contacts: int, seed: int = 7) -> dict[str, Any]:
    """One local day of contacts: 60 % calls (answered, abandoned, IVR-only), the rest messages and chats."""
    from decimal import Decimal

    from kefu.analytics.reports import local_instant
    from kefu.core.auth import Principal
    from kefu.interactions.models import Interaction
    from kefu.org import service as org

    rng = random.Random(seed)
    with db.unit_of_work() as s:
        g = org.create_org_unit(s, kind="group", code="G", name="集团")
        p = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=g.id)
        cities = [org.create_org_unit(s, kind="city", code=c, name=n, parent_id=p.id)
                  for c, n in (("GZ", "广州"), ("SZ", "深圳"), ("FS", "佛山"))]
        sup = org.create_user(s, username="sup", display_name="值班长", role="supervisor", org_unit_id=p.id,
                              password="bench-pass-123")
        principal = Principal(sup.id, sup.username, sup.display_name, sup.role, p.id, p.path, Decimal(0))
    t0 = local_instant(DAY)
    rows = []
    channels = ["voice"] * 6 + ["sms", "wechat", "app", "webchat"]
    for _ in range(contacts):
        at = t0 + timedelta(seconds=rng.random() * 86_400)
        ch = rng.choice(channels)
        r = rng.random()
        row: dict[str, Any] = {"org_unit_id": rng.choice(cities).id, "channel": ch, "direction": "inbound",
                               "offered_at": at, "status": "closed"}
        start = at
        if ch == "voice":
            if r < 0.25:
                row.update(outcome="self_served", ended_at=at + timedelta(seconds=60))
                rows.append(row)
                continue
            start = at + timedelta(seconds=rng.uniform(20, 90))
            row["queued_at"] = start
        if r < 0.85:
            ans = start + timedelta(seconds=rng.expovariate(1 / 15))
            row.update(answered_at=ans, ended_at=ans + timedelta(seconds=rng.expovariate(1 / 240)),
                       outcome="answered")
        else:
            row.update(ended_at=start + timedelta(seconds=rng.expovariate(1 / 40)), outcome="abandoned")
        rows.append(row)
    with db.unit_of_work() as s:
        for i in range(0, len(rows), 10_000):
            s.execute(insert(Interaction), rows[i:i + 10_000])
    return {"principal": principal, "province": p, "start": t0, "end": t0 + timedelta(days=1)}


def timed(fn: Callable[[], Any], repeats: int) -> float:
    """Median seconds of ``repeats`` runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(db: Database, contacts: int, repeats: int, echo: Callable[[str], None]) -> None:
    from kefu.analytics import reports, service
    from kefu.analytics.service import Grid
    from kefu.interactions.models import Interaction
    from kefu.org import service as org

    t = time.perf_counter()
    w = generate(db, contacts)
    echo(f"generated {contacts:,} contacts of one day in {time.perf_counter() - t:.1f} s ({db.engine.dialect.name})")
    start, end = w["start"], w["end"]
    with db.session() as s:
        units = org.subtree_ids(s, w["province"].path)
        i = Interaction

        def reference() -> Any:
            return s.scalar(select(func.count()).select_from(i).where(
                i.org_unit_id.in_(units), i.offered_at >= start, i.offered_at < end))

        def scan() -> Any:
            return s.scalar(select(func.count(i.answered_at)).where(
                i.org_unit_id.in_(units), i.offered_at >= start, i.offered_at < end))

        def intervals() -> Any:
            return service.contact_tallies(s, Grid(start, end, 15), unit_ids=units)

        def day() -> Any:
            return service.contact_tallies(s, Grid(start, end), unit_ids=units)

        def wall() -> Any:
            return service.wall(s, w["principal"], now=end - timedelta(hours=1))

        def report() -> Any:
            return reports.build(s, period="day", start=DAY, unit_id=w["province"].id, unit_ids=units,
                                 channel=None, now=end + timedelta(days=1))

        ref = timed(reference, repeats)
        echo(f"reference: COUNT(*) of the day's rows ({reference():,}): {ref * 1000:.1f} ms")
        sc = timed(scan, repeats)
        echo(f"reference: COUNT(answered_at) of the same rows (reads each row): {sc * 1000:.1f} ms")
        for name, fn in (("KPI tallies per 15 min x channel x unit", intervals),
                         ("KPI tallies per day x channel x unit", day),
                         ("supervisor wall (all tiles)", wall),
                         ("daily report (by hour, complaints, FCR)", report)):
            dt = timed(fn, repeats)
            echo(f"{name}: {dt * 1000:.1f} ms ({dt / ref:.1f} x the COUNT, {dt / sc:.1f} x the row scan)")
