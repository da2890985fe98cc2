"""Tier rules and the VIP threshold are group-wide: only an administrator at the group level changes them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.org.models import AuditEntry
from tests.conftest import World
from tests.org.support import add_province

RULES = [{"tier": "gold", "min_arpu": "100", "min_tenure_months": 0},
         {"tier": "standard", "min_arpu": "0", "min_tenure_months": 0}]


def test_a_province_admin_cannot_change_the_group_wide_tier_rules(client: TestClient, world: World) -> None:
    add_province(world)
    before = client.get("/api/v1/tier-rules", headers=world.auth("admin_gd")).json()
    r = client.put("/api/v1/tier-rules", json={"rules": RULES}, headers=world.auth("admin_gd"))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "group_level_required")
    v = client.put("/api/v1/tier-rules/vip-threshold", json={"vip_min_arpu": "1"}, headers=world.auth("admin_zj"))
    assert (v.status_code, v.json()["error"]["code"]) == (403, "group_level_required")
    assert client.get("/api/v1/tier-rules", headers=world.auth("admin")).json() == before
    with world.db.session() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.action.startswith("tier"))).all() == []


def test_the_group_admin_changes_the_rules_and_the_change_is_audited(client: TestClient, world: World) -> None:
    r = client.put("/api/v1/tier-rules", json={"rules": RULES}, headers=world.auth("admin"))
    assert r.status_code == 200
    v = client.put("/api/v1/tier-rules/vip-threshold", json={"vip_min_arpu": "150"}, headers=world.auth("admin"))
    assert v.status_code == 200
    with world.db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["tier_rules.changed", "vip_threshold.changed"])).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_name, e.org_unit_id, e.ip) for e in rows] == [
        ("tier_rules.changed", "admin", world.units["group"], "testclient"),
        ("vip_threshold.changed", "admin", world.units["group"], "testclient")]
    assert rows[0].details["to"] == [{"tier": "gold", "min_arpu": "100.00", "min_tenure_months": 0},
                                     {"tier": "standard", "min_arpu": "0.00", "min_tenure_months": 0}]
    assert len(rows[0].details["from"]) == 4
    assert (rows[1].details["from"], rows[1].details["to"]) == ("120.00", "150.00")
