"""Consults and expert teams in the console: the ticket page's 会商 box asks several addressees chosen by name,
the consulted people answer from their 待支撑 page, administrators keep virtual teams across cities."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.collaboration.models import Consult, ExpertTeam, ExpertTeamMember
from kefu.core import pubsub
from kefu.core.events import bus
from kefu.jobs import registry
from kefu.web import live
from tests.collaboration.support import console_login, events_named, make_case
from tests.conftest import World


def test_the_ticket_page_asks_by_name_and_the_consulted_answer_from_their_page(client: TestClient,
                                                                              world: World) -> None:
    case = make_case(world)
    csrf = console_login(client, "agent_gz")
    page = client.get(f"/console/tickets/{case.ticket_id}")
    assert page.status_code == 200
    assert "发起会商" in page.text
    assert "网络支撑中心" in page.text
    assert "网络专家王工" in page.text
    assert f'value="unit:{case.network_unit}"' in page.text
    r = client.post(f"/console/collab/tickets/{case.ticket_id}/consults", follow_redirects=False, data={
        "csrf_token": csrf, "target": [f"unit:{case.network_unit}", f"user:{case.mkt_support}"],
        "question": "请核实断网与扣费", "due_minutes": "60"})
    assert (r.status_code, r.headers["location"]) == (303, f"/console/tickets/{case.ticket_id}")
    box = client.get(f"/console/collab/tickets/{case.ticket_id}/consults").text
    assert box.count('class="consult state-open') == 2
    assert "市场支撑李姐" in box

    # a refused request says why and writes nothing
    r = client.post(f"/console/collab/tickets/{case.ticket_id}/consults", data={
        "csrf_token": csrf, "target": [], "question": "x", "due_minutes": "60"})
    assert r.status_code == 422
    assert "choose at least one addressee" in r.text

    client.post("/logout", data={"csrf_token": csrf})
    csrf = console_login(client, "mkt_support")
    mine = client.get("/console/collab")
    assert mine.status_code == 200
    assert "请核实断网与扣费" in mine.text
    assert "待支撑" in mine.text
    with world.db.session() as s:
        cid = s.scalar(select(Consult.id).where(Consult.target_user_id == case.mkt_support))
    r = client.post(f"/console/collab/consults/{cid}/answer", data={"csrf_token": csrf, "answer": "已退费"},
                    follow_redirects=False)
    assert r.status_code == 303
    with world.db.session() as s:
        c = s.get(Consult, cid)
        assert c is not None
        assert (c.state, c.answer) == ("answered", "已退费")
    assert "已退费" in client.get("/console/collab?all=1").text


def test_consult_events_reach_the_ticket_page_and_the_consulted_pages_live(client: TestClient,
                                                                          world: World) -> None:
    case = make_case(world)
    registry.load()
    got: list[live.Notice] = []
    stop = pubsub.current().subscribe(live.CHANNEL, lambda m: got.append(live.Notice.from_message(m)))
    try:
        client.post(f"/api/v1/tickets/{case.ticket_id}/consults", headers=world.auth("agent_gz"), json={
            "question": "q", "due_minutes": 30, "targets": [{"kind": "role", "role": "support"}]})
        bus.dispatch_pending(world.db)
    finally:
        stop()
    kinds = {(n.kind, n.event) for n in got}
    assert ("consults", "consult.requested") in kinds
    assert (f"ticket-{case.ticket_id}", "consult.requested") in kinds


def test_an_administrator_builds_a_team_across_cities_and_a_consult_reaches_its_members(
        client: TestClient, world: World) -> None:
    case = make_case(world)
    csrf = console_login(client, "admin")
    page = client.get("/console/collab/teams")
    assert page.status_code == 200
    assert "深圳专家陈工" in page.text
    assert "网络专家王工" in page.text
    r = client.post("/console/collab/teams", follow_redirects=False, data={
        "csrf_token": csrf, "key": "gd-broadband", "name": "广东宽带专家组", "name_en": "GD broadband experts",
        "domain": "broadband", "member": [str(case.net_expert), str(case.sz_expert)], "lead": [str(case.sz_expert)],
        "active": "1"})
    assert r.status_code == 303, r.text
    with world.db.session() as s:
        team = s.scalar(select(ExpertTeam).where(ExpertTeam.key == "gd-broadband"))
        assert team is not None
        assert (team.name, team.domain) == ("广东宽带专家组", "broadband")
        members = {(m.user_id, m.lead) for m in s.scalars(select(ExpertTeamMember))}
        assert members == {(case.net_expert, False), (case.sz_expert, True)}
        team_id = team.id
    listing = client.get("/console/collab/teams").text
    assert "广东宽带专家组" in listing
    assert "宽带" in listing
    # an agent cannot be a member: refused, the team unchanged
    r = client.post("/console/collab/teams", data={"csrf_token": csrf, "team_id": str(team_id), "key": "gd-broadband",
                                                   "name": "x", "domain": "broadband",
                                                   "member": [str(world.users["agent_gz"])], "active": "1"})
    assert r.status_code == 422
    with world.db.session() as s:
        assert s.get(ExpertTeam, team_id).name == "广东宽带专家组"  # type: ignore[union-attr]

    # a consult addressed to the team reaches both members, the Shenzhen one included
    r = client.post(f"/api/v1/tickets/{case.ticket_id}/consults", headers=world.auth("agent_gz"), json={
        "question": "疑难宽带故障会诊", "due_minutes": 240, "targets": [{"kind": "team", "id": team_id}]})
    assert r.status_code == 201
    assert r.json()[0]["target_name"] == "广东宽带专家组"
    for who in ("net_expert", "sz_expert"):
        items = client.get("/api/v1/consults/mine", headers=world.auth(who)).json()["items"]
        assert [c["question"] for c in items] == ["疑难宽带故障会诊"]
    assert client.get("/api/v1/consults/mine", headers=world.auth("support_gd")).json()["total"] == 0
    r = client.post(f"/api/v1/consults/{r.json()[0]['id']}/answer", json={"answer": "远端光衰，需上门"},
                    headers=world.auth("sz_expert"))
    assert r.status_code == 200
    assert len(events_named(world, "consult.answered")) == 1

    # the API keeps teams too, and only at the group level
    body = {"key": "net", "name": "网络组", "domain": "network", "member_ids": [case.net_expert]}
    assert client.post("/api/v1/expert-teams", json=body, headers=world.auth("sup_gd")).status_code == 403
    r = client.post("/api/v1/expert-teams", json=body, headers=world.auth("admin"))
    assert r.status_code == 201
    assert [m["display_name"] for m in r.json()["members"]] == ["网络专家王工"]
    assert client.post("/api/v1/expert-teams", json=body, headers=world.auth("admin")).status_code == 409
