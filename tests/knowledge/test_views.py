"""Console pages: search with highlights, escaped article bodies, the editor's conflict message, push
inbox and acknowledgement, Q&A, leaderboard, gaps, and the partials other pages include."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kefu.core.db import Database
from tests.conftest import PASSWORD, World

API = "/api/v1/knowledge"
K = "/console/knowledge"


def login(client: TestClient, username: str) -> str:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200
    page = client.get(K)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text) or re.search(
        r'"X-CSRF-Token": "([^"]+)"', page.text
    )
    assert m, page.text[:500]
    return m.group(1)


def test_search_page_shows_highlighted_results_and_clear_errors(
    client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    login(client, "agent_gz")
    page = client.get(K, params={"q": "副卡扣费"})
    assert page.status_code == 200
    assert "<mark>副卡</mark>每月<mark>扣费</mark>说明" in page.text
    bad = client.get(K, params={"q": "？？？"})
    assert bad.status_code == 422
    assert "punctuation" in bad.text


def test_article_body_with_html_is_rendered_escaped(client: TestClient, world: World) -> None:
    body = '<script>alert("x")</script><img src=x onerror=alert(1)>副卡说明'
    a = client.post(
        f"{API}/articles",
        json={"title": "<i>副卡</i>", "body": body, "kind": "faq", "department": "d"},
        headers=world.auth("admin"),
    ).json()
    login(client, "admin")
    page = client.get(f"{K}/articles/{a['id']}")
    assert page.status_code == 200
    assert (
        "<script>alert" not in page.text
    )
    assert (
        "<img src=x" not in page.text
    )
    assert (
        "<i>副卡</i>" not in page.text
    )
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;副卡说明"
        in page.text
    )


def test_editor_refuses_a_stale_save_and_keeps_the_typed_text(client: TestClient, world: World) -> None:
    a = client.post(
        f"{API}/articles",
        json={"title": "宽带报修", "body": "v1", "kind": "faq", "department": "d"},
        headers=world.auth("admin"),
    ).json()
    token = login(client, "admin")
    form = client.get(f"{K}/articles/{a['id']}/edit")
    assert 'name="base_version" value="1"' in form.text
    # someone else saves first, through the API
    client.put(
        f"{API}/articles/{a['id']}",
        json={"title": "宽带报修", "body": "别人的修改", "kind": "faq", "department": "d", "base_version": 1},
        headers=world.auth("admin"),
    )
    r = client.post(
        f"{K}/articles/{a['id']}/edit",
        data={
            "csrf_token": token,
            "base_version": "1",
            "title": "宽带报修",
            "body": "我的修改，不能丢",
            "kind": "faq",
            "department": "d",
        },
    )
    assert r.status_code == 409
    assert "我的修改，不能丢" in r.text
    assert "v2" in r.text
    latest = client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()
    assert (latest["latest_version"], latest["version"]["body"]) == (2, "别人的修改")
    ok = client.post(
        f"{K}/articles/{a['id']}/edit",
        data={
            "csrf_token": token,
            "base_version": "2",
            "title": "宽带报修",
            "body": "我的修改，不能丢",
            "kind": "faq",
            "department": "d",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert client.get(f"{API}/articles/{a['id']}", headers=world.auth("admin")).json()["latest_version"] == 3


def test_push_banner_inbox_and_acknowledge(client: TestClient, world: World, corpus: dict[str, int]) -> None:
    client.post(
        f"{API}/pushes",
        json={"title": "5G套餐调价预警", "message": "明日起统一答复<口径>", "unit_ids": [world.units["gz"]]},
        headers=world.auth("admin"),
    )
    token = login(client, "agent_gz")
    banner = client.get(f"{K}/_push_banner")
    assert "5G套餐调价预警" in banner.text
    assert "明日起统一答复&lt;口径&gt;" in banner.text
    assert client.get(K).text.count("5G套餐调价预警") == 1  # one banner, not the page's and the layout's
    topic_id = client.get(f"{API}/pushes/inbox", headers=world.auth("agent_gz")).json()["items"][0]["id"]
    r = client.post(
        f"{K}/pushes/{topic_id}/ack", data={"csrf_token": token, "next": K}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "5G套餐调价预警" not in client.get(f"{K}/_push_banner").text
    assert client.post(f"{K}/pushes/{topic_id}/ack", data={}).status_code == 403  # no CSRF token
    login(client, "admin")
    status = client.get(f"{K}/pushes/{topic_id}")
    assert "1/1" in status.text
    assert "广州坐席" in status.text


def test_suggestions_partial_qa_leaderboard_and_gaps_pages_render(
    db: Database, client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    from kefu.tickets import service as tickets

    with db.unit_of_work() as s:
        tid = tickets.create_ticket(
            s,
            type="complaint",
            subject="副卡扣钱",
            org_unit_id=world.units["gz"],
            category_key="billing.unexplained_deduction",
        ).id
    token = login(client, "agent_gz")
    part = client.get(f"{K}/_suggestions", params={"ticket_id": tid})
    assert part.status_code == 200
    assert "不明扣费解释口径" in part.text
    assert "<mark>副卡</mark>每月扣费说明" in part.text
    r = client.post(
        f"{K}/qa",
        data={"csrf_token": token, "title": "漫游包能叠加吗", "body": "客户问两个漫游包能不能叠加"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    q = client.get(r.headers["location"])
    assert "漫游包能叠加吗" in q.text
    assert client.get(f"{K}/qa").status_code == 200
    assert client.get(f"{K}/leaderboard", params={"level": "province"}).status_code == 200
    assert client.get(f"{K}/gaps").status_code == 403
    login(client, "support_gd")
    assert client.get(f"{K}/gaps").status_code == 200
    assert client.get(f"{K}/articles").status_code == 200
    assert client.get(f"{K}/articles/new").status_code == 200
    assert (
        client.get(f"{K}/articles/{corpus['secondary_fee']}/diff", params={"from": 1, "to": 1}).status_code
        == 200
    )
