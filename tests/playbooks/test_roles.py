"""Incident roles on a playbook run (commander, communications, support lead), named by a duty manager."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.collaboration.support import console_login
from tests.conftest import World
from tests.playbooks.support import make_outage, playbook_body

API = "/api/v1"


def test_a_duty_manager_names_the_incident_roles(client: TestClient, world: World) -> None:
    outage = make_outage(world)
    pid = client.post(f"{API}/playbooks", headers=world.auth("admin"),
                      json=playbook_body(world, outage, trigger="manual")).json()["id"]
    rid = client.post(f"{API}/playbooks/{pid}/runs", json={}, headers=world.auth("sup_gd")).json()["id"]
    r = client.post(f"{API}/playbook-runs/{rid}/roles", headers=world.auth("sup_gd"),
                    json={"role": "commander", "user_id": world.users["sup_gd"]})
    assert r.status_code == 200, r.text
    r = client.post(f"{API}/playbook-runs/{rid}/roles", headers=world.auth("sup_gd"),
                    json={"role": "communications", "user_id": world.users["support_gd"]})
    assert r.json()["roles"] == {"commander": world.users["sup_gd"], "communications": world.users["support_gd"]}
    assert [(e["kind"], e["text"]) for e in r.json()["timeline"] if e["kind"] == "role"] == [
        ("role", "commander"), ("role", "communications")]
    r = client.post(f"{API}/playbook-runs/{rid}/roles", headers=world.auth("sup_gd"),
                    json={"role": "mascot", "user_id": world.users["sup_gd"]})
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "role")
    r = client.post(f"{API}/playbook-runs/{rid}/roles", headers=world.auth("sup_gd"),
                    json={"role": "support_lead", "user_id": 987654})
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "user_id")
    assert client.post(f"{API}/playbook-runs/{rid}/roles", headers=world.auth("agent_gz"),
                       json={"role": "commander"}).status_code == 403
    r = client.post(f"{API}/playbook-runs/{rid}/roles", headers=world.auth("sup_gd"), json={"role": "commander"})
    assert r.json()["roles"] == {"communications": world.users["support_gd"]}

    csrf = console_login(client, "sup_gd")
    page = client.get(f"/console/playbooks/runs/{rid}")
    assert 'id="run-roles"' in page.text
    assert "总指挥" in page.text
    r = client.post(f"/console/playbooks/runs/{rid}/roles", follow_redirects=False,
                    data={"csrf_token": csrf, "role": "commander", "user_id": str(world.users["sup_gd"])})
    assert r.status_code == 303
    run = client.get(f"{API}/playbook-runs/{rid}", headers=world.auth("agent_gz")).json()
    assert run["roles"]["commander"] == world.users["sup_gd"]
    client.post(f"{API}/playbook-runs/{rid}/end", json={"review": "结束"}, headers=world.auth("sup_gd"))
    assert "值班长" in client.get(f"/console/playbooks/runs/{rid}").text  # the roles stay on the record
