"""Routing over HTTP and in the console: an agent goes ready, gets an offer, accepts it and lands on the
ticket; supervisors see queues and move agents; administrators configure queues and rules with choosers.

The routing writer runs as it does in a server: a RoutingRunner thread on the test database."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.db import Database
from kefu.core.events import bus
from kefu.jobs import registry
from kefu.routing import runtime
from kefu.routing import service as routing
from kefu.routing.models import RoutingOffer, RoutingQueue, RoutingRule
from tests.channels.support import post_inbound
from tests.conftest import PASSWORD, World


@pytest.fixture
def writer(world: World) -> Iterator[None]:
    """The routing writer and an outbox dispatcher thread, as a server runs them."""
    from kefu.core.events import Dispatcher

    registry.load()
    with world.db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
    dispatcher = Dispatcher(world.db, bus, idle_seconds=0.05, coalesce_seconds=0.0)
    dispatcher.start()
    stop = runtime.start(world.db, on_commit=dispatcher.wake)
    try:
        yield
    finally:
        stop()
        dispatcher.stop()


def wait_for(db: Database, predicate, seconds: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db.session() as s:
            value = predicate(s)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("routing did not get there in time")


def test_an_agent_goes_ready_accepts_an_offer_and_owns_the_ticket(client: TestClient, world: World,
                                                                  writer: None) -> None:
    agent = world.auth("agent_gz")
    r = client.put("/api/v1/routing/me/presence", json={"presence": "available"}, headers=agent)
    assert r.status_code == 200, r.text
    assert r.json()["presence"] == "available"

    msg = post_inbound(client, world, "wechat", message_id="wx-1", sender="oWx-api", text="套餐怎么变更",
                       org_unit_code="GZ").json()
    offer = wait_for(world.db, lambda s: s.scalar(select(RoutingOffer).where(RoutingOffer.state == "offered")))
    me = client.get("/api/v1/routing/me", headers=agent).json()
    assert [(o["id"], o["ticket_id"]) for o in me["offers"]] == [(offer.id, msg["ticket_id"])]

    r = client.post(f"/api/v1/routing/offers/{offer.id}/accept", headers=agent)
    assert r.status_code == 200, r.text
    assert (r.json()["offer"]["state"], r.json()["offer"]["ticket_id"], r.json()["pending"]) == (
        "accepted", msg["ticket_id"], False)
    ticket = client.get(f"/api/v1/tickets/{msg['ticket_id']}", headers=agent).json()
    assert ticket["assignee_id"] == world.users["agent_gz"]
    # Accepting again: the offer is no longer open.
    again = client.post(f"/api/v1/routing/offers/{offer.id}/accept", headers=agent)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "offer_not_open")


def test_another_agents_offer_is_not_found(client: TestClient, world: World, writer: None) -> None:
    client.put("/api/v1/routing/me/presence", json={"presence": "available"}, headers=world.auth("agent_gz"))
    post_inbound(client, world, "sms", message_id="s-1", org_unit_code="GZ")
    offer = wait_for(world.db, lambda s: s.scalar(select(RoutingOffer).where(RoutingOffer.state == "offered")))
    r = client.post(f"/api/v1/routing/offers/{offer.id}/accept", headers=world.auth("agent_sz"))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "offer_not_found")


def test_presence_needs_a_known_value_and_a_break_needs_a_reason(client: TestClient, world: World) -> None:
    agent = world.auth("agent_gz")
    r = client.put("/api/v1/routing/me/presence", json={"presence": "sleeping"}, headers=agent)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_presence")
    r = client.put("/api/v1/routing/me/presence", json={"presence": "break"}, headers=agent)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "reason_required")
    assert client.put("/api/v1/routing/me/presence", json={"presence": "available"},
                      headers=world.auth("analyst")).status_code == 403


def test_queues_are_configured_by_admins_and_read_by_supervisors(client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    r = client.post("/api/v1/routing/defaults", headers=admin)
    assert r.status_code == 200
    assert [q["key"] for q in r.json()] == ["complaints", "voice", "chat", "messages", "tickets"]
    body = {"name": "宽带报修", "name_en": "Broadband repair", "channel": "ticket",
            "org_unit_id": world.units["province"], "skills": {"billing": 2}, "aging_per_minute": 2,
            "rings": [{"after": 300, "level_drop": 1, "reach": "province"}], "offer_timeout": 30, "position": 5}
    r = client.put("/api/v1/routing/queues/broadband", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["rings"] == [{"after": 0.0, "level_drop": 0, "reach": "city"},
                                 {"after": 300.0, "level_drop": 1, "reach": "province"}]
    bad = client.put("/api/v1/routing/queues/broadband", json={**body, "overflow_to": "voice"}, headers=admin)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_queue")
    assert client.put("/api/v1/routing/queues/x", json=body, headers=world.auth("sup_gd")).status_code == 403

    stats = client.get("/api/v1/routing/queues", headers=world.auth("sup_gd"))
    assert stats.status_code == 200
    assert [s["queue"]["key"] for s in stats.json()] == ["complaints", "voice", "chat", "messages", "tickets",
                                                          "broadband"]
    rules = [{"queue_key": "broadband", "categories": ["broadband"]}, {"queue_key": "tickets"}]
    assert client.put("/api/v1/routing/rules", json=rules, headers=admin).status_code == 200
    with world.db.session() as s:
        assert [(r.queue_key, r.categories) for r in s.scalars(select(RoutingRule).order_by(RoutingRule.position))] == [
            ("broadband", ["broadband"]), ("tickets", [])]


def test_a_supervisor_moves_an_agent_between_queues(client: TestClient, world: World) -> None:
    client.post("/api/v1/routing/defaults", headers=world.auth("admin"))
    r = client.patch(f"/api/v1/routing/agents/{world.users['agent_gz']}",
                     json={"queues": ["chat", "complaints"], "channels": {"chat": 2, "message": 0}},
                     headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    assert (r.json()["queues"], r.json()["channels"]) == (["chat", "complaints"], {"chat": 2, "message": 0})
    bad = client.patch(f"/api/v1/routing/agents/{world.users['agent_gz']}", json={"queues": ["nope"]},
                       headers=world.auth("sup_gd"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (404, "queue_not_found")
    assert client.patch(f"/api/v1/routing/agents/{world.users['agent_gz']}", json={"capacity": 50},
                        headers=world.auth("agent_sz")).status_code == 403


def _login(client: TestClient, username: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token is not None
    r = client.post("/login", data={"username": username, "password": PASSWORD, "login_csrf": token.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/console/routing/me")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return csrf.group(1)


def test_in_the_console_an_agent_accepts_and_lands_on_the_ticket(client: TestClient, world: World,
                                                                  writer: None) -> None:
    csrf = _login(client, "agent_gz")
    r = client.post("/console/routing/presence", data={"presence": "available", "csrf_token": csrf},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "就绪" in r.text
    msg = post_inbound(client, world, "sms", message_id="s-9", sender="13900001111", text="话费疑问",
                       org_unit_code="GZ").json()
    offer = wait_for(world.db, lambda s: s.scalar(select(RoutingOffer).where(RoutingOffer.state == "offered")))
    bar = client.get("/console/routing/bar")
    assert f"#{msg['ticket_id']}" in bar.text
    assert "接受" in bar.text
    r = client.post(f"/console/routing/offers/{offer.id}/accept", data={"csrf_token": csrf},
                    headers={"HX-Request": "true"})
    assert (r.status_code, r.headers.get("HX-Redirect")) == (204, f"/console/tickets/{msg['ticket_id']}")


def test_the_admin_page_configures_queues_with_choosers(client: TestClient, world: World) -> None:
    csrf = _login(client, "admin")
    page = client.get("/console/routing/admin")
    assert page.status_code == 200
    assert "创建默认队列" in page.text
    r = client.post("/console/routing/admin/defaults", data={"csrf_token": csrf,
                                                             "org_unit_id": str(world.units["province"])},
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/console/routing/admin/queues", data={
        "csrf_token": csrf, "key": "vip-voice", "name": "贵宾热线", "channel": "voice",
        "org_unit_id": str(world.units["province"]), "base_priority": "30", "aging_per_minute": "60",
        "ring1_after": "20", "ring1_reach": "province", "offer_timeout": "15"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    with world.db.session() as s:
        q = s.scalar(select(RoutingQueue).where(RoutingQueue.key == "vip-voice"))
        assert q is not None
        assert (q.name, q.channel, q.base_priority, q.rings[1]["reach"]) == ("贵宾热线", "voice", 30.0, "province")
    page = client.get("/console/routing/admin")
    assert "贵宾热线" in page.text
    assert 'name="org_unit_id"' in page.text  # a chooser by name, not an id box
    assert "广东" in page.text
    refused = client.post("/console/routing/admin/queues", data={
        "csrf_token": csrf, "key": "bad", "name": "坏", "channel": "voice", "org_unit_id": str(world.units["province"]),
        "overflow_to": "chat"}, follow_redirects=False)
    assert refused.status_code == 422
    assert "overflow" in refused.text
    # a text queue's reply outside its service hours; a voice queue has none
    assert "非服务时间自动回复" in page.text
    r = client.post("/console/routing/admin/queues", data={
        "csrf_token": csrf, "key": "night-sms", "name": "夜间短信", "channel": "message",
        "org_unit_id": str(world.units["province"]), "after_hours_reply": "您好，人工服务时间为 9:00-18:00。"},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    with world.db.session() as s:
        q = s.scalar(select(RoutingQueue).where(RoutingQueue.key == "night-sms"))
        assert q is not None
        assert q.after_hours_reply == "您好，人工服务时间为 9:00-18:00。"
    edit = client.get("/console/routing/admin", params={"edit": "night-sms"})
    assert "您好，人工服务时间为 9:00-18:00。" in edit.text
    refused = client.post("/console/routing/admin/queues", data={
        "csrf_token": csrf, "key": "vip-voice", "name": "贵宾热线", "channel": "voice",
        "org_unit_id": str(world.units["province"]), "after_hours_reply": "稍后回电"}, follow_redirects=False)
    assert refused.status_code == 422


def test_agents_cannot_open_the_supervisor_and_admin_pages(client: TestClient, world: World) -> None:
    _login(client, "agent_gz")
    assert client.get("/console/routing").status_code == 403
    assert client.get("/console/routing/admin").status_code == 403


def test_the_supervisor_sees_the_engines_move_suggestion_and_applies_it(client: TestClient, world: World) -> None:
    from kefu.org import service as org
    from kefu.routing.runner import Writer
    from tests.routing.flow import Flow

    flow = Flow(world, client.app.state.settings)  # type: ignore[attr-defined]
    writer = Writer(world.db, clock=flow.clock)
    flow.writer = writer
    agent = flow.agent("agent_gz")
    with world.db.unit_of_work() as s:  # Guangzhou's agent serves only the chat queue
        admin = org.user(s, world.users["admin"])
        assert admin is not None
        routing.update_agent(s, org.principal_for(s, admin), agent, queues=["chat"])
    flow.message("sms", "13812345678", "宽带怎么办理", org_unit_code="GZ")
    flow.settle()
    assert flow.offers() == []
    for _ in range(3):  # the backlog ages while the agent idles; the engine checks every minute
        flow.clock.advance(61)
        flow.settle()

    csrf = _login(client, "sup_gd")
    page = client.get("/console/routing")
    assert page.status_code == 200
    assert f'data-suggestion="{agent}-messages"' in page.text
    assert "将 广州坐席 调入「短信与邮件」：排队 1 件" in page.text

    r = client.post(f"/console/routing/agents/{agent}/take/messages", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    flow.settle()
    (offer,) = flow.offers("offered")
    assert (offer.agent_id, offer.queue_key) == (agent, "messages")
    page = client.get("/console/routing")
    assert 'data-suggestion="' not in page.text  # applied: no longer suggested
    # Another supervisor's agents are not theirs to move: refused, nothing changed.
    r = client.post(f"/console/routing/agents/{agent}/take/nosuchqueue", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 404
    with world.db.session() as s:
        from kefu.routing.models import RoutingAgent

        row = s.get(RoutingAgent, agent)
        assert row is not None
        assert sorted(row.queues) == ["chat", "messages"]
