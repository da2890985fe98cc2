"""The SLA console: administrators configure policies and calendars with choosers; the ticket page shows clocks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kefu.core.events import bus
from kefu.jobs import registry
from kefu.sla import service as sla
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.routing.test_api_and_console import _login
from tests.sla.test_calendar import bj


def test_an_admin_creates_a_calendar_with_a_local_day_and_a_policy_on_it(client: TestClient, world: World) -> None:
    csrf = _login(client, "admin")
    page = client.get("/console/sla?year=2026")
    assert page.status_code == 200
    assert "2026-02-17" in page.text and "春节" in page.text  # noqa: PT018
    assert "调休上班" in page.text
    week = {f"day{i}": "08:00-22:00" for i in range(7)}
    r = client.post("/console/sla/calendars", data={"csrf_token": csrf, "name": "语音人工 8-22", "statutory": "1",
                                                     "org_unit_id": str(world.units["province"]), **week},
                    follow_redirects=False)
    assert r.status_code == 303
    with world.db.session() as s:
        cal = sla.list_calendars(s)[0]
        assert (cal.name, cal.weekly[6], cal.org_unit_id) == ("语音人工 8-22", ["08:00-22:00"], world.units["province"])
    r = client.post(f"/console/sla/calendars/{cal.id}/days",
                    data={"csrf_token": csrf, "day": "2026-03-08", "kind": "holiday", "name": "妇女节半天"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "妇女节半天" in client.get(f"/console/sla?cal={cal.id}").text
    r = client.post("/console/sla/policies", data={
        "csrf_token": csrf, "name": "钻石客户投诉", "position": "0", "types": "complaint", "tiers": "diamond",
        "first_response": "2", "first_response_unit": "hours", "resolution": "3", "resolution_unit": "days",
        "business_time": "1", "calendar_id": str(cal.id), "warn_percent": "75", "on_breach": "raise_priority",
        "active": "1"}, follow_redirects=False)
    assert r.status_code == 303
    with world.db.session() as s:
        p = sla.list_policies(s)[0]
        assert (p.types, p.tiers, p.first_response_minutes, p.resolution_minutes, p.calendar_id, p.on_breach) == (
            ["complaint"], ["diamond"], 120, 4320, cal.id, "raise_priority")
        own = sla.calendar_days(s, cal.id)
        assert [(d.day.isoformat(), d.kind) for d in own] == [("2026-03-08", "holiday")]
        assert not sla.work_calendar(s, cal.id).is_working_day(own[0].day)


def test_bad_hours_and_policies_are_refused_and_nothing_is_saved(client: TestClient, world: World) -> None:
    csrf = _login(client, "admin")
    week = {f"day{i}": "18:00-09:00" if i == 2 else "" for i in range(7)}
    r = client.post("/console/sla/calendars", data={"csrf_token": csrf, "name": "坏日历", **week})
    assert r.status_code == 422
    assert "day 3" in r.text
    r = client.post("/console/sla/policies", data={"csrf_token": csrf, "name": "空", "active": "1"})
    assert r.status_code == 422
    with world.db.session() as s:
        assert (sla.list_calendars(s), sla.list_policies(s)) == ([], [])


def test_agents_cannot_open_the_sla_admin_page(client: TestClient, world: World) -> None:
    csrf = _login(client, "agent_gz")
    assert client.get("/console/sla").status_code == 403
    assert client.post("/console/sla/policies", data={"csrf_token": csrf, "name": "x"}).status_code == 403


def test_the_ticket_page_shows_the_sla_box(client: TestClient, world: World) -> None:
    registry.load()
    with world.db.unit_of_work() as s:
        sla.save_policy(s, policy_id=None, name="咨询", position=0, types=[], tiers=[], channels=[], categories=[],
                        first_response_minutes=30, resolution_minutes=None, business_time=False, calendar_id=None,
                        warn_percent=80, on_breach="notify", active=True)
        tid = tickets.create_ticket(s, type="inquiry", subject="流量包咨询", org_unit_id=world.units["gz"]).id
    bus.dispatch_pending(world.db)
    _login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}")
    assert page.status_code == 200
    assert 'id="ticket-sla"' in page.text
    assert 'data-metric="first_response" data-status="running"' in page.text


def test_queues_get_service_hours_and_the_coverage_report_lists_the_gaps(client: TestClient, world: World) -> None:
    from kefu.routing import service as routing

    csrf = _login(client, "admin")
    with world.db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
        voice_queues = [q.key for q in routing.queues(s) if q.channel == "voice"]
    week = {f"day{i}": "08:00-22:00" for i in range(7)}
    client.post("/console/sla/calendars", data={"csrf_token": csrf, "name": "人工语音", "statutory": "1", **week})
    with world.db.session() as s:
        cal = sla.list_calendars(s)[0]
    for key in voice_queues:
        r = client.post(f"/console/sla/queues/{key}/calendar", data={"csrf_token": csrf, "calendar_id": str(cal.id)},
                        follow_redirects=False)
        assert r.status_code == 303
    page = client.get("/console/sla/coverage?week=2026-03-04")
    assert page.status_code == 200
    assert 'data-media="voice" data-ratio="0.5833"' in page.text  # 98 of 168 hours
    assert "03-02 22:00–03-03 08:00" in page.text
    assert 'data-media="chat" data-ratio="1.0000"' in page.text  # open by hand: 7×24
    with world.db.session() as s:
        assert sla.queue_open_at(s, cal.id, bj(2026, 3, 4, 21)) is True
        assert sla.queue_open_at(s, cal.id, bj(2026, 3, 4, 23)) is False
