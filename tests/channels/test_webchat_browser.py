"""Web chat in the browser, as a customer and an agent use it: Debian's Chromium against a real server
(uvicorn, the outbox dispatcher, the jobs). The customer opens the chat page (the embeddable widget)
and writes; the agent, whose inbox is open, sees the new case arrive live, opens it, reads the message
and a second one arriving live, and replies; the customer sees the reply without reloading; after a
reload the whole conversation is there again. Skipped when /usr/bin/chromium is absent."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from kefu.channels import webchat_api
from kefu.channels.models import OutboundDelivery
from kefu.interactions.models import Interaction, Message
from tests.conftest import World
from tests.web.conftest import LiveServer, browser, browser_login, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def _websocket_server() -> None:
    import importlib.util

    if not any(importlib.util.find_spec(m) for m in ("websockets", "wsproto")):
        pytest.skip("uvicorn has no WebSocket protocol: pip install websockets (a dependency in pyproject.toml)")


def _stored(server: LiveServer, body: str, timeout: float = 15.0) -> tuple[int, int]:
    """(message id, ticket id) of the web chat message with this body, once it is stored."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.db.session() as s:
            row = s.execute(select(Message.id, Interaction.ticket_id).join(Interaction)
                            .where(Message.channel == "webchat", Message.body == body)).first()
        if row is not None and row.ticket_id is not None:
            return int(row.id), int(row.ticket_id)
        time.sleep(0.1)
    raise AssertionError(f"'{body}' was not stored")


def test_a_customer_chats_with_an_agent_through_the_widget(browser: Any, live_server: LiveServer,  # noqa: F811
                                                            world: World) -> None:
    _websocket_server()
    for w in (webchat_api.sessions, webchat_api.messages, webchat_api.frames):
        w._log.clear()
    base = live_server.url
    agent = browser.new_page(locale="zh-CN")
    browser_login(agent, base, "agent_gz")

    customer = browser.new_context(locale="zh-CN").new_page()
    errors: list[str] = []
    customer.on("pageerror", lambda e: errors.append(str(e)))
    customer.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    customer.goto(f"{base}/webchat?org=GZ")
    customer.click("#kefu-chat-toggle")
    customer.wait_for_selector("#kefu-chat[data-state=online]")
    customer.fill("#kefu-chat textarea", "请问副卡怎么办理？需要带什么证件？")
    customer.press("#kefu-chat textarea", "Enter")
    customer.wait_for_selector("#kefu-chat li[data-id]")  # acknowledged and shown as stored
    _, ticket_id = _stored(live_server, "请问副卡怎么办理？需要带什么证件？")

    # the agent's open inbox shows the new case live, and the agent opens it
    row = agent.wait_for_selector(f"#inbox-list tr[data-ticket='{ticket_id}']", timeout=20_000)
    assert "副卡" in row.inner_text()
    agent.click(f"#inbox-list tr[data-ticket='{ticket_id}'] td.num a")
    agent.wait_for_url(f"{base}/console/tickets/{ticket_id}")
    agent.wait_for_selector("text=请问副卡怎么办理？需要带什么证件？")

    # the customer types (the agent sees it, nothing is stored), then adds a line; it appears on the agent's
    # open page without a reload
    customer.wait_for_timeout(3_100)  # the widget tells of typing at most every 3 s
    customer.fill("#kefu-chat textarea", "我是广州的号码")
    agent.wait_for_selector("#visitor-typing:has-text('正在输入')", timeout=20_000)
    customer.click("#kefu-chat .kefu-chat-form button[type=submit]")
    agent.wait_for_selector("text=我是广州的号码", timeout=20_000)

    # the agent types (the customer sees it), then replies; the customer sees the reply live
    agent.fill("#reply-body", "您好，请携带")
    customer.wait_for_selector("#kefu-chat .kefu-chat-typing:has-text('客服正在输入')", timeout=20_000)
    agent.fill("#reply-body", "您好，请携带机主身份证原件到任一营业厅办理。")
    agent.click("#reply-box button[type=submit]")
    reply = customer.wait_for_selector("#kefu-chat li.kefu-chat-agent .kefu-chat-body", timeout=20_000)
    assert reply.inner_text() == "您好，请携带机主身份证原件到任一营业厅办理。"

    # shown to the customer: delivered
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline and status != "delivered":
        with live_server.db.session() as s:
            status = s.scalar(select(OutboundDelivery.status).where(OutboundDelivery.channel == "webchat"))
        time.sleep(0.1)
    assert status == "delivered"

    # a reload keeps the conversation (the token in localStorage, everything synced again)
    customer.reload()
    customer.wait_for_selector("#kefu-chat[data-state=online]")
    customer.wait_for_selector("#kefu-chat li.kefu-chat-agent")
    lines = customer.eval_on_selector_all("#kefu-chat .kefu-chat-line .kefu-chat-body",
                                          "els => els.map(e => e.textContent)")
    assert lines == ["请问副卡怎么办理？需要带什么证件？", "我是广州的号码",
                     "您好，请携带机主身份证原件到任一营业厅办理。"]
    assert errors == []
    customer.close()
    agent.close()
