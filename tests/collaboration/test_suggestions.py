"""Frontline suggestions (一线建议): an agent reports a wrong script to the province; its reviewers accept,
work and finish it or reject it with a reason; duplicates are merged; the submitter sees every change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from kefu.collaboration import suggestions as sugg
from kefu.collaboration.models import Suggestion
from tests.collaboration.support import console_login, events_named
from tests.conftest import World


def _submit(client: TestClient, world: World, title: str = "携号转网口径与系统不一致", who: str = "agent_gz"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/suggestions", headers=world.auth(who), json={
        "kind": "problem", "topic": "script", "title": title, "body": "口径说 3 天，系统要求 5 个工作日。",
        "owner_unit_id": world.units["province"]})


def test_a_reviewer_moves_a_suggestion_to_done_and_the_submitter_sees_each_step(client: TestClient,
                                                                                world: World) -> None:
    r = _submit(client, world)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["status"] == "submitted"
    sup = world.auth("support_gd")
    assert [s["id"] for s in client.get("/api/v1/suggestions?review=true", headers=sup).json()] == [sid]
    for to in ("accepted", "in_progress", "done"):
        r = client.post(f"/api/v1/suggestions/{sid}/status", json={"to": to, "reason": f"{to} 说明"}, headers=sup)
        assert r.status_code == 200, r.text
    mine = client.get(f"/api/v1/suggestions/{sid}", headers=world.auth("agent_gz")).json()
    assert mine["status"] == "done"
    assert [(h["from_status"], h["to_status"]) for h in mine["history"]] == [
        (None, "submitted"), ("submitted", "accepted"), ("accepted", "in_progress"), ("in_progress", "done")]
    changed = events_named(world, "suggestion.status_changed")
    assert [(e.payload["status"], e.payload["submitter_id"]) for e in changed] == [
        ("accepted", world.users["agent_gz"]), ("in_progress", world.users["agent_gz"]),
        ("done", world.users["agent_gz"])]
    # done is final; the reviewer list no longer holds it
    r = client.post(f"/api/v1/suggestions/{sid}/status", json={"to": "rejected", "reason": "x"}, headers=sup)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "illegal_suggestion_change")
    assert client.get("/api/v1/suggestions?review=true", headers=sup).json() == []


def test_rejection_needs_a_reason_and_only_the_owner_department_reviews(client: TestClient, world: World) -> None:
    sid = _submit(client, world).json()["id"]
    r = client.post(f"/api/v1/suggestions/{sid}/status", json={"to": "rejected"}, headers=world.auth("support_gd"))
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "reason")
    # an agent may not review; another city's agent does not even see it
    assert client.post(f"/api/v1/suggestions/{sid}/status", json={"to": "accepted"},
                       headers=world.auth("agent_gz")).status_code == 403
    assert client.get(f"/api/v1/suggestions/{sid}", headers=world.auth("agent_sz")).status_code == 404
    with world.db.session() as s:
        row = s.get(Suggestion, sid)
        assert row is not None
        assert row.status == "submitted"
    r = client.post(f"/api/v1/suggestions/{sid}/status", json={"to": "rejected", "reason": "口径已于上周更新"},
                    headers=world.auth("support_gd"))
    assert (r.json()["status"], r.json()["reason"]) == ("rejected", "口径已于上周更新")


def test_a_duplicate_is_merged_into_the_first_report(client: TestClient, world: World) -> None:
    first = _submit(client, world).json()["id"]
    dup = _submit(client, world, "携号转网时限口径错误", who="agent_sz").json()["id"]
    r = client.post(f"/api/v1/suggestions/{dup}/status", json={"to": "merged", "merge_into_id": first},
                    headers=world.auth("support_gd"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["merged_into_id"]) == ("merged", first)
    assert client.post(f"/api/v1/suggestions/{first}/status", json={"to": "merged", "merge_into_id": first},
                       headers=world.auth("support_gd")).status_code == 422
    with world.db.session() as s:
        counts = sugg.counts(s, _principal(s, world, "support_gd"))
    assert [(c.unit.name, c.by_status) for c in counts] == [("广东", {"submitted": 1, "merged": 1})]
    assert counts[0].oldest_open_days == 0.0


def test_a_department_outside_the_province_cannot_own_it(client: TestClient, world: World) -> None:
    from kefu.org import service as org

    with world.db.unit_of_work() as s:
        other = org.create_org_unit(s, kind="province", code="HN", name="湖南", parent_id=world.units["group"]).id
    r = client.post("/api/v1/suggestions", headers=world.auth("agent_gz"), json={
        "kind": "suggestion", "topic": "process", "title": "t", "body": "b", "owner_unit_id": other})
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "owner_unit_id")
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Suggestion)) == 0


def test_in_the_console_an_agent_submits_and_a_reviewer_accepts(client: TestClient, world: World) -> None:
    csrf = console_login(client, "agent_gz")
    page = client.get("/console/collab/suggestions")
    assert page.status_code == 200
    assert "广东" in page.text
    assert "口径/话术" in page.text
    r = client.post("/console/collab/suggestions", follow_redirects=False, data={
        "csrf_token": csrf, "kind": "suggestion", "topic": "knowledge", "title": "增加宽带提速FAQ",
        "body": "客户常问提速后不生效", "owner_unit_id": str(world.units["province"])})
    assert r.status_code == 303
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    client.post("/logout", data={"csrf_token": csrf})
    csrf = console_login(client, "support_gd")
    assert "增加宽带提速FAQ" in client.get("/console/collab/suggestions").text
    r = client.post(f"/console/collab/suggestions/{sid}/status", data={"csrf_token": csrf, "to": "rejected"})
    assert r.status_code == 422
    assert "a rejection needs a reason" in r.text
    r = client.post(f"/console/collab/suggestions/{sid}/status", data={"csrf_token": csrf, "to": "accepted",
                                                                       "reason": "纳入下周更新"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/console/collab/suggestions/{sid}").text
    assert "已受理" in page
    assert "纳入下周更新" in page


def _principal(s, world: World, who: str):  # type: ignore[no-untyped-def]
    from kefu.org import service as org

    user = org.user(s, world.users[who])
    assert user is not None
    return org.principal_for(s, user)


@given(st.lists(st.sampled_from(sugg.STATUSES), max_size=8))
def test_every_walk_of_the_status_flow_stops_at_a_final_status(steps: list[str]) -> None:
    state = "submitted"
    for dst in steps:
        try:
            sugg.check_change(state, dst, reason="r", merge_into=1)
        except (sugg.IllegalSuggestionChange, sugg.InvalidSuggestion):
            assert dst not in sugg.NEXT[state]
            continue
        assert dst in sugg.NEXT[state]
        state = dst
    assert state in sugg.STATUSES
    if state in ("done", "rejected", "merged"):
        with pytest.raises(sugg.IllegalSuggestionChange):
            sugg.check_change(state, "accepted", reason="r", merge_into=1)
