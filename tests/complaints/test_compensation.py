"""Compensation with authority: within the limit it is granted; above it 403 `authority_exceeded` with nothing
written, or, asked for approval, it waits for someone whose authority covers it; bad input is 4xx."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.complaints.models import Compensation
from kefu.core.events import OutboxEvent
from tests.conftest import World


def _ticket(client: TestClient, world: World) -> int:
    r = client.post("/api/v1/tickets", json={"type": "complaint", "subject": "话费多扣了"},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _count(world: World) -> tuple[int, int]:
    with world.db.session() as s:
        return (s.scalar(select(func.count()).select_from(Compensation)) or 0,
                s.scalar(select(func.count()).select_from(OutboxEvent)
                         .where(OutboxEvent.name == "complaint.compensation_granted")) or 0)


def test_within_authority_is_granted_above_it_nothing_changes(client: TestClient, world: World) -> None:
    tid = _ticket(client, world)
    url = f"/api/v1/complaints/tickets/{tid}/compensations"
    r = client.post(url, json={"kind": "bill_credit", "amount": "30.00"}, headers=world.auth("agent_gz"))
    assert r.status_code == 201
    assert r.json()["status"] == "granted"
    assert r.json()["decided_by_id"] == world.users["agent_gz"]
    assert _count(world) == (1, 1)
    r = client.post(url, json={"kind": "refund", "amount": "80"}, headers=world.auth("agent_gz"))  # limit 50
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "authority_exceeded"
    assert r.json()["error"]["details"] == {"amount": "80", "authority": "50.00"}
    assert _count(world) == (1, 1)
    for bad in ({"kind": "cash", "amount": "5"}, {"kind": "refund", "amount": "0"},
                {"kind": "refund", "amount": "1.005"}, {"kind": "refund", "amount": "-3"}):
        assert client.post(url, json=bad, headers=world.auth("agent_gz")).status_code == 422
    assert client.post(url, json={"kind": "refund", "amount": "5"}, headers=world.auth("agent_sz")).status_code == 404
    assert client.post(url, json={"kind": "refund", "amount": "5"}, headers=world.auth("analyst")).status_code == 403
    assert _count(world) == (1, 1)


def test_above_authority_waits_for_approval_by_someone_whose_authority_covers_it(client: TestClient,
                                                                                   world: World) -> None:
    tid = _ticket(client, world)
    r = client.post(f"/api/v1/complaints/tickets/{tid}/compensations",
                    json={"kind": "data_pack", "amount": "200", "request_approval": True},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 201
    assert r.json()["status"] == "pending_approval"
    cid = r.json()["id"]
    url = f"/api/v1/complaints/compensations/{cid}/decision"
    r = client.post(url, json={"approve": True}, headers=world.auth("agent_gz"))  # 50 < 200
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "authority_exceeded"
    assert client.post(url, json={"approve": False}, headers=world.auth("sup_gd")).status_code == 422  # no reason
    assert _count(world) == (1, 0)
    r = client.post(url, json={"approve": True}, headers=world.auth("sup_gd"))  # 500 covers it
    assert r.status_code == 200
    assert r.json()["status"] == "granted"
    assert r.json()["decided_by_id"] == world.users["sup_gd"]
    assert _count(world) == (1, 1)
    r = client.post(url, json={"approve": False, "reason": "重复"}, headers=world.auth("sup_gd"))
    assert r.status_code == 409
    items = client.get(f"/api/v1/complaints/tickets/{tid}/compensations", headers=world.auth("agent_gz")).json()
    assert [(c["kind"], c["amount"], c["status"]) for c in items["items"]] == [("data_pack", "200.00", "granted")]


def test_the_ticket_page_shows_compensations(client: TestClient, world: World) -> None:
    from tests.web.conftest import login

    tid = _ticket(client, world)
    client.post(f"/api/v1/complaints/tickets/{tid}/compensations", json={"kind": "minutes", "amount": "12.5"},
                headers=world.auth("agent_gz"))
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}").text
    assert 'id="ticket-compensations"' in page
    assert "通话分钟 ¥12.50" in page
