"""`kefu bench wall`: KPI query latency on a realistic day (default 100,000 contacts in one province's
three cities), against a plain COUNT over the same rows of the same table measured in the same run; the
summaries' rebuild from those rows, timed. `kefu bench reports`: the reports and the wall over the summary
rows that 10 million interactions make, against a SUM over the same summary rows."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, literal, select

from kefu.core.db import Database

DAY = date(2026, 3, 2)


def _world(db: Database, cities: int = 3) -> dict[str, Any]:
    """A group, a province (广东) and its cities, a provincial supervisor."""
    from decimal import Decimal

    from kefu.core.auth import Principal
    from kefu.org import service as org

    names = [("GZ", "广州"), ("SZ", "深圳"), ("FS", "佛山")] + [(f"C{i:02d}", f"城市{i:02d}") for i in range(3, cities)]
    with db.unit_of_work() as s:
        g = org.create_org_unit(s, kind="group", code="G", name="集团")
        p = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=g.id)
        units = [org.create_org_unit(s, kind="city", code=c, name=n, parent_id=p.id) for c, n in names[:cities]]
        sup = org.create_user(s, username="sup", display_name="值班长", role="supervisor", org_unit_id=p.id,
                              password="bench-pass-123")
        principal = Principal(sup.id, sup.username, sup.display_name, sup.role, p.id, p.path, Decimal(0))
    return {"principal": principal, "province": p, "cities": [u.id for u in units]}


def generate(db: Database, contacts: int, seed: int = 7, days: int = 1) -> dict[str, Any]:
    """``days`` local days (from DAY) of contacts: 60 % calls (answered, abandoned, IVR-only), the rest
    messages and chats."""
    from kefu.analytics.reports import local_instant
    from kefu.interactions.models import Interaction

    rng = random.Random(seed)
    w = _world(db)
    cities = w["cities"]
    t0 = local_instant(DAY)
    rows = []
    channels = ["voice"] * 6 + ["sms", "wechat", "app", "webchat"]
    span = 86_400 * days
    for _ in range(contacts):
        at = t0 + timedelta(seconds=rng.random() * span)
        ch = rng.choice(channels)
        r = rng.random()
        row: dict[str, Any] = {"org_unit_id": rng.choice(cities), "channel": ch, "direction": "inbound",
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
        if len(rows) == 10_000:
            _insert(db, Interaction, rows)
            rows = []
    _insert(db, Interaction, rows)
    return {**w, "start": t0, "end": t0 + timedelta(days=days)}


def _insert(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        with db.unit_of_work() as s:
            s.execute(insert(table), rows)


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
    from kefu.analytics import reports, service, summary
    from kefu.analytics.service import Grid
    from kefu.interactions.models import Interaction
    from kefu.org import service as org

    t = time.perf_counter()
    w = generate(db, contacts)
    echo(f"generated {contacts:,} contacts of one day in {time.perf_counter() - t:.1f} s ({db.engine.dialect.name})")
    start, end = w["start"], w["end"]
    t = time.perf_counter()
    with db.unit_of_work() as s:
        counted = summary.rebuild(s)
    echo(f"summary tables rebuilt from the raw rows ({counted:,} contacts) in {time.perf_counter() - t:.1f} s")
    analyze(db)
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
        for name, fn in (("KPI tallies per 15 min x channel x unit (raw rows)", intervals),
                         ("KPI tallies per day x channel x unit (raw rows)", day),
                         ("supervisor wall (all tiles, summary tables)", wall),
                         ("daily report (by hour from the summaries; complaints, FCR raw)", report)):
            dt = timed(fn, repeats)
            echo(f"{name}: {dt * 1000:.1f} ms ({dt / ref:.1f} x the COUNT, {dt / sc:.1f} x the row scan)")


# ---- `kefu bench reports`: the summary tables at the scale ------------------------------------------

#: Contacts by local hour of the day (a call centre's day: quiet at night, peaks at 10:00 and 15:00).
HOURLY_PROFILE = [2, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 19, 15, 16, 18, 20, 18, 15, 12, 11, 10, 8, 5, 3]
CHANNEL_SHARE = {"voice": 55, "sms": 6, "email": 2, "wechat": 14, "im": 3, "weibo": 1, "app": 9, "web": 4,
                 "webchat": 6}
CATEGORIES = ["", "billing", "network", "plan", "broadband", "roaming", "vas", "device", "service", "number",
              "privacy"]
TIERS = ["", "standard", "silver", "gold", "diamond"]


def _sums(rng: random.Random, n: int, media: str) -> dict[str, Any]:
    """The summary sums of ``n`` settled contacts (and a few pending), drawn as a day of them would be."""
    answered = round(n * rng.uniform(0.82, 0.95))
    abandoned = n - answered
    asa = 12.0 if media == "voice" else 90.0
    return {"offered": n, "answered": answered, "within_15": round(answered * rng.uniform(0.7, 0.9)),
            "within_20": round(answered * rng.uniform(0.85, 0.95)), "abandoned": abandoned,
            "short_abandoned": round(abandoned * 0.2), "wait_sum": answered * asa * rng.uniform(0.7, 1.3),
            "handled": answered, "handle_sum": answered * rng.uniform(150, 400), "pending": 0}


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """``total`` cut in parts proportional to ``weights`` (with a little noise), summing to ``total``."""
    w = [x * rng.uniform(0.8, 1.2) for x in weights]
    scale = total / sum(w)
    parts = [int(x * scale) for x in w]
    parts[rng.randrange(len(parts))] += total - sum(parts)
    return parts


def _quality(rng: random.Random, n: int) -> dict[str, int]:
    """The complaint, appeal and first-contact sums of ``n`` contacts (about 4 complaints per 1,000)."""
    complaints = round(n * rng.uniform(0.002, 0.006))
    replied = round(complaints * rng.uniform(0.85, 0.95))
    late = round(replied * 0.05)
    contacts = round(n * 0.7)
    return {"complaints": complaints, "complaint_repeats": round(complaints * rng.uniform(0.05, 0.15)),
            "replied_on_time": replied - late, "replied_late": late, "unreplied": complaints - replied,
            "appeals": round(complaints * rng.uniform(0.0, 0.05)), "contacts": contacts,
            "contacts_returned": round(contacts * rng.uniform(0.1, 0.3))}


#: The channels a customer's contacts go through before a complaint, as the path summary keys them.
PATH_CHANNELS = ["voice"] * 6 + ["wechat"] * 2 + ["app", "sms", "web", "webchat"]


def _paths(rng: random.Random, n: int = 40) -> list[str]:
    """``n`` distinct channel paths of one to four channels (the most common first: a hotline call)."""
    out = [""]
    while len(out) < n:
        steps = [rng.choice(PATH_CHANNELS) for _ in range(rng.choice([1, 1, 2, 2, 3, 4]))]
        path = ">".join(ch for i, ch in enumerate(steps) if i == 0 or steps[i - 1] != ch)
        if path not in out:
            out.append(path)
    return out


def _journeys(rng: random.Random, day: int, unit: int, ch: str, n: int,
              paths: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The return, path and (hotline) handoff rows of ``n`` contacts of one day, city and channel: 70 % of a
    known customer, 10-30 % of them back within 7 days on a channel drawn by share, 60 % resolved; about 4
    complaints per 1,000 contacts (3 % as many appeals) over the paths, most on the first; on the hotline, a
    quarter more calls (the IVR's self-served) and 1-3 % of them handed off to each digital channel."""
    returns: list[dict[str, Any]] = []
    nexts = list(CHANNEL_SHARE)
    for cat, m in zip(CATEGORIES, _split(rng, round(n * 0.7), [rng.random() for _ in CATEGORIES]), strict=True):
        back = round(m * rng.uniform(0.1, 0.3))
        for nxt, c in zip(["", *nexts], [m - back, *_split(rng, back, [float(v) for v in CHANNEL_SHARE.values()])],
                          strict=True):
            if c:
                done = round(c * 0.6)
                returns.append({"day": day, "org_unit_id": unit, "channel": ch, "category": cat, "next_channel": nxt,
                                "contacts": c, "returned": c if nxt else 0, "resolved": done,
                                "resolve_sum": done * rng.uniform(3600, 86_400)})
    path_rows: list[dict[str, Any]] = []
    complaints = round(n * rng.uniform(0.002, 0.006))
    weights = [1 / (i + 1) for i in range(len(paths))]
    for type_, total in (("complaint", complaints), ("appeal", round(complaints * 0.03))):
        for path, k in zip(paths, _split(rng, total, weights) if total else [0] * len(paths), strict=True):
            if k:
                path_rows.append({"day": day, "org_unit_id": unit, "channel": ch, "type": type_, "path": path,
                                  "tickets": k, "contacts": k * (path.count(">") + 1 + rng.randrange(3)) if path else 0,
                                  "handed_off": round(k * rng.uniform(0.0, 0.2))})
    handoff_rows: list[dict[str, Any]] = []
    if ch == "voice":
        calls = round(n / 0.75)
        handoff_rows.append({"day": day, "org_unit_id": unit, "from_channel": "voice", "to_channel": "", "calls": calls,
                             "offered": 0, "opened": 0, "completed": 0, "returned": 0, "saved_seconds": 0.0})
        for to in ("sms", "wechat", "app"):
            offered = round(calls * rng.uniform(0.01, 0.03))
            done, back = round(offered * rng.uniform(0.4, 0.6)), round(offered * rng.uniform(0.05, 0.15))
            handoff_rows.append({"day": day, "org_unit_id": unit, "from_channel": "voice", "to_channel": to,
                                 "calls": 0, "offered": offered, "opened": round(offered * 0.75), "completed": done,
                                 "returned": back, "saved_seconds": done * rng.uniform(200, 280)})
    return returns, path_rows, handoff_rows


def generate_summaries(db: Database, interactions: int, days: int, cities: int, agents: int,
                       seed: int = 11) -> dict[str, Any]:
    """The hourly and daily summary rows that ``interactions`` contacts over ``days`` days make (in a
    province of ``cities`` cities with ``agents`` agents, each on one channel and queue): the rows are drawn
    per (day, city, channel, queue) and cut by hour, and by agent × category × tier; the complaint and
    first-contact sums per category × tier and per queue × agent; each agent's presence per hour of an
    8-hour shift a day (occupancy); the satisfaction surveys per agent (30 % of the answered contacts surveyed,
    40 % of those answering); the repeat contacts, journeys and handoffs per city × channel (:func:`_journeys`);
    no raw rows."""
    from kefu.analytics import summary
    from kefu.analytics.models import (
        QUALITY_SUMS,
        SUMS,
        AgentDaySummary,
        AgentHourSummary,
        DayHandlerQualitySummary,
        DayHandoffSummary,
        DayPathSummary,
        DayQualitySummary,
        DayReturnSummary,
        DaySummary,
        DaySurveySummary,
        HourSummary,
    )
    from kefu.analytics.reports import local_instant
    from kefu.analytics.summary import HOUR, day_number

    rng = random.Random(seed)
    w = _world(db, cities)
    units = w["cities"]
    channels = list(CHANNEL_SHARE)
    # each agent serves one channel's queue in one city; a channel has two queues
    staff: dict[tuple[int, str, str], list[int]] = {}
    for a in range(agents):
        ch = rng.choices(channels, weights=list(CHANNEL_SHARE.values()))[0]
        key = (rng.choice(units), ch, f"{ch}-{rng.randrange(2)}")
        staff.setdefault(key, []).append(1_000 + a)
    per_day = interactions // days
    keys = list(staff)
    shares = [CHANNEL_SHARE[k[1]] / sum(1 for x in keys if x[1] == k[1]) for k in keys]
    hours: list[dict[str, Any]] = []
    daily: list[dict[str, Any]] = []
    quality: dict[tuple[Any, ...], dict[str, int]] = {}
    handlers: list[dict[str, Any]] = []
    presence: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    returns: list[dict[str, Any]] = []
    paths: list[dict[str, Any]] = []
    handed: list[dict[str, Any]] = []
    path_keys = _paths(rng)
    made = 0
    for d in range(days):
        day = DAY + timedelta(days=d)
        first_hour = int(local_instant(day).timestamp()) // HOUR
        per_channel: dict[tuple[int, str], int] = {}
        for key, n in zip(keys, _split(rng, per_day, shares), strict=True):
            unit, ch, queue = key
            per_channel[(unit, ch)] = per_channel.get((unit, ch), 0) + n
            media = "voice" if ch == "voice" else "message"
            for h, m in enumerate(_split(rng, n, [float(x) for x in HOURLY_PROFILE])):
                if m:
                    hours.append({"hour": first_hour + h, "org_unit_id": unit, "channel": ch, "queue_key": queue,
                                  **_sums(rng, m, media)})
            people = staff[key] + [0]  # 0: contacts no agent answered
            for cell, m in zip([(c, t) for c in CATEGORIES for t in TIERS],
                               _split(rng, n, [rng.random() for _ in range(len(CATEGORIES) * len(TIERS))]),
                               strict=True):
                if m:
                    sums = quality.setdefault((day_number(day), unit, ch, *cell), dict.fromkeys(QUALITY_SUMS, 0))
                    for k, v in _quality(rng, m).items():
                        sums[k] += v
            for agent, m in zip(people, _split(rng, n, [1.0] * len(staff[key]) + [0.3]), strict=True):
                if m:
                    handlers.append({"day": day_number(day), "org_unit_id": unit, "channel": ch, "queue_key": queue,
                                     "agent_id": agent, **_quality(rng, m)})
                    sent = round(m * 0.88 * 0.3)
                    answered = round(sent * rng.uniform(0.3, 0.5))
                    satisfied = round(answered * rng.uniform(0.75, 0.9))
                    surveys.append({"day": day_number(day), "org_unit_id": unit, "channel": ch, "agent_id": agent,
                                    "queue_key": queue, "sent": sent, "answered": answered, "satisfied": satisfied,
                                    "score_total": satisfied * 5 + (answered - satisfied) * 2})
                cells = _split(rng, m, [rng.random() for _ in range(len(CATEGORIES) * len(TIERS))])
                for i, c in enumerate(cells):
                    if c:
                        daily.append({"day": day_number(day), "org_unit_id": unit, "channel": ch, "queue_key": queue,
                                      "category": CATEGORIES[i // len(TIERS)], "tier": TIERS[i % len(TIERS)],
                                      "agent_id": agent, **_sums(rng, c, media)})
            made += n
            for agent in staff[key]:  # an 8-hour shift from 07:00 to 15:00 local at the latest
                shift = rng.randrange(8)
                for h in range(first_hour + 7 + shift, first_hour + 15 + shift):
                    work = rng.uniform(2800, 3300)
                    acw = work * rng.uniform(0.1, 0.25)
                    for state, secs in (("available", work - acw), ("after_call_work", acw),
                                        ("break", 3600 - work)):
                        presence.append({"hour": h, "user_id": agent, "org_unit_id": unit, "presence": state,
                                         "seconds": secs})
        for (unit, ch), n in per_channel.items():
            more_returns, more_paths, more_handoffs = _journeys(rng, day_number(day), unit, ch, n, path_keys)
            returns += more_returns
            paths += more_paths
            handed += more_handoffs
        if d == days - 1:
            daily_quality = [{"day": k[0], "org_unit_id": k[1], "channel": k[2], "category": k[3], "tier": k[4],
                              **v} for k, v in quality.items()]
        else:
            daily_quality = []
        for table, rows in ((HourSummary, hours), (DaySummary, daily), (DayQualitySummary, daily_quality),
                            (DayHandlerQualitySummary, handlers), (AgentHourSummary, presence),
                            (DaySurveySummary, surveys), (DayReturnSummary, returns), (DayPathSummary, paths),
                            (DayHandoffSummary, handed)):
            if len(rows) > 20_000 or d == days - 1:
                for i in range(0, len(rows), 20_000):
                    _insert(db, table, rows[i:i + 20_000])
                rows.clear()
    with db.unit_of_work() as s:  # the day roll-ups: sums of the daily rows, as summary.rebuild makes them
        for rollup, names in summary.ROLLUPS:
            if rollup not in (HourSummary, DaySummary):
                cols = [getattr(DaySummary, k) for k in names if k != "age_band"]  # no birth years here
                picked = [getattr(DaySummary, k) if k != "age_band" else literal("") for k in names]
                s.execute(insert(rollup).from_select(
                    [*names, *SUMS], select(*picked, *(func.sum(getattr(DaySummary, n)) for n in SUMS))
                    .group_by(*cols)))
        # the agent days: sums of the agent hours, as migration 0711 backfills them
        ah = AgentHourSummary
        agent_day = [(ah.hour * HOUR + summary.DAY_OFFSET) // summary.DAY, ah.org_unit_id, ah.user_id, ah.presence]
        s.execute(insert(AgentDaySummary).from_select(
            ["day", "org_unit_id", "user_id", "presence", "seconds"],
            select(*agent_day, func.sum(ah.seconds)).group_by(*agent_day)))
    analyze(db)
    with db.session() as s:
        counts = {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in
                  (*(t for t, _ in summary.ROLLUPS), DayQualitySummary, DayHandlerQualitySummary, AgentHourSummary,
                   AgentDaySummary, DaySurveySummary, DayReturnSummary, DayPathSummary, DayHandoffSummary)}
    t0 = local_instant(DAY)
    return {**w, "start": t0, "end": t0 + timedelta(days=days), "interactions": made, "rows": counts}


def analyze(db: Database) -> None:
    """Fresh planner statistics (and, on PostgreSQL, the visibility map) after a bulk load, as autovacuum
    keeps them on a live database."""
    from sqlalchemy import text

    with db.engine.connect() as c:
        if db.engine.dialect.name == "postgresql":
            c = c.execution_options(isolation_level="AUTOCOMMIT")
            c.execute(text("VACUUM ANALYZE"))
        else:
            c.execute(text("ANALYZE"))
            c.commit()


def run_reports(db: Database, interactions: int, days: int, cities: int, agents: int, repeats: int,
                echo: Callable[[str], None]) -> None:
    """Report and wall latency over summary rows for ``interactions`` contacts, against a COUNT and a
    one-column SUM over the same summary rows, in the same run."""
    from kefu.analytics import handoffs, journeys, occupancy, quality, reports, satisfaction, service, summary
    from kefu.analytics.models import (
        AgentDaySummary,
        AgentHourSummary,
        DayAgentSummary,
        DayAgentTopicSummary,
        DayHandlerQualitySummary,
        DayHandoffSummary,
        DayPathSummary,
        DayQualitySummary,
        DayReturnSummary,
        DaySummary,
        DaySurveySummary,
        DayTierSummary,
        DayTopicSummary,
        DayUnitSummary,
        HourSummary,
    )
    from kefu.analytics.service import Grid
    from kefu.org import service as org

    t = time.perf_counter()
    w = generate_summaries(db, interactions, days, cities, agents)
    rows = ", ".join(f"{n:,} in {name}" for name, n in w["rows"].items())
    echo(f"generated the summary rows of {w['interactions']:,} interactions over {days} days in "
         f"{time.perf_counter() - t:.1f} s ({db.engine.dialect.name}): {rows}")
    start, end = w["start"], w["end"]
    last = DAY + timedelta(days=days - 1)
    with db.session() as s:
        units = org.subtree_ids(s, w["province"].path)
        lo, hi = int(start.timestamp()) // summary.HOUR, int(end.timestamp()) // summary.HOUR
        d_lo, d_hi = summary.day_number(DAY), summary.day_number(DAY) + days

        def rows_of(table: Any) -> list[Any]:
            if table in (HourSummary, AgentHourSummary):
                return [table.hour >= lo, table.hour < hi, table.org_unit_id.in_(units)]
            return [table.day >= d_lo, table.day < d_hi, table.org_unit_id.in_(units)]

        end_day = DAY + timedelta(days=days)
        cases: list[tuple[str, Callable[[], Any], Any]] = [
            ("the whole period per day x channel x unit", lambda: service.tallies(s, Grid(start, end), unit_ids=units),
             DayUnitSummary),
            ("monthly report (by day, every section from the summaries: contacts, complaints, FCR, occupancy, "
             "satisfaction, handoffs, repeat contacts, recommendation, journeys)",
             lambda: reports.build(s, period="month", start=DAY, unit_id=w["province"].id, unit_ids=units,
                                   channel=None, now=end + timedelta(days=1)), DayUnitSummary),
            ("daily report of the last day (by hour; the same)",
             lambda: reports.build(s, period="day", start=last, unit_id=w["province"].id, unit_ids=units,
                                   channel=None, now=end + timedelta(days=1)), HourSummary),
            ("supervisor wall on the last day", lambda: service.wall(s, w["principal"], now=end - timedelta(hours=1)),
             HourSummary),
            ("a row per agent, the whole period",
             lambda: summary.breakdown(s, DAY, end_day, by=("agent_id",), unit_ids=units), DayAgentSummary),
            ("per category x tier, the whole period",
             lambda: summary.breakdown(s, DAY, end_day, by=("category", "tier"), unit_ids=units), DayTopicSummary),
            ("per agent x category, the whole period (agent x category roll-up)",
             lambda: summary.breakdown(s, DAY, end_day, by=("agent_id", "category"), unit_ids=units),
             DayAgentTopicSummary),
            ("per agent x category, the whole period, from the full daily table (as before migration 0714)",
             lambda: summary.breakdown(s, DAY, end_day, by=("agent_id", "category"), unit_ids=units,
                                       table=DaySummary), DaySummary),
            ("handoff report (rate, from x to, completed, returned, minutes saved), the whole period",
             lambda: handoffs.stats(s, DAY, end_day, unit_ids=units), DayHandoffSummary),
            ("repeat contacts, channel switches and the channel recommendation per task type (one read), "
             "the whole period", lambda: journeys.returns(s, DAY, end_day, unit_ids=units), DayReturnSummary),
            ("journeys before a complaint, the whole period",
             lambda: journeys.paths(s, DAY, end_day, unit_ids=units), DayPathSummary),
            ("journeys that ended in an escalation, the whole period",
             lambda: journeys.paths(s, DAY, end_day, unit_ids=units, type="appeal"), DayPathSummary),
            ("channel use by customer tier, the whole period",
             lambda: summary.breakdown(s, DAY, end_day, by=("tier", "channel"), unit_ids=units), DayTierSummary),
            ("satisfaction (CSAT), the whole period",
             lambda: satisfaction.csat(s, DAY, end_day, unit_ids=units), DaySurveySummary),
            ("complaints and FCR per category x tier, the whole period",
             lambda: quality.figures_by(s, DAY, end_day, by=("category", "tier"), unit_ids=units, now=end),
             DayQualitySummary),
            ("complaints and FCR per queue, the whole period",
             lambda: quality.figures_by(s, DAY, end_day, by=("queue_key",), unit_ids=units, now=end),
             DayHandlerQualitySummary),
            ("complaints and FCR per agent, the whole period",
             lambda: quality.figures_by(s, DAY, end_day, by=("agent_id",), unit_ids=units, now=end),
             DayHandlerQualitySummary),
            ("occupancy per agent, the whole period (agent days)",
             lambda: occupancy.per_agent(s, DAY, end_day, unit_ids=units, now=end, zone_start=start, zone_end=end),
             AgentDaySummary),
            ("occupancy per day, the whole period (agent days)",
             lambda: occupancy.per_interval(s, Grid(start, end, service.DAY_MINUTES), unit_ids=units, now=end),
             AgentDaySummary),
            ("occupancy per hour of the last day",
             lambda: occupancy.per_interval(s, Grid(reports.local_instant(last), end, 60), unit_ids=units, now=end),
             AgentHourSummary),
        ]
        measure = {DayQualitySummary: "complaints", DayHandlerQualitySummary: "complaints",
                   AgentHourSummary: "seconds", AgentDaySummary: "seconds", DayHandoffSummary: "offered",
                   DayReturnSummary: "contacts", DayPathSummary: "tickets", DaySurveySummary: "sent"}
        refs = {}
        for table in dict.fromkeys(t for _, _, t in cases):
            def count(table: Any = table) -> Any:
                return s.scalar(select(func.count()).select_from(table).where(*rows_of(table)))

            col = measure.get(table, "offered")

            def scan(table: Any = table, col: str = col) -> Any:
                return s.scalar(select(func.sum(getattr(table, col))).where(*rows_of(table)))

            rc, rs = timed(count, repeats), timed(scan, repeats)
            refs[table] = rs
            echo(f"reference: {table.__tablename__}, the period's {count():,} rows: COUNT(*) {rc * 1000:.1f} ms, "
                 f"SUM({col}) (reads each row; {round(scan() or 0):,} {col}) {rs * 1000:.1f} ms")
        for name, fn, table in cases:
            dt = timed(fn, repeats)
            echo(f"{name}: {dt * 1000:.1f} ms ({dt / refs[table]:.1f} x the SUM over {table.__tablename__})")
