"""Compensation in a real browser (Debian's Chromium, Playwright, a real server): an agent asks for a
compensation above their authority from the ticket page; the supervisor approves it on the approvals page
and sets the month's budget; the ticket shows it granted. No CSP violation on the way."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.complaints import budgets
from kefu.core.clock import utcnow
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.web.conftest import LiveServer, browser_login

pytestmark = pytest.mark.browser


def _login(page: Any, base: str, username: str) -> None:
    browser_login(page, base, username, landing="/console/**")


def test_ask_approve_and_budget_in_the_browser(browser: Any, live_server: LiveServer, world: World) -> None:
    with world.db.unit_of_work() as s:
        tid = tickets.create_ticket(s, type="complaint", subject="宽带断网三天", org_unit_id=world.units["gz"]).id
    base = live_server.url
    errors: list[str] = []

    agent = browser.new_context(locale="zh-CN").new_page()
    agent.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(agent, base, "agent_gz")
    agent.goto(f"{base}/console/tickets/{tid}")
    agent.click("#grant-compensation summary")
    assert "您对该客户的补偿权限：¥50.00" in agent.inner_text("#grant-compensation")
    agent.select_option("#grant-compensation select[name=kind]", "bill_credit")
    agent.fill("#grant-compensation input[name=amount]", "80")
    agent.fill("#grant-compensation input[name=note]", "断网三天")
    agent.check("#grant-compensation input[name=request_approval]")
    agent.click("[data-grant-compensation]")
    agent.wait_for_url(f"{base}/console/tickets/{tid}")
    assert "话费减免 ¥80.00 待审批" in " ".join(agent.inner_text("#ticket-compensations").split())

    sup = browser.new_context(locale="zh-CN").new_page()
    sup.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(sup, base, "sup_gd")
    sup.click("nav >> text=补偿审批")
    sup.wait_for_url(f"{base}/console/complaints/compensations")
    row = sup.locator("#approvals tbody tr")
    assert row.count() == 1
    assert "广州坐席" in row.inner_text()
    assert "断网三天" in row.inner_text()
    row.locator("[data-approve]").click()
    sup.wait_for_selector("#no-approvals")
    sup.select_option("#budget-form select[name=org_unit_id]", label="广州")
    sup.fill("#budget-form input[name=amount]", "500")
    sup.click("[data-set-budget]")
    sup.wait_for_selector("#budgets")
    month = f"{budgets.month_of(utcnow()):%Y-%m}"
    assert sup.url.endswith(f"month={month}")
    assert " ".join(sup.inner_text("#budgets tbody").split()) == "广州 ¥500.00 ¥80.00 ¥420.00"

    agent.reload()
    assert "话费减免 ¥80.00 已发放" in " ".join(agent.inner_text("#ticket-compensations").split())
    assert not [e for e in errors if "Content Security Policy" in e], errors
