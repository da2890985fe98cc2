"""Console fixtures: a small operator with customers, tickets and conversations; logging in as a person
does (the login form); and a real uvicorn server in a thread for the browser tests."""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from tests.conftest import PASSWORD, World

# A test's own calls to a live server: a generous timeout (httpx's default is 5 s), since CI runs both
# suites side by side on a loaded machine and a first request can wait on the server's start-up work.
http = httpx.Client(timeout=60.0)

CHROMIUM = Path("/usr/bin/chromium")
# The README's pictures are refreshed only on request (KEFU_SCREENSHOTS=1); otherwise into a scratch folder.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("KEFU_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "kefu-screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@dataclass
class Console:
    """Ids of what `console` seeded, by name."""

    world: World
    tickets: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    interactions: dict[str, int] = field(default_factory=dict)


def seed(db: Database, world: World, settings: Settings) -> Console:
    """Three cases in Guangdong:

    - `bill_sms` (广州): an SMS from +86 138 0013 8001 asking about a deduction → a new inquiry;
    - `broadband_wx` (深圳): a WeChat message about broadband → a new inquiry;
    - `complaint` (广州): a gold customer (+86 139 0013 9002) complained 13 days ago about an unexplained
      deduction (at risk of missing the 15-day reply deadline) and wrote again by SMS today.
    """
    from kefu.channels import inbound
    from kefu.customers import service as customers
    from kefu.tickets import service as tickets

    c = Console(world)
    now = utcnow()
    with db.unit_of_work() as s:
        r = inbound.receive(
            s,
            settings,
            "sms",
            inbound.InboundMessage(
                message_id="sms-1",
                sender="13800138001",
                text="我的话费怎么多扣了20元？",
                org_unit_code="GZ",
                customer_name="王芳",
            ),
            at=now - timedelta(hours=3),
        )
        c.tickets["bill_sms"], c.customers["bill_sms"], c.interactions["bill_sms"] = (
            r.ticket_id,
            r.customer_id,
            r.interaction_id,
        )
        r = inbound.receive(
            s,
            settings,
            "wechat",
            inbound.InboundMessage(
                message_id="wx-1",
                sender="o_wx_1001",
                text="家里宽带又断了，什么时候能修好？",
                org_unit_code="SZ",
            ),
            at=now - timedelta(hours=2),
        )
        c.tickets["broadband_wx"], c.customers["broadband_wx"], c.interactions["broadband_wx"] = (
            r.ticket_id,
            r.customer_id,
            r.interaction_id,
        )
        gold = customers.create_customer(
            s,
            phone="13900139002",
            org_unit_id=world.units["gz"],
            name="李雷",
            plan="5G畅享199元套餐",
            arpu=199,
            tenure_months=40,
            at=now - timedelta(days=400),
        )
        t = tickets.create_ticket(
            s,
            type="complaint",
            subject="不明扣费：增值业务被订购",
            org_unit_id=world.units["gz"],
            customer_id=gold.id,
            channel="voice",
            category_key="billing.unexplained_deduction",
            description="客户称未订购任何增值业务，本月被扣费15元。",
            at=now - timedelta(days=13),
        )
        r = inbound.receive(
            s,
            settings,
            "sms",
            inbound.InboundMessage(
                message_id="sms-2",
                sender="+8613900139002",
                text="投诉已经快两周了，还没有人联系我。",
                org_unit_code="GZ",
            ),
            at=now - timedelta(minutes=30),
        )
        assert r.ticket_id == t.id
        c.tickets["complaint"], c.customers["complaint"], c.interactions["complaint"] = (
            t.id,
            gold.id,
            r.interaction_id,
        )
    return c


@pytest.fixture
def console(db: Database, world: World, settings: Settings) -> Console:
    return seed(db, world, settings)


LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a person does."""
    page = client.get("/login")
    token = LOGIN_CSRF.search(page.text)
    assert token, "login form has no token"
    r = client.post(
        "/login",
        data={"username": username, "password": password, "login_csrf": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def browser_login(page: Any, base: str, username: str, *, landing: str = "/console/inbox") -> None:
    """Sign in on the console's login page as a person does, and wait for the page it lands on."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{landing}")


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "page has no CSRF token"
    return m.group(1)


# ---- a real server for the browser ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    db: Database
    settings: Settings


@pytest.fixture
def live_server(db: Database, settings: Settings) -> Iterator[LiveServer]:
    """The whole app (with its event dispatcher, so live updates flow) under uvicorn on a free port."""
    import uvicorn

    from kefu.app import create_app

    app = create_app(settings, db, start_dispatcher=True)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="kefu-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", db, settings)
    finally:
        from kefu.web import live

        live.broadcaster.close_all()  # end open SSE streams so the server can stop
        server.should_exit = True
        thread.join(timeout=10)


BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class RecordingBrowser:
    """The test's chromium, keeping what every page it opens did: console messages, page errors, and each
    request with its answer's status and timing. When a test fails, `dump` writes a screenshot, the page's
    HTML and that log of every page to a directory, so an intermittent failure explains itself."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.pages: list[tuple[Any, list[str]]] = []
        self._t0 = time.monotonic()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def _stamp(self) -> str:
        return f"{time.monotonic() - self._t0:8.3f}s"

    def _record(self, page: Any) -> Any:
        log: list[str] = []
        self.pages.append((page, log))
        page.on("console", lambda m: log.append(f"{self._stamp()} console.{m.type}: {m.text}"))
        page.on("pageerror", lambda e: log.append(f"{self._stamp()} pageerror: {e}"))
        page.on("request", lambda r: log.append(f"{self._stamp()} -> {r.method} {r.url}"))
        page.on("response", lambda r: log.append(f"{self._stamp()} <- {r.status} {r.request.method} {r.url}"))
        page.on("requestfailed", lambda r: log.append(f"{self._stamp()} xx {r.method} {r.url}: {r.failure}"))
        return page

    def new_page(self, **kwargs: Any) -> Any:
        return self._record(self._browser.new_page(**kwargs))

    def new_context(self, **kwargs: Any) -> Any:
        context = self._browser.new_context(**kwargs)
        context.on("page", self._record)
        return context

    def dump(self, directory: Path) -> str:
        lines = [f"browser pages of the failed test, saved in {directory}"]
        for n, (page, log) in enumerate(self.pages):
            if not page.is_closed():
                try:
                    page.screenshot(path=str(directory / f"page{n}.png"), full_page=True)
                    (directory / f"page{n}.html").write_text(page.content())
                    lines.append(f"page {n} at {page.url}: page{n}.png, page{n}.html")
                except Exception as exc:  # the page may be what broke
                    lines.append(f"page {n}: no screenshot ({exc})")
            (directory / f"page{n}.log").write_text("\n".join(log) + "\n")
            lines += [f"page {n}: last of {len(log)} events (all in page{n}.log):", *log[-60:]]
        return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    recorder = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and isinstance(recorder, RecordingBrowser):
        directory = item.config._tmp_path_factory.mktemp("browser-failure")  # type: ignore[attr-defined]
        report.sections.append(("browser network, console and screenshots", recorder.dump(directory)))


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium "
            "fonts-wqy-microhei"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        pytest.skip("the playwright Python package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            yield RecordingBrowser(b)
        finally:
            b.close()
