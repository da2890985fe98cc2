"""A 会诊: a consult to a virtual expert team keeps a shared timeline of notes; the expert directory shows each
expert's domain, region, load and presence, the available and least loaded first."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kefu.collaboration import directory
from kefu.collaboration.directory import Expert
from tests.collaboration.support import console_login, events_named, make_case
from tests.conftest import World


def _team(client: TestClient, world: World, key: str, domain: str, members: list[int]) -> int:
    r = client.post("/api/v1/expert-teams", json={"key": key, "name": key, "domain": domain, "member_ids": members},
                    headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_team_and_the_owner_write_on_one_timeline_until_it_is_closed(client: TestClient, world: World) -> None:
    case = make_case(world)
    team = _team(client, world, "bb", "broadband", [case.net_expert, case.sz_expert])
    r = client.post(f"/api/v1/tickets/{case.ticket_id}/consults", headers=world.auth("agent_gz"), json={
        "question": "疑难宽带故障会诊", "due_minutes": 240, "targets": [{"kind": "team", "id": team}]})
    cid = r.json()[0]["id"]
    for who, text in (("net_expert", "机房侧光功率正常"), ("agent_gz", "客户说每晚 8 点断"),
                      ("sz_expert", "怀疑分光器端口老化")):
        r = client.post(f"/api/v1/consults/{cid}/notes", json={"body": text}, headers=world.auth(who))
        assert r.status_code == 201, r.text
    got = client.get(f"/api/v1/consults/{cid}", headers=world.auth("agent_gz")).json()
    assert [(n["author_id"], n["body"]) for n in got["notes"]] == [
        (case.net_expert, "机房侧光功率正常"), (world.users["agent_gz"], "客户说每晚 8 点断"),
        (case.sz_expert, "怀疑分光器端口老化")]
    assert [e.payload["author_id"] for e in events_named(world, "consult.noted")] == [
        case.net_expert, world.users["agent_gz"], case.sz_expert]
    # someone outside the 会诊 writes nothing; an empty note is refused
    r = client.post(f"/api/v1/consults/{cid}/notes", json={"body": "路过"}, headers=world.auth("mkt_support"))
    assert r.status_code in (403, 404)
    assert client.post(f"/api/v1/consults/{cid}/notes", json={"body": "   "},
                       headers=world.auth("net_expert")).status_code == 422
    client.post(f"/api/v1/consults/{cid}/answer", json={"answer": "更换分光器端口"}, headers=world.auth("sz_expert"))
    client.post(f"/api/v1/consults/{cid}/accept", json={}, headers=world.auth("agent_gz"))
    r = client.post(f"/api/v1/consults/{cid}/notes", json={"body": "补充"}, headers=world.auth("net_expert"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "consult_not_open")
    assert len(client.get(f"/api/v1/consults/{cid}", headers=world.auth("agent_gz")).json()["notes"]) == 3


def test_the_directory_shows_load_and_presence_available_first(client: TestClient, world: World) -> None:
    from kefu.org import service as org
    from kefu.routing import service as routing
    from kefu.routing.runner import Writer

    case = make_case(world)
    bb = _team(client, world, "bb", "broadband", [case.net_expert, case.sz_expert])
    _team(client, world, "roam", "roaming", [case.sz_expert])
    client.post(f"/api/v1/tickets/{case.ticket_id}/consults", headers=world.auth("agent_gz"), json={
        "question": "会诊", "due_minutes": 240, "targets": [{"kind": "team", "id": bb},
                                                           {"kind": "user", "id": case.sz_expert}]})
    with world.db.unit_of_work() as s:
        user = org.user(s, case.net_expert)
        assert user is not None
        routing.set_presence(s, org.principal_for(s, user), "available")
    Writer(world.db).run_round()  # routing's writer applies it, as the server's does
    got = client.get("/api/v1/expert-directory", headers=world.auth("agent_gz")).json()
    assert [(e["name"], e["domains"], e["load"], e["presence"]) for e in got] == [
        ("网络专家王工", ["broadband"], 1, "available"), ("深圳专家陈工", ["broadband", "roaming"], 2, "offline")]
    assert got[1]["unit_name"] == "深圳"
    roaming = client.get("/api/v1/expert-directory?domain=roaming", headers=world.auth("agent_gz")).json()
    assert [e["name"] for e in roaming] == ["深圳专家陈工"]
    in_sz = client.get(f"/api/v1/expert-directory?region={world.units['sz']}", headers=world.auth("agent_gz")).json()
    assert [e["name"] for e in in_sz] == ["深圳专家陈工"]


def test_the_directory_order_is_available_then_least_loaded_then_by_name() -> None:
    def e(uid: int, name: str, load: int, presence: str) -> Expert:
        return Expert(uid, name, 1, "广州", ("network",), ("net",), load, presence)

    got = directory.order([e(1, "乙", 0, "offline"), e(2, "甲", 3, "available"), e(3, "丙", 1, "available"),
                           e(4, "丁", 0, "break")])
    assert [x.user_id for x in got] == [3, 2, 4, 1]


def test_notes_and_the_directory_in_the_console(client: TestClient, world: World) -> None:
    case = make_case(world)
    team = _team(client, world, "bb", "broadband", [case.net_expert, case.sz_expert])
    cid = client.post(f"/api/v1/tickets/{case.ticket_id}/consults", headers=world.auth("agent_gz"), json={
        "question": "疑难宽带故障会诊", "due_minutes": 240, "targets": [{"kind": "team", "id": team}]}).json()[0]["id"]
    csrf = console_login(client, "sz_expert")
    page = client.get("/console/collab")
    assert "会诊记录" in page.text
    assert f'action="/console/collab/consults/{cid}/note"' in page.text
    r = client.post(f"/console/collab/consults/{cid}/note", follow_redirects=False,
                    data={"csrf_token": csrf, "note": "怀疑分光器端口老化", "back": "mine"})
    assert (r.status_code, r.headers["location"]) == (303, "/console/collab")
    client.post("/logout", data={"csrf_token": csrf})
    csrf = console_login(client, "agent_gz")
    r = client.post(f"/console/collab/consults/{cid}/note", follow_redirects=False,
                    data={"csrf_token": csrf, "note": "客户说每晚 8 点断", "back": "ticket"})
    assert (r.status_code, r.headers["location"]) == (303, f"/console/tickets/{case.ticket_id}")
    box = client.get(f"/console/collab/tickets/{case.ticket_id}/consults").text
    assert box.index("深圳专家陈工: 怀疑分光器端口老化") < box.index("客户说每晚 8 点断")
    teams = client.get("/console/collab/teams").text
    assert "专家目录" in teams
    row = re.search(rf'<tr data-expert="{case.sz_expert}">(.*?)</tr>', teams, re.S)
    assert row is not None
    assert "深圳专家陈工" in row.group(1)
    assert "宽带" in row.group(1)
    assert "离线" in row.group(1)
    assert '<td class="num">1</td>' in row.group(1)
