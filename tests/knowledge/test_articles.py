"""Articles and scripts: lifecycle, versions, diffs, concurrent edits, campaigns, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from kefu.core.db import Database
from kefu.knowledge import service
from tests.conftest import World
from tests.knowledge.conftest import principal_of

API = "/api/v1/knowledge"


def new_article(client: TestClient, world: World, who: str = "support_gd", **over: object) -> dict:
    body = {
        "title": "副卡扣费说明",
        "body": "副卡月功能费10元。",
        "kind": "faq",
        "department": "计费支撑",
        "tags": ["副卡"],
        "category_keys": ["number.secondary_card"],
    } | over
    r = client.post(f"{API}/articles", json=body, headers=world.auth(who))
    assert r.status_code == 201, r.text
    return r.json()


def move(client: TestClient, world: World, article_id: int, to: str, who: str = "admin", **extra: object):
    return client.post(
        f"{API}/articles/{article_id}/transitions", json={"to": to} | extra, headers=world.auth(who)
    )


def test_article_goes_through_review_to_published_and_is_then_searchable(
    client: TestClient, world: World
) -> None:
    a = new_article(client, world)
    assert (a["status"], a["latest_version"], a["live_version"]) == ("draft", 1, None)
    assert move(client, world, a["id"], "in_review", who="support_gd").json()["status"] == "in_review"
    r = move(client, world, a["id"], "published")
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["live_version"]) == ("published", 1)
    hits = client.get(f"{API}/search", params={"q": "副卡扣费"}, headers=world.auth("agent_gz")).json()[
        "items"
    ]
    assert [h["article_id"] for h in hits] == [a["id"]]
    history = client.get(f"{API}/articles/{a['id']}/transitions", headers=world.auth("admin")).json()["items"]
    assert [(t["from"], t["to"]) for t in history] == [
        (None, "draft"),
        ("draft", "in_review"),
        ("in_review", "published"),
    ]


def test_illegal_transitions_are_refused_with_409_and_change_nothing(
    client: TestClient, world: World
) -> None:
    a = new_article(client, world)
    r = move(client, world, a["id"], "published")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "illegal_transition"
    assert r.json()["error"]["details"]["allowed"] == ["in_review", "withdrawn"]
    after = client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()
    assert (after["status"], after["live_version"], after["latest_version"]) == ("draft", None, 1)
    move(client, world, a["id"], "in_review")
    move(client, world, a["id"], "published")
    move(client, world, a["id"], "expired")
    r = move(client, world, a["id"], "published")
    assert r.status_code == 409
    assert client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()["status"] == "expired"
    assert move(client, world, a["id"], "frozen").status_code == 409
    # an expired article no longer shows in search
    assert (
        client.get(f"{API}/search", params={"q": "副卡扣费"}, headers=world.auth("agent_gz")).json()["items"]
        == []
    )


def test_publishing_needs_the_publish_permission(client: TestClient, world: World) -> None:
    from kefu.org import service as org

    with world.db.unit_of_work() as s:  # an expert writes knowledge but does not publish it
        expert = org.create_user(s, username="expert_gd", display_name="网络专家", role="expert",
                                 org_unit_id=world.units["province"])
        world.tokens["expert_gd"] = org.create_api_token(s, expert.id, "tests")[0]
    a = new_article(client, world, who="expert_gd")
    move(client, world, a["id"], "in_review", who="expert_gd")
    r = move(client, world, a["id"], "published", who="expert_gd")
    assert r.status_code == 403
    assert (
        client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()["status"] == "in_review"
    )
    # back-office support publishes what is in review
    assert move(client, world, a["id"], "published", who="support_gd").json()["status"] == "published"
    assert (
        client.post(
            f"{API}/articles",
            json={"title": "x", "body": "y", "kind": "faq", "department": "d"},
            headers=world.auth("agent_gz"),
        ).status_code
        == 403
    )


def test_every_version_is_kept_and_two_versions_can_be_diffed(client: TestClient, world: World) -> None:
    a = new_article(client, world)
    r = client.put(
        f"{API}/articles/{a['id']}",
        headers=world.auth("support_gd"),
        json={
            "title": "副卡扣费说明（2026版）",
            "body": "副卡月功能费5元。",
            "kind": "faq",
            "department": "计费支撑",
            "tags": ["副卡", "资费"],
            "category_keys": ["number.secondary_card"],
            "base_version": 1,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["latest_version"] == 2
    versions = client.get(f"{API}/articles/{a['id']}/versions", headers=world.auth("support_gd")).json()[
        "items"
    ]
    assert [(v["number"], v["base_number"], v["body"]) for v in versions] == [
        (1, None, "副卡月功能费10元。"),
        (2, 1, "副卡月功能费5元。"),
    ]
    d = client.get(
        f"{API}/articles/{a['id']}/diff", params={"from": 1, "to": 2}, headers=world.auth("support_gd")
    ).json()
    assert d["fields"] == {
        "title": {"from": "副卡扣费说明", "to": "副卡扣费说明（2026版）"},
        "tags": {"from": ["副卡"], "to": ["副卡", "资费"]},
    }
    assert [c for c in d["body"] if c["op"] != "equal"] == [{"op": "replace", "from": "10", "to": "5"}]
    assert d["unified"][2:] == ["@@ -1 +1 @@", "-副卡月功能费10元。", "+副卡月功能费5元。"]
    assert (
        client.get(
            f"{API}/articles/{a['id']}/diff", params={"from": 1, "to": 9}, headers=world.auth("support_gd")
        ).status_code
        == 404
    )


def test_editing_a_published_article_keeps_the_live_version_until_the_new_one_is_published(
    client: TestClient, world: World
) -> None:
    a = new_article(client, world)
    move(client, world, a["id"], "in_review")
    move(client, world, a["id"], "published")
    client.put(
        f"{API}/articles/{a['id']}",
        headers=world.auth("support_gd"),
        json={
            "title": "副卡扣费说明",
            "body": "新版正文：副卡月功能费5元。",
            "kind": "faq",
            "department": "计费支撑",
            "base_version": 1,
        },
    )
    agent_view = client.get(f"{API}/articles/{a['id']}", headers=world.auth("agent_gz")).json()
    assert (agent_view["status"], agent_view["live_version"]) == ("draft", 1)
    assert agent_view["version"]["body"] == "副卡月功能费10元。"
    # the draft is not the agent's to read, alone or in a diff; the writer sees it
    agent, writer = world.auth("agent_gz"), world.auth("support_gd")
    assert client.get(f"{API}/articles/{a['id']}/versions/2", headers=agent).status_code == 404
    assert client.get(f"{API}/articles/{a['id']}/versions/2", headers=writer).json()["number"] == 2
    assert client.get(f"{API}/articles/{a['id']}/diff", params={"from": 1, "to": 2}, headers=agent).status_code == 404
    move(client, world, a["id"], "in_review")
    move(client, world, a["id"], "published")
    assert client.get(f"{API}/articles/{a['id']}/diff", params={"from": 1, "to": 2}, headers=agent).status_code == 200
    assert (
        client.get(f"{API}/articles/{a['id']}", headers=world.auth("agent_gz")).json()["version"]["body"]
        == "新版正文：副卡月功能费5元。"
    )


def test_second_save_on_a_stale_version_is_refused_and_the_first_edit_is_intact(
    client: TestClient, world: World
) -> None:
    a = new_article(client, world)
    edit = {"kind": "faq", "department": "计费支撑", "base_version": 1}
    first = client.put(
        f"{API}/articles/{a['id']}",
        headers=world.auth("support_gd"),
        json=edit | {"title": "甲的标题", "body": "甲的修改"},
    )
    assert first.status_code == 200
    second = client.put(
        f"{API}/articles/{a['id']}",
        headers=world.auth("admin"),
        json=edit | {"title": "乙的标题", "body": "乙的修改"},
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "version_conflict"
    assert second.json()["error"]["details"] == {"base_version": 1, "latest_version": 2}
    after = client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()
    assert (after["latest_version"], after["title"], after["version"]["body"]) == (2, "甲的标题", "甲的修改")
    versions = client.get(f"{API}/articles/{a['id']}/versions", headers=world.auth("admin")).json()["items"]
    assert [v["body"] for v in versions] == ["副卡月功能费10元。", "甲的修改"]
    # publishing names the version the reviewer read: a stale one is refused too
    move(client, world, a["id"], "in_review")
    assert move(client, world, a["id"], "published", version=1).status_code == 409


def test_campaign_past_its_end_date_cannot_be_published_and_is_not_shown(
    db: Database, client: TestClient, world: World
) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    a = new_article(
        client,
        world,
        kind="business",
        title="国庆流量狂欢活动",
        body="充100送20GB。",
        tags=["campaign"],
        valid_until=past,
    )
    move(client, world, a["id"], "in_review")
    r = move(client, world, a["id"], "published")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "campaign_ended"
    assert (
        client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()["status"] == "in_review"
    )
    # published while running; once the end date passes it is no longer shown, and the sweep expires it
    admin = principal_of(db, "admin")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with db.unit_of_work() as s:
        b = service.create_article(
            s,
            admin,
            service.Content(
                title="国庆流量狂欢活动",
                body="充100送20GB流量。",
                kind="business",
                department="市场部",
                valid_from=start,
                valid_until=start + timedelta(days=7),
            ),
            at=start,
        )
        service.transition(s, admin, b.id, "in_review", at=start)
        service.transition(s, admin, b.id, "published", at=start, bulk_import=True)  # set-up, not the review
        bid = b.id
    assert (
        client.get(f"{API}/search", params={"q": "国庆流量活动"}, headers=world.auth("agent_gz")).json()[
            "items"
        ]
        == []
    )
    with db.unit_of_work() as s:
        assert service.expire_due(s) == [bid]
    after = client.get(f"{API}/articles/{bid}", headers=world.auth("admin")).json()
    assert (after["status"], after["live_version"]) == ("expired", None)


def test_html_in_a_body_is_stored_exactly_as_given(client: TestClient, world: World) -> None:
    body = '<script>alert("x")</script><b>加粗</b> & 副卡'
    a = new_article(client, world, body=body)
    assert (
        client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()["version"]["body"] == body
    )


def test_bad_article_input_gets_clear_errors(client: TestClient, world: World) -> None:
    base = {"title": "t", "body": "b", "kind": "faq", "department": "d"}
    r = client.post(f"{API}/articles", json=base | {"kind": "poem"}, headers=world.auth("admin"))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_article")
    r = client.post(
        f"{API}/articles", json=base | {"category_keys": ["nope.none"]}, headers=world.auth("admin")
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_category")
    r = client.post(
        f"{API}/articles",
        json=base | {"valid_from": "2026-12-02T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z"},
        headers=world.auth("admin"),
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_article")
    r = client.post(f"{API}/articles", json=base | {"body": "x" * 100_001}, headers=world.auth("admin"))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_article")
    assert client.get(f"{API}/articles/999", headers=world.auth("admin")).status_code == 404


def test_a_city_article_is_invisible_to_another_city(client: TestClient, world: World) -> None:
    a = new_article(
        client,
        world,
        who="admin",
        org_unit_id=world.units["gz"],
        title="广州地铁站信号弱说明",
        body="广州地铁3号线信号增强施工中。",
    )
    move(client, world, a["id"], "in_review")
    move(client, world, a["id"], "published", who="support_gd")  # a second person reviews
    assert client.get(f"{API}/articles/{a['id']}", headers=world.auth("agent_gz")).status_code == 200
    assert client.get(f"{API}/articles/{a['id']}", headers=world.auth("agent_sz")).status_code == 404
    q = {"q": "地铁信号"}
    assert len(client.get(f"{API}/search", params=q, headers=world.auth("agent_gz")).json()["items"]) == 1
    assert client.get(f"{API}/search", params=q, headers=world.auth("agent_sz")).json()["items"] == []


def test_the_author_cannot_publish_their_own_version_and_the_history_shows_who_did_each_step(
    client: TestClient, world: World
) -> None:
    a = new_article(client, world, who="support_gd")
    assert move(client, world, a["id"], "in_review", who="support_gd").status_code == 200
    alone = move(client, world, a["id"], "published", who="support_gd")  # wrote it: may not publish it alone
    assert alone.status_code == 403, alone.text
    assert alone.json()["error"]["code"] == "review_needs_second_person"
    assert client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()["status"] == "in_review"
    r = move(client, world, a["id"], "published", who="admin")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published"
    steps = client.get(f"{API}/articles/{a['id']}/transitions", headers=world.auth("admin")).json()["items"]
    assert [(s["from"], s["to"], s["actor_id"]) for s in steps] == [
        (None, "draft", world.users["support_gd"]),
        ("draft", "in_review", world.users["support_gd"]),
        ("in_review", "published", world.users["admin"]),
    ]
