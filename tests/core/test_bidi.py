"""Bidirectional control characters (U+202A–U+202E, U+2066–U+2069) are stripped from names as they come in
and removed from everything the console shows."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from kefu.core.db import Database
from kefu.core.text import BIDI_CONTROLS, strip_bidi
from kefu.customers.models import Customer
from kefu.org.models import OrgUnit, User
from tests.conftest import World
from tests.web.conftest import login

API = "/api/v1"
RLO, PDF, LRI = "\u202e", "\u202c", "\u2066"


@given(st.text())
def test_strip_bidi_leaves_no_control_and_nothing_else_changed(text: str) -> None:
    out = strip_bidi(text)
    assert BIDI_CONTROLS.isdisjoint(out)
    assert out == "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def test_names_come_in_without_bidi_controls(client: TestClient, world: World, db: Database) -> None:
    h = world.auth("admin")
    c = client.post(f"{API}/customers", headers=h,
                    json={"phone": "13812345678", "name": f"张{RLO}三{PDF}", "org_unit_id": world.units["gz"]})
    assert (c.status_code, c.json()["name"]) == (201, "张三")
    c = client.patch(f"{API}/customers/{c.json()['id']}", headers=h, json={"name": f"{LRI}李四"})
    assert (c.status_code, c.json()["name"]) == (200, "李四")
    u = client.post(f"{API}/org-units", headers=h,
                    json={"kind": "city", "code": "FS", "name": f"佛山{RLO}", "name_en": f"{RLO}Foshan",
                          "parent_id": world.units["province"]})
    assert (u.status_code, u.json()["name"], u.json()["name_en"]) == (201, "佛山", "Foshan")
    p = client.post(f"{API}/users", headers=h,
                    json={"username": "fs_agent", "display_name": f"{RLO}gnaW", "role": "agent",
                          "org_unit_id": u.json()["id"], "password": "long-enough-1"})
    assert (p.status_code, p.json()["display_name"]) == (201, "gnaW")
    only_controls = client.post(f"{API}/org-units", headers=h,
                                json={"kind": "city", "code": "ZH", "name": RLO, "parent_id": world.units["province"]})
    assert only_controls.status_code == 422
    with db.session() as s:
        names = [*s.scalars(select(Customer.name)), *s.scalars(select(OrgUnit.name)),
                 *s.scalars(select(User.display_name))]
    assert all(BIDI_CONTROLS.isdisjoint(n or "") for n in names)


def test_the_console_shows_stored_names_without_bidi_controls(client: TestClient, world: World,
                                                               db: Database) -> None:
    with db.unit_of_work() as s:  # written before this rule, straight into the table
        s.execute(update(User).where(User.id == world.users["agent_gz"]).values(display_name=f"广州{RLO}坐席"))
    login(client, "agent_gz")
    html = client.get("/console/inbox").text
    assert "广州坐席" in html
    assert RLO not in html
