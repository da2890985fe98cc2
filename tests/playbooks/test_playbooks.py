"""Playbooks (应急预案): a broadband outage plan starts itself on a complaint surge, its steps are tracked by
their owners to the end, and the affected customers are told on the channel they used."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.clock import utcnow
from kefu.core.events import OutboxEvent
from kefu.interactions.models import Interaction, Message
from kefu.playbooks import service
from kefu.playbooks.models import PlaybookRun
from tests.conftest import World
from tests.playbooks.support import make_outage, playbook_body, surge


def _events(world: World, name: str) -> list[OutboxEvent]:
    with world.db.session() as s:
        rows = list(s.scalars(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id)))
        s.expunge_all()
        return rows


def _runs(world: World) -> list[PlaybookRun]:
    with world.db.session() as s:
        rows = list(s.scalars(select(PlaybookRun).order_by(PlaybookRun.id)))
        s.expunge_all()
        return rows


def test_a_surge_above_the_threshold_starts_the_playbook_once(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    r = client.post("/api/v1/playbooks", json=playbook_body(world, outage), headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    surge(world, outage.broadband_child, 12)  # below 20: nothing
    surge(world, outage.billing, 50)  # another category: nothing
    assert _runs(world) == []
    surge(world, outage.broadband_child, 25)
    runs = _runs(world)
    assert [(x.trigger, x.state, x.org_unit_id, x.category_id) for x in runs] == [
        ("surge", "active", world.units["gz"], outage.broadband_child)]
    assert runs[0].surge is not None
    assert runs[0].surge["count"] == 25
    got = client.get(f"/api/v1/playbook-runs/{runs[0].id}", headers=world.auth("agent_gz")).json()
    assert [(s["title"], s["owner_role"], s["state"]) for s in got["steps"]] == [
        ("确认故障范围并上报网管", "support", "pending"), ("发布IVR故障播报", "supervisor", "pending"),
        ("统一对外口径推送一线", "support", "pending")]
    due = [s["due_at"] for s in got["steps"]]
    assert due == sorted(due)
    # the surge goes on: the running playbook notes it, no second run
    surge(world, outage.broadband_child, 40)
    assert len(_runs(world)) == 1
    kinds = [e["kind"] for e in client.get(f"/api/v1/playbook-runs/{runs[0].id}",
                                           headers=world.auth("sup_gd")).json()["timeline"]]
    assert kinds == ["activated", "surge"]
    assert [e.payload["trigger"] for e in _events(world, "playbook.activated")] == ["surge"]


def test_steps_are_completed_by_their_owners_and_overdue_ones_reported(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    pid = client.post("/api/v1/playbooks", json=playbook_body(world, outage), headers=world.auth("admin")).json()["id"]
    r = client.post(f"/api/v1/playbooks/{pid}/runs", json={}, headers=world.auth("sup_gd"))
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["trigger"] == "manual"
    assert client.post(f"/api/v1/playbooks/{pid}/runs", json={}, headers=world.auth("sup_gd")).status_code == 409
    assert client.post(f"/api/v1/playbooks/{pid}/runs", json={}, headers=world.auth("agent_gz")).status_code == 403
    first, second, third = (s["id"] for s in run["steps"])
    # an agent does not own a supervisor's step
    r = client.post(f"/api/v1/playbook-runs/{run['id']}/steps/{second}/done", json={},
                    headers=world.auth("agent_gz"))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "not_step_owner")
    r = client.post(f"/api/v1/playbook-runs/{run['id']}/steps/{first}/done", json={"note": "OLT 故障已定位"},
                    headers=world.auth("support_gd"))
    assert r.status_code == 200, r.text
    assert [s["state"] for s in r.json()["steps"]] == ["done", "pending", "pending"]
    later = utcnow() + timedelta(minutes=45)
    with world.db.unit_of_work() as s:
        assert service.mark_overdue_steps(s, at=later) == [second]
        assert service.mark_overdue_steps(s, at=later + timedelta(minutes=1)) == []
    assert [e.payload["step_id"] for e in _events(world, "playbook.step_overdue")] == [second]
    client.post(f"/api/v1/playbook-runs/{run['id']}/steps/{second}/done", json={}, headers=world.auth("sup_gd"))
    client.post(f"/api/v1/playbook-runs/{run['id']}/steps/{third}/done", json={"skip": True},
                headers=world.auth("support_gd"))
    r = client.post(f"/api/v1/playbook-runs/{run['id']}/end", json={"review": "光缆被挖断，4 小时恢复"},
                    headers=world.auth("sup_gd"))
    assert r.status_code == 200
    ended = r.json()
    assert (ended["state"], ended["review"]) == ("ended", "光缆被挖断，4 小时恢复")
    assert (ended["measures"]["steps_done"], ended["measures"]["steps_total"]) == (2, 3)
    assert ended["measures"]["tickets"] == 2  # the broadband tickets of the last day in the province
    assert [e["kind"] for e in ended["timeline"]] == ["activated", "step_done", "step_overdue", "step_done",
                                                      "step_skipped", "ended"]
    r = client.post(f"/api/v1/playbook-runs/{run['id']}/steps/{third}/done", json={}, headers=world.auth("sup_gd"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "playbook_run_not_active")
    assert [e.payload["steps_done"] for e in _events(world, "playbook.ended")] == [2]


def test_affected_customers_are_told_on_the_channel_they_used(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    client.post("/api/v1/playbooks", json=playbook_body(world, outage), headers=world.auth("admin"))
    surge(world, outage.broadband, 30)
    run_id = _runs(world)[0].id
    body = "【广东移动】您所在区域宽带故障正在抢修，预计今晚 22 点前恢复。"
    r = client.post(f"/api/v1/playbook-runs/{run_id}/notices", json={"body": body}, headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    assert r.json() == {"messages": 2}
    with world.db.session() as s:
        sent = s.execute(select(Interaction.customer_id, Interaction.channel, Message.body, Message.direction)
                         .join(Message, Message.interaction_id == Interaction.id)
                         .order_by(Interaction.customer_id)).all()
    # the caller gets an SMS, the WeChat customer a WeChat message; the billing customer nothing
    assert [tuple(x) for x in sent] == [(outage.customers[0], "sms", body, "outbound"),
                                        (outage.customers[1], "wechat", body, "outbound")]
    notices = [e for e in _events(world, "message.sent") if e.payload.get("notice")]
    assert [(e.payload["customer_id"], e.payload["channel"], e.payload["to"]) for e in notices] == [
        (outage.customers[0], "sms", "+8613800138001"), (outage.customers[1], "wechat", None)]
    # a support person may not send notices; an empty one is refused: nothing more is sent
    assert client.post(f"/api/v1/playbook-runs/{run_id}/notices", json={"body": body},
                       headers=world.auth("support_gd")).status_code == 403
    assert client.post(f"/api/v1/playbook-runs/{run_id}/notices", json={"body": "  "},
                       headers=world.auth("sup_gd")).status_code == 422
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 2


def test_a_bad_definition_is_refused_and_nothing_is_saved(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    for change, field in (({"trigger": "rain"}, "trigger"),
                          ({"steps": [{"title": "x", "owner_role": "gateway", "due_minutes": 5}]}, "steps"),
                          ({"category_id": 987654}, "category_id")):
        r = client.post("/api/v1/playbooks", json=playbook_body(world, outage, **change), headers=world.auth("admin"))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["field"] == field
    assert client.get("/api/v1/playbooks", headers=world.auth("admin")).json() == []
    assert client.post("/api/v1/playbooks", json=playbook_body(world, outage),
                       headers=world.auth("sup_gd")).status_code == 403


def test_the_notice_template_fills_in_the_category() -> None:
    assert service.render_notice("{playbook}：{category}故障抢修中", category="宽带", playbook_name="预案") == \
        "预案：宽带故障抢修中"
