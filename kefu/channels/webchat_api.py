"""The web chat widget's WebSocket (`/api/v1/webchat/ws`), thin: the session token, the limits, and one
database hop per frame through the same paths as every other channel (kefu.channels.webchat).

Frames are JSON objects with a `type`. From the widget:
- `{"type": "sync", "after": <message id>}`: send me everything after this id (on every (re)connect);
- `{"type": "message", "id": "<client id>", "text": "..."}`: a visitor's message, stored once per id;
- `{"type": "seen", "upto": <message id>}`: the agent's messages up to this id are on screen (delivered).
From the server:
- `{"type": "session", "token": ..., "visitor": ...}` first, always (a new visitor gets a new token);
- `{"type": "messages", "items": [...]}` after a sync and whenever the conversation gets a message;
- `{"type": "ack", "id": "<client id>", "message_id": N}` when a message is stored;
- `{"type": "error", "code": ..., "message": ..., "retry_after"?: seconds}`.

Refused: a forged or expired token (close 4401), too many new sessions from one address or frames from
one visitor (4429), an unknown org unit (4404), a frame above the limit (1009). A message frame that
cannot be accepted (malformed, empty, NUL characters, too long) is answered with an error and kept as an
inbound rejection, as on every channel; a refused message creates nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from kefu.channels import webchat
from kefu.channels.adapters import Parsed
from kefu.channels.inbound import InboundMessage, InboundResult
from kefu.channels.ingest import ingest, reject
from kefu.core import pubsub
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.errors import InvalidInput, NotFound, PayloadTooLarge
from kefu.org import service as org

router = APIRouter(tags=["channels"])

sessions = webchat.Window(webchat.SESSIONS_PER_MINUTE, 60.0)
messages = webchat.Window(webchat.MESSAGES_PER_MINUTE, 60.0)
frames = webchat.Window(webchat.MESSAGES_PER_MINUTE * 3, 60.0)
_CLIENT_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class _Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Conversation:
    """One open widget connection."""

    def __init__(self, ws: WebSocket, settings: Settings, db: Database, visitor: webchat.Visitor) -> None:
        self.ws, self.settings, self.db, self.visitor = ws, settings, db, visitor
        self.last = -1  # the highest message id sent to the widget; -1: it has not synced yet
        self.reported = 0  # the agent's messages up to this id are marked delivered
        self.wake = asyncio.Event()
        self._send_lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def push(self) -> None:
        """Send what is new whenever woken (a sync, a notice from the hub, the visitor's own message)."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.last < 0:
                continue
            try:
                lines = await run_in_threadpool(self._history, self.last)
                self.last = max([self.last, *(ln.id for ln in lines)])
                await self.send({"type": "messages", "items": [ln.to_json() for ln in lines]})
            except (WebSocketDisconnect, RuntimeError):
                return  # the widget has gone; the receiving side ends the connection

    def _history(self, after: int) -> list[webchat.Line]:
        with self.db.session() as s:
            return webchat.history(s, self.visitor.id, after=after)

    async def handle(self, raw: str) -> None:
        if len(raw.encode()) > webchat.frame_limit(self.settings):
            await self._refuse(413, "message_too_large", f"a frame is at most {webchat.frame_limit(self.settings)} "
                                                         "bytes", raw[:4096])
            raise _Closed(1009)
        if not frames.allow(self.visitor.id, time.monotonic()):
            await self.error("rate_limited", "too many frames; reconnect later",
                             retry_after=round(frames.retry_after(self.visitor.id, time.monotonic()), 1))
            raise _Closed(4429)
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self._refuse(400, "malformed_frame", "a frame is a JSON object with a type", raw)
            return
        kind = frame.get("type")
        if kind == "sync":
            after = frame.get("after")
            self.last = after if isinstance(after, int) and after >= 0 else 0
            self.wake.set()
        elif kind == "message":
            await self._message(frame, raw)
        elif kind == "seen":
            upto = frame.get("upto")
            if isinstance(upto, int) and upto > self.reported:
                await run_in_threadpool(self._seen, upto)
        elif kind != "typing":
            await self.error("unknown_frame", "frame types: sync, message, seen, typing")

    async def _message(self, frame: dict[str, Any], raw: str) -> None:
        cid, text = frame.get("id"), frame.get("text")
        if not isinstance(cid, str) or not 1 <= len(cid) <= 64 or not set(cid) <= _CLIENT_ID_CHARS:
            await self._refuse(400, "invalid_client_id", "a message needs an id of 1-64 letters, digits, - or _", raw)
            return
        if not isinstance(text, str) or not text.strip():
            await self._refuse(400, "body_required", "a message needs a text", raw)
            return
        if not messages.allow(self.visitor.id, time.monotonic()):
            await self.error("rate_limited", f"at most {webchat.MESSAGES_PER_MINUTE} messages a minute",
                             id=cid, retry_after=round(messages.retry_after(self.visitor.id, time.monotonic()), 1))
            return
        msg = InboundMessage(message_id=f"{self.visitor.id}:{cid}", sender=self.visitor.id, text=text,
                             org_unit_code=self.visitor.org_code)
        try:
            result = await run_in_threadpool(self._store, msg, raw)
        except (InvalidInput, NotFound, PayloadTooLarge) as exc:
            await self.error(exc.code, exc.message, id=cid)
            return
        await self.send({"type": "ack", "id": cid, "message_id": result.message_id})
        dispatcher = getattr(self.ws.app.state, "dispatcher", None)
        if dispatcher is not None and not result.duplicate:
            dispatcher.wake()
        self.wake.set()

    def _store(self, msg: InboundMessage, raw: str) -> InboundResult:
        try:
            return ingest(self.db, self.settings, webchat.CHANNEL, Parsed(messages=[msg])).results[0]
        except (InvalidInput, NotFound, PayloadTooLarge) as exc:
            reject(self.db, self.settings, webchat.CHANNEL, status=exc.status, reason=f"{exc.code}: {exc.message}",
                   payload=raw.encode())
            raise

    def _seen(self, upto: int) -> None:
        with self.db.session() as s:
            lines = webchat.history(s, self.visitor.id, after=self.reported)
        reports = webchat.seen_reports(lines, min(upto, max(self.last, 0)))
        if reports:
            ingest(self.db, self.settings, webchat.CHANNEL, Parsed(reports=reports))
        self.reported = max(self.reported, min(upto, max(self.last, 0)))

    async def _refuse(self, status: int, code: str, message: str, raw: str) -> None:
        await run_in_threadpool(reject, self.db, self.settings, webchat.CHANNEL, status=status,
                                reason=f"{code}: {message}", payload=raw.encode())
        await self.error(code, message)


async def _open(ws: WebSocket, settings: Settings, db: Database) -> tuple[webchat.Visitor, str]:
    secret = settings.secret_key.get_secret_value()
    token = ws.query_params.get("token") or ""
    if token:
        try:
            return webchat.read_token(secret, token, now=int(time.time())), token
        except webchat.BadToken as exc:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_token", "message": str(exc)}))
            raise _Closed(4401) from None
    address = ws.client.host if ws.client else "-"
    if not sessions.allow(address, time.monotonic()):
        await ws.send_text(json.dumps({"type": "error", "code": "rate_limited", "message": "too many new chats",
                                       "retry_after": round(sessions.retry_after(address, time.monotonic()), 1)}))
        raise _Closed(4429)
    code = await run_in_threadpool(_unit_code, db, (ws.query_params.get("org") or "")[:32] or None)
    if code is None:
        await ws.send_text(json.dumps({"type": "error", "code": "unknown_org_unit", "message": "unknown org unit"}))
        raise _Closed(4404)
    visitor = webchat.Visitor(webchat.new_visitor_id(), code, int(time.time()))
    return visitor, webchat.issue_token(secret, visitor)


def _unit_code(db: Database, code: str | None) -> str | None:
    with db.session() as s:
        unit = org.unit_by_code_or_none(s, code) if code else org.default_city(s)
        return unit.code if unit is not None else None


@router.websocket("/webchat/ws")
async def webchat_ws(ws: WebSocket) -> None:
    """A visitor's conversation (see the module docstring for the frames)."""
    settings: Settings = ws.app.state.settings
    db: Database = ws.app.state.db
    await ws.accept()
    try:
        visitor, token = await _open(ws, settings, db)
    except _Closed as c:
        await ws.close(c.code)
        return
    conv = Conversation(ws, settings, db, visitor)
    loop = asyncio.get_running_loop()

    def notice(m: pubsub.Message) -> None:
        if m.get("visitor") == visitor.id:
            loop.call_soon_threadsafe(conv.wake.set)

    def reconnected() -> None:  # the hub was away: notices may be lost, read again
        loop.call_soon_threadsafe(conv.wake.set)

    unsubscribe = pubsub.current().subscribe(webchat.HUB_CHANNEL, notice, on_reconnect=reconnected)
    pusher = asyncio.create_task(conv.push())
    try:
        await conv.send({"type": "session", "token": token, "visitor": visitor.id})
        while True:
            m = await ws.receive()
            if m["type"] == "websocket.disconnect":
                break
            raw = m.get("text")
            if raw is None:
                raw = (m.get("bytes") or b"").decode("utf-8", "replace")
            await conv.handle(raw)
    except _Closed as c:
        await ws.close(c.code)
    except WebSocketDisconnect:
        pass
    finally:
        unsubscribe()
        pusher.cancel()
