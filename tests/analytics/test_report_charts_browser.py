"""The reports' charts in a real browser: Apache ECharts, served from the package (no CDN, CSP 'self'),
draws both charts from the page's figures, with no console error, and the server-drawn SVG gives way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kefu.analytics import summary
from kefu.web.render import VENDOR_DIR
from tests.analytics.support import DAY0, call
from tests.conftest import World
from tests.web.conftest import LiveServer, browser_login

pytestmark = pytest.mark.browser


def test_the_report_charts_render_with_echarts(browser: Any, live_server: LiveServer, world: World) -> None:
    if not (VENDOR_DIR / "echarts.min.js").is_file():
        pytest.skip("ECharts is not installed (scripts/web-assets)")
    gz = world.units["gz"]
    with live_server.db.unit_of_work() as s:
        nine = DAY0 + timedelta(hours=9)
        for n, wait in enumerate((5, 30)):
            call(s, gz, nine + timedelta(minutes=n), wait=wait, talk=60)
        call(s, gz, nine + timedelta(minutes=5), abandon_after=40)
        s.flush()
        summary.rebuild(s)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(f"{m.text} {m.location}")  # (the browser's own favicon.ico: not ours)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico") else None)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    browser_login(page, live_server.url, "sup_gd")
    day = (DAY0 + timedelta(hours=8)).date().isoformat()
    page.goto(f"{live_server.url}/console/reports?period=day&day={day}&unit={gz}")
    page.wait_for_selector('[data-echart="volume"][data-rendered] canvas')
    page.wait_for_selector('[data-echart="abandon"][data-rendered] canvas')
    assert page.evaluate("() => typeof echarts") == "object"
    # the figures drawn are the report's
    option = page.evaluate("() => echarts.getInstanceByDom(document.querySelector('[data-echart=\"volume\"]'))"
                           ".getOption().series.map(s => s.data)")
    assert option[0][9] == 3  # offered at 09:00
    assert option[1][9] == 33.33  # 20 s service level at 09:00: 1 of 3 (5 s yes; 30 s and abandoned after 40 s no)
    assert not page.locator("svg.chart").first.is_visible()  # the server's SVG gives way
    assert all(u.startswith(live_server.url) for u in requests)  # nothing from a CDN
    assert errors == []
    context.close()
