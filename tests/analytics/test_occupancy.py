"""Agent occupancy kept from routing's presence events (kefu/analytics/occupancy.py): hand-computed per
agent and per interval, on the report page, its exports and the wall."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.analytics import consumers, kpi, quality, reports, summary
from kefu.analytics.models import AgentHourSummary
from kefu.core import events
from kefu.core.events import bus
from tests.analytics.support import DAY0, call, province_day_report, redeliver_presence
from tests.conftest import World

DAY = date(2026, 3, 2)  # DAY0 is its local midnight (UTC+8)


def test_split_by_hour() -> None:
    assert kpi.split_by_hour(3000.0, 3000.0) == []
    assert kpi.split_by_hour(3000.0, 3700.0) == [(0, 600.0), (1, 100.0)]
    assert kpi.split_by_hour(0.0, 7200.0) == [(0, 3600.0), (1, 3600.0)]
    assert kpi.Staffing(3000, 600, 900).occupancy() == pytest.approx(1500 / 3600)
    assert kpi.Staffing().occupancy() is None


def _presence(s, user: int, presence: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    events.record(s, "routing.agent_presence_changed",
                  {"user_id": user, "presence": presence, "reason": None, "by": "agent"},
                  aggregate_type="user", aggregate_id=user, at=at)


def _agent_day(db, world: World, *, last: str) -> int:  # type: ignore[no-untyped-def]
    """agent_gz: available 09:00, a call 09:10-09:25 (900 s handled), after-call work 09:25-09:30,
    available 09:30-10:15, a break to 11:00, then ``last`` at 11:00."""
    gz, agent = world.units["gz"], world.users["agent_gz"]
    nine = DAY0 + timedelta(hours=9)
    assert bus.consumers["analytics.occupancy"].handler is consumers.on_presence_event
    with db.unit_of_work() as s:
        _presence(s, agent, "available", nine)
        _presence(s, agent, "after_call_work", nine + timedelta(minutes=25))
        _presence(s, agent, "available", nine + timedelta(minutes=30))
        _presence(s, agent, "break", nine + timedelta(minutes=75))
        _presence(s, agent, "after_call_work", nine + timedelta(minutes=20))  # late and out of order: ignored
        _presence(s, agent, last, nine + timedelta(minutes=120))
        it = call(s, gz, nine + timedelta(minutes=10) - timedelta(seconds=2), wait=0, talk=900)
        it.agent_id = agent
        s.flush()
        summary.rebuild(s)
        quality.rebuild(s)
    bus.dispatch_pending(db)
    bus.dispatch_pending(db)
    return agent


def test_occupancy_per_agent_and_per_hour_by_hand(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    agent = _agent_day(db, world, last="available")
    with db.session() as s:
        hours = {(h.hour - int(DAY0.timestamp() // 3600), h.presence): h.seconds
                 for h in s.scalars(select(AgentHourSummary).where(AgentHourSummary.user_id == agent))}
        assert hours == {(9, "available"): 3300.0, (9, "after_call_work"): 300.0, (10, "available"): 900.0,
                         (10, "break"): 2700.0}
        # at 11:30 the agent has been available for half an hour since the last change
        now = DAY0 + timedelta(hours=11, minutes=30)
        rep = reports.build(s, period="day", start=DAY, unit_id=gz, unit_ids=[gz], channel=None, now=now)
    by_hour = dict(rep.occupancy)
    assert by_hour["09:00"] == kpi.Staffing(3300.0, 300.0, 900.0)
    assert by_hour["10:00"] == kpi.Staffing(900.0, 0.0, 0.0)
    assert by_hour["11:00"] == kpi.Staffing(1800.0, 0.0, 0.0)
    assert by_hour["12:00"] == kpi.Staffing()
    [(name, st)] = rep.agent_occupancy
    assert st == kpi.Staffing(6000.0, 300.0, 900.0)
    assert st.occupancy() == pytest.approx(1200 / 6300)
    [(_, _, h1, r1), (_, _, _, r2)] = reports.occupancy_tables(rep)
    assert h1 == ["时段", "在线可用(小时)", "话后处理(小时)", "通话处理(小时)", "占用率%"]
    assert r1 == [["09:00", 0.92, 0.08, 0.25, 33.33], ["10:00", 0.25, 0.0, 0.0, 0.0],
                  ["11:00", 0.5, 0.0, 0.0, 0.0]]
    assert r2 == [[name, 1.67, 0.08, 0.25, 19.05]]
    # a redelivered event changes nothing
    redeliver_presence(db, 1)
    with db.session() as s:
        again = {(h.hour - int(DAY0.timestamp() // 3600), h.presence): h.seconds
                 for h in s.scalars(select(AgentHourSummary).where(AgentHourSummary.user_id == agent))}
    assert again == hours


def test_occupancy_on_the_report_page_its_export_and_the_wall(client: TestClient, world: World,
                                                              db) -> None:  # type: ignore[no-untyped-def]
    _agent_day(db, world, last="offline")
    page, rows = province_day_report(client, world.units["province"], DAY)
    assert "坐席占用率（按时段）" in page
    assert re.search(r'<tr><td>09:00</td><td class="num">0.92</td><td class="num">0.08</td>'
                     r'<td class="num">0.25</td><td class="num">33.33</td></tr>', page)
    at = rows.index(["坐席", "在线可用(小时)", "话后处理(小时)", "通话处理(小时)", "占用率%"])
    assert rows[at + 1][1:] == ["1.17", "0.08", "0.25", "26.67"]  # (900 + 300) / (4200 + 300)
    wall = client.get("/console/wall").text
    assert re.search(r"今日占用率 <b data-occupancy>", wall)
