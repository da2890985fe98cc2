"""The console over HTTP, as a person's browser without JavaScript (and htmx) would use it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.db import Database
from kefu.interactions.models import Message
from kefu.tickets.models import Ticket, TicketTransition
from tests.web.conftest import Console, csrf_of, login

HX = {"HX-Request": "true"}


def ticket_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-ticket="(\d+)">', html)]


# ---- entry and login ------------------------------------------------------------------------


def test_root_sends_anonymous_users_to_login_and_logged_in_users_to_the_inbox(
    client: TestClient, console: Console
) -> None:
    r = client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    login(client, "agent_gz")
    r = client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console/inbox")


def test_console_page_without_session_redirects_to_login_with_next(
    client: TestClient, console: Console
) -> None:
    r = client.get("/console/inbox?type=complaint", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?msg=required&next=%2Fconsole%2Finbox%3Ftype%3Dcomplaint"
    r = client.get("/console/inbox", headers=HX, follow_redirects=False)
    assert (r.status_code, r.headers["HX-Redirect"]) == (204, "/login?msg=required&next=%2Fconsole%2Finbox")


def test_login_form_sets_the_api_session_cookie(client: TestClient, console: Console) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text
    assert "登录客服工作台" in page.text
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login",
        data={
            "username": "agent_gz",
            "password": "secret-pass-1",
            "login_csrf": token,
            "next": "/console/customers",
        },
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/console/customers")
    cookie = r.headers["set-cookie"]
    assert "kefu_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert client.get("/api/v1/me").json()["username"] == "agent_gz"  # the same session as the API's


def test_wrong_password_is_shown_in_the_chosen_language(client: TestClient, console: Console) -> None:
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": "agent_gz", "password": "wrong", "login_csrf": token})
    assert r.status_code == 401
    assert "用户名或密码错误。" in r.text
    assert "kefu_session" not in client.cookies
    client.cookies.set("lang", "en")
    r = client.post("/login", data={"username": "agent_gz", "password": "wrong", "login_csrf": token})
    assert r.status_code == 401
    assert "Wrong username or password." in r.text


def test_login_post_without_the_form_token_is_refused(client: TestClient, console: Console) -> None:
    r = client.post(
        "/login", data={"username": "agent_gz", "password": "secret-pass-1"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert "页面已过期" in r.text
    assert "kefu_session" not in client.cookies


def test_login_never_redirects_off_site(client: TestClient, console: Console) -> None:
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login",
        data={
            "username": "agent_gz",
            "password": "secret-pass-1",
            "login_csrf": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console/inbox"


def test_logout_ends_the_session(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    page = client.get("/console/inbox")
    r = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?msg=logged_out")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/console/inbox", follow_redirects=False).status_code == 303


# ---- the inbox ------------------------------------------------------------------------------


def test_agent_inbox_shows_only_tickets_of_their_city(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    r = client.get("/console/inbox")
    assert r.status_code == 200
    # open work, in work order: the gold customer's complaint (high, with its reply deadline) first
    assert ticket_ids(r.text) == [console.tickets["complaint"], console.tickets["bill_sms"]]
    assert "共 2 条" in r.text


def test_inbox_filters_return_the_right_rows(client: TestClient, console: Console) -> None:
    login(client, "sup_gd")
    t = console.tickets
    everything = ticket_ids(client.get("/console/inbox").text)
    assert sorted(everything) == sorted(t.values())
    cases = {
        "channel=wechat": [t["broadband_wx"]],
        "channel=voice": [t["complaint"]],
        "type=complaint": [t["complaint"]],
        "type=inquiry": [t["bill_sms"], t["broadband_wx"]],  # work order: same priority, the older first
        "tier=gold": [t["complaint"]],
        # a first-level category includes its children; "话费…多扣" put the SMS under billing (its topic)
        "category=billing": [t["complaint"], t["bill_sms"]],
        "category=network": [],
        f"org_unit={console.world.units['sz']}": [t["broadband_wx"]],
        "status=new": [t["complaint"], t["bill_sms"], t["broadband_wx"]],
        "status=all&sort=updated": [t["complaint"], t["broadband_wx"], t["bill_sms"]],
        "status=resolved": [],
        "at_risk=true": [t["complaint"]],
        "type=inquiry&channel=sms": [t["bill_sms"]],
    }
    for query, expected in cases.items():
        assert ticket_ids(client.get(f"/console/inbox?{query}").text) == expected, query


def test_inbox_filter_by_htmx_returns_only_the_list_fragment(client: TestClient, console: Console) -> None:
    login(client, "sup_gd")
    r = client.get("/console/inbox?channel=wechat", headers={**HX, "HX-Target": "inbox-list"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="inbox-list"')
    assert "<html" not in r.text
    assert ticket_ids(r.text) == [console.tickets["broadband_wx"]]
    assert r.headers["Vary"] == "HX-Request"
    assert "HX-Push-Url" not in r.headers  # a live refresh of the list does not touch the history
    r = client.get(
        "/console/inbox?view=tickets&channel=wechat&type=&status=&at_risk=false",
        headers={**HX, "HX-Target": "inbox-list", "HX-Trigger": "filters"},
    )
    assert r.headers["HX-Push-Url"] == "/console/inbox?channel=wechat"  # the filter form: a clean URL


def test_a_history_restore_gets_the_whole_page(client: TestClient, console: Console) -> None:
    login(client, "sup_gd")
    r = client.get(
        "/console/inbox?channel=wechat",
        headers={**HX, "HX-Target": "inbox-list", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in r.text


def test_unknown_filter_value_is_explained_not_a_crash(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    r = client.get("/console/inbox?channel=pigeon")
    assert r.status_code == 200
    assert "筛选条件无效" in r.text
    assert "pigeon" in r.text
    assert ticket_ids(r.text) == []


def test_inbox_pages_through_tickets(client: TestClient, console: Console, db: Database) -> None:
    from kefu.tickets import service as tickets

    with db.unit_of_work() as s:
        for i in range(30):
            tickets.create_ticket(
                s, type="request", subject=f"套餐变更 {i}", org_unit_id=console.world.units["gz"]
            )
    login(client, "agent_gz")
    first = client.get("/console/inbox?type=request")
    assert len(ticket_ids(first.text)) == 25
    assert "共 30 条" in first.text
    assert "offset=25" in first.text
    second = client.get("/console/inbox?type=request&offset=25")
    assert len(ticket_ids(second.text)) == 5
    assert not set(ticket_ids(first.text)) & set(ticket_ids(second.text))


def test_interactions_view_lists_contacts_with_their_last_message(
    client: TestClient, console: Console
) -> None:
    login(client, "agent_gz")
    r = client.get("/console/inbox?view=interactions")
    ids = [int(x) for x in re.findall(r'<tr data-interaction="(\d+)">', r.text)]
    assert ids == [console.interactions["complaint"], console.interactions["bill_sms"]]
    assert "投诉已经快两周了" in r.text
    r = client.get("/console/inbox?view=interactions&channel=wechat")
    assert re.findall(r'<tr data-interaction="(\d+)">', r.text) == []


# ---- the ticket page ------------------------------------------------------------------------


def test_ticket_page_shows_header_conversation_and_timeline(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    r = client.get(f"/console/tickets/{console.tickets['complaint']}")
    assert r.status_code == 200
    html = r.text
    assert "不明扣费：增值业务被订购" in html
    assert "投诉" in html
    assert "话费与账单 › 不明扣费" in html
    assert "超时风险" in html  # 13 days into a 15-day complaint clock
    assert "投诉已经快两周了，还没有人联系我。" in html
    assert 'id="customer-timeline"' in html
    assert "139 0013 9002" in html  # agents hold `pii`


def test_ticket_page_masks_the_phone_for_the_analyst(client: TestClient, console: Console) -> None:
    login(client, "analyst")
    r = client.get(f"/console/tickets/{console.tickets['complaint']}")
    assert r.status_code == 200
    assert "139****9002" in r.text
    assert "13900139002" not in r.text
    assert "李雷" not in r.text
    assert "李*" in r.text
    assert 'id="reply-body"' not in r.text  # analysts do not write to customers
    assert 'name="to"' not in r.text


def test_ticket_outside_scope_is_a_friendly_404(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    r = client.get(f"/console/tickets/{console.tickets['broadband_wx']}")
    assert r.status_code == 404
    assert "记录不存在或您无权查看" in r.text
    assert "<html" in r.text


def test_reply_records_an_outbound_message_on_the_interaction_channel(
    client: TestClient, console: Console, db: Database
) -> None:
    login(client, "agent_gz")
    tid = console.tickets["bill_sms"]
    page = client.get(f"/console/tickets/{tid}")
    r = client.post(
        f"/console/tickets/{tid}/reply",
        headers={**HX, "X-CSRF-Token": csrf_of(page.text)},
        data={"body": "您好，多扣的20元已为您退回。", "interaction_id": console.interactions["bill_sms"]},
    )
    assert r.status_code == 200
    assert 'id="conversation" class="card conversation" hx-swap-oob="true"' in r.text
    assert "您好，多扣的20元已为您退回。" in r.text
    with db.session() as s:
        out = s.scalars(select(Message).where(Message.direction == "outbound")).all()
        assert [(m.interaction_id, m.channel, m.body, m.author_id) for m in out] == [
            (
                console.interactions["bill_sms"],
                "sms",
                "您好，多扣的20元已为您退回。",
                console.world.users["agent_gz"],
            )
        ]
        assert s.get(Ticket, tid).first_reply_at is not None  # type: ignore[union-attr]


def test_reply_without_javascript_redirects_back_to_the_ticket(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    tid = console.tickets["bill_sms"]
    page = client.get(f"/console/tickets/{tid}")
    r = client.post(
        f"/console/tickets/{tid}/reply",
        data={"body": "已处理", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/console/tickets/{tid}#m")
    assert "已处理" in client.get(f"/console/tickets/{tid}").text


def test_reply_without_csrf_token_is_refused_and_records_nothing(
    client: TestClient, console: Console, db: Database
) -> None:
    login(client, "agent_gz")
    tid = console.tickets["bill_sms"]
    r = client.post(f"/console/tickets/{tid}/reply", data={"body": "伪造的回复"})
    assert r.status_code == 403
    assert "安全校验失败" in r.text
    r = client.post(f"/console/tickets/{tid}/reply", data={"body": "伪造的回复", "csrf_token": "0" * 40})
    assert r.status_code == 403
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.direction == "outbound")) == 0


def test_empty_reply_is_refused_with_a_message(client: TestClient, console: Console, db: Database) -> None:
    login(client, "agent_gz")
    tid = console.tickets["bill_sms"]
    page = client.get(f"/console/tickets/{tid}")
    r = client.post(
        f"/console/tickets/{tid}/reply",
        headers={**HX, "X-CSRF-Token": csrf_of(page.text)},
        data={"body": "   "},
    )
    assert r.status_code == 422
    assert "回复内容不能为空。" in r.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.direction == "outbound")) == 0


def test_status_change_moves_the_ticket(client: TestClient, console: Console, db: Database) -> None:
    login(client, "agent_gz")
    tid = console.tickets["bill_sms"]
    page = client.get(f"/console/tickets/{tid}")
    assert 'value="in_progress"' in page.text
    assert 'value="waiting_customer"' not in page.text
    r = client.post(
        f"/console/tickets/{tid}/status",
        headers={**HX, "X-CSRF-Token": csrf_of(page.text)},
        data={"to": "in_progress"},
    )
    assert r.status_code == 200
    assert "状态已更新为“处理中”。" in r.text
    with db.session() as s:
        assert s.get(Ticket, tid).status == "in_progress"  # type: ignore[union-attr]


def test_illegal_transition_shows_the_message_and_changes_nothing(
    client: TestClient, console: Console, db: Database
) -> None:
    login(client, "agent_gz")
    tid = console.tickets["bill_sms"]
    with db.session() as s:
        before = (
            s.get(Ticket, tid).version,  # type: ignore[union-attr]
            s.scalar(select(func.count()).select_from(TicketTransition)),
        )
    page = client.get(f"/console/tickets/{tid}")
    r = client.post(
        f"/console/tickets/{tid}/status",
        headers={**HX, "X-CSRF-Token": csrf_of(page.text)},
        data={"to": "waiting_customer"},
    )
    assert r.status_code == 409
    assert "不能从“新建”变更为“待客户回复”。" in r.text
    with db.session() as s:
        t = s.get(Ticket, tid)
        assert t is not None
        assert t.status == "new"
        assert (t.version, s.scalar(select(func.count()).select_from(TicketTransition))) == before


def test_resolving_without_reason_is_refused_and_with_one_succeeds(
    client: TestClient, console: Console, db: Database
) -> None:
    login(client, "agent_gz")
    tid = console.tickets["complaint"]
    token = csrf_of(client.get(f"/console/tickets/{tid}").text)
    r = client.post(f"/console/tickets/{tid}/status", data={"to": "resolved", "csrf_token": token})
    assert r.status_code == 422
    assert "此操作需要填写原因。" in r.text
    with db.session() as s:
        assert s.get(Ticket, tid).status == "new"  # type: ignore[union-attr]
    r = client.post(
        f"/console/tickets/{tid}/status",
        data={"to": "resolved", "reason": "已退费15元并取消订购", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with db.session() as s:
        assert s.get(Ticket, tid).status == "resolved"  # type: ignore[union-attr]
    assert "已退费15元并取消订购" in client.get(f"/console/tickets/{tid}").text


def test_stale_status_change_is_refused_kindly(client: TestClient, console: Console, db: Database) -> None:
    login(client, "agent_gz")
    tid = console.tickets["bill_sms"]
    page = client.get(f"/console/tickets/{tid}")
    version = int(re.search(r'name="version" value="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    r = client.post(
        f"/console/tickets/{tid}/status",
        headers={**HX, "X-CSRF-Token": csrf_of(page.text)},
        data={"to": "in_progress", "version": version - 1},
    )
    assert r.status_code == 409
    assert "工单已被他人修改" in r.text


# ---- customers ------------------------------------------------------------------------------


def test_customer_search_by_full_number_and_last_four_digits(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    for q in ("13900139002", "9002", "+86 139 0013 9002"):
        r = client.get("/console/customers", params={"phone": q})
        assert re.findall(r'data-customer="(\d+)"', r.text) == [str(console.customers["complaint"])], q
    r = client.get("/console/customers", params={"phone": "0000"})
    assert "未找到匹配的客户。" in r.text
    r = client.get("/console/customers", params={"phone": "12ab"})
    assert "输入无效" in r.text


def test_customer_search_by_number_is_not_offered_to_the_analyst_who_sees_numbers_masked(
    client: TestClient, console: Console
) -> None:
    login(client, "analyst")
    page = client.get("/console/customers")
    assert 'name="phone"' not in page.text
    assert "您的角色看不到完整号码" in page.text
    for q in ("9002", "13900139002"):  # typed into the address bar all the same
        r = client.get("/console/customers", params={"phone": q})
        assert "按号码查找客户需要" in r.text
        assert "data-customer" not in r.text


def test_customer_page_shows_profile_identities_tickets_and_timeline(
    client: TestClient, console: Console
) -> None:
    login(client, "sup_gd")
    r = client.get(f"/console/customers/{console.customers['broadband_wx']}")
    assert r.status_code == 200
    assert "o_wx_1001" in r.text  # the WeChat identity
    assert "家里宽带又断了" in r.text  # the timeline's interaction
    assert f"/console/tickets/{console.tickets['broadband_wx']}" in r.text
    r = client.get(f"/console/customers/{console.customers['complaint']}")
    assert "金卡" in r.text
    assert "5G畅享199元套餐" in r.text


# ---- language -------------------------------------------------------------------------------


def test_language_switch_sets_a_cookie_and_the_pages_follow_it(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    assert "收件箱" in client.get("/console/inbox").text
    r = client.get("/lang/en", params={"next": "/console/inbox?type=complaint"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console/inbox?type=complaint")
    assert "lang=en" in r.headers["set-cookie"]
    page = client.get("/console/inbox?type=complaint").text
    assert '<html lang="en">' in page
    assert ">Inbox<" in page
    assert "Complaint" in page
    assert "Voice" not in page
    assert "Hotline" in page
    assert "收件箱" not in page
    client.get("/lang/zh-CN")
    assert '<html lang="zh-CN">' in client.get("/console/inbox").text


def test_the_users_own_locale_is_the_default(client: TestClient, console: Console, db: Database) -> None:
    from kefu.org.models import User

    with db.unit_of_work() as s:
        s.get(User, console.world.users["agent_gz"]).locale = "en"  # type: ignore[union-attr]
    login(client, "agent_gz")
    assert ">Inbox<" in client.get("/console/inbox").text


def test_every_ui_string_exists_in_both_languages() -> None:
    from kefu.web.i18n import strings

    assert set(strings("zh-CN")) == set(strings("en"))
    for kind, values in {
        "status": (
            "new",
            "assigned",
            "in_progress",
            "waiting_customer",
            "waiting_support",
            "resolved",
            "closed",
            "merged",
        ),
        "type": ("inquiry", "complaint", "request", "suggestion", "appeal"),
        "tier": ("diamond", "gold", "silver", "standard"),
        "channel": ("voice", "sms", "email", "wechat", "im", "weibo", "app", "web", "webchat"),
    }.items():
        for v in values:
            assert f"{kind}.{v}" in strings("zh-CN"), (kind, v)


# ---- other pages --------------------------------------------------------------------------


def test_knowledge_and_workforce_pages_are_linked_and_answer_with_a_page(
    client: TestClient, console: Console
) -> None:
    login(client, "sup_gd")
    page = client.get("/console/inbox").text
    assert 'href="/console/knowledge"' in page
    assert 'href="/console/workforce"' in page
    for path in ("/console/knowledge", "/console/workforce"):  # a placeholder until the domain's views exist
        r = client.get(path)
        assert r.status_code == 200, path
        assert "<html" in r.text


def test_a_page_the_role_may_not_see_is_a_friendly_403_page(client: TestClient, console: Console) -> None:
    import importlib.util

    if importlib.util.find_spec("kefu.workforce.views") is None:
        pytest.skip("the workforce page is still a placeholder")
    login(client, "agent_gz")
    r = client.get("/console/workforce")
    assert r.status_code == 403
    assert "您的角色无权执行此操作。" in r.text
    assert "<html" in r.text


def test_api_errors_stay_json(client: TestClient, console: Console) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"


def test_nav_offers_only_the_pages_the_role_may_open(client: TestClient, console: Console) -> None:
    login(client, "agent_gz")
    html = client.get("/console/inbox").text
    assert 'href="/console/inbox"' in html
    assert 'href="/console/workforce"' not in html
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/console/inbox").text)})
    login(client, "sup_gd")
    assert 'href="/console/workforce"' in client.get("/console/inbox").text


def test_ticket_page_suggests_knowledge_for_the_ticket_before_any_search(
    client: TestClient, console: Console, db: Database
) -> None:
    from tests.knowledge.conftest import principal_of, publish

    article = publish(db, principal_of(db, "admin"), {
        "title": "增值业务被订购如何退订和退费", "kind": "faq", "cats": ("vas.unrequested_subscription",),
        "body": "客户反映增值业务被订购、不明扣费时：核实订购记录，发送0000退订，未经确认的订购全额退费。"})
    login(client, "agent_gz")
    html = client.get(f"/console/tickets/{console.tickets['complaint']}").text
    assert 'id="kb-suggestions"' in html
    assert f'href="/console/knowledge/articles/{article}' in html


def test_live_refreshes_of_the_ticket_page_do_not_log_knowledge_searches(
    db: Database, client: TestClient, console: Console
) -> None:
    """The suggestions panel is computed (and logged as a search) for the page, not for each htmx fragment."""
    from kefu.knowledge.models import SearchLog

    def logged() -> int:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(SearchLog).where(SearchLog.source == "suggestion")) or 0

    login(client, "agent_gz")
    tid = console.tickets["complaint"]
    before = logged()
    assert client.get(f"/console/tickets/{tid}").status_code == 200
    assert logged() == before + 1
    for _ in range(3):
        r = client.get(f"/console/tickets/{tid}/conversation", headers={"HX-Request": "true"})
        assert r.status_code == 200
        assert 'id="kb-suggestions"' not in r.text
    assert logged() == before + 1


def test_the_ticket_page_s_knowledge_box_speaks_english_to_an_english_user(
    client: TestClient, console: Console
) -> None:
    login(client, "agent_gz")
    client.cookies.set("lang", "en")
    html = client.get(f"/console/tickets/{console.tickets['complaint']}").text
    assert "Suggested knowledge" in html
    assert "推荐知识" not in html
