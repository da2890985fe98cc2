"""Knowledge gaps, FAQ push and the Q&A community."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from kefu.core.db import Database
from tests.conftest import World
from tests.knowledge.conftest import principal_of

API = "/api/v1/knowledge"


# ---- gaps -------------------------------------------------------------------------------------


def test_searches_that_found_nothing_useful_are_grouped_into_topics(
    db: Database, client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    from kefu.knowledge import gaps, search

    agent, other = principal_of(db, "agent_gz"), principal_of(db, "agent_sz")
    at = datetime.now(UTC) - timedelta(hours=2)  # sessions are over: unopened searches count
    with db.unit_of_work() as s:
        for who, q in [
            (agent, "电动车充电桩怎么报装"),
            (other, "充电桩报装流程"),
            (agent, "小区充电桩安装"),
            (agent, "卫星电话怎么办理"),
            (other, "卫星电话资费"),
        ]:
            search.search(s, who, q, at=at)
        # found and opened: not a gap
        r = search.search(s, agent, "副卡扣费", at=at)
        search.mark_useful(s, agent, r.search_id, at=at)
        # found but never opened within the session: a gap once the session is over
        search.search(s, agent, "国际漫游怎么收费", at=at)
        # just now, found something: the session is still on, not (yet) a gap
        search.search(s, agent, "宽带移机", at=datetime.now(UTC))
    topics = client.get(f"{API}/gaps", headers=world.auth("support_gd")).json()["items"]
    by_label = {t["label"]: t for t in topics}
    charging = next(t for t in topics if "充电桩" in t["label"])
    assert charging["count"] == 3
    assert sorted(charging["examples"]) == sorted(
        ["电动车充电桩怎么报装", "充电桩报装流程", "小区充电桩安装"]
    )
    assert charging["users"] == 2
    satellite = next(t for t in topics if "卫星电话" in t["label"])
    assert satellite["count"] == 2
    assert not any("副卡" in e for t in topics for e in t["examples"])
    assert any("国际漫游怎么收费" in t["examples"] for t in topics)
    assert sum(t["count"] for t in topics) == 6, by_label
    assert client.get(f"{API}/gaps", headers=world.auth("agent_gz")).status_code == 403
    with db.session() as s:
        assert gaps.cluster(__import__("numpy").zeros((0, 0)), 0.5) == []


# ---- FAQ push ---------------------------------------------------------------------------------


def add_agent(db: Database, world: World, username: str, unit: str, skills: dict[str, int]) -> None:
    from kefu.org import service as org

    with db.unit_of_work() as s:
        u = org.create_user(
            s,
            username=username,
            display_name=username,
            role="agent",
            org_unit_id=world.units[unit],
            password="secret-pass-1",
            skills=skills,
        )
        world.users[username] = u.id
        world.tokens[username] = org.create_api_token(s, u.id, "tests")[0]


def test_push_reaches_only_the_targeted_agents_who_acknowledge_it(
    db: Database, client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    add_agent(db, world, "roam_gz", "gz", {"roaming": 4})
    add_agent(db, world, "roam_sz", "sz", {"roaming": 2})
    add_agent(db, world, "voice_sz", "sz", {"queue.voice": 1})
    body = {
        "title": "台风预警：基站退服答复口径",
        "message": "今晚台风登陆，统一按预处理方案答复。",
        "faq_article_id": corpus["script_outage"],
        "plan_article_id": corpus["typhoon_plan"],
        "skills": ["roaming"],
        "unit_ids": [world.units["sz"]],
    }
    r = client.post(f"{API}/pushes", json=body, headers=world.auth("support_gd"))
    assert r.status_code == 201, r.text
    topic = r.json()
    assert topic["delivered"] == 1
    inbox = lambda who: [  # noqa: E731
        p["id"] for p in client.get(f"{API}/pushes/inbox", headers=world.auth(who)).json()["items"]
    ]
    assert inbox("roam_sz") == [topic["id"]]
    assert inbox("roam_gz") == []
    assert inbox("agent_sz") == []
    assert inbox("voice_sz") == []
    # a queue target, and regions only
    q = client.post(
        f"{API}/pushes", json={"title": "语音队列通知", "queues": ["voice"]}, headers=world.auth("support_gd")
    )
    assert q.json()["delivered"] == 1
    assert inbox("voice_sz") == [q.json()["id"]]
    g = client.post(
        f"{API}/pushes",
        json={"title": "广州全员", "unit_ids": [world.units["gz"]]},
        headers=world.auth("support_gd"),
    )
    assert g.json()["delivered"] == 2  # agent_gz and roam_gz
    nobody = client.post(
        f"{API}/pushes", json={"title": "无人", "skills": ["nope"]}, headers=world.auth("support_gd")
    )
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (422, "no_recipients")
    assert (
        client.post(f"{API}/pushes", json={"title": "x"}, headers=world.auth("agent_gz")).status_code == 403
    )
    # acknowledge, read status
    reads = lambda: client.get(f"{API}/pushes/{topic['id']}/reads", headers=world.auth("support_gd")).json()  # noqa: E731
    assert [(r["username"], r["acknowledged_at"]) for r in reads()["items"]] == [("roam_sz", None)]
    ack = client.post(f"{API}/pushes/{topic['id']}/acknowledge", headers=world.auth("roam_sz"))
    assert ack.status_code == 200
    assert ack.json()["acknowledged_at"] is not None
    first = ack.json()["acknowledged_at"]
    assert (
        client.post(f"{API}/pushes/{topic['id']}/acknowledge", headers=world.auth("roam_sz")).json()[
            "acknowledged_at"
        ]
        == first
    )
    assert reads()["acknowledged"] == 1
    assert inbox("roam_sz") == []
    assert (
        client.post(f"{API}/pushes/{topic['id']}/acknowledge", headers=world.auth("agent_gz")).status_code
        == 404
    )
    sent = client.get(f"{API}/pushes", headers=world.auth("support_gd")).json()["items"]
    assert [(p["title"], p["delivered"], p["acknowledged"]) for p in sent][-1] == (
        "台风预警：基站退服答复口径",
        1,
        1,
    )


# ---- Q&A ----------------------------------------------------------------------------------------


def test_qa_flow_with_points_leaderboards_and_answer_to_article(
    db: Database, client: TestClient, world: World
) -> None:
    add_agent(db, world, "billing_expert", "sz", {"billing": 4})
    h = world.auth
    q = client.post(
        f"{API}/questions",
        json={
            "title": "副卡销户后还扣费怎么办？",
            "body": "客户副卡已销户，本月仍有10元功能费。",
            "category_key": "billing.unexplained_deduction",
        },
        headers=h("agent_gz"),
    )
    assert q.status_code == 201
    qid = q.json()["id"]
    a1 = client.post(
        f"{API}/questions/{qid}/answers",
        json={"body": "销户当月按整月收取，次月不再收取。"},
        headers=h("agent_sz"),
    ).json()
    a2 = client.post(
        f"{API}/questions/{qid}/answers",
        json={"body": "核实销户日期，若在账期结束前销户则按日退还。"},
        headers=h("billing_expert"),
    ).json()
    assert (a1["is_expert"], a2["is_expert"]) == (False, True)
    # helpful votes: +2 each, not on one's own answer, once per person
    assert client.post(f"{API}/answers/{a2['id']}/helpful", headers=h("agent_gz")).status_code == 200
    assert client.post(f"{API}/answers/{a2['id']}/helpful", headers=h("agent_sz")).status_code == 200
    again = client.post(f"{API}/answers/{a2['id']}/helpful", headers=h("agent_gz"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_voted")
    own = client.post(f"{API}/answers/{a2['id']}/helpful", headers=h("billing_expert"))
    assert own.json()["error"]["code"] == "own_answer"
    client.post(f"{API}/answers/{a1['id']}/helpful", headers=h("agent_gz"))
    # only the asker accepts, once
    assert (
        client.post(f"{API}/answers/{a2['id']}/accept", headers=h("agent_sz")).json()["error"]["code"]
        == "not_asker"
    )
    assert client.post(f"{API}/answers/{a2['id']}/accept", headers=h("agent_gz")).json()["accepted"] is True
    second = client.post(f"{API}/answers/{a1['id']}/accept", headers=h("agent_gz"))
    assert (second.status_code, second.json()["error"]["code"]) == (409, "already_accepted")
    detail = client.get(f"{API}/questions/{qid}", headers=h("agent_sz")).json()
    assert detail["accepted_answer_id"] == a2["id"]
    assert [a["id"] for a in detail["answers"]] == [a2["id"], a1["id"]]
    # leaderboards: expert 20 + 2 + 2 = 24 (Shenzhen), agent_sz 2 (Shenzhen)
    board = lambda who, level: [  # noqa: E731
        (r["display_name"], r["points"])
        for r in client.get(f"{API}/leaderboard", params={"level": level}, headers=h(who)).json()["items"]
    ]
    assert board("agent_sz", "city") == [("billing_expert", 24), ("深圳坐席", 2)]
    assert board("agent_gz", "city") == []
    assert board("agent_gz", "province") == [("billing_expert", 24), ("深圳坐席", 2)]
    assert board("admin", "group") == [("billing_expert", 24), ("深圳坐席", 2)]
    # accepted answer -> draft article in one step (knowledge.write), only once
    assert (
        client.post(f"{API}/answers/{a1['id']}/article", headers=h("support_gd")).json()["error"]["code"]
        == "answer_not_accepted"
    )
    assert client.post(f"{API}/answers/{a2['id']}/article", headers=h("agent_gz")).status_code == 403
    art = client.post(f"{API}/answers/{a2['id']}/article", headers=h("support_gd"))
    assert art.status_code == 201, art.text
    art = art.json()
    assert (art["status"], art["kind"], art["title"], art["source_answer_id"]) == (
        "draft",
        "faq",
        "副卡销户后还扣费怎么办？",
        a2["id"],
    )
    assert art["version"]["body"].endswith("核实销户日期，若在账期结束前销户则按日退还。")
    assert art["version"]["category_keys"] == ["billing.unexplained_deduction"]
    assert (
        client.post(f"{API}/answers/{a2['id']}/article", headers=h("support_gd")).json()["error"]["code"]
        == "already_article"
    )
    bad = client.post(f"{API}/questions", json={"title": "", "body": "x"}, headers=h("agent_gz"))
    assert bad.status_code == 422
