"""Web chat typing both ways: the widget's `typing` frame reaches the consoles of the conversation's unit
(through the hub's live channel), an agent's typing reaches the widget as a frame; nothing is stored."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core import pubsub
from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.interactions.models import Interaction
from kefu.web import live
from tests.channels.test_webchat import frame, open_chat, until
from tests.channels.test_webchat_login import send
from tests.conftest import World


def test_typing_goes_both_ways_and_is_stored_nowhere(client: TestClient, world: World, db: Database) -> None:
    heard: list[dict[str, Any]] = []
    stop = pubsub.current().subscribe(live.CHANNEL, heard.append)
    try:
        cm, ws, _ = open_chat(client)
        send(ws, type="typing")  # no conversation yet: nobody to tell
        send(ws, type="sync", after=0)
        until(ws, "messages")
        send(ws, type="message", id="c1", text="在吗")
        ack = until(ws, "ack")
        assert [m["id"] for m in until(ws, "messages")["items"]] == [ack["message_id"]]  # the echo, before typing
        with db.session() as s:
            iid = s.scalars(select(Interaction.id)).one()
        before_events = _events(db)
        heard.clear()
        send(ws, type="typing")
        send(ws, type="sync", after=10**9)  # a round trip: the typing frame was handled
        until(ws, "messages")
        assert [(h["kind"], h["event"], h["unit"], h["data"]) for h in heard] == [
            (f"typing-{iid}", "webchat.typing", world.units["gz"], {"interaction_id": iid, "who": "visitor"})]

        r = client.post(f"/api/v1/webchat/interactions/{iid}/typing", headers=world.auth("agent_gz"))
        assert r.status_code == 204, r.text
        assert until(ws, "typing") == {"type": "typing", "who": "agent"}
        other = client.post(f"/api/v1/webchat/interactions/{iid}/typing", headers=world.auth("agent_sz"))
        assert other.status_code == 404  # not in the agent's units
        assert _events(db) == before_events
        cm.__exit__(None, None, None)
    finally:
        stop()


def test_a_closed_conversation_gets_no_typing_and_the_next_one_does(client: TestClient, world: World,
                                                                   db: Database) -> None:
    heard: list[dict[str, Any]] = []
    stop = pubsub.current().subscribe(live.CHANNEL, heard.append)
    cm, ws, _ = open_chat(client)
    try:
        send(ws, type="sync", after=0)
        until(ws, "messages")
        send(ws, type="message", id="c1", text="在吗")
        until(ws, "ack")
        until(ws, "messages")
        with db.session() as s:
            first = s.scalars(select(Interaction.id)).one()
        send(ws, type="typing")  # the conversation is known to the connection now
        _round_trip(ws)
        assert [h["kind"] for h in heard] == [f"typing-{first}"]
        r = client.post(f"/api/v1/interactions/{first}/close", json={"outcome": "answered"},
                        headers=world.auth("agent_gz"))
        assert r.status_code == 200, r.text
        heard.clear()
        send(ws, type="typing")  # the closed conversation is told nothing
        _round_trip(ws)
        assert heard == []
        r = client.post(f"/api/v1/webchat/interactions/{first}/typing", headers=world.auth("agent_gz"))
        assert (r.status_code, r.json()["error"]["code"]) == (409, "interaction_closed")
        send(ws, type="sync", after=10**9)
        assert frame(ws)["type"] == "messages"  # no typing frame for the closed conversation
        send(ws, type="message", id="c2", text="还有一个问题")  # a new conversation
        until(ws, "ack")
        until(ws, "messages")
        with db.session() as s:
            second = s.scalar(select(Interaction.id).where(Interaction.status == "open"))
        assert second is not None
        assert second != first
        send(ws, type="typing")
        _round_trip(ws)
        assert [(h["kind"], h["data"]) for h in heard] == [
            (f"typing-{second}", {"interaction_id": second, "who": "visitor"})]
    finally:
        cm.__exit__(None, None, None)
        stop()


def _round_trip(ws: Any) -> None:
    """A sync answered: the frames sent before it were handled."""
    send(ws, type="sync", after=10**9)
    until(ws, "messages")


def _events(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(OutboxEvent)) or 0


def test_the_ticket_page_of_a_web_chat_listens_for_the_visitors_typing_and_sends_the_agents(
        client: TestClient, world: World, db: Database) -> None:
    from tests.web.conftest import csrf_of, login

    cm, ws, _ = open_chat(client)
    send(ws, type="sync", after=0)
    until(ws, "messages")
    send(ws, type="message", id="c1", text="在吗")
    until(ws, "ack")
    with db.session() as s:
        iid, tid = s.execute(select(Interaction.id, Interaction.ticket_id)).one()
    login(client, "agent_gz")
    page = client.get(f"/console/tickets/{tid}")
    assert page.status_code == 200
    assert f'sse-swap="typing-{iid}"' in page.text
    assert f'data-typing-url="/console/webchat/interactions/{iid}/typing"' in page.text
    assert "访客正在输入…" in page.text
    refused = client.post(f"/console/webchat/interactions/{iid}/typing")
    assert refused.status_code == 403  # no CSRF token
    r = client.post(f"/console/webchat/interactions/{iid}/typing", headers={"X-CSRF-Token": csrf_of(page.text)})
    assert r.status_code == 204
    assert until(ws, "typing") == {"type": "typing", "who": "agent"}
    cm.__exit__(None, None, None)
