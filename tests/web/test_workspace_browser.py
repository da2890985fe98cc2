"""In the browser: an agent goes ready, is offered an inbound WeChat complaint, accepts it, replies and resolves.

The whole server runs (uvicorn, the outbox dispatcher and the routing writer); the complaint arrives as a
gateway would post it (POST /api/v1/inbound/wechat with an admin token)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kefu.routing import service as routing
from kefu.routing.models import RoutingOffer
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket
from tests.conftest import World
from tests.web.conftest import LiveServer, browser_login, http

pytestmark = pytest.mark.browser


def test_an_agent_takes_a_wechat_complaint_from_offer_to_resolution(
    browser: Any, live_server: LiveServer, world: World
) -> None:
    base, db = live_server.url, live_server.db
    with db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
    page = browser.new_page(locale="zh-CN")
    browser_login(page, base, "agent_gz")

    # ready
    page.click("#routing-bar button[value=available]")
    page.wait_for_function("() => document.querySelector('#routing-bar').classList.contains('presence-available')")

    # a customer complains on WeChat
    r = http.post(f"{base}/api/v1/inbound/wechat", headers=world.auth("admin"), json={
        "message_id": "wx-browser-1", "sender": "o_wx_browser", "text": "我要投诉！宽带报修三天没人上门",
        "org_unit_code": "GZ"})
    assert r.status_code in (200, 201), r.text
    ticket_id = r.json()["ticket_id"]

    # the offer pops up live, with its countdown and the complaint badge
    offer = page.wait_for_selector("#routing-bar .offer", timeout=20_000)
    assert f"#{ticket_id}" in offer.inner_text()
    assert "投诉" in offer.inner_text()
    page.wait_for_function("() => /\\d/.test(document.querySelector('[data-countdown] b').textContent)")
    page.click("#routing-bar [data-accept]")
    page.wait_for_url(f"{base}/console/tickets/{ticket_id}", timeout=20_000)

    # reply, then resolve with a reason
    page.fill("#reply-body", "您好，维修师傅今天下午上门，给您添麻烦了。")
    page.click("#reply-box button[type=submit]")
    page.wait_for_selector("text=维修师傅今天下午上门")
    page.fill("#status-buttons input[name=reason]", "已安排上门维修，客户认可")
    # the customer writes meanwhile: the page refreshes live and keeps the reason being typed
    r = http.post(f"{base}/api/v1/inbound/wechat", headers=world.auth("admin"), json={
        "message_id": "wx-browser-2", "sender": "o_wx_browser", "text": "好的，下午等师傅", "org_unit_code": "GZ"})
    assert r.status_code in (200, 201), r.text
    page.wait_for_selector("text=下午等师傅", timeout=20_000)
    assert page.input_value("#status-buttons input[name=reason]") == "已安排上门维修，客户认可"
    page.click("#status-buttons button[value=resolved]")
    page.wait_for_function("() => document.querySelector('#ticket-head').dataset.status === 'resolved'",
                           timeout=20_000)

    with db.session() as s:
        t = s.get(Ticket, ticket_id)
        assert t is not None
        assert (t.type, t.status, t.assignee_id) == ("complaint", "resolved", world.users["agent_gz"])
        assert t.first_reply_at is not None
        offer_row = s.scalar(select(RoutingOffer).where(RoutingOffer.agent_id == world.users["agent_gz"]))
        assert offer_row is not None
        assert offer_row.state == "accepted"
        names = [e.name for e in tickets.history_of(s, ticket_id)]
        assert names[:1] == ["ticket.assigned"]
        assert "ticket.replied" in names
    page.close()
