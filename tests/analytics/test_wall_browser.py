"""The wall in a real browser: it updates when a customer writes in and when an agent changes state."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.web.conftest import LiveServer, browser_login, http

pytestmark = pytest.mark.browser


def test_the_wall_updates_live_on_an_inbound_message_and_an_agent_state(browser: Any, live_server: LiveServer,
                                                                        world: World) -> None:
    base = live_server.url
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, base, "sup_gd")
    page.goto(f"{base}/console/wall")
    page.wait_for_selector("#wall-live")
    assert page.locator('[data-agents="available"]').inner_text() == "0"
    assert page.locator('section[data-channel="sms"]').count() == 0
    page.evaluate("window.__kefu_marker = 'same page'")

    r = http.post(f"{base}/api/v1/inbound/sms", headers={"Authorization": f"Bearer {world.tokens['admin']}"},
                   json={"message_id": "wall-1", "sender": "13533334444", "text": "我的流量怎么用得这么快？",
                         "org_unit_code": "GZ"}, timeout=10)
    assert r.status_code == 201, r.text
    page.wait_for_selector('section[data-channel="sms"] [data-waiting]', timeout=40_000)
    assert page.locator('section[data-channel="sms"] [data-waiting]').inner_text() == "1"

    r = http.put(f"{base}/api/v1/routing/me/presence", headers={"Authorization": f"Bearer {world.tokens['agent_gz']}"},
                  json={"presence": "available"}, timeout=10)
    assert r.status_code == 200, r.text
    # through the routing writer's round, then the stream: allow for a CI machine running two suites
    page.wait_for_function("() => document.querySelector('[data-agents=\"available\"]').textContent === '1'",
                           timeout=40_000)
    assert page.evaluate("window.__kefu_marker") == "same page"  # swapped in place, not reloaded
    assert errors == []
    context.close()


def test_an_alert_is_pushed_to_a_supervisor_s_open_console_page(browser: Any, live_server: LiveServer,
                                                                 world: World) -> None:
    from datetime import timedelta

    from kefu.analytics import alerts
    from tests.analytics.support import DAY0, call, counted

    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    browser_login(page, base, "sup_gd")
    page.goto(f"{base}/console/reports")
    page.wait_for_selector("#wall-alerts", state="attached")
    assert page.locator("[data-alert]").count() == 0
    page.evaluate("window.__kefu_marker = 'same page'")
    gz = world.units["gz"]
    with world.db.unit_of_work() as s:  # the hotline of Guangzhou goes red; the periodic check finds it
        counted(s, [call(s, gz, DAY0 + timedelta(hours=9, minutes=n), abandon_after=30) for n in range(3)])
    with world.db.unit_of_work() as s:
        assert len(alerts.check(s, now=DAY0 + timedelta(hours=10))[0]) == 3
    page.wait_for_selector("[data-alert]", timeout=40_000)  # pushed through the live stream
    assert page.locator("[data-alert]").count() == 2  # the province's and Guangzhou's
    assert "广州 · 热线 越过红线" in page.locator("#wall-alerts").inner_text()
    assert page.evaluate("window.__kefu_marker") == "same page"
    context.close()
