"""A playbook's one-action switches: an IVR announcement (through kefu.voice's menu) and a queue overflowing
into another at once (through kefu.routing's service), undone by hand or when the run ends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kefu.routing import service as routing
from kefu.voice import ivr
from tests.conftest import World
from tests.playbooks.support import make_outage, playbook_body

API = "/api/v1"
ANNOUNCEMENT = "广州部分地区宽带故障正在抢修，预计今晚恢复，查询请按9。"


def _queues(world: World) -> None:
    with world.db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
        for key, name in (("voice_gz", "广州热线"), ("voice_backup", "省热线后备")):
            routing.save_queue(s, None, routing.QueueSpec(key=key, name=name, channel="voice",
                                                          org_unit_id=world.units["province"]))
        ivr.ensure_default_menu(s)


def _queue(world: World, key: str) -> tuple[str | None, float | None]:
    with world.db.session() as s:
        q = next(q for q in routing.queues(s) if q.key == key)
        return q.overflow_to, q.overflow_after


def _menu(world: World) -> dict[str, tuple[str | None, str]]:
    with world.db.session() as s:
        return {t.node.key: (t.node.digit, t.node.name) for t in ivr.flat(ivr.tree(s))}


def test_the_switches_announce_on_the_ivr_and_overflow_a_queue_until_the_run_ends(
        client: TestClient, world: World) -> None:
    _queues(world)
    outage = make_outage(world)
    body = playbook_body(world, outage, trigger="manual", ivr_text=ANNOUNCEMENT, overflow_from="voice_gz",
                         overflow_to="voice_backup")
    r = client.post(f"{API}/playbooks", json=body, headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    assert (r.json()["ivr_text"], r.json()["overflow_to"]) == (ANNOUNCEMENT, "voice_backup")
    run = client.post(f"{API}/playbooks/{r.json()['id']}/runs", json={}, headers=world.auth("sup_gd")).json()
    rid = run["id"]
    assert run["switches"] is None
    assert _queue(world, "voice_gz") == (None, None)

    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "ivr", "on": True},
                    headers=world.auth("sup_gd"))
    assert r.status_code == 200, r.text
    assert r.json()["switches"]["ivr"]["digit"] == "9"
    assert _menu(world)[f"playbook_run_{rid}"] == ("9", ANNOUNCEMENT[:100])
    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "overflow", "on": True},
                    headers=world.auth("sup_gd"))
    assert r.json()["switches"]["overflow"] == {"queue": "voice_gz", "to": "voice_backup", "prev_to": None,
                                                "prev_after": None}
    assert _queue(world, "voice_gz") == ("voice_backup", 1.0)
    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "overflow", "on": True},
                    headers=world.auth("sup_gd"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "playbook_switch_unavailable")
    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "ivr", "on": False},
                    headers=world.auth("agent_gz"))
    assert r.status_code == 403
    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "lights", "on": True},
                    headers=world.auth("sup_gd"))
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "switch")

    r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": "ivr", "on": False},
                    headers=world.auth("sup_gd"))
    assert f"playbook_run_{rid}" not in _menu(world)
    assert set(r.json()["switches"]) == {"overflow"}
    # ending the run turns the rest off: the queue gets its own overflow back
    r = client.post(f"{API}/playbook-runs/{rid}/end", json={"review": "恢复"}, headers=world.auth("sup_gd"))
    assert r.json()["switches"] is None
    assert _queue(world, "voice_gz") == (None, None)
    kinds = [(e["kind"], e["text"]) for e in r.json()["timeline"] if e["kind"].startswith("switch")]
    assert kinds == [("switch_on", "ivr"), ("switch_on", "overflow"), ("switch_off", "ivr"),
                     ("switch_off", "overflow")]


def test_switches_a_playbook_lacks_or_bad_queues_are_refused(client: TestClient, world: World) -> None:
    _queues(world)
    outage = make_outage(world)
    r = client.post(f"{API}/playbooks", headers=world.auth("admin"), json=playbook_body(
        world, outage, trigger="manual", overflow_from="voice_gz"))
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "overflow_to")
    r = client.post(f"{API}/playbooks", headers=world.auth("admin"), json=playbook_body(
        world, outage, trigger="manual", overflow_from="voice_gz", overflow_to="nowhere"))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_playbook")
    r = client.post(f"{API}/playbooks", headers=world.auth("admin"), json=playbook_body(
        world, outage, trigger="manual", overflow_from="voice_gz", overflow_to="voice_gz"))
    assert r.status_code == 422
    pid = client.post(f"{API}/playbooks", headers=world.auth("admin"),
                      json=playbook_body(world, outage, trigger="manual")).json()["id"]
    rid = client.post(f"{API}/playbooks/{pid}/runs", json={}, headers=world.auth("sup_gd")).json()["id"]
    for switch in ("ivr", "overflow"):
        r = client.post(f"{API}/playbook-runs/{rid}/switches", json={"switch": switch, "on": True},
                        headers=world.auth("sup_gd"))
        assert (r.status_code, r.json()["error"]["code"]) == (409, "playbook_switch_unavailable")


def test_an_administrator_sets_the_switches_and_a_duty_manager_throws_them_in_the_console(
        client: TestClient, world: World) -> None:
    from sqlalchemy import select

    from kefu.playbooks.models import Playbook
    from tests.collaboration.support import console_login

    _queues(world)
    make_outage(world)
    csrf = console_login(client, "admin")
    page = client.get("/console/playbooks/admin")
    assert "省热线后备" in page.text  # queues by name
    r = client.post("/console/playbooks/admin", follow_redirects=False, data={
        "csrf_token": csrf, "key": "bb", "name": "宽带故障预案", "trigger": "manual",
        "org_unit_id": str(world.units["province"]), "active": "1", "ivr_text": ANNOUNCEMENT,
        "overflow_from": "voice_gz", "overflow_to": "voice_backup",
        "step0_title": "确认故障范围", "step0_role": "support", "step0_due": "15"})
    assert r.status_code == 303, r.text
    with world.db.session() as s:
        book = s.scalar(select(Playbook).where(Playbook.key == "bb"))
        assert book is not None
        assert (book.ivr_text, book.overflow_from, book.overflow_to) == (ANNOUNCEMENT, "voice_gz", "voice_backup")
    rid = client.post(f"{API}/playbooks/{book.id}/runs", json={}, headers=world.auth("sup_gd")).json()["id"]
    page = client.get(f"/console/playbooks/runs/{rid}")
    assert 'data-switch="ivr" data-on="0"' in page.text
    assert 'data-switch="overflow" data-on="0"' in page.text
    r = client.post(f"/console/playbooks/runs/{rid}/switches", data={"csrf_token": csrf, "switch": "overflow",
                                                                    "on": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert _queue(world, "voice_gz") == ("voice_backup", 1.0)
    page = client.get(f"/console/playbooks/runs/{rid}")
    assert 'data-switch="overflow" data-on="1"' in page.text
    assert "打开开关" in page.text
    r = client.post(f"/console/playbooks/runs/{rid}/switches", data={"csrf_token": csrf, "switch": "overflow",
                                                                    "on": "1"})
    assert r.status_code == 409  # on already: the page says why
