"""Live updates (events → broadcaster → SSE) and the console without its front-end assets."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import Event, bus
from kefu.web import live
from tests.conftest import World
from tests.web.conftest import Console, login

AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_a_received_message_tells_the_inbox_and_its_ticket() -> None:
    ev = Event(1, "message.received", "interaction", 7, 3, {"ticket_id": 12, "interaction_id": 7}, AT)
    assert [(n.kind, n.org_unit_id) for n in live.notices_for(ev)] == [("inbox", 3), ("ticket-12", 3)]
    ev = Event(2, "ticket.transitioned", "ticket", 12, 3, {"from": "new", "to": "in_progress"}, AT)
    assert [n.kind for n in live.notices_for(ev)] == ["inbox", "ticket-12"]
    ev = Event(3, "ticket.merged", "ticket", 12, 3, {"into_id": 9}, AT)
    assert [n.kind for n in live.notices_for(ev)] == ["inbox", "ticket-12", "ticket-9"]


def test_broadcaster_delivers_only_within_the_subscribers_units() -> None:
    async def run() -> list[str]:
        b = live.Broadcaster()
        sub = b.subscribe(frozenset({3, 4}))
        assert b.publish(live.Notice("inbox", "message.received", 5)) == 0  # another city
        assert b.publish(live.Notice("inbox", "message.received", 3, {"n": 1})) == 1
        assert b.publish(live.Notice("ticket-1", "ticket.updated", None)) == 1  # no unit: everyone
        got = [(await sub.queue.get()), (await sub.queue.get())]
        b.unsubscribe(sub)
        assert b.subscribers == 0
        return [n.kind for n in got if n is not None]

    assert asyncio.run(run()) == ["inbox", "ticket-1"]


def test_stream_says_hello_then_relays_notices_until_closed() -> None:
    async def run() -> list[str]:
        sub = live.broadcaster.subscribe(frozenset({1}))

        async def never() -> bool:
            return False

        chunks = []
        live.broadcaster.publish(live.Notice("inbox", "message.received", 1, {"event": "message.received"}))
        live.broadcaster.close_all()
        async for chunk in live.stream(sub, never, heartbeat=5):
            chunks.append(chunk)
        return chunks

    assert asyncio.run(run()) == [
        "retry: 3000\n\n",
        'event: hello\ndata: {"ok": true}\n\n',
        'event: inbox\ndata: {"event": "message.received"}\n\n',
    ]
    assert live.broadcaster.subscribers == 0


def test_the_event_bus_feeds_the_broadcaster_after_commit(
    db: Database, world: World, settings: Settings, app: object
) -> None:
    from kefu.channels import inbound

    assert bus.consumers[live.CONSUMER].handler is live.on_event  # mount() registered it

    async def run() -> list[str]:
        sub = live.broadcaster.subscribe(frozenset({world.units["gz"]}))
        try:
            with db.unit_of_work() as s:
                inbound.receive(
                    s,
                    settings,
                    "sms",
                    inbound.InboundMessage(
                        message_id="ev-1", sender="13800138001", text="你好", org_unit_code="GZ"
                    ),
                )
            await asyncio.to_thread(bus.dispatch_pending, db)
            kinds = []
            while not sub.queue.empty():
                n = await sub.queue.get()
                if n is not None:
                    kinds.append(n.kind)
            return kinds
        finally:
            live.broadcaster.unsubscribe(sub)

    kinds = asyncio.run(run())
    assert "inbox" in kinds
    assert any(k.startswith("ticket-") for k in kinds)


def test_the_stream_needs_a_login(client: TestClient, console: Console) -> None:
    r = client.get("/console/stream", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_without_front_end_assets_pages_are_plain_forms_and_the_server_warns_once(
    client: TestClient,
    console: Console,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kefu.web import render

    monkeypatch.setattr(render, "VENDOR_DIR", tmp_path / "no-vendor")
    monkeypatch.setattr(render, "_vendor_warned", False)
    login(client, "agent_gz")
    with caplog.at_level(logging.WARNING, logger="kefu.web"):
        first = client.get("/console/inbox")
        second = client.get(f"/console/tickets/{console.tickets['bill_sms']}")
    assert first.status_code == second.status_code == 200
    for page in (first.text, second.text):
        assert "/static/vendor/" not in page
        assert "sse-connect" not in page
        assert '<form id="filters" class="filters" method="get" action="/console/inbox"' in first.text
    assert "未启用实时更新" in first.text
    warnings = [r for r in caplog.records if "front-end assets are missing" in r.getMessage()]
    assert len(warnings) == 1


def test_static_files_are_served(client: TestClient) -> None:
    r = client.get("/static/kefu.css")
    assert r.status_code == 200
    assert "text/css" in r.headers["content-type"]
