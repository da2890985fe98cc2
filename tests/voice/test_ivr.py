"""The IVR menu: a checked tree, edited by an administrator (API and console), tied to the calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.org.models import AuditEntry
from kefu.routing import service as routing
from kefu.voice import ivr
from kefu.voice.models import IvrNode
from tests.conftest import World
from tests.routing.flow import Flow
from tests.voice.support import console_login, event, post, switch_token


@pytest.fixture
def menu(world: World) -> None:
    with world.db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
        routing.save_queue(s, None, routing.QueueSpec(key="vip_voice", name="VIP 热线", channel="voice",
                                                      org_unit_id=world.units["province"]))
        ivr.ensure_default_menu(s)


def test_the_default_menu_is_a_tree_with_self_service_a_human_and_a_handoff(world: World, menu: None) -> None:
    with world.db.session() as s:
        trees = ivr.tree(s)
        assert [t.node.key for t in trees] == ["root"]
        assert {c.node.digit: (c.node.key, c.node.kind) for c in trees[0].children} == {
            "1": ("balance", "self_service"), "2": ("bill", "self_service"), "3": ("data_left", "self_service"),
            "4": ("broadband", "handoff"), "0": ("human", "agent")}


@pytest.mark.parametrize(("spec", "field"), [
    (ivr.NodeSpec(key="Bad Key", name="x", kind="menu", parent_key="root", digit="5"), "key"),
    (ivr.NodeSpec(key="second_root", name="x", kind="menu"), "parent_key"),
    (ivr.NodeSpec(key="dup", name="x", kind="menu", parent_key="root", digit="1"), "digit"),
    (ivr.NodeSpec(key="nodigit", name="x", kind="menu", parent_key="root"), "digit"),
    (ivr.NodeSpec(key="under_leaf", name="x", kind="menu", parent_key="balance", digit="1"), "parent_key"),
    (ivr.NodeSpec(key="svc", name="x", kind="self_service", parent_key="root", digit="6", service="lotto"),
     "service"),
    (ivr.NodeSpec(key="agent2", name="x", kind="agent", parent_key="root", digit="7", queue_key="chat"), "queue_key"),
    (ivr.NodeSpec(key="cb", name="x", kind="callback", parent_key="root", digit="9", queue_key="chat"), "queue_key"),
    (ivr.NodeSpec(key="cb", name="x", kind="callback", parent_key="root", digit="9"), "queue_key"),
    (ivr.NodeSpec(key="ho", name="x", kind="handoff", parent_key="root", digit="8", handoff_channel="fax"),
     "handoff_channel"),
    (ivr.NodeSpec(key="root", name="x", kind="menu", parent_key="root", digit="9"), "parent_key"),
])
def test_a_bad_node_is_refused_and_changes_nothing(world: World, menu: None, spec: ivr.NodeSpec, field: str) -> None:
    with world.db.session() as s:
        before = [(n.key, n.parent_id, n.digit, n.kind) for n in ivr.nodes(s)]
        with pytest.raises(ivr.InvalidIvrNode) as exc:
            ivr.save_node(s, spec)
        assert exc.value.details["field"] == field
        s.rollback()
        assert [(n.key, n.parent_id, n.digit, n.kind) for n in ivr.nodes(s)] == before


def test_the_api_edits_the_menu_for_a_group_administrator_only(client: TestClient, world: World,
                                                                menu: None) -> None:
    body = {"name": "VIP 专线", "kind": "agent", "parent_key": "root", "digit": "9", "queue_key": "vip_voice"}
    assert client.put("/api/v1/voice/ivr/nodes/vip", json=body, headers=world.auth("sup_gd")).status_code == 403
    r = client.put("/api/v1/voice/ivr/nodes/vip", json=body, headers=world.auth("admin"))
    assert r.status_code == 200
    assert r.json()["queue_key"] == "vip_voice"
    tree = client.get("/api/v1/voice/ivr", headers=world.auth("agent_gz")).json()
    assert "vip" in [c["key"] for c in tree["roots"][0]["children"]]
    assert client.delete("/api/v1/voice/ivr/nodes/root", headers=world.auth("admin")).status_code == 409
    assert client.delete("/api/v1/voice/ivr/nodes/vip", headers=world.auth("admin")).status_code == 204
    assert client.delete("/api/v1/voice/ivr/nodes/vip", headers=world.auth("admin")).status_code == 404
    with world.db.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("voice.%"))
                                 .order_by(AuditEntry.id)))
    assert actions == ["voice.ivr_node_saved", "voice.ivr_node_deleted"]


def test_the_console_screen_shows_the_tree_and_saves_a_node_by_choosers(client: TestClient, world: World,
                                                                        menu: None) -> None:
    csrf = console_login(client, "admin", "/console/voice/ivr")
    page = client.get("/console/voice/ivr")
    assert page.status_code == 200
    assert "话费余额" in page.text
    assert "人工服务" in page.text
    assert '<option value="vip_voice"' in page.text  # the queue chooser by name
    r = client.post("/console/voice/ivr/nodes", data={
        "csrf_token": csrf, "key": "vip", "name": "VIP 专线", "kind": "agent", "parent_key": "root", "digit": "9",
        "queue_key": "vip_voice", "position": "9"}, follow_redirects=False)
    assert r.status_code == 303
    bad = client.post("/console/voice/ivr/nodes", data={
        "csrf_token": csrf, "key": "clash", "name": "重复", "kind": "menu", "parent_key": "root", "digit": "9"})
    assert bad.status_code == 422
    assert "is taken by" in bad.text
    with world.db.session() as s:
        assert ivr.node(s, "vip").queue_key == "vip_voice"
        assert s.scalar(select(IvrNode).where(IvrNode.key == "clash")) is None
    r = client.post("/console/voice/ivr/nodes/vip/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303


def test_an_agent_cannot_open_the_menu_screen(client: TestClient, world: World) -> None:
    console_login(client, "agent_gz", "/console/routing/me")
    assert client.get("/console/voice/ivr").status_code == 403


def test_a_call_that_pressed_0_for_the_vip_line_waits_in_its_queue(client: TestClient, world: World,
                                                                   settings: Settings, menu: None) -> None:
    flow = Flow(world, settings)
    with world.db.unit_of_work() as s:
        ivr.save_node(s, ivr.NodeSpec(key="vip", name="VIP 专线", kind="agent", parent_key="root", digit="9",
                                      queue_key="vip_voice"))
    auth = switch_token(world)
    t = utcnow().replace(microsecond=0)
    body = post(client, auth, event("V-1", "ivr", t, node="root"), event("V-1", "ivr", t + timedelta(seconds=3),
                                                                          node="vip"),
                event("V-1", "queued", t + timedelta(seconds=4)))
    flow.settle()
    items = [i for i in flow.items() if i.interaction_id == body["calls"][0]["interaction_id"]]
    assert [i.queue_key for i in items] == ["vip_voice"]
    call = client.get("/api/v1/voice/calls/V-1", headers=world.auth("admin")).json()
    assert [(p["node"], p["name"]) for p in call["ivr_path"]] == [("root", "欢迎致电"), ("vip", "VIP 专线")]
    assert call["queue_key"] == "vip_voice"


def test_a_callback_node_is_set_through_the_api_and_offered_on_the_console(client: TestClient, world: World,
                                                                          menu: None) -> None:
    body = {"name": "非服务时间预约回拨", "kind": "callback", "parent_key": "root", "digit": "9",
            "queue_key": "voice"}
    r = client.put("/api/v1/voice/ivr/nodes/callback", json=body, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["kind"], r.json()["queue_key"]) == ("callback", "voice")
    assert client.put("/api/v1/voice/ivr/nodes/callback", json={**body, "queue_key": None},
                      headers=world.auth("admin")).status_code == 422
    console_login(client, "admin", "/console/voice/ivr")
    page = client.get("/console/voice/ivr").text
    assert '<option value="callback"' in page
    assert "预约回拨" in page
