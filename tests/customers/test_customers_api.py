from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.customers.models import Customer, TierRule
from tests.conftest import World

DEFAULT_RULES = [{"tier": "diamond", "min_arpu": "300.00", "min_tenure_months": 60},
                 {"tier": "gold", "min_arpu": "158.00", "min_tenure_months": 24},
                 {"tier": "silver", "min_arpu": "88.00", "min_tenure_months": 12},
                 {"tier": "standard", "min_arpu": "0.00", "min_tenure_months": 0}]


def _create(client: TestClient, world: World, **body: Any) -> dict[str, Any]:
    body.setdefault("org_unit_id", world.units["gz"])
    r = client.post("/api/v1/customers", json=body, headers=world.auth("admin"))
    assert r.status_code == 201, r.json()
    return r.json()


@pytest.fixture
def zhang(client: TestClient, world: World) -> dict[str, Any]:
    c = _create(client, world, phone="138-1234-5678", name="张三", plan="5G畅享 199", arpu="199",
                tenure_months=30, share_voice=0.2, share_data=0.7, share_sms=0.05, share_vas=0.05)
    r = client.post(f"/api/v1/customers/{c['id']}/identities", headers=world.auth("admin"),
                    json={"kind": "email", "value": "zhang.san@example.com"})
    assert r.status_code == 201
    return r.json()


def test_created_customer_is_read_back_with_tier_vip_and_region(client: TestClient, world: World,
                                                                zhang: dict[str, Any]) -> None:
    r = client.get(f"/api/v1/customers/{zhang['id']}", headers=world.auth("agent_gz"))
    assert r.status_code == 200
    body = r.json()
    body.pop("created_at"), body.pop("updated_at"), body["identities"][0].pop("created_at")
    assert body == {
        "id": zhang["id"], "phone": "+8613812345678", "masked": False, "name": "张三", "plan": "5G畅享 199",
        "region": "江苏省连云港市 中国移动", "org_unit_id": world.units["gz"], "arpu": "199.00",
        "tenure_months": 30, "share_voice": 0.2, "share_data": 0.7, "share_sms": 0.05, "share_vas": 0.05,
        "tier": "gold", "vip": True, "birth_year": None, "age_band": "", "merged_into_id": None,
        "identities": [{"id": zhang["identities"][0]["id"], "kind": "email",
                        "value": "zhang.san@example.com"}],
    }


@pytest.mark.parametrize(("who", "phone", "name", "email"), [
    ("agent_gz", "+8613812345678", "张三", "zhang.san@example.com"),
    ("sup_gd", "+8613812345678", "张三", "zhang.san@example.com"),
    ("admin", "+8613812345678", "张三", "zhang.san@example.com"),
    ("analyst", "138****5678", "张*", "z***@example.com"),
    ("support_gd", "138****5678", "张*", "z***@example.com"),
])
def test_personal_data_is_masked_for_roles_without_pii(client: TestClient, world: World,
                                                       zhang: dict[str, Any], who: str, phone: str, name: str,
                                                       email: str) -> None:
    one = client.get(f"/api/v1/customers/{zhang['id']}", headers=world.auth(who)).json()
    listed = client.get("/api/v1/customers", headers=world.auth(who)).json()["items"]
    for c in (one, listed[0]):
        assert (c["phone"], c["name"], c["identities"][0]["value"], c["masked"]) == (
            phone, name, email, who in ("analyst", "support_gd"))


def test_agent_of_another_city_gets_404_for_a_guangzhou_customer(client: TestClient, world: World,
                                                                 zhang: dict[str, Any]) -> None:
    r = client.get(f"/api/v1/customers/{zhang['id']}", headers=world.auth("agent_sz"))
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "customer_not_found", "message": f"customer {zhang['id']} not found",
                                 "details": {}}
    listed = client.get("/api/v1/customers", headers=world.auth("agent_sz")).json()
    assert (listed["items"], listed["total"]) == ([], 0)


def test_search_by_phone_last_four_name_and_identity(client: TestClient, world: World,
                                                     zhang: dict[str, Any]) -> None:
    li = _create(client, world, phone="13912340000", name="李四", org_unit_id=world.units["sz"])
    h = world.auth("sup_gd")

    def ids(**params: Any) -> list[int]:
        r = client.get("/api/v1/customers", params=params, headers=h)
        assert r.status_code == 200, r.json()
        return [c["id"] for c in r.json()["items"]]

    assert ids(phone="+86 138 1234 5678") == [zhang["id"]]
    assert ids(phone="5678") == [zhang["id"]]
    assert ids(q="张") == [zhang["id"]]
    assert ids(q="ZHANG.SAN@example.com") == [zhang["id"]]
    assert ids(tier="gold") == [zhang["id"]]
    assert ids(org_unit_id=world.units["sz"]) == [li["id"]]
    assert ids(org_unit_id=world.units["province"]) == [zhang["id"], li["id"]]
    page = client.get("/api/v1/customers", params={"limit": 1, "offset": 1}, headers=h).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)
    bad = client.get("/api/v1/customers", params={"phone": "12345"}, headers=h)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_phone")


def test_invalid_phone_is_refused_and_nothing_is_stored(client: TestClient, world: World,
                                                        db: Database) -> None:
    r = client.post("/api/v1/customers", headers=world.auth("admin"),
                    json={"phone": "1381234567x", "org_unit_id": world.units["gz"]})
    assert r.status_code == 422
    assert r.json()["error"] == {"code": "invalid_phone",
                                 "message": "'1381234567x' is not a valid phone number: contains letters",
                                 "details": {"input": "1381234567x", "reason": "contains letters"}}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0


def test_duplicate_phone_is_409(client: TestClient, world: World, zhang: dict[str, Any]) -> None:
    r = client.post("/api/v1/customers", headers=world.auth("admin"),
                    json={"phone": "+8613812345678", "org_unit_id": world.units["gz"]})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "customer_exists")


def test_patch_changes_profile_and_tier(client: TestClient, world: World, zhang: dict[str, Any]) -> None:
    r = client.patch(f"/api/v1/customers/{zhang['id']}", headers=world.auth("sup_gd"),
                     json={"arpu": "350", "tenure_months": 61, "plan": None})
    assert r.status_code == 200
    assert (r.json()["tier"], r.json()["arpu"], r.json()["plan"]) == ("diamond", "350.00", None)


def test_merge_via_api_needs_the_merge_permission(client: TestClient, world: World,
                                                  zhang: dict[str, Any]) -> None:
    other = _create(client, world, phone="13912345678")
    body = {"merge_id": other["id"]}
    refused = client.post(f"/api/v1/customers/{zhang['id']}/merge", json=body, headers=world.auth("sup_gd"))
    assert refused.status_code == 403
    r = client.post(f"/api/v1/customers/{zhang['id']}/merge", json=body, headers=world.auth("admin"))
    assert r.status_code == 200
    assert sorted(i["value"] for i in r.json()["identities"]) == ["+8613912345678", "zhang.san@example.com"]
    gone = client.get(f"/api/v1/customers/{other['id']}", headers=world.auth("admin")).json()
    assert gone["merged_into_id"] == zhang["id"]
    again = client.post(f"/api/v1/customers/{zhang['id']}/merge", json=body, headers=world.auth("admin"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "customer_merged")
    self_merge = client.post(f"/api/v1/customers/{zhang['id']}/merge", json={"merge_id": zhang["id"]},
                             headers=world.auth("admin"))
    assert (self_merge.status_code, self_merge.json()["error"]["code"]) == (409, "invalid_merge")


def test_identity_of_another_customer_is_409(client: TestClient, world: World, zhang: dict[str, Any]) -> None:
    other = _create(client, world, phone="13912345678")
    r = client.post(f"/api/v1/customers/{other['id']}/identities", headers=world.auth("admin"),
                    json={"kind": "email", "value": "Zhang.San@example.com"})
    assert r.status_code == 409
    assert r.json()["error"]["message"] == "email 'zhang.san@example.com' belongs to another customer"


def test_editing_tier_rules_recomputes_every_customer(client: TestClient, world: World, db: Database) -> None:
    low = _create(client, world, phone="13800000001", arpu="100", tenure_months=12)
    mid = _create(client, world, phone="13800000002", arpu="160", tenure_months=24)
    high = _create(client, world, phone="13800000003", arpu="400", tenure_months=100)
    assert [c["tier"] for c in (low, mid, high)] == ["silver", "gold", "diamond"]
    assert client.get("/api/v1/tier-rules", headers=world.auth("analyst")).json() == {
        "rules": DEFAULT_RULES, "vip_min_arpu": "120.00"}
    new_rules = [{"tier": "diamond", "min_arpu": "150", "min_tenure_months": 0},
                 {"tier": "silver", "min_arpu": "50", "min_tenure_months": 0},
                 {"tier": "standard", "min_arpu": "0", "min_tenure_months": 0}]
    refused = client.put("/api/v1/tier-rules", json={"rules": new_rules}, headers=world.auth("sup_gd"))
    assert refused.status_code == 403
    r = client.put("/api/v1/tier-rules", json={"rules": new_rules}, headers=world.auth("admin"))
    assert r.status_code == 200
    assert r.json() == {"rules": [{"tier": "diamond", "min_arpu": "150.00", "min_tenure_months": 0},
                                  {"tier": "silver", "min_arpu": "50.00", "min_tenure_months": 0},
                                  {"tier": "standard", "min_arpu": "0.00", "min_tenure_months": 0}],
                        "total": 3, "changed": 1, "transitions": {"gold->diamond": 1}}
    tiers = [client.get(f"/api/v1/customers/{c['id']}", headers=world.auth("admin")).json()["tier"]
             for c in (low, mid, high)]
    assert tiers == ["silver", "diamond", "diamond"]
    with db.session() as s:
        changed = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "customer.tier_changed")).all()
        assert [(e.aggregate_id, e.payload["from"], e.payload["to"]) for e in changed] == [
            (mid["id"], "gold", "diamond")]
        summary = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "customer.tiers_recomputed")).one()
        assert (summary.payload["changed"], summary.payload["per_customer_events"]) == (1, True)


@pytest.mark.parametrize("rules", [
    [{"tier": "gold", "min_arpu": "100", "min_tenure_months": 0}],
    [{"tier": "gold", "min_arpu": "-1", "min_tenure_months": 0},
     {"tier": "standard", "min_arpu": "0", "min_tenure_months": 0}],
    [{"tier": "vvip", "min_arpu": "100", "min_tenure_months": 0},
     {"tier": "standard", "min_arpu": "0", "min_tenure_months": 0}],
    [],
])
def test_invalid_tier_rules_are_refused_and_nothing_changes(client: TestClient, world: World, db: Database,
                                                            rules: list[dict[str, Any]]) -> None:
    c = _create(client, world, phone="13800000002", arpu="160", tenure_months=24)
    r = client.put("/api/v1/tier-rules", json={"rules": rules}, headers=world.auth("admin"))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_tier_rules")
    assert client.get("/api/v1/tier-rules", headers=world.auth("admin")).json()["rules"] == DEFAULT_RULES
    assert client.get(f"/api/v1/customers/{c['id']}", headers=world.auth("admin")).json()["tier"] == "gold"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TierRule)) == 4
        assert s.scalar(select(func.count()).where(OutboxEvent.name.like("customer.tier%"))) == 0


def test_vip_threshold_change_reflags_customers(client: TestClient, world: World) -> None:
    c = _create(client, world, phone="13800000002", arpu="100")
    assert c["vip"] is False
    assert client.get("/api/v1/tier-rules/vip-threshold", headers=world.auth("agent_gz")).json() == {
        "vip_min_arpu": "120.00"}
    r = client.put("/api/v1/tier-rules/vip-threshold", json={"vip_min_arpu": "99.5"},
                   headers=world.auth("admin"))
    assert r.json() == {"vip_min_arpu": "99.50", "changed": 1}
    assert client.get(f"/api/v1/customers/{c['id']}", headers=world.auth("admin")).json()["vip"] is True
    bad = client.put("/api/v1/tier-rules/vip-threshold", json={"vip_min_arpu": "-1"},
                     headers=world.auth("admin"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_vip_threshold")
    assert client.get("/api/v1/tier-rules/vip-threshold", headers=world.auth("admin")).json() == {
        "vip_min_arpu": "99.50"}


def test_roles_without_pii_cannot_recover_a_masked_number_by_searching(client: TestClient, world: World,
                                                                      zhang: dict[str, Any], db: Database) -> None:
    """An analyst sees 138****5678; trying the hidden digits through ?phone= or ?q= must tell nothing."""
    h = world.auth("analyst")
    listed = client.get("/api/v1/customers", headers=h).json()["items"]
    assert [c["phone"] for c in listed] == ["138****5678"]
    for phone in ("5678", "13812345678", "+86 138 1234 5678", "138"):
        r = client.get("/api/v1/customers", params={"phone": phone}, headers=h)
        assert r.status_code == 403
        assert r.json()["error"] == {
            "code": "pii_required",
            "message": "searching by phone number needs the 'pii' permission (numbers are masked for this role)",
            "details": {"permission": "pii"},
        }
    for q in ("+8613812345678", "zhang.san@example.com"):  # identities shown masked are not matched either
        assert client.get("/api/v1/customers", params={"q": q}, headers=h).json()["items"] == []
    # the agent (with pii) keeps the full-number and last-four search
    assert [c["id"] for c in client.get("/api/v1/customers", params={"phone": "5678"},
                                        headers=world.auth("agent_gz")).json()["items"]] == [zhang["id"]]
