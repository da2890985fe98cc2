"""The reports' charts in a real browser: Apache ECharts, served from the package (no CDN, CSP 'self'),
draws both charts from the page's figures, with no console error, and the server-drawn SVG gives way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kefu.analytics import handoffs, summary
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
        handoffs.rebuild(s)  # rows added by hand, as `kefu analytics rebuild` recounts them
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


def test_the_tables_charts_render_with_echarts(browser: Any, live_server: LiveServer, world: World) -> None:
    """The breakdown's, the handoffs' and the coverage's tables have their chart too, from their figures."""
    from kefu.customers.models import Customer
    from kefu.handoffs.models import Handoff
    from kefu.routing import service as routing

    if not (VENDOR_DIR / "echarts.min.js").is_file():
        pytest.skip("ECharts is not installed (scripts/web-assets)")
    gz = world.units["gz"]
    nine = DAY0 + timedelta(hours=9)
    with live_server.db.unit_of_work() as s:
        routing.save_queue(s, None, routing.QueueSpec(key="zhot", name="热线队列", channel="voice", org_unit_id=gz))
        for n, wait in enumerate((5, 30)):
            call(s, gz, nine + timedelta(minutes=n), wait=wait, talk=60)
        call(s, gz, nine + timedelta(minutes=5), abandon_after=40)
        call(s, gz, nine + timedelta(minutes=7), channel="wechat", wait=10, talk=60)
        cust = Customer(org_unit_id=gz, phone="+8613600000001", created_at=DAY0, updated_at=DAY0)
        s.add(cust)
        s.flush()
        for to, status in [("wechat", "completed"), ("wechat", "returned"), ("sms", "offered")]:
            s.add(Handoff(customer_id=cust.id, org_unit_id=gz, source="ivr", from_channel="voice", to_channel=to,
                          task="查话费", status=status, offered_at=nine, expires_at=nine + timedelta(days=1),
                          saved_seconds=60.0 if status == "completed" else 0.0))
        s.flush()
        summary.rebuild(s)
        handoffs.rebuild(s)  # rows added by hand, as `kefu analytics rebuild` recounts them
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(f"{m.text} {m.location}")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico") else None)
    browser_login(page, live_server.url, "sup_gd")
    day = (DAY0 + timedelta(hours=8)).date().isoformat()
    page.goto(f"{live_server.url}/console/reports?period=day&day={day}&unit={gz}&by=channel")
    for key in ("volume", "abandon", "parts", "handoffs", "coverage"):
        page.wait_for_selector(f'[data-echart="{key}"][data-rendered] canvas')

    def drawn(key: str) -> Any:
        return page.evaluate(f"() => {{ const o = echarts.getInstanceByDom(document.querySelector("
                             f"'[data-echart=\"{key}\"]')).getOption(); "
                             "return [o.xAxis[0].data, o.series.map(s => s.data)]; }")

    assert drawn("parts") == [["热线", "微信"], [[3, 1], [66.67, 100]]]  # offered, answer rate %
    assert drawn("handoffs") == [["热线→微信", "热线→短信"], [[2, 1], [50, 0]]]  # handoffs, completion %
    assert drawn("coverage") == [["热线"], [[168], [100]]]  # hours covered, 7×24 coverage %
    assert page.locator("section svg.chart").count() == 5  # the server's SVGs are there, hidden
    assert not page.locator("section svg.chart").nth(2).is_visible()
    assert errors == []
    context.close()
