from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from kefu.core.clock import utcnow
from kefu.core.db import Database
from tests.conftest import World
from tests.tickets.helpers import add_customer, add_ticket

API = "/api/v1"


def _create(client: TestClient, world: World, who: str = "agent_gz", **body: Any) -> dict[str, Any]:
    r = client.post(
        f"{API}/tickets",
        headers=world.auth(who),
        json={
            "type": "complaint",
            "subject": "套餐外流量乱扣费",
            "channel": "voice",
            "category": "data.overuse_charges",
            **body,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_create_and_read_a_complaint_with_deadline_category_and_transitions(
    client: TestClient, world: World
) -> None:
    t = _create(client, world)
    assert (t["type"], t["status"], t["priority"], t["org_unit_id"], t["version"]) == (
        "complaint",
        "new",
        "high",
        world.units["gz"],
        1,
    )
    assert t["category"] == {"key": "data.overuse_charges", "name": "超额收费", "name_en": "Overuse charges"}
    r = client.get(f"{API}/tickets/{t['id']}", headers=world.auth("agent_gz"))
    body = r.json()
    assert r.status_code == 200
    opened = datetime.fromisoformat(body["opened_at"])
    assert body["reply_deadline"] == {
        "due_at": (opened + timedelta(days=15)).isoformat().replace("+00:00", "Z"),
        "at_risk": False,
        "overdue": False,
    }
    assert [(x["from_status"], x["to_status"], x["actor_id"]) for x in body["transitions"]] == [
        (None, "new", world.users["agent_gz"])
    ]


def test_reply_deadline_block_is_opened_plus_fifteen_days(
    db: Database, client: TestClient, world: World
) -> None:
    opened = utcnow().replace(microsecond=0) - timedelta(days=13)
    with db.unit_of_work() as s:
        tid = add_ticket(s, org_unit_id=world.units["gz"], type="complaint", at=opened).id
        plain = add_ticket(s, org_unit_id=world.units["gz"], type="inquiry", at=opened).id
    body = client.get(f"{API}/tickets/{tid}", headers=world.auth("agent_gz")).json()
    due = (opened + timedelta(days=15)).isoformat().replace("+00:00", "Z")
    assert body["reply_deadline"] == {"due_at": due, "at_risk": True, "overdue": False}
    assert (
        client.get(f"{API}/tickets/{plain}", headers=world.auth("agent_gz")).json()["reply_deadline"] is None
    )


def test_transitions_over_http_illegal_is_409_and_stale_is_409_and_nothing_changes(
    client: TestClient, world: World
) -> None:
    h = world.auth("agent_gz")
    t = _create(client, world)
    url = f"{API}/tickets/{t['id']}"
    r = client.post(f"{url}/transitions", headers=h, json={"to": "waiting_customer"})
    assert r.status_code == 409
    assert r.json() == {
        "error": {
            "code": "illegal_transition",
            "message": "a ticket cannot go from 'new' to 'waiting_customer'",
            "details": {
                "from": "new",
                "to": "waiting_customer",
                "allowed": ["assigned", "closed", "in_progress", "resolved"],
            },
        }
    }
    assert client.get(url, headers=h).json() == client.get(url, headers=h).json()
    unchanged = client.get(url, headers=h).json()
    assert (unchanged["status"], unchanged["version"], len(unchanged["transitions"])) == ("new", 1, 1)

    ok = client.post(f"{url}/transitions", headers=h, json={"to": "in_progress", "expected_version": 1})
    assert (ok.status_code, ok.json()["status"], ok.json()["version"]) == (200, "in_progress", 2)
    stale = client.post(
        f"{url}/transitions", headers=h, json={"to": "resolved", "reason": "已退费", "expected_version": 1}
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_ticket"
    after = client.get(url, headers=h).json()
    assert (after["status"], after["version"], len(after["transitions"])) == ("in_progress", 2, 2)

    no_reason = client.post(f"{url}/transitions", headers=h, json={"to": "resolved"})
    assert (no_reason.status_code, no_reason.json()["error"]["code"]) == (422, "reason_required")
    done = client.post(f"{url}/transitions", headers=h, json={"to": "resolved", "reason": "已退费 20 元"})
    assert done.json()["transitions"][-1]["reason"] == "已退费 20 元"


def test_other_city_gets_404_and_agent_cannot_merge(client: TestClient, world: World) -> None:
    t = _create(client, world)
    for method, path, body in [
        ("get", "", None),
        ("patch", "", {"priority": "low"}),
        ("post", "/transitions", {"to": "in_progress"}),
    ]:
        r = client.request(
            method, f"{API}/tickets/{t['id']}{path}", headers=world.auth("agent_sz"), json=body
        )
        assert (r.status_code, r.json()["error"]["code"]) == (404, "ticket_not_found")
    assert client.get(f"{API}/tickets", headers=world.auth("agent_sz")).json()["items"] == []
    other = _create(client, world)
    r = client.post(
        f"{API}/tickets/{t['id']}/merge",
        headers=world.auth("agent_gz"),
        json={"into_id": other["id"], "reason": "dup"},
    )
    assert r.status_code == 403
    assert r.json()["error"]["details"] == {"permission": "tickets.merge"}


def test_assign_patch_merge_and_inbox_over_http(db: Database, client: TestClient, world: World) -> None:
    with db.unit_of_work() as s:
        cid = add_customer(s, org_unit_id=world.units["gz"], tier="gold").id
    a = _create(client, world, customer_id=cid)
    b = _create(client, world, customer_id=cid)
    sup = world.auth("sup_gd")
    r = client.post(
        f"{API}/tickets/{a['id']}/assign", headers=sup, json={"assignee_id": world.users["agent_gz"]}
    )
    assert (r.status_code, r.json()["status"], r.json()["assignee_id"]) == (
        200,
        "assigned",
        world.users["agent_gz"],
    )
    r = client.patch(
        f"{API}/tickets/{a['id']}", headers=sup, json={"priority": "urgent", "category": "billing"}
    )
    assert (r.json()["priority"], r.json()["category"]["key"]) == ("urgent", "billing")
    r = client.post(
        f"{API}/tickets/{b['id']}/merge", headers=sup, json={"into_id": a["id"], "reason": "重复"}
    )
    assert (r.status_code, r.json()["id"]) == (200, a["id"])
    merged = client.get(f"{API}/tickets/{b['id']}", headers=sup).json()
    assert (merged["status"], merged["merged_into_id"]) == ("merged", a["id"])

    inbox = client.get(
        f"{API}/tickets", headers=sup, params={"status": "assigned,new", "tier": "gold", "limit": 1}
    )
    assert inbox.status_code == 200
    assert {k: v for k, v in inbox.json().items() if k != "items"} == {
        "total": 1,
        "limit": 1,
        "offset": 0,
        "total_capped": False,
    }
    assert [i["id"] for i in inbox.json()["items"]] == [a["id"]]
    bad = client.get(f"{API}/tickets", headers=sup, params={"status": "open"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "unknown_status")


def test_category_endpoint_returns_the_tree(client: TestClient, world: World) -> None:
    tree = client.get(f"{API}/categories", headers=world.auth("analyst")).json()
    assert len(tree) == 12
    assert tree[0]["key"] == "billing"
    assert tree[0]["children"][2] == {
        "key": "billing.refund",
        "name": "退费",
        "name_en": "Refund",
        "children": [],
    }
    assert tree[-1] == {"key": "other", "name": "其他", "name_en": "Other", "children": []}


def test_create_in_an_invisible_unit_is_404_and_bad_type_is_422(client: TestClient, world: World) -> None:
    r = client.post(
        f"{API}/tickets",
        headers=world.auth("agent_sz"),
        json={"type": "inquiry", "subject": "x", "org_unit_id": world.units["gz"]},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "org_unit_not_found")
    r = client.post(f"{API}/tickets", headers=world.auth("agent_sz"), json={"type": "praise", "subject": "x"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_ticket_type")
