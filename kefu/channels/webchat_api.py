"""The web chat widget's WebSocket (`/api/v1/webchat/ws`), thin: the session token, the limits, and one
database hop per frame through the same paths as every other channel (kefu.channels.webchat).

Frames are JSON objects with a `type`. From the widget:
- `{"type": "sync", "after": <message id>}`: send me everything after this id (on every (re)connect);
- `{"type": "message", "id": "<client id>", "text": "..."}`: a visitor's message, stored once per id;
- `{"type": "seen", "upto": <message id>}`: the agent's messages up to this id are on screen (delivered);
- `{"type": "typing"}`: the visitor is typing (the agent's console shows it for a few seconds; not stored);
- `{"type": "login", "phone": "<Chinese mobile number>"}`: send me a login code by SMS;
- `{"type": "verify", "phone": ..., "code": "<6 digits>"}`: the code I received (then one customer).
From the server:
- `{"type": "session", "token": ..., "visitor": ...}` first, always (a new visitor gets a new token);
- `{"type": "messages", "items": [...]}` after a sync and whenever the conversation gets a message;
- `{"type": "ack", "id": "<client id>", "message_id": N}` when a message is stored;
- `{"type": "typing", "who": "agent"}` while an agent is typing an answer;
- `{"type": "login", "state": "code_sent", "phone": <masked>, "expires_at"}` and then `{"type": "login",
  "state": "linked" | "suggested"}` (linked: the chat is now the number's customer's);
- `{"type": "error", "code": ..., "message": ..., "retry_after"?: seconds, "tries_left"?: n}`; a login code
  refused because the number had its share (`too_many_codes`) also says `"status": 429`.

The agent's typing comes from `POST /api/v1/webchat/interactions/{id}/typing` (the console's reply box).

Refused: a forged or expired token (close 4401), too many new sessions from one address or frames from
one visitor (4429), an unknown org unit (4404), a frame above the limit (1009). A message frame that
cannot be accepted (malformed, empty, NUL characters, too long) is answered with an error and kept as an
inbound rejection, as on every channel; a refused message creates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.deps import DbSession, Id, require
from kefu.core.errors import InvalidInput, NotFound, PayloadTooLarge
from kefu.customers import linking
from kefu.customers.phone import mask_phone
from kefu.org import service as org
from kefu.web import live

router = APIRouter(tags=["channels"])

sessions = webchat.Window(webchat.SESSIONS_PER_MINUTE, 60.0)
messages = webchat.Window(webchat.MESSAGES_PER_MINUTE, 60.0)
frames = webchat.Window(webchat.MESSAGES_PER_MINUTE * 3, 60.0)
logins = webchat.Window(webchat.LOGIN_CODES, webchat.LOGIN_WINDOW)
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
        self._typing_in: tuple[int, int] | None = None  # the open conversation the visitor types in

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def agent_typing(self) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.send({"type": "typing", "who": "agent"})

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
        elif kind == "typing":
            await run_in_threadpool(self._typing)
        elif kind == "login":
            await self._login(frame)
        elif kind == "verify":
            await self._verify(frame)
        else:
            await self.error("unknown_frame", "frame types: sync, message, seen, typing, login, verify")

    def _typing(self) -> None:
        """Tell the consoles showing the visitor's open conversation (none: nobody to tell). The one known
        is checked to be still open: once closed it is dropped, and a new open one is looked for."""
        with self.db.session() as s:
            self._typing_in = webchat.typing_target(s, self.visitor.id, self._typing_in)
        if self._typing_in is not None:
            iid, unit = self._typing_in
            with contextlib.suppress(pubsub.HubUnavailable):
                pubsub.current().publish(live.CHANNEL, live.Notice(
                    f"typing-{iid}", "webchat.typing", unit, {"interaction_id": iid, "who": "visitor"}).to_message())

    async def _login(self, frame: dict[str, Any]) -> None:
        phone = frame.get("phone")
        if not isinstance(phone, str):
            await self.error("invalid_phone", "a login needs a phone number")
            return
        if not logins.allow(self.visitor.id, time.monotonic()):
            await self.error("rate_limited", f"at most {webchat.LOGIN_CODES} codes in "
                                             f"{int(webchat.LOGIN_WINDOW / 60)} minutes",
                             retry_after=round(logins.retry_after(self.visitor.id, time.monotonic()), 1))
            return
        try:
            e164, expires = await run_in_threadpool(self._start_login, phone)
        except linking.TooManyCodes as exc:
            await self.error(exc.code, exc.message, status=exc.status, retry_after=exc.details["retry_after"])
            return
        except (InvalidInput, NotFound) as exc:
            await self.error(exc.code, exc.message)
            return
        self._wake_dispatcher()
        await self.send({"type": "login", "state": "code_sent", "phone": mask_phone(e164),
                         "expires_at": expires.isoformat()})

    def _start_login(self, phone: str) -> tuple[str, Any]:
        with self.db.unit_of_work() as s:
            return webchat.mobile(phone), webchat.start_login(s, self.settings, self.visitor, phone, at=utcnow())

    async def _verify(self, frame: dict[str, Any]) -> None:
        phone, code = frame.get("phone"), frame.get("code")
        if not isinstance(phone, str) or not isinstance(code, str) or not code.strip().isdigit():
            await self.error("code_rejected", "a verification needs the phone number and the code")
            return
        try:
            result = await run_in_threadpool(self._finish_login, phone, code)
        except linking.CodeRejected as exc:
            await self.error(exc.code, exc.message, **({"tries_left": exc.details["tries_left"]}
                                                        if exc.details and "tries_left" in exc.details else {}))
            return
        except (InvalidInput, NotFound) as exc:
            await self.error(exc.code, exc.message)
            return
        self._typing_in = None  # the conversation may belong to another customer now
        self._wake_dispatcher()
        await self.send({"type": "login", "state": "suggested" if result.action == "suggest" else "linked"})
        self.wake.set()

    def _finish_login(self, phone: str, code: str) -> linking.LinkResult:
        """One unit of work: the code's use and the link commit together (their events after), or nothing
        does. A rejected code commits its try alone (nothing else is written before the code is checked):
        five wrong codes and the code is dead."""
        rejected: linking.CodeRejected | None = None
        with self.db.unit_of_work() as s:
            try:
                return webchat.finish_login(s, self.settings, self.visitor, phone, code, at=utcnow())
            except linking.CodeRejected as exc:
                rejected = exc
        assert rejected is not None
        raise rejected

    def _wake_dispatcher(self) -> None:
        dispatcher = getattr(self.ws.app.state, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake()

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
        if not result.duplicate:
            self._wake_dispatcher()
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
        if m.get("visitor") != visitor.id:
            return
        if m.get("typing"):
            asyncio.run_coroutine_threadsafe(conv.agent_typing(), loop)
        else:
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


@router.post("/webchat/interactions/{interaction_id}/typing", status_code=204, response_model=None)
def agent_typing(interaction_id: Id, session: DbSession,
                 principal: Principal = require("interactions.write")) -> None:
    """An agent is typing an answer on a web chat conversation: the visitor's widget shows it (not stored)."""
    webchat.announce_agent_typing(session, principal, interaction_id)
