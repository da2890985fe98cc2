"""The audit log: what is written, for whom it is visible, how it is searched."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.org.models import AuditEntry
from tests.conftest import PASSWORD, World
from tests.org.support import add_province

API = "/api/v1"


def _entries(world: World, **where: Any) -> list[AuditEntry]:
    with world.db.session() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditEntry, k) == v)
        return list(s.scalars(stmt))


def _customer(client: TestClient, world: World, phone: str, unit: str = "gz") -> int:
    r = client.post(f"{API}/customers", headers=world.auth("admin"),
                    json={"phone": phone, "org_unit_id": world.units[unit], "name": "张三"})
    assert r.status_code == 201
    return int(r.json()["id"])


def test_a_customer_profile_seen_unmasked_is_audited_and_a_masked_one_is_not(client: TestClient,
                                                                             world: World) -> None:
    cid = _customer(client, world, "13812345678")
    assert client.get(f"{API}/customers/{cid}", headers=world.auth("agent_gz")).json()["masked"] is False
    assert client.get(f"{API}/customers/{cid}", headers=world.auth("analyst")).json()["masked"] is True
    rows = _entries(world, action="customer.viewed")
    assert [(e.actor_name, e.object_type, e.object_id, e.org_unit_id, e.ip) for e in rows] == [
        ("agent_gz", "customer", str(cid), world.units["gz"], "testclient")]


def test_a_phone_search_is_audited_with_the_last_four_digits_only(client: TestClient, world: World) -> None:
    cid = _customer(client, world, "13812345678")
    r = client.get(f"{API}/customers", params={"phone": "13812345678"}, headers=world.auth("sup_gd"))
    assert r.json()["total"] == 1
    client.get(f"{API}/customers", params={"phone": "13899999999"}, headers=world.auth("sup_gd"))  # nothing found
    rows = _entries(world, action="customer.searched")
    assert len(rows) == 1
    assert (rows[0].actor_name, rows[0].org_unit_id) == ("sup_gd", world.units["province"])
    assert rows[0].details == {"phone": "*******5678", "text_query": False, "total": 1, "customer_ids": [cid]}


def test_the_console_customer_pages_are_audited(client: TestClient, world: World) -> None:
    cid = _customer(client, world, "13812345678")
    client.post(f"{API}/auth/login", json={"username": "agent_gz", "password": PASSWORD})
    assert client.get(f"/console/customers/{cid}").status_code == 200
    assert client.get("/console/customers", params={"phone": "5678"}).status_code == 200
    rows = _entries(world, actor_name="agent_gz")
    assert [(e.action, e.object_id) for e in rows] == [
        ("login.succeeded", str(world.users["agent_gz"])), ("customer.viewed", str(cid)),
        ("customer.searched", None)]
    assert rows[2].details["phone"] == "5678"


def test_tokens_users_and_logout_are_audited(client: TestClient, world: World) -> None:
    h = world.auth("admin")
    made = client.post(f"{API}/tokens", headers=h, json={"name": "gw", "scopes": ["inbound:sms"]}).json()
    client.delete(f"{API}/tokens/{made['id']}", headers=h)
    u = client.post(f"{API}/users", headers=h, json={"username": "new1", "display_name": "新人", "role": "agent",
                                                     "org_unit_id": world.units["sz"], "password": "long-enough-1"})
    client.patch(f"{API}/users/{u.json()['id']}", headers=h, json={"role": "expert", "password": "another-one-2"})
    client.post(f"{API}/auth/login", json={"username": "new1", "password": "another-one-2"})
    client.post(f"{API}/auth/logout")
    rows = [e for e in _entries(world) if e.actor_name in ("admin", "new1")]
    assert [(e.action, e.actor_name, e.object_type) for e in rows] == [
        ("token.created", "admin", "api_token"), ("token.revoked", "admin", "api_token"),
        ("user.created", "admin", "user"), ("user.updated", "admin", "user"),
        ("login.succeeded", "new1", "user"), ("logout", "new1", "user")]
    assert rows[0].details["scopes"] == ["inbound:sms"]
    assert rows[0].object_id == rows[1].object_id == str(made["id"])
    assert rows[3].details["changes"] == {"role": "expert", "password": "changed"}
    assert rows[2].org_unit_id == world.units["sz"]
    assert {e.ip for e in rows} == {"testclient"}


def test_inbound_gateway_posts_write_no_audit_entries(client: TestClient, world: World) -> None:
    with world.db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    r = client.post(f"{API}/inbound/sms", headers=world.auth("admin"),
                    json={"message_id": "a1", "sender": "13812345678", "text": "查话费"})
    assert r.status_code == 201
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_an_administrator_searches_the_log_of_their_subtree_only(client: TestClient, world: World) -> None:
    add_province(world)
    gz_customer = _customer(client, world, "13812345678", "gz")
    hz_customer = _customer(client, world, "13912345678", "hz")
    client.get(f"{API}/customers/{gz_customer}", headers=world.auth("agent_gz"))
    client.get(f"{API}/customers/{hz_customer}", headers=world.auth("agent_hz"))
    client.post(f"{API}/auth/login", json={"username": "nobody", "password": "wrong-password"})
    viewed = {"action": "customer.viewed"}

    def ids(who: str, **params: Any) -> list[str | None]:
        r = client.get(f"{API}/audit", params=params, headers=world.auth(who))
        assert r.status_code == 200
        return [i["object_id"] for i in r.json()["items"]]

    assert ids("admin", **viewed) == [str(hz_customer), str(gz_customer)]
    assert ids("admin_gd", **viewed) == [str(gz_customer)]
    assert ids("admin_zj", **viewed) == [str(hz_customer)]
    assert ids("admin", action="login.failed") == [None]  # an unknown name: group level only
    assert ids("admin_gd", action="login.failed") == []
    assert ids("admin_gd", actor_id=world.users["agent_gz"]) == [str(gz_customer)]
    assert ids("admin", object_type="customer", object_id=str(hz_customer)) == [str(hz_customer)]
    assert len(ids("admin", action="customer.")) == 2
    first = _entries(world, action="customer.viewed")[0].at
    assert ids("admin", since=first.isoformat(), **viewed) == [str(hz_customer), str(gz_customer)]
    assert ids("admin", until=first.isoformat(), **viewed) == []
    for who in ("agent_gz", "sup_gd", "analyst"):
        assert client.get(f"{API}/audit", headers=world.auth(who)).status_code == 403
    naive = client.get(f"{API}/audit", params={"since": "2026-01-01T00:00:00"}, headers=world.auth("admin"))
    assert (naive.status_code, naive.json()["error"]["code"]) == (422, "invalid_time")
