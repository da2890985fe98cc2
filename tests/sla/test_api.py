"""SLA over the JSON API: policies and calendars (scoped by org unit), a ticket's clocks and surveys, CSAT and
7×24 coverage, with the documented errors."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from kefu.channels import inbound
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings
from kefu.core.events import bus
from kefu.jobs import registry
from kefu.org import service as org
from kefu.tickets import service as tickets
from tests.conftest import World

API = "/api/v1"
WEEK = ["09:00-12:00, 13:30-18:00"] * 5 + ["", ""]


@pytest.fixture
def w(world: World) -> World:
    registry.load()
    with world.db.unit_of_work() as s:
        u = org.create_user(s, username="admin_sz", display_name="深圳管理员", role="admin",
                            org_unit_id=world.units["sz"])
        world.users["admin_sz"] = u.id
        world.tokens["admin_sz"] = org.create_api_token(s, u.id, "tests")[0]
    return world


def test_an_admin_keeps_policies_and_a_ticket_shows_its_clocks(client: TestClient, w: World) -> None:
    r = client.post(f"{API}/sla/policies", headers=w.auth("admin"), json={
        "name": "投诉快响", "types": ["complaint"], "first_response_minutes": 240, "resolution_minutes": 960,
        "on_breach": "raise_priority"})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert (r.json()["business_time"], r.json()["warn_percent"]) == (True, 80)
    r = client.put(f"{API}/sla/policies/{pid}", headers=w.auth("admin"), json={
        "name": "投诉快响", "types": ["complaint"], "first_response_minutes": 120, "resolution_minutes": 960})
    assert r.json()["first_response_minutes"] == 120
    assert [p["name"] for p in client.get(f"{API}/sla/policies", headers=w.auth("admin")).json()] == ["投诉快响"]

    with w.db.unit_of_work() as s:
        tid = tickets.create_ticket(s, type="complaint", subject="乱扣费", org_unit_id=w.units["gz"]).id
    bus.dispatch_pending(w.db)
    clocks = client.get(f"{API}/tickets/{tid}/sla", headers=w.auth("agent_gz")).json()
    assert [(c["metric"], c["policy_name"], c["target_seconds"]) for c in clocks] == [
        ("first_response", "投诉快响", 7200.0), ("resolution", "投诉快响", 57600.0)]
    assert clocks[0]["legal_due_at"] is not None  # the 15-day legal reply stays a system rule
    assert client.get(f"{API}/tickets/{tid}/sla", headers=w.auth("agent_sz")).status_code == 404


def test_bad_policies_are_refused_with_their_code_and_nothing_is_saved(client: TestClient, w: World) -> None:
    r = client.post(f"{API}/sla/policies", headers=w.auth("admin"), json={
        "name": "x", "channels": ["pigeon"], "first_response_minutes": 10})
    assert r.status_code == 422
    assert (r.json()["error"]["code"], r.json()["error"]["details"]["field"]) == ("sla_invalid_policy", "channels")
    r = client.post(f"{API}/sla/policies", headers=w.auth("admin"), json={"name": "无目标"})
    assert r.json()["error"]["code"] == "sla_invalid_policy"
    r = client.post(f"{API}/sla/policies", headers=w.auth("admin"), json={
        "name": "x", "first_response_minutes": 10, "calendar_id": 999})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "sla_calendar_not_found")
    assert client.get(f"{API}/sla/policies", headers=w.auth("admin")).json() == []
    assert client.get(f"{API}/sla/policies", headers=w.auth("sup_gd")).status_code == 403
    assert client.get(f"{API}/sla/policies/12345", headers=w.auth("admin")).json()["error"]["code"] == \
        "sla_policy_not_found"


def test_calendars_are_scoped_by_org_unit_and_take_local_days(client: TestClient, w: World) -> None:
    r = client.post(f"{API}/sla/calendars", headers=w.auth("admin"), json={
        "name": "广州营业时间", "weekly": WEEK, "org_unit_id": w.units["gz"]})
    assert r.status_code == 201, r.text
    gz = r.json()
    assert gz["weekly"][0] == ["09:00-12:00", "13:30-18:00"]
    assert gz["weekly"][6] == []
    group = client.post(f"{API}/sla/calendars", headers=w.auth("admin"), json={
        "name": "集团7×24", "weekly": ["00:00-24:00"] * 7, "statutory": False,
        "org_unit_id": w.units["group"]}).json()
    r = client.put(f"{API}/sla/calendars/{gz['id']}/days/2026-06-10", headers=w.auth("admin"),
                   json={"kind": "holiday", "name": "广州本地假日"})
    assert r.json()["days"] == [{"day": "2026-06-10", "kind": "holiday", "name": "广州本地假日"}]
    # Shenzhen's administrator sees the group's calendar, not Guangzhou's, and cannot change the group's.
    assert [c["name"] for c in client.get(f"{API}/sla/calendars", headers=w.auth("admin_sz")).json()] == ["集团7×24"]
    assert client.get(f"{API}/sla/calendars/{gz['id']}", headers=w.auth("admin_sz")).status_code == 404
    r = client.put(f"{API}/sla/calendars/{group['id']}/days/2026-06-10", headers=w.auth("admin_sz"),
                   json={"kind": "holiday"})
    assert r.status_code == 404
    r = client.post(f"{API}/sla/calendars", headers=w.auth("admin_sz"), json={
        "name": "深圳", "weekly": WEEK, "org_unit_id": w.units["gz"]})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "org_unit_not_found")
    # bad hours and duplicate names are refused, nothing half-written
    r = client.post(f"{API}/sla/calendars", headers=w.auth("admin"), json={
        "name": "坏", "weekly": ["18:00-09:00", *WEEK[1:]], "org_unit_id": w.units["gz"]})
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["details"]["day"]) == (
        422, "sla_invalid_calendar", 0)
    r = client.post(f"{API}/sla/calendars", headers=w.auth("admin"), json={
        "name": "广州营业时间", "weekly": WEEK, "org_unit_id": w.units["gz"]})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "sla_calendar_exists")
    r = client.put(f"{API}/sla/calendars/{gz['id']}/days/2026-06-11", headers=w.auth("admin"), json={"kind": "nap"})
    assert r.json()["error"]["code"] == "sla_invalid_calendar"
    assert len(client.get(f"{API}/sla/calendars", headers=w.auth("admin")).json()) == 2


def test_csat_by_channel_and_day_covers_my_subtree_only(client: TestClient, w: World, settings: Settings) -> None:
    msg = InboundMessage(message_id=f"m-{time.monotonic_ns()}", sender="13800138000", text="话费多扣了",
                         org_unit_code="GZ")
    with w.db.unit_of_work() as s:
        tid = inbound.receive_retrying(s, settings, "sms", msg).ticket_id
        assert tid is not None
        tickets.assign(s, tid, assignee_id=w.users["agent_gz"], actor_id=w.users["sup_gd"])
        tickets.change_status(s, tid, "resolved", actor_id=w.users["agent_gz"], reason="已退费")
    bus.dispatch_pending(w.db)
    answer = InboundMessage(message_id=f"m-{time.monotonic_ns()}", sender="13800138000", text="满意",
                            org_unit_code="GZ")
    with w.db.unit_of_work() as s:
        inbound.receive_retrying(s, settings, "sms", answer)
    bus.dispatch_pending(w.db)
    [survey] = client.get(f"{API}/tickets/{tid}/surveys", headers=w.auth("agent_gz")).json()
    assert (survey["status"], survey["choice"], survey["channel"]) == ("answered", 4, "sms")
    rows = client.get(f"{API}/sla/csat", params={"by": "channel"}, headers=w.auth("sup_gd")).json()["rows"]
    assert rows == [{"key": "sms", "sent": 1, "answered": 1, "satisfied": 1, "csat": 1.0, "average": 4.0,
                     "response_rate": 1.0}]
    by_agent = client.get(f"{API}/sla/csat", headers=w.auth("analyst")).json()["rows"]
    assert [(r["key"], r["csat"]) for r in by_agent] == [(w.users["agent_gz"], 1.0)]
    [day] = client.get(f"{API}/sla/csat", params={"by": "day"}, headers=w.auth("sup_gd")).json()["rows"]
    assert len(day["key"]) == 10
    assert client.get(f"{API}/sla/csat", headers=w.auth("admin_sz")).json()["rows"] == []
    r = client.get(f"{API}/sla/csat", params={"by": "weather"}, headers=w.auth("sup_gd"))
    assert r.status_code == 422
    assert client.get(f"{API}/sla/csat", headers=w.auth("agent_gz")).status_code == 403


def test_coverage_lists_each_channel_with_its_gaps(client: TestClient, w: World) -> None:
    from kefu.routing import service as routing

    with w.db.unit_of_work() as s:
        routing.save_queue(s, None, routing.QueueSpec(key="voice_gz", name="广州热线", channel="voice",
                                                      org_unit_id=w.units["gz"]))
        routing.save_queue(s, None, routing.QueueSpec(key="web_gz", name="广州在线", channel="chat",
                                                      org_unit_id=w.units["gz"], open=False))
    rows = {r["channel"]: r for r in client.get(f"{API}/sla/coverage", params={"week": "2026-06-10"},
                                                headers=w.auth("sup_gd")).json()}
    assert rows["voice"]["full"] is True
    assert rows["voice"]["covered_hours"] == 168.0
    assert rows["chat"]["full"] is False
    assert rows["chat"]["ratio"] == 0.0
    assert rows["chat"]["gaps"] == [{"start": "2026-06-07T16:00:00Z", "end": "2026-06-14T16:00:00Z"}]
    assert rows["voice"]["queues"] == ["广州热线"]
