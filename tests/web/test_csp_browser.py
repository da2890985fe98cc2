"""Every console page works under the Content Security Policy: no refused script, style or connection.

Chromium reports each thing the policy refuses on the page's console ("Refused to ..."); none may appear,
on any page an administrator can open, with htmx and the live-update stream (SSE) running.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Console, LiveServer, http, seed
from tests.web.test_console_browser import _login

pytestmark = pytest.mark.browser


def _article(base: str, token: str) -> int:
    h = {"Authorization": f"Bearer {token}"}
    r = http.post(f"{base}/api/v1/knowledge/articles", headers=h, json={
        "title": "副卡扣费说明", "body": "副卡月功能费10元。", "kind": "faq", "department": "计费支撑"})
    assert r.status_code == 201, r.text
    aid = int(r.json()["id"])
    r = http.put(f"{base}/api/v1/knowledge/articles/{aid}", headers=h, json={
        "title": "副卡扣费说明", "body": "副卡月功能费5元。", "kind": "faq", "department": "计费支撑",
        "base_version": 1})
    assert r.status_code == 200, r.text
    return aid


def test_every_console_page_loads_with_nothing_refused_by_the_policy(browser: Any, live_server: LiveServer,
                                                                     world: Any) -> None:
    console: Console = seed(live_server.db, world, live_server.settings)
    base = live_server.url
    aid = _article(base, world.tokens["admin"])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: refused.append(str(exc)))
    page.goto(f"{base}/login")
    _login(page, base, "admin")
    pages = [
        "/console/inbox", f"/console/tickets/{console.tickets['complaint']}", "/console/customers",
        f"/console/customers/{console.customers['complaint']}", "/console/knowledge",
        "/console/knowledge/articles", "/console/knowledge/articles/new", f"/console/knowledge/articles/{aid}",
        f"/console/knowledge/articles/{aid}/diff?from=1&to=2", "/console/knowledge/qa",
        "/console/knowledge/pushes", "/console/knowledge/leaderboard", "/console/knowledge/gaps",
        f"/console/workforce?org_unit={world.units['gz']}&day=2026-03-02",
    ]
    for path in pages:
        response = page.goto(base + path)
        assert response is not None
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    # htmx under the policy: a filter swaps the inbox list in place
    page.goto(f"{base}/console/inbox")
    page.evaluate("window.__kefu_marker = 'same page'")
    page.select_option("select[name=channel]", "sms")
    page.wait_for_url(f"{base}/console/inbox?channel=sms")
    assert page.evaluate("window.__kefu_marker") == "same page"
    assert refused == []
    context.close()


def test_the_api_docs_render_from_the_package_with_nothing_refused(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    refused: list[str] = []
    outside: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: refused.append(str(exc)))
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/api/v1/docs")
    # Swagger UI drew the operations of kefu's own OpenAPI document (one block per tag)
    page.wait_for_selector(".opblock-tag", timeout=90_000)  # a large document on a busy machine
    page.get_by_text("/api/v1/inbound/{channel}", exact=True).wait_for()
    assert page.locator(".opblock-tag").first.inner_text() == "channels"
    assert "kefu" in page.locator(".info .title").inner_text()
    assert refused == []
    assert outside == []
    context.close()
