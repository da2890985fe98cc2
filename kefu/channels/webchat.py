"""Web chat (网页在线客服): anonymous visitors on an operator's page, through the embeddable widget
(kefu/web/static/webchat.js, one script tag) over a WebSocket (`/api/v1/webchat/ws`, kefu.channels.webchat_api).

A visitor is an opaque id (`wc-` + 20 random hex digits) held in a signed session token: HMAC-SHA256 over
(visitor, org unit code, issue time) with a key derived from KEFU_SECRET_KEY, valid for `TOKEN_DAYS`.
The token is the only credential: it names whose conversation a connection may read and write, and
which org unit its messages go to (chosen by the operator's page when the session opened, not by each
message). Anonymous visitors are bounded: `Window` limits new sessions per address and messages per
visitor; a frame is at most `frame_limit` bytes.

Inbound: each visitor message goes through the generic inbound path with the channel message id
`<visitor>:<client id>` (a message resent after a reconnect is stored once). Outbound: the adapter
publishes a notice on the hub channel `webchat` naming the visitor; the visitor's open connections
(in any process) read the new messages from the database. A reconnect asks for everything after the
last message id it has, so nothing is lost while it was away. Delivered: when the widget says it has
shown a reply (`seen`), its delivery is marked delivered through the ordinary delivery report.

Logging in with a number (then one customer): the visitor gives a Chinese mobile number; a one-time code
(kefu.customers.linking) goes to it by SMS through the ordinary outbound path (a message of the visitor's
customer on a new SMS interaction, kind `login_code`); when the code comes back the visitor's address
joins the number's customer (evidence `sms_code`: the web chat customer, which has no number, is merged
into the number's), so the agent sees one customer and one history across channels. Codes are limited per
visitor (in the process) and per number, whichever visitor asks (`KEFU_LOGIN_CODES_PER_NUMBER_PER_HOUR`,
`KEFU_LOGIN_CODE_INTERVAL_SECONDS`, counted from the codes stored): over it nothing is stored or sent.

Typing: the widget's `typing` frame and an agent's typing (`agent_typing`) are notices on the hub, never
stored: the agent's console hears `typing-<interaction id>`, the widget a `typing` frame; only while the
conversation is open (a closed one is told nothing, and an agent typing on it is refused).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kefu.channels.adapters import DeliveryReport, Outbound, Sent, register
from kefu.core import pubsub
from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.core.errors import NotFound
from kefu.customers import linking
from kefu.customers import service as customers
from kefu.customers.phone import InvalidPhone, parse_phone
from kefu.interactions import service as interactions
from kefu.interactions.models import Interaction, Message
from kefu.org import service as org

CHANNEL = "webchat"
HUB_CHANNEL = "webchat"
TOKEN_DAYS = 7
VISITOR_PREFIX = "wc-"
SESSIONS_PER_MINUTE = 6  # new sessions one address may open a minute
MESSAGES_PER_MINUTE = 20  # messages one visitor may send a minute
HISTORY_LIMIT = 200  # messages sent back at most for one sync


# ---- the signed session token (pure) ------------------------------------------------------------

@dataclass(frozen=True)
class Visitor:
    id: str
    org_code: str
    issued: int  # seconds since the epoch


class BadToken(Exception):
    """A token that was not issued by this server, was altered, or has expired."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"kefu.webchat.session.v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_visitor_id() -> str:
    return VISITOR_PREFIX + secrets.token_hex(10)


def issue_token(secret: str, visitor: Visitor) -> str:
    body = _b64(f"{visitor.id}|{visitor.org_code}|{visitor.issued}".encode())
    sig = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}"


def read_token(secret: str, token: str, *, now: int, max_age: int = TOKEN_DAYS * 86400) -> Visitor:
    """The visitor a token names; BadToken when forged, altered, malformed or older than max_age."""
    body, dot, sig = token.partition(".")
    if not dot or len(token) > 512:
        raise BadToken("malformed token")
    want = _b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(want, sig):
        raise BadToken("token signature does not match")
    try:
        vid, org_code, issued = _unb64(body).decode().split("|")
        at = int(issued)
    except (ValueError, UnicodeDecodeError):
        raise BadToken("malformed token") from None
    if not vid.startswith(VISITOR_PREFIX) or not 0 <= now - at <= max_age:
        raise BadToken("token expired")
    return Visitor(vid, org_code, at)


# ---- rate limits (pure: the caller gives the time) -----------------------------------------------

class Window:
    """At most `limit` events per key in any `seconds`-long window (a sliding log). Keeps at most
    `max_keys` keys, forgetting the least recently used: memory stays bounded whatever the traffic."""

    def __init__(self, limit: int, seconds: float, *, max_keys: int = 10_000) -> None:
        self.limit, self.seconds, self.max_keys = limit, seconds, max_keys
        self._log: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float) -> bool:
        with self._lock:
            times = self._log.pop(key, None) or deque()
            while times and times[0] <= now - self.seconds:
                times.popleft()
            ok = len(times) < self.limit
            if ok:
                times.append(now)
            self._log[key] = times
            while len(self._log) > self.max_keys:
                self._log.popitem(last=False)
            return ok

    def retry_after(self, key: str, now: float) -> float:
        with self._lock:
            times = self._log.get(key)
            return max(0.0, times[0] + self.seconds - now) if times else 0.0


def frame_limit(settings: Settings) -> int:
    """The largest frame read from a visitor: a message at the text limit (4 bytes a character at
    most, JSON-escaped) plus its envelope."""
    return settings.max_message_bytes * 4 + 1024


# ---- the conversation as the visitor sees it ------------------------------------------------------

@dataclass(frozen=True)
class Line:
    id: int
    direction: str  # inbound: the visitor's, outbound: the agent's
    body: str
    at: datetime
    client_id: str | None  # the widget's id of a visitor message

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "direction": self.direction, "body": self.body, "at": self.at.isoformat(),
                "client_id": self.client_id}


_CUSTOMER = customers.owner_select(False)


def customer_of(session: Session, visitor: str) -> int | None:
    row = session.execute(_CUSTOMER, {"kind": "webchat", "value": visitor}).first()
    return int(row.id) if row is not None else None


def history(session: Session, visitor: str, *, after: int = 0, limit: int = HISTORY_LIMIT) -> list[Line]:
    """The visitor's web chat messages (both ways) with an id above `after`, oldest first."""
    cid = customer_of(session, visitor)
    if cid is None:
        return []
    ids = customers.customer_ids_of(session, cid)
    rows = session.execute(
        select(Message.id, Message.direction, Message.body, Message.created_at, Message.external_id)
        .join(Interaction, Interaction.id == Message.interaction_id)
        .where(Interaction.customer_id.in_(bindparam("ids", expanding=True)), Interaction.channel == CHANNEL,
               Message.id > after)
        .order_by(Message.id).limit(limit), {"ids": ids}).all()
    prefix = f"{visitor}:"
    return [Line(r.id, r.direction, r.body, r.created_at,
                 r.external_id[len(prefix):] if r.external_id and r.external_id.startswith(prefix) else None)
            for r in rows]


def seen_reports(lines: list[Line], upto: int) -> list[DeliveryReport]:
    """Delivery reports for the agent's messages the widget has shown (ids up to `upto`)."""
    return [DeliveryReport(provider_id=provider_id(ln.id), delivered=True) for ln in lines
            if ln.direction == "outbound" and ln.id <= upto]


def provider_id(message_id: int) -> str:
    return f"webchat:{message_id}"


# ---- logging in with a number ---------------------------------------------------------------------

LOGIN_CODES = 3  # codes one visitor may ask for in LOGIN_WINDOW seconds (this process's count; the number's
# own limit, whoever asks, is counted in the database: Settings.login_codes_per_number_per_hour)
LOGIN_WINDOW = 600.0
_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def mobile(raw: str) -> str:
    """The E.164 form of a Chinese mobile number; InvalidPhone for anything else (a fixed line, abroad)."""
    num = parse_phone(raw)
    if num.country_code != 86 or phonenumbers.number_type(num) not in _MOBILE:
        raise InvalidPhone(f"'{raw[:32]}' is not a Chinese mobile number", details={"reason": "not_mobile"})
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def login_code_text(code: str) -> str:
    return f"【在线客服】您的验证码是 {code}，10 分钟内有效，用于网页客服登录。如非本人操作请忽略。"


def start_login(session: Session, settings: Settings, visitor: Visitor, phone: str, *, at: datetime) -> datetime:
    """Send a login code to the number by SMS (queued with the visitor's customer); returns its expiry.
    linking.TooManyCodes (nothing written, nothing sent) when the number had its share of codes lately,
    whichever visitor asked. Flushes, never commits."""
    e164 = mobile(phone)
    code, expires = linking.start_code(
        session, kind="webchat", value=visitor.id, phone=e164, secret=_link_secret(settings), at=at,
        quota=(settings.login_codes_per_number_per_hour, timedelta(seconds=settings.login_code_interval_seconds)))
    unit = _unit(session, visitor)
    customer, _ = customers.identify(session, kind="webchat", value=visitor.id, org_unit_id=unit, at=at)
    interactions.send_to_address(session, customer_id=customer.id, org_unit_id=customer.org_unit_id, channel="sms",
                                 to=e164, body=login_code_text(code), subject="网页客服登录验证码", kind="login_code",
                                 at=at)
    return expires


def finish_login(session: Session, settings: Settings, visitor: Visitor, phone: str, code: str, *,
                 at: datetime) -> linking.LinkResult:
    """The code came back: the visitor joins the number's customer (linking.CodeRejected when wrong; the
    try is flushed and counts, so the caller commits either way)."""
    return linking.verify_code(session, kind="webchat", value=visitor.id, phone=mobile(phone), code=code,
                               secret=_link_secret(settings), org_unit_id=_unit(session, visitor), at=at)


def _unit(session: Session, visitor: Visitor) -> int:
    unit = org.unit_by_code_or_none(session, visitor.org_code)
    if unit is None:
        raise NotFound("the chat's org unit no longer exists", code="unknown_org_unit")
    return unit.id


def _link_secret(settings: Settings) -> bytes:
    return settings.secret_key.get_secret_value().encode()


def open_interaction(session: Session, visitor: str) -> tuple[int, int] | None:
    """(id, org unit) of the visitor's open web chat conversation, if any."""
    cid = customer_of(session, visitor)
    if cid is None:
        return None
    row = session.execute(select(Interaction.id, Interaction.org_unit_id).where(
        Interaction.customer_id.in_(customers.customer_ids_of(session, cid)), Interaction.channel == CHANNEL,
        Interaction.status == "open").order_by(Interaction.id.desc()).limit(1)).first()
    return (row.id, row.org_unit_id) if row is not None else None


def typing_target(session: Session, visitor: str, known: tuple[int, int] | None) -> tuple[int, int] | None:
    """(id, org unit) of the conversation the visitor's typing goes to: `known` while it is still open, else
    the visitor's open one now (None: nobody to tell). A closed conversation is told nothing."""
    if known is not None and session.scalar(select(Interaction.status).where(Interaction.id == known[0])) == "open":
        return known
    return open_interaction(session, visitor)


def visitor_of(session: Session, interaction_id: int) -> str | None:
    """The visitor address of a web chat interaction (its last visitor message's sender)."""
    return session.scalar(select(Message.sender).where(Message.interaction_id == interaction_id,
                                                       Message.channel == CHANNEL, Message.direction == "inbound")
                          .order_by(Message.id.desc()).limit(1))


def announce_agent_typing(session: Session, principal: Principal, interaction_id: int) -> None:
    """Tell the visitor's widget that an agent is typing on this (visible, open) web chat interaction (not
    stored), for the API's and the console's typing routes (409 interaction_closed once it has ended)."""
    it = interactions.get_visible(session, principal, interaction_id, with_messages=False)
    visitor = visitor_of(session, it.id) if it.channel == CHANNEL else None
    if visitor is None:
        raise NotFound(f"interaction {interaction_id} is not a web chat with a visitor", code="not_webchat")
    if it.status != "open":  # the visitor's widget is not told about a conversation that has ended
        raise interactions.InteractionClosed(f"interaction {interaction_id} is closed")
    with contextlib.suppress(pubsub.HubUnavailable):
        pubsub.current().publish(HUB_CHANNEL, {"visitor": visitor, "typing": True})


# ---- outbound -------------------------------------------------------------------------------------

class WebchatAdapter:
    """Delivers a reply by telling the visitor's open connections (in every process) to read it. A
    visitor who is away reads it when the widget reconnects; a lost notice is caught up the same way."""

    channel = CHANNEL

    def send(self, out: Outbound) -> Sent:
        # A lost notice loses nothing: the message is stored; the widget reads it on its next sync.
        with contextlib.suppress(pubsub.HubUnavailable):
            pubsub.current().publish(HUB_CHANNEL, {"visitor": out.to, "message_id": out.message_id})
        return Sent((provider_id(out.message_id),))


@register(CHANNEL)
def _adapter(settings: Settings) -> WebchatAdapter:
    return WebchatAdapter()
