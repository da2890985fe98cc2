"""The console as an agent uses it: Debian's Chromium driven by Playwright against a real server.

Skipped with a clear reason when /usr/bin/chromium is absent (apt-get install chromium fonts-wqy-microhei).
The screenshots written here (docs/screenshots/console-*.png) are the README's pictures.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kefu.core.clock import utcnow
from tests.web.conftest import SCREENSHOTS, Console, LiveServer, browser_login, http, seed

pytestmark = pytest.mark.browser

# A morning in Guangzhou: what the inbox looks like in the screenshots.
# (channel, sender, text, name, minutes ago, category, type, (arpu, tenure) of a known subscriber, status)
MORE: list[tuple[str, str, str, str | None, int, str, str, tuple[int, int] | None, str]] = [
    (
        "sms",
        "13711112222",
        "流量包明明还有5G，怎么就提示超额了？",
        "陈静",
        50,
        "data.abnormal_usage",
        "inquiry",
        (95, 14),
        "new",
    ),
    (
        "wechat",
        "o_wx_2002",
        "想把套餐从128元换成99元的，可以吗？",
        None,
        45,
        "plan.plan_change",
        "request",
        None,
        "waiting_customer",
    ),
    (
        "email",
        "zhou.min@example.com",
        "本月账单里有一笔国际漫游费，我没有出国。",
        "周敏",
        40,
        "roaming.charges",
        "complaint",
        None,
        "new",
    ),
    (
        "voice",
        "13622223333",
        "来电反映家里信号很差，通话经常掉线。",
        "赵强",
        35,
        "network.call_drops",
        "complaint",
        (320, 70),
        "in_progress",
    ),
    (
        "app",
        "app-uid-77812",
        "掌厅里缴费失败，钱扣了但余额没到账。",
        None,
        25,
        "billing.payment_failure",
        "inquiry",
        None,
        "in_progress",
    ),
    (
        "weibo",
        "wb_5566778899",
        "@客服 骚扰电话一天十几个，能不能管管？",
        None,
        20,
        "spam.harassing_calls",
        "complaint",
        None,
        "new",
    ),
    (
        "webchat",
        "wc-session-31",
        "请问副卡怎么办理？需要带什么证件？",
        None,
        15,
        "number.secondary_card",
        "inquiry",
        None,
        "new",
    ),
]


def seed_more(server: LiveServer, console: Console) -> None:
    from kefu.channels import inbound
    from kefu.customers import service as customers
    from kefu.tickets import service as tickets

    now = utcnow()
    agent = console.world.users["agent_gz"]
    with server.db.unit_of_work() as s:
        for i, (channel, sender, text, name, minutes, category, type_, value, status) in enumerate(MORE):
            at = now - timedelta(minutes=minutes)
            if value is not None:
                customers.create_customer(
                    s,
                    phone=sender,
                    org_unit_id=console.world.units["gz"],
                    name=name,
                    arpu=value[0],
                    tenure_months=value[1],
                    at=at - timedelta(days=900),
                )
            r = inbound.receive(
                s,
                server.settings,
                channel,
                inbound.InboundMessage(
                    message_id=f"more-{i}", sender=sender, text=text, org_unit_code="GZ", customer_name=name
                ),
                at=at,
            )
            assert r.ticket_id is not None
            tickets.update(s, r.ticket_id, actor_id=agent, category_key=category, type=type_, at=at)
            if status != "new":
                tickets.assign(s, r.ticket_id, assignee_id=agent, actor_id=agent, at=at)
                tickets.change_status(s, r.ticket_id, "in_progress", actor_id=agent, at=at)
                if status != "in_progress":
                    tickets.change_status(s, r.ticket_id, status, actor_id=agent, at=at)


@pytest.fixture
def seeded(live_server: LiveServer, world: Any) -> Console:
    console = seed(live_server.db, world, live_server.settings)
    seed_more(live_server, console)
    return console


def _login(page: Any, base: str, username: str) -> None:
    browser_login(page, base, username)


def test_agent_works_the_inbox_and_a_ticket_in_the_browser(
    browser: Any, live_server: LiveServer, seeded: Console
) -> None:
    base = live_server.url
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base, "agent_gz")
    assert page.locator("h1").first.inner_text() == "收件箱"
    assert page.locator("tr[data-ticket]").count() == 2 + len(MORE)

    # Filtering swaps the list in place (the page is not reloaded) and the URL follows.
    page.evaluate("window.__kefu_marker = 'same page'")
    page.select_option("select[name=channel]", "sms")
    page.wait_for_url(f"{base}/console/inbox?channel=sms")
    page.wait_for_function("() => document.querySelectorAll('tr[data-ticket]').length === 2")
    assert page.evaluate("window.__kefu_marker") == "same page"
    page.select_option("select[name=channel]", "")
    page.wait_for_function(f"() => document.querySelectorAll('tr[data-ticket]').length === {2 + len(MORE)}")

    # A new message from a customer appears without pressing reload (SSE → htmx refresh).
    page.wait_for_function("() => document.querySelector('#inbox-live') !== null")
    r = http.post(
        f"{base}/api/v1/inbound/sms",
        headers={"Authorization": f"Bearer {seeded.world.tokens['admin']}"},
        json={
            "message_id": "live-1",
            "sender": "13533334444",
            "text": "刚刚收到一条扣费短信，是什么业务？",
            "org_unit_code": "GZ",
            "customer_name": "孙丽",
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    new_ticket = r.json()["ticket_id"]
    page.wait_for_selector(f'tr[data-ticket="{new_ticket}"]', timeout=15_000)
    assert page.evaluate("window.__kefu_marker") == "same page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-inbox.png"))

    # Open the complaint, reply, and move it on.
    page.click(f'tr[data-ticket="{seeded.tickets["complaint"]}"] td.subject a')
    page.wait_for_url(f"{base}/console/tickets/{seeded.tickets['complaint']}")
    assert "超时风险" in page.locator(".badge.warn").all_inner_texts()  # the reply clock (other boxes may warn too)
    page.evaluate("window.__kefu_marker = 'ticket page'")
    page.fill("#reply-body", "李先生您好，已核实为误订购的增值业务，15元将在3个工作日内退回。")
    page.click("#reply-box button[type=submit]")
    page.wait_for_selector(".msg-outbound >> text=15元将在3个工作日内退回")
    assert page.input_value("#reply-body") == ""
    page.click("button[name=to][value=in_progress]")
    page.wait_for_selector("#ticket-head[data-status=in_progress]")
    assert page.locator("#status-flash .alert.ok").inner_text() == "状态已更新为“处理中”。"
    assert page.evaluate("window.__kefu_marker") == "ticket page"

    # The customer answers while the ticket is open: the conversation grows by itself.
    r = http.post(
        f"{base}/api/v1/inbound/sms",
        headers={"Authorization": f"Bearer {seeded.world.tokens['admin']}"},
        json={"message_id": "live-2", "sender": "13900139002", "text": "好的，谢谢。", "org_unit_code": "GZ"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    page.wait_for_selector(".msg-inbound >> text=好的，谢谢。", timeout=15_000)
    page.screenshot(path=str(SCREENSHOTS / "console-ticket.png"), full_page=True)

    # A move that needs a reason, without one: refused, explained, nothing changes.
    page.click("button[name=to][value=resolved]")
    page.wait_for_selector("#status-flash .alert.error")
    assert page.locator("#status-flash .alert.error").inner_text() == "此操作需要填写原因。"
    assert page.get_attribute("#ticket-head", "data-status") == "in_progress"

    # Switch to English.
    page.click(".langs a[hreflang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("#ticket-actions h2").inner_text() == "Status"
    assert "At risk" not in page.locator("#ticket-head").inner_text()  # answered now: the clock stopped
    page.click("nav.nav a[href='/console/inbox']")
    assert page.locator("h1").first.inner_text() == "Inbox"
    assert errors == []
    context.close()


def test_console_works_without_javascript(browser: Any, live_server: LiveServer, seeded: Console,
                                          world: Any) -> None:
    from kefu.core.events import bus

    base = live_server.url
    # Settle the seed first: the classifier's consumer may make the inquiries complaints, and the filtered
    # list must not depend on whether it has run yet.
    bus.dispatch_pending(live_server.db)
    complaints = http.get(f"{base}/api/v1/tickets?type=complaint",
                           headers={"Authorization": f"Bearer {world.tokens['agent_gz']}"}).json()["total"]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _login(page, base, "agent_gz")
    page.select_option("select[name=type]", "complaint")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**type=complaint**")
    assert page.locator("tr[data-ticket]").count() == complaints >= 4  # the list the API gives the agent
    page.click(f'tr[data-ticket="{seeded.tickets["complaint"]}"] td.subject a')
    page.fill("#reply-body", "已收到，正在处理。")
    page.click("#reply-box button[type=submit]")
    page.wait_for_selector(".msg-outbound >> text=已收到，正在处理。")
    context.close()
