"""Consults (会商): the agent pulls network, marketing and billing support into a case at once and stays the
ticket's owner; each consult has its own state, due time and answer."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.collaboration import service
from kefu.collaboration.models import Consult
from kefu.core.clock import utcnow
from kefu.tickets.models import Ticket
from tests.collaboration.support import Case, events_named, make_case
from tests.conftest import World


def _ask(client: TestClient, world: World, case: Case, who: str = "agent_gz", **extra: object):  # type: ignore[no-untyped-def]
    body = {"question": "客户宽带断网三天，同时被多扣了 30 元，请同时核实网络故障、计费和营销活动。",
            "due_minutes": 120,
            "targets": [{"kind": "unit", "id": case.network_unit}, {"kind": "unit", "id": case.marketing_unit},
                        {"kind": "role", "role": "support"}], **extra}
    return client.post(f"/api/v1/tickets/{case.ticket_id}/consults", json=body, headers=world.auth(who))


def test_an_agent_asks_three_departments_at_once_and_stays_the_owner(client: TestClient, world: World) -> None:
    case = make_case(world)
    r = _ask(client, world, case)
    assert r.status_code == 201, r.text
    rows = r.json()
    assert [(c["target_kind"], c["target_name"], c["state"]) for c in rows] == [
        ("unit", "网络支撑中心", "open"), ("unit", "市场营销部", "open"), ("role", "后台支撑", "open")]
    assert len({c["id"] for c in rows}) == 3
    with world.db.session() as s:
        ticket = s.get(Ticket, case.ticket_id)
        assert ticket is not None
        assert ticket.assignee_id == world.users["agent_gz"]
        assert ticket.status == "assigned"
    requested = events_named(world, "consult.requested")
    assert [e.payload["consult_id"] for e in requested] == [c["id"] for c in rows]
    assert {e.payload["ticket_id"] for e in requested} == {case.ticket_id}

    # each addressee sees only its own consult in its 待支撑; the role consult reaches the support people
    # whose subtree holds the ticket (the province's billing support), not the marketing department's
    mine = {who: [c["target_name"]
                  for c in client.get("/api/v1/consults/mine", headers=world.auth(who)).json()["items"]]
            for who in ("net_expert", "mkt_support", "support_gd")}
    assert mine == {"net_expert": ["网络支撑中心"], "mkt_support": ["市场营销部"],
                    "support_gd": ["后台支撑"]}


def test_answers_come_in_parallel_and_the_owner_accepts_each(client: TestClient, world: World) -> None:
    case = make_case(world)
    net, mkt, role = (c["id"] for c in _ask(client, world, case).json())
    r = client.post(f"/api/v1/consults/{mkt}/answer", json={"answer": "营销活动已核实，将退还 30 元。"},
                    headers=world.auth("mkt_support"))
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["answered_by"]) == ("answered", world.users["mkt_support"])
    r = client.post(f"/api/v1/consults/{net}/answer", json={"answer": "OLT 板卡故障，今晚 22 点前修复。"},
                    headers=world.auth("net_expert"))
    assert r.status_code == 200
    # the network expert is not addressed by the role consult: refused, nothing changed
    r = client.post(f"/api/v1/consults/{role}/answer", json={"answer": "x"}, headers=world.auth("net_expert"))
    assert r.status_code in (403, 404)
    # a second answer to an answered consult is refused and the first stands
    r = client.post(f"/api/v1/consults/{mkt}/answer", json={"answer": "改口"}, headers=world.auth("mkt_support"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "consult_not_open")
    # only the owner accepts
    r = client.post(f"/api/v1/consults/{mkt}/accept", headers=world.auth("mkt_support"))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "not_consult_owner")
    r = client.post(f"/api/v1/consults/{mkt}/accept", headers=world.auth("agent_gz"))
    assert r.json()["state"] == "accepted"
    r = client.post(f"/api/v1/consults/{role}/cancel", headers=world.auth("agent_gz"))
    assert r.json()["state"] == "cancelled"
    listed = client.get(f"/api/v1/tickets/{case.ticket_id}/consults", headers=world.auth("agent_gz")).json()
    assert [(c["state"], c["answer"]) for c in listed] == [
        ("answered", "OLT 板卡故障，今晚 22 点前修复。"), ("accepted", "营销活动已核实，将退还 30 元。"),
        ("cancelled", None)]
    assert [e.payload["consult_id"] for e in events_named(world, "consult.answered")] == [mkt, net]
    # closed consults leave the 待支撑 list
    assert client.get("/api/v1/consults/mine", headers=world.auth("mkt_support")).json()["total"] == 0


def test_another_city_neither_sees_nor_answers_the_consults(client: TestClient, world: World) -> None:
    case = make_case(world)
    cid = _ask(client, world, case).json()[0]["id"]
    assert client.get(f"/api/v1/consults/{cid}", headers=world.auth("agent_sz")).status_code == 404
    assert client.get(f"/api/v1/tickets/{case.ticket_id}/consults", headers=world.auth("agent_sz")).status_code == 404
    assert client.post(f"/api/v1/consults/{cid}/answer", json={"answer": "x"},
                       headers=world.auth("agent_sz")).status_code == 403  # agents do not answer consults


def test_a_bad_addressee_refuses_the_whole_request(client: TestClient, world: World) -> None:
    case = make_case(world)
    for targets, field in (([{"kind": "role", "role": "agent"}], "targets"),
                           ([{"kind": "user", "id": world.users["agent_sz"]}], "targets"),
                           ([{"kind": "team", "id": 999}], "targets"),
                           ([{"kind": "unit", "id": case.network_unit}, {"kind": "planet", "id": 1}], "targets")):
        r = _ask(client, world, case, targets=targets)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["field"] == field
    r = _ask(client, world, case, question="   ")
    assert r.status_code == 422
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Consult)) == 0
    assert events_named(world, "consult.requested") == []


def test_an_unanswered_consult_past_its_due_time_is_reported_overdue_once(client: TestClient, world: World) -> None:
    case = make_case(world)
    ids = [c["id"] for c in _ask(client, world, case).json()]
    client.post(f"/api/v1/consults/{ids[0]}/answer", json={"answer": "已处理"}, headers=world.auth("net_expert"))
    later = utcnow() + timedelta(minutes=121)
    with world.db.unit_of_work() as s:
        assert service.mark_overdue(s, at=utcnow()) == []
        assert service.mark_overdue(s, at=later) == ids[1:]
    with world.db.unit_of_work() as s:
        assert service.mark_overdue(s, at=later + timedelta(minutes=5)) == []
    overdue = events_named(world, "consult.overdue")
    assert [e.payload["consult_id"] for e in overdue] == ids[1:]
    assert overdue[0].payload["ticket_id"] == case.ticket_id


def test_consult_measures_count_asked_answered_overdue_and_answer_time(client: TestClient, world: World) -> None:
    case = make_case(world)
    ids = [c["id"] for c in _ask(client, world, case).json()]
    client.post(f"/api/v1/consults/{ids[0]}/answer", json={"answer": "好"}, headers=world.auth("net_expert"))
    with world.db.unit_of_work() as s:
        service.mark_overdue(s, at=utcnow() + timedelta(hours=3))
    m = client.get("/api/v1/consults/measures", headers=world.auth("sup_gd")).json()
    assert {k: m[k] for k in ("asked", "answered", "overdue", "tickets", "per_ticket")} == {
        "asked": 3, "answered": 1, "overdue": 2, "tickets": 1, "per_ticket": 3.0}
    assert 0 <= m["mean_answer_minutes"] < 5
    # another city's branch has none
    assert client.get("/api/v1/consults/measures", headers=world.auth("agent_sz")).json()["asked"] == 0
