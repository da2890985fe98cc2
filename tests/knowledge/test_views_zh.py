"""The knowledge pages in Chinese: kinds, statuses and actions translated, choosers with names instead of
id inputs, people by name, and the fixes of the second pass (a region typed as a name, the banner's
acknowledge returning to the page that shows it)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.knowledge.test_views import API, K, login


def test_article_pages_speak_chinese_and_name_people(
    client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    login(client, "admin")
    listing = client.get(f"{K}/articles").text
    assert ">已发布<" in listing
    assert ">常见问题<" in listing or ">口径<" in listing
    assert not re.search(r">(published|draft|in_review|faq|script)<", listing)
    page = client.get(f"{K}/articles/{corpus['secondary_fee']}").text
    assert "下线" in page  # the withdraw action, translated
    assert "→ withdrawn" not in page
    assert "→ expired" not in page
    assert "— → 草稿" in page  # the history, in words
    editor = client.get(f"{K}/articles/new").text
    assert 'name="org_unit_id"' in editor
    assert "<select name=\"org_unit_id\">" in editor
    assert f'<option value="{world.units["gz"]}"' in editor
    assert "话费与账单 / 退费" in editor  # categories chosen by name
    assert "billing.refund" not in re.sub(r'value="[^"]*"', "", editor)


def test_editor_saves_several_chosen_categories(client: TestClient, world: World) -> None:
    token = login(client, "admin")
    r = client.post(
        f"{K}/articles",
        data={
            "csrf_token": token,
            "title": "退费到账时间",
            "body": "退回话费账户 3 个工作日内到账。",
            "kind": "faq",
            "department": "计费支撑中心",
            "org_unit_id": str(world.units["gz"]),
            "category_keys": ["billing.refund", "billing.bill_query"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    article_id = int(r.headers["location"].rsplit("/", 1)[1])
    v = client.get(f"{API}/articles/{article_id}", headers=world.auth("admin")).json()
    assert v["org_unit_id"] == world.units["gz"]
    page = client.get(r.headers["location"]).text
    assert "话费与账单 / 退费" in page
    assert "话费与账单 / 账单查询" in page


def test_push_form_offers_articles_units_and_skills_by_name(
    client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    token = login(client, "admin")
    form = client.get(f"{K}/pushes").text
    assert '<select name="faq_article_id">' in form
    assert f'<option value="{corpus["secondary_fee"]}"' in form
    assert '<select name="unit_ids" multiple' in form
    assert "FAQ id" not in form
    assert "预处理方案 id" not in form
    # a name typed where a unit was expected: a clear Chinese message, nothing sent
    bad = client.post(
        f"{K}/pushes", data={"csrf_token": token, "title": "测试", "message": "x", "unit_ids": "广州分公司"}
    )
    assert bad.status_code == 422
    assert "推送区域“广州分公司”不是可选的组织" in bad.text
    assert "invalid literal" not in bad.text
    ok = client.post(
        f"{K}/pushes",
        data={
            "csrf_token": token,
            "title": "话费口径更新",
            "message": "按新口径答复",
            "faq_article_id": str(corpus["secondary_fee"]),
            "unit_ids": [str(world.units["gz"]), str(world.units["sz"])],
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    reads = client.get(ok.headers["location"]).text
    assert "/2" in reads  # agents of both cities


def test_banner_acknowledge_returns_to_the_page_showing_it(
    client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    client.post(
        f"{API}/pushes",
        json={"title": "停机口径", "message": "统一答复", "unit_ids": [world.units["gz"]]},
        headers=world.auth("admin"),
    )
    login(client, "agent_gz")
    banner = client.get(f"{K}/_push_banner", headers={"HX-Current-URL": "http://testserver/console/knowledge/qa"})
    assert 'name="next" value="/console/knowledge/qa"' in banner.text
    assert "_push_banner" not in re.findall(r'name="next" value="([^"]*)"', banner.text)[0]


def test_question_page_names_the_asker_and_the_answerers(
    client: TestClient, world: World, corpus: dict[str, int]
) -> None:
    token = login(client, "agent_gz")
    r = client.post(
        f"{K}/qa",
        data={
            "csrf_token": token,
            "title": "副卡能单独停机吗",
            "body": "客户问",
            "category_key": "number.secondary_card",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "提问人 广州坐席" in page
    assert "号码与实名 / 副卡" in page
    qa_page = client.get(f"{K}/qa").text
    assert "号码与实名 / 副卡" in qa_page  # the category chooser
    assert 'placeholder="billing.refund"' not in qa_page
