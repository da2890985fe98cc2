"""Escalation on breach to a routing queue (转派到队列): the policy names a queue, the scan's breach sends the
ticket there through routing (it loses its owner and routing queues it), a queue outside the ticket's branch
is recorded as a failed escalation; administrators choose the queue in the SLA console and over the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.config import Settings
from kefu.core.errors import Conflict
from kefu.core.events import OutboxEvent
from kefu.routing import service as routing
from kefu.routing.models import RoutingItem, RoutingTicketQueue
from kefu.sla import service as sla
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.routing.flow import Flow
from tests.routing.test_api_and_console import _login
from tests.sla.test_calendar import bj
from tests.sla.test_service import _policy, _scan, _ticket, assigned_and_breached


@pytest.fixture
def flow(world: World, settings: Settings) -> Flow:
    return Flow(world, settings)  # the default queues (complaints, voice, chat, messages, tickets) and the writer


def _payloads(w: World, name: str, tid: int) -> list[dict]:  # type: ignore[type-arg]
    with w.db.session() as s:
        return [e.payload for e in s.scalars(select(OutboxEvent).where(
            OutboxEvent.name == name, OutboxEvent.aggregate_id == tid).order_by(OutboxEvent.id))]


def test_a_breach_sends_the_ticket_to_the_policys_queue_and_routing_queues_it_there(
        world: World, flow: Flow) -> None:
    w = world
    with w.db.unit_of_work() as s:
        _policy(s, resolution_minutes=6 * 60, on_breach="raise_priority", breach_queue_key="complaints")
    tid = assigned_and_breached(w, flow.settle)
    with w.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        assert (t.assignee_id, t.priority) == (None, "high")
        live = s.scalars(select(RoutingItem.queue_key).where(RoutingItem.ticket_id == tid,
                                                             RoutingItem.ended_at.is_(None))).all()
    assert list(live) == ["complaints"]
    [moved] = _payloads(w, "ticket.transferred", tid)
    assert (moved["queue"], moved["previous_assignee_id"], moved["actor_id"], moved["reason"]) == (
        "complaints", w.users["agent_gz"], None, "SLA breach (first_response)")
    assert _payloads(w, "sla.escalation_failed", tid) == []
    # the resolution target breaches too (6 working hours: 16:30): the ticket waits in the queue already
    assert _scan(w, bj(2026, 3, 2, 17)) == (0, 1)
    flow.settle()
    assert len(_payloads(w, "ticket.transferred", tid)) == 1
    with w.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        assert (t.assignee_id, t.priority) == (None, "urgent")


def test_a_queue_outside_the_tickets_branch_is_a_failed_escalation_not_a_move(world: World, flow: Flow) -> None:
    w = world
    with w.db.unit_of_work() as s:
        routing.save_queue(s, None, routing.QueueSpec(key="sz_vip", name="深圳VIP", channel="ticket",
                                                      org_unit_id=w.units["sz"]))
        _policy(s, resolution_minutes=None, breach_queue_key="sz_vip")
    tid = assigned_and_breached(w)  # a Guangzhou ticket
    with w.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        assert t.assignee_id == w.users["agent_gz"]
    [failed] = _payloads(w, "sla.escalation_failed", tid)
    assert (failed["queue_key"], failed["error"], failed["metric"]) == ("sz_vip", "queue_not_found", "first_response")
    assert _payloads(w, "ticket.transferred", tid) == []


def test_a_policy_names_an_active_queue_and_not_a_person_too(world: World, flow: Flow) -> None:
    with world.db.unit_of_work() as s, pytest.raises(sla.InvalidPolicy) as err:
        _policy(s, breach_queue_key="no_such_queue")
    assert err.value.details == {"field": "breach_queue_key"}
    with world.db.unit_of_work() as s, pytest.raises(sla.InvalidPolicy) as err:
        _policy(s, breach_queue_key="complaints", breach_assignee_id=world.users["sup_gd"])
    assert err.value.details == {"field": "breach_queue_key"}
    with world.db.unit_of_work() as s:
        p = _policy(s, breach_queue_key="")
        assert p.breach_queue_key is None


def test_the_admin_chooses_the_escalation_queue_in_the_console_and_the_api_shows_it(
        client: TestClient, world: World, flow: Flow) -> None:
    csrf = _login(client, "admin")
    page = client.get("/console/sla")
    assert '<select name="breach_queue_key">' in page.text
    assert '<option value="complaints">投诉处理</option>' in page.text
    r = client.post("/console/sla/policies", data={
        "csrf_token": csrf, "name": "投诉超时转投诉队列", "position": "0", "types": "complaint",
        "first_response": "2", "first_response_unit": "hours", "business_time": "1", "warn_percent": "80",
        "on_breach": "notify", "breach_queue_key": "complaints", "active": "1"}, follow_redirects=False)
    assert r.status_code == 303
    with world.db.session() as s:
        [p] = sla.list_policies(s)
        assert (p.breach_queue_key, p.breach_assignee_id) == ("complaints", None)
    edit = client.get(f"/console/sla?edit={p.id}")
    assert '<option value="complaints" selected>投诉处理</option>' in edit.text
    assert "转派队列 投诉处理" in edit.text
    bad = client.post("/console/sla/policies", data={
        "csrf_token": csrf, "policy_id": str(p.id), "name": "投诉超时转投诉队列", "first_response": "2",
        "first_response_unit": "hours", "on_breach": "notify", "breach_queue_key": "complaints",
        "breach_assignee_id": str(world.users["sup_gd"]), "active": "1"})
    assert bad.status_code == 422
    assert "not both" in bad.text
    got = client.get(f"/api/v1/sla/policies/{p.id}", headers=world.auth("admin"))
    assert got.json()["breach_queue_key"] == "complaints"
    put = client.put(f"/api/v1/sla/policies/{p.id}", headers=world.auth("admin"),
                     json={"name": "投诉超时转投诉队列", "first_response_minutes": 120, "breach_queue_key": "tickets"})
    assert (put.status_code, put.json()["breach_queue_key"]) == (200, "tickets")
    wrong = client.put(f"/api/v1/sla/policies/{p.id}", headers=world.auth("admin"),
                       json={"name": "x", "first_response_minutes": 120, "breach_queue_key": "nope"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "sla_invalid_policy")


def _as_it_stands(w: World, tid: int) -> tuple[object, ...]:
    with w.db.session() as s:
        t = tickets.get(s, tid)
        assert t is not None
        pin = s.get(RoutingTicketQueue, tid)
        return (t.status, t.assignee_id, t.version, t.updated_at,
                None if pin is None else (pin.queue_key, pin.set_by_id, pin.set_at),
                len(_payloads(w, "ticket.transferred", tid)))


@pytest.mark.parametrize("pinned", [None, "chat"])
def test_a_refused_escalation_leaves_the_ticket_and_its_queue_pin_as_they_were(
        world: World, flow: Flow, pinned: str | None) -> None:
    """The queue is right, the ticket is not open any more: the release is refused (ticket_not_open) and
    the caller carries on in the same transaction and commits. Nothing of the escalation is left: no pin to
    the escalation queue (nor a changed one), the owner kept, no transfer recorded."""
    w = world
    tid = _ticket(w, bj(2026, 3, 2, 9))
    with w.db.unit_of_work() as s:
        tickets.assign(s, tid, assignee_id=w.users["agent_gz"], actor_id=w.users["sup_gd"], at=bj(2026, 3, 2, 9, 5))
        if pinned is not None:
            routing.queue_ticket(s, tid, pinned, set_by_id=w.users["sup_gd"], at=bj(2026, 3, 2, 10))
        tickets.change_status(s, tid, "resolved", actor_id=w.users["agent_gz"], reason="已解决",
                              at=bj(2026, 3, 2, 15))
    flow.settle()
    before = _as_it_stands(w, tid)
    assert before[1] == w.users["agent_gz"]
    assert before[4] == (None if pinned is None else (pinned, w.users["sup_gd"], bj(2026, 3, 2, 10)))
    with w.db.unit_of_work() as s:
        with pytest.raises(Conflict) as err:
            routing.escalate_to_queue(s, tid, "complaints", reason="SLA breach (resolution)", at=bj(2026, 3, 2, 16))
        assert err.value.code == "ticket_not_open"
    assert _as_it_stands(w, tid) == before
