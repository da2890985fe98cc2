"""Named agents on a day's shifts (their hours, their rest) and their adherence from routing's agent states."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core import events
from kefu.core.db import Database
from kefu.core.events import bus
from kefu.workforce import roster
from kefu.workforce.models import WorkforceAgentState, WorkforceShift
from tests.conftest import World
from tests.web.conftest import csrf_of, login

API = "/api/v1/workforce"
DAY = "2026-11-24"
MIDNIGHT = datetime(2026, 11, 24, tzinfo=UTC)
# 08:00-16:00 a steady 10 calls per half hour
CALLS = [0.0] * 16 + [10.0] * 16 + [0.0] * 16
RULES = {"shift_minutes": [480], "start_every_minutes": 30, "break_minutes": 60, "break_earliest_minutes": 240,
         "break_latest_minutes": 240, "min_hours": 8, "max_hours": 8}


def _seat(start: str, end: str) -> roster.Seat:
    def m(t: str) -> int:
        return int(t[:2]) * 60 + int(t[3:])

    return roster.Seat(m(start), m(end))


def test_assignment_is_the_largest_within_hours_and_rest() -> None:
    a, b, c = _seat("08:00", "16:00"), _seat("12:00", "20:00"), _seat("14:00", "22:00")
    agents = [
        roster.Availability(1),  # any shift
        roster.Availability(2, latest_end=16 * 60),  # only the early one
        roster.Availability(3, earliest_start=13 * 60),  # the late ones
    ]
    out = roster.assign(roster.seats_of([(a, 1), (b, 1), (c, 1)]), agents)
    assert out.assigned == [(2, a), (1, b), (3, c)]
    assert out.open == []
    # agent 2 owed rest until 09:00 (a late shift yesterday): the early seat waits for someone else
    rested = [roster.Availability(2, latest_end=16 * 60, rested_at=9 * 60),
              roster.Availability(3, earliest_start=13 * 60)]
    out = roster.assign(roster.seats_of([(a, 1), (c, 2)]), rested)
    assert out.assigned == [(3, c)]
    assert out.open == [a, c]


def test_adherence_counts_working_time_taking_work_and_breaks_not() -> None:
    t0 = MIDNIGHT + timedelta(hours=8)
    shift = roster.Planned(t0, t0 + timedelta(hours=4), t0 + timedelta(hours=2), t0 + timedelta(hours=2, minutes=30))
    states = [
        (t0 - timedelta(days=1), "offline"),
        (t0 + timedelta(minutes=5), "available"),  # 5 minutes late
        (t0 + timedelta(minutes=90), "after_call_work"),
        (t0 + timedelta(minutes=95), "available"),
        (t0 + timedelta(minutes=120), "break"),
        (t0 + timedelta(minutes=160), "available"),  # 10 minutes late back from the break
        (t0 + timedelta(minutes=230), "offline"),  # 10 minutes early out
    ]
    full = roster.adherence(shift, states, t0 + timedelta(days=1))
    assert (full.scheduled_seconds, full.adherent_seconds) == (240 * 60, 215 * 60)
    assert full.in_adherence_now is None
    now = roster.adherence(shift, states, t0 + timedelta(minutes=150))
    assert (now.scheduled_seconds, now.adherent_seconds, now.presence, now.in_adherence_now) == (
        150 * 60, 145 * 60, "break", False)
    before = roster.adherence(shift, states, t0 - timedelta(minutes=1))
    assert (before.scheduled_seconds, before.share, before.in_adherence_now) == (0.0, None, None)


def _presence(db: Database, user_id: int, presence: str, at: datetime) -> None:
    with db.unit_of_work() as s:
        events.record(s, "routing.agent_presence_changed", {"user_id": user_id, "presence": presence,
                                                            "reason": None, "by": "agent"},
                      aggregate_type="user", aggregate_id=user_id, at=at)


def test_roster_names_agents_and_measures_adherence_from_routing_states(
    client: TestClient, db: Database, world: World
) -> None:
    body = {"org_unit_id": world.units["province"], "day": DAY, "calls": CALLS, "aht": 180, "patience": 300,
            "rules": RULES, "time_limit": 5,
            "agents": [{"user_id": world.users["agent_gz"]},
                       {"user_id": world.users["agent_sz"], "earliest_start": "09:00"}]}
    refused = client.post(f"{API}/roster", json=body, headers=world.auth("agent_gz"))
    assert refused.status_code == 403
    r = client.post(f"{API}/roster", json=body, headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    out = r.json()
    needed = out["plan_summary"]["agents"]
    assert needed >= 2
    named = [s for s in out["shifts"] if s["user_id"] is not None]
    assert (out["assigned"], out["open"]) == (len(named), needed - len(named))
    assert sorted(s["user_id"] for s in named) == sorted({world.users["agent_gz"], world.users["agent_sz"]})
    by_user = {s["user_id"]: s for s in named}
    assert by_user[world.users["agent_sz"]]["start"] >= "09:00"
    assert by_user[world.users["agent_gz"]]["agent"] == "广州坐席"
    assert all(s["end"] == f"{int(s['start'][:2]) + 8:02d}:{s['start'][3:]}" for s in out["shifts"])

    # agent_gz works the shift exactly; agent_sz never logs in
    gz = by_user[world.users["agent_gz"]]

    def at(clock: str) -> datetime:
        return MIDNIGHT + timedelta(hours=int(clock[:2]), minutes=int(clock[3:]))

    for clock, presence in ((gz["start"], "available"), (gz["break_start"], "break"),
                            (gz["break_end"], "available"), (gz["end"], "offline")):
        _presence(db, world.users["agent_gz"], presence, at(clock))
    bus.dispatch_pending(db)
    bus.dispatch_pending(db)  # delivered once, whatever the number of passes
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(WorkforceAgentState)) == 4
    status = client.get(f"{API}/roster", params={"org_unit_id": world.units["province"], "day": DAY},
                        headers=world.auth("analyst")).json()
    rows = {s["user_id"]: s for s in status["shifts"] if s["user_id"] is not None}
    assert rows[world.users["agent_gz"]]["adherence"] == 1.0
    assert rows[world.users["agent_gz"]]["scheduled_minutes"] == 480
    # never logged in: out of adherence all day but the hour of the break, when taking no work is right
    assert rows[world.users["agent_sz"]]["adherence"] == 0.125
    assert rows[world.users["agent_sz"]]["presence"] == "offline"
    assert status["adherence"] == 0.5625

    # built again, the day's roster is replaced, not added to
    again = client.post(f"{API}/roster", json=body, headers=world.auth("sup_gd"))
    assert again.status_code == 200
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(WorkforceShift)) == needed


def test_an_agent_of_another_unit_is_refused_and_nothing_is_stored(
    client: TestClient, db: Database, world: World
) -> None:
    body = {"org_unit_id": world.units["gz"], "day": DAY, "calls": CALLS, "aht": 180, "patience": 300,
            "rules": RULES, "time_limit": 5, "agents": [{"user_id": world.users["agent_sz"]}]}
    r = client.post(f"{API}/roster", json=body, headers=world.auth("sup_gd"))
    assert r.status_code == 422
    assert f"user {world.users['agent_sz']} is no active agent of this unit" in r.text
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(WorkforceShift)) == 0


def test_console_builds_the_roster_and_shows_adherence(client: TestClient, db: Database, world: World) -> None:
    from kefu.interactions import calls
    from kefu.workforce import history
    from tests.workforce.support import make_log

    records = history.parse_call_log(make_log(date(1999, 3, 1), 21)).records
    with db.unit_of_work() as s:
        calls.import_call_records(s, records, org_unit_id=world.units["gz"], source="bank")
    login(client, "sup_gd")
    page = client.get("/console/workforce/roster", params={"org_unit": world.units["gz"], "day": "1999-03-22",
                                                           "tz": "UTC"})
    assert page.status_code == 200
    assert "这一天还没有排班" in page.text
    assert f'name="agent" value="{world.users["agent_gz"]}" checked> 广州坐席' in page.text
    r = client.post("/console/workforce/roster", data={
        "csrf_token": csrf_of(page.text), "org_unit": str(world.units["gz"]), "day": "1999-03-22", "tz": "UTC",
        "sl": "0.8", "target": "20", "rest": "11", "agent": str(world.users["agent_gz"]),
        f"earliest{world.users['agent_gz']}": "10:00", f"latest{world.users['agent_gz']}": ""},
        follow_redirects=True)
    assert r.status_code == 200, r.text
    assert "<td>广州坐席</td><td>1" in r.text  # starts at 10:00 or later
    assert "（空缺）" in r.text
    assert 'id="rs-assigned">1<' in r.text
    with db.unit_of_work() as s:
        mine = s.scalars(select(WorkforceShift).where(WorkforceShift.user_id == world.users["agent_gz"])).one()
        assert mine.start_at.hour >= 10


def test_an_agent_gets_at_most_one_shift_a_day_across_province_and_city_rosters(
    client: TestClient, db: Database, world: World
) -> None:
    gz, sz = world.users["agent_gz"], world.users["agent_sz"]
    base = {"day": DAY, "calls": CALLS, "aht": 180, "patience": 300, "rules": RULES, "time_limit": 5}
    city = client.post(f"{API}/roster", json={**base, "org_unit_id": world.units["gz"]}, headers=world.auth("sup_gd"))
    assert city.status_code == 200, city.text
    assert [s["user_id"] for s in city.json()["shifts"] if s["user_id"] is not None] == [gz]

    # the province's roster takes its agents of every city but the one already on Guangzhou's roster
    province = client.post(f"{API}/roster", json={**base, "org_unit_id": world.units["province"]},
                           headers=world.auth("sup_gd"))
    assert province.status_code == 200, province.text
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(WorkforceShift).where(WorkforceShift.user_id.is_not(None))))
        assert sorted((r.user_id, r.org_unit_id) for r in rows) == sorted(
            [(gz, world.units["gz"]), (sz, world.units["province"])])
        before = s.scalar(select(func.count()).select_from(WorkforceShift))

    # named for the province that day, the Guangzhou agent is refused and nothing changes
    named = client.post(f"{API}/roster", json={**base, "org_unit_id": world.units["province"],
                                               "agents": [{"user_id": gz}, {"user_id": sz}]},
                        headers=world.auth("sup_gd"))
    assert named.status_code == 422
    assert f"user {gz} already has a shift on {DAY} in unit {world.units['gz']}" in named.text
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(WorkforceShift)) == before

    # Guangzhou's roster built again replaces its own shift; the agent still has one shift that day
    again = client.post(f"{API}/roster", json={**base, "org_unit_id": world.units["gz"]}, headers=world.auth("sup_gd"))
    assert again.status_code == 200, again.text
    with db.unit_of_work() as s:
        per_agent = s.execute(
            select(WorkforceShift.user_id, func.count()).where(WorkforceShift.user_id.is_not(None),
                                                               WorkforceShift.day == date(2026, 11, 24))
            .group_by(WorkforceShift.user_id)).all()
        assert sorted(per_agent) == sorted([(gz, 1), (sz, 1)])
    # the next day is another day: both are free again (rest permitting)
    nxt = client.post(f"{API}/roster", json={**base, "org_unit_id": world.units["province"], "day": "2026-11-25"},
                      headers=world.auth("sup_gd"))
    assert nxt.status_code == 200, nxt.text
    assert sorted(s["user_id"] for s in nxt.json()["shifts"] if s["user_id"] is not None) == sorted([gz, sz])
