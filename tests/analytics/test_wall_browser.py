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
