"""The agent hours' daily roll-up (analytics_agent_days, kefu/analytics/occupancy.py): kept from the presence
events beside the hours, a state spanning midnight cut at local midnight; weekly occupancy read from it gives
the hand-computed figures and the sum of the two days' hourly reports; migration 0711 backfills it."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import select

from kefu.analytics import kpi, reports, summary
from kefu.analytics.models import AgentDaySummary
from kefu.core import events
from kefu.core.events import bus
from kefu.core.migrate import downgrade, upgrade
from tests.analytics.support import DAY0, redeliver_presence
from tests.conftest import World

MONDAY = date(2026, 3, 2)  # DAY0 is its local midnight (UTC+8)
D0 = summary.day_number(MONDAY)


def _presences(db, world: World) -> None:  # type: ignore[no-untyped-def]
    """agent_gz (广州): available 22:00, after-call work 23:30, available 23:40, a break from 00:30 the next
    day, not ready 01:00, offline 01:15; agent_sz (深圳): available 23:00 to 01:00 the next day."""
    steps = [("agent_gz", "available", 22 * 60), ("agent_gz", "after_call_work", 23 * 60 + 30),
             ("agent_gz", "available", 23 * 60 + 40), ("agent_gz", "break", 24 * 60 + 30),
             ("agent_gz", "not_ready", 25 * 60), ("agent_gz", "offline", 25 * 60 + 15),
             ("agent_sz", "available", 23 * 60), ("agent_sz", "offline", 25 * 60)]
    with db.unit_of_work() as s:
        for who, presence, minute in steps:
            user = world.users[who]
            events.record(s, "routing.agent_presence_changed",
                          {"user_id": user, "presence": presence, "reason": None, "by": "agent"},
                          aggregate_type="user", aggregate_id=user, at=DAY0 + timedelta(minutes=minute))
    bus.dispatch_pending(db)


def _week(db, world: World, unit: str) -> reports.Report:  # type: ignore[no-untyped-def]
    with db.session() as s:
        from kefu.org import service as org

        ids = org.subtree_ids(s, org.org_unit(s, world.units[unit]).path)
        return reports.build(s, period="week", start=MONDAY, unit_id=world.units[unit], unit_ids=ids,
                             channel=None, now=DAY0 + timedelta(days=3))


def test_a_state_across_midnight_is_cut_into_the_two_days(db, world: World) -> None:  # type: ignore[no-untyped-def]
    _presences(db, world)
    gz, agent = world.units["gz"], world.users["agent_gz"]
    with db.session() as s:
        days = {(d.day - D0, d.presence): d.seconds for d in s.scalars(
            select(AgentDaySummary).where(AgentDaySummary.user_id == agent))}
        assert {d.org_unit_id for d in s.scalars(select(AgentDaySummary).where(AgentDaySummary.user_id == agent))} \
            == {gz}
    assert days == {(0, "available"): 6600.0, (0, "after_call_work"): 600.0, (1, "available"): 1800.0,
                    (1, "break"): 1800.0, (1, "not_ready"): 900.0}
    # a redelivered event changes nothing
    redeliver_presence(db, 3)
    with db.session() as s:
        again = {(d.day - D0, d.presence): d.seconds for d in s.scalars(
            select(AgentDaySummary).where(AgentDaySummary.user_id == agent))}
    assert again == days


def test_weekly_occupancy_from_the_days_by_hand_and_as_the_hourly_reports(
        db, world: World) -> None:  # type: ignore[no-untyped-def]
    _presences(db, world)
    city = _week(db, world, "gz")
    by_day = dict(city.occupancy)
    assert by_day["03-02"] == kpi.Staffing(6600.0, 600.0, 0.0)
    assert by_day["03-03"] == kpi.Staffing(1800.0, 0.0, 0.0)
    assert all(by_day[d] == kpi.Staffing() for d in ("03-04", "03-05", "03-06", "03-07", "03-08"))
    assert city.agent_occupancy == [("广州坐席", kpi.Staffing(8400.0, 600.0, 0.0))]  # 深圳's agent is not 广州's
    province = _week(db, world, "province")
    assert dict(province.occupancy)["03-02"] == kpi.Staffing(10200.0, 600.0, 0.0)
    assert dict(province.occupancy)["03-03"] == kpi.Staffing(5400.0, 0.0, 0.0)
    assert province.agent_occupancy == [("广州坐席", kpi.Staffing(8400.0, 600.0, 0.0)),
                                        ("深圳坐席", kpi.Staffing(7200.0, 0.0, 0.0))]
    # the hourly reports of the two days (read from the hours) add up to the days
    with db.session() as s:
        ids = [world.units["province"], world.units["gz"], world.units["sz"]]
        for n, label in enumerate(("03-02", "03-03")):
            day = reports.build(s, period="day", start=MONDAY + timedelta(days=n), unit_id=world.units["province"],
                                unit_ids=ids, channel=None, now=DAY0 + timedelta(days=3))
            hours = kpi.Staffing()
            for _, st in day.occupancy:
                hours.available += st.available
                hours.after_call_work += st.after_call_work
            assert hours == dict(province.occupancy)[label]


def test_migration_0711_backfills_the_days_from_the_hours(db_url: str) -> None:
    first = int(DAY0.timestamp()) // 3600  # local 00:00 of the Monday
    eng = sa.create_engine(db_url)
    try:
        downgrade(db_url, "0710_analytics_quality_handlers")
        hours = sa.table("analytics_agent_hours", sa.column("hour"), sa.column("user_id"), sa.column("org_unit_id"),
                         sa.column("presence"), sa.column("seconds"))
        with eng.begin() as con:
            con.execute(hours.insert(), [
                {"hour": first - 1, "user_id": 7, "org_unit_id": 3, "presence": "available", "seconds": 3000.0},
                {"hour": first, "user_id": 7, "org_unit_id": 3, "presence": "available", "seconds": 1800.0},
                {"hour": first + 23, "user_id": 7, "org_unit_id": 3, "presence": "available", "seconds": 600.0},
                {"hour": first + 23, "user_id": 7, "org_unit_id": 3, "presence": "break", "seconds": 60.0},
                {"hour": first + 24, "user_id": 7, "org_unit_id": 3, "presence": "available", "seconds": 3600.0},
                {"hour": first, "user_id": 8, "org_unit_id": 4, "presence": "available", "seconds": 100.0}])
        upgrade(db_url)
        with eng.connect() as con:
            rows = {tuple(r[:4]): r[4] for r in con.execute(sa.text(
                "SELECT day, org_unit_id, user_id, presence, seconds FROM analytics_agent_days"))}
    finally:
        eng.dispose()
    assert rows == {(D0 - 1, 3, 7, "available"): 3000.0, (D0, 3, 7, "available"): 2400.0,
                    (D0, 3, 7, "break"): 60.0, (D0 + 1, 3, 7, "available"): 3600.0,
                    (D0, 4, 8, "available"): 100.0}
