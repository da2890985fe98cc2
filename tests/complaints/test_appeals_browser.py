"""Appeals in a real browser (Debian's Chromium, Playwright, a real server): a supervisor records a regulator's
appeal on the complaint's page, finds it on the appeals page by the menu, records its acceptance, then the
answer with an outcome; answered, it leaves the open list and shows under 全部. No CSP violation on the way."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.complaints import appeal_rules as rules
from kefu.complaints.appeal_views import today
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.web.conftest import LiveServer, browser_login

pytestmark = pytest.mark.browser


def _text(page: Any, selector: str) -> str:
    return " ".join(page.inner_text(selector).split())


def test_record_accept_and_answer_an_appeal_in_the_browser(browser: Any, live_server: LiveServer,
                                                           world: World) -> None:
    with world.db.unit_of_work() as s:
        tid = tickets.create_ticket(s, type="complaint", subject="话费多扣了 30 元", org_unit_id=world.units["gz"]).id
    base = live_server.url
    day = today()  # the console's day (China), what the received date defaults to
    errors: list[str] = []
    page = browser.new_context(locale="zh-CN").new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, base, "sup_gd", landing="/console/**")

    page.goto(f"{base}/console/tickets/{tid}")
    page.click("#record-appeal summary")
    assert page.input_value("#record-appeal input[name=received_on]") == str(day)
    page.select_option("#record-appeal select[name=source]", label="工信部 12300")
    page.check("#record-appeal input[name=about_charges]")
    page.fill("#record-appeal input[name=reference]", "GX-9")
    page.click("[data-record-appeal]")
    page.wait_for_url(f"{base}/console/tickets/{tid}")
    assert _text(page, "#ticket-appeals") == (
        f"工信部 12300 GX-9 待受理 收到日期 {day} · 受理期限 {rules.acceptance_due(day)}")

    page.click("nav >> text=申诉管理")
    page.wait_for_url(f"{base}/console/complaints/appeals")
    row = page.locator("#appeals tbody tr")
    assert row.count() == 1
    assert row.locator("[data-state]").get_attribute("data-state") == "accepting"
    assert f"#{tid}" in row.inner_text()
    row.locator("input[name=accepted_on]").fill(str(day))
    row.locator("[data-update-appeal]").click()
    page.wait_for_selector("#appeals tbody tr [data-state=answering]")
    row = page.locator("#appeals tbody tr")
    assert str(rules.answer_due(day)) in row.inner_text()
    row.locator("input[name=answered_on]").fill(str(day))
    row.locator("select[name=outcome]").select_option(label="部分成立")
    row.locator("[data-update-appeal]").click()
    page.wait_for_selector("#no-appeals")  # answered: no longer open

    page.click("text=全部")
    page.wait_for_url(f"{base}/console/complaints/appeals?show=all")
    done = page.locator("#appeals tbody tr")
    assert done.locator("[data-state]").get_attribute("data-state") == "answered"
    assert "已答复 部分成立" in " ".join(done.inner_text().split())
    page.goto(f"{base}/console/tickets/{tid}")
    assert "已答复 收到日期" in _text(page, "#ticket-appeals")
    assert not [e for e in errors if "Content Security Policy" in e], errors
