"""In Chromium against a real server, as people use it: a customer's SMS becomes a ticket; the agent resolves
it on the ticket page; the satisfaction callback (回访) goes out by SMS; the customer answers "不满意"; the
agent's ticket page shows the ticket reopened (处理中), with the reason in its history."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kefu.tickets import service as tickets
from tests.conftest import World
from tests.web.conftest import SCREENSHOTS, LiveServer, browser_login, http

pytestmark = pytest.mark.browser


def _sms(base: str, world: World, message_id: str, text: str) -> dict[str, Any]:
    r = http.post(f"{base}/api/v1/inbound/sms", headers={"Authorization": f"Bearer {world.tokens['admin']}"},
                   json={"message_id": message_id, "sender": "13800138000", "text": text, "org_unit_code": "GZ"},
                   timeout=10)
    assert r.status_code == 201, r.text
    got: dict[str, Any] = r.json()
    return got


def _wait(page: Any, selector: str, seconds: float = 15.0) -> None:
    """Wait for what the page shows by itself (live updates), reloading now and then as a person would."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            page.wait_for_selector(selector, timeout=3_000)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            page.reload()


def test_an_unsatisfied_survey_answer_reopens_the_ticket(browser: Any, live_server: LiveServer,
                                                         world: World) -> None:
    base = live_server.url
    ticket_id = _sms(base, world, "bill-1", "这个月话费多扣了20元，请核实")["ticket_id"]
    with world.db.unit_of_work() as s:
        tickets.assign(s, ticket_id, assignee_id=world.users["agent_gz"], actor_id=world.users["sup_gd"])

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, base, "agent_gz")
    page.goto(f"{base}/console/tickets/{ticket_id}")
    page.fill("#status-buttons input[name=reason]", "已核实并退还多扣的20元")
    page.click("button[name=to][value=resolved]")
    _wait(page, "#ticket-head[data-status=resolved]")

    # the callback went out on the customer's SMS thread, and the SLA box says it waits for the answer
    _wait(page, ".msg-outbound >> text=5非常满意 4满意 3一般 2不满意 1非常不满意")
    _wait(page, "#ticket-sla li[data-status=sent]")

    _sms(base, world, "bill-2", "不满意")
    _wait(page, "#ticket-sla li[data-choice='2']")
    assert page.get_attribute("#ticket-head", "data-status") == "in_progress"
    assert "客户不满意，工单已重新打开处理" in page.inner_text("#ticket-sla")
    assert "已解决 → 处理中" in page.inner_text("#ticket-history")
    assert page.locator(".msg-inbound >> text=不满意").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "sla-survey-reopened.png"), full_page=True)
    assert errors == []
    context.close()


def test_a_customer_taps_unsatisfied_on_the_survey_link_and_the_ticket_reopens(browser: Any, live_server: LiveServer,
                                                                               world: World) -> None:
    import re

    from sqlalchemy import select

    from kefu.interactions.models import Message
    from kefu.sla.models import SlaSurvey

    base = live_server.url
    ticket_id = _sms(base, world, "link-1", "宽带一直掉线，请尽快处理")["ticket_id"]
    with world.db.unit_of_work() as s:
        tickets.assign(s, ticket_id, assignee_id=world.users["agent_gz"], actor_id=world.users["sup_gd"])
        tickets.change_status(s, ticket_id, "resolved", actor_id=world.users["agent_gz"], reason="已更换光猫")
    deadline = time.monotonic() + 15
    body = None
    while body is None and time.monotonic() < deadline:  # the survey goes out from the server's consumer
        with world.db.session() as s:
            mid = s.scalar(select(SlaSurvey.message_id).where(SlaSurvey.ticket_id == ticket_id))
            body = s.get(Message, mid).body if mid else None  # type: ignore[union-attr]
        time.sleep(0.3)
    assert body is not None
    found = re.search(r"(/s/[A-Za-z0-9._-]+) 评价", body)
    assert found is not None, body

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 780})  # the customer: no login
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}{found.group(1)}")
    page.click("button[name=choice][value='2']")
    page.wait_for_selector("#survey-answer")
    assert "不满意" in page.inner_text("#survey-answer")
    page.screenshot(path=str(SCREENSHOTS / "sla-survey-link.png"), full_page=True)
    assert errors == []
    phone.close()

    agent = browser.new_context(locale="zh-CN")
    page = agent.new_page()
    browser_login(page, base, "agent_gz")
    page.goto(f"{base}/console/tickets/{ticket_id}")
    _wait(page, "#ticket-sla li[data-choice='2']")
    assert page.get_attribute("#ticket-head", "data-status") == "in_progress"
    agent.close()
