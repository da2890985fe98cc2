"""The duplicate finder's slider in a real browser: moving it shows the chosen point's threshold, precision
and recall, and that point's row in the table, also between the 5 % steps (hidden again when left)."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.knowledge import dupbench
from tests.conftest import World
from tests.web.conftest import LiveServer, browser_login

pytestmark = pytest.mark.browser


def test_moving_the_slider_shows_the_points_figures_and_its_row(browser: Any, live_server: LiveServer,
                                                                 world: World) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/console/knowledge/duplicates")
    row73, row80 = page.locator("#dup-row-73"), page.locator("#dup-row-80")
    assert not row73.is_visible()  # off the 5 % steps: hidden at first
    assert row80.is_visible()

    page.locator("#dup-slider").fill("0.73")
    point = dupbench.point_for(0.73)
    assert page.locator("#dup-target").inner_text() == "73%"
    assert page.locator("#dup-threshold").inner_text() == f"{point['threshold']:.3f}"
    assert page.locator("#dup-recall").inner_text() == f"{100 * point['recall']:.1f}%"
    assert row73.is_visible()
    assert "picked" in (row73.get_attribute("class") or "")

    page.locator("#dup-slider").fill("0.80")
    assert page.locator("#dup-threshold").inner_text() == f"{dupbench.point_for(0.8)['threshold']:.3f}"
    assert not row73.is_visible()  # left: back off the table
    assert "picked" in (row80.get_attribute("class") or "")
    assert errors == []
    context.close()
