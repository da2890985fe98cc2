"""QQ (the QQ bot open platform's webhook, QQ机器人 开放平台 回调), inbound, in channel "im".

Every callback is signed with Ed25519: the key's seed is the bot secret repeated to 32 bytes; headers
`X-Signature-Ed25519` (hex) over `X-Signature-Timestamp` + the raw body. Payloads are
`{"id", "op", "d", "s", "t"}`:

- op 13, the callback URL check: d = {"plain_token", "event_ts"}, answered
  {"plain_token", "signature": hex(sign(event_ts + plain_token))};
- op 0, an event, t one of C2C_MESSAGE_CREATE (a private message: d.author.user_openid), GROUP_AT_MESSAGE_CREATE
  (the bot @-mentioned in a group: d.author.member_openid, d.group_openid), DIRECT_MESSAGE_CREATE /
  AT_MESSAGE_CREATE (guild channels: d.author.id); d.id the message id, d.content, d.timestamp (ISO 8601).
  Answered {"op": 12} (the HTTP callback ACK).

A group mention is visible to the group's members: flagged like a Weibo mention (`channel.public_mention`,
not raised in priority: a group is not the public). The bot secret and app id are the unit's console
configuration (kefu.channels.config: `qq_app_id`, `qq_bot_secret`).

Outbound: `QQAdapter`, the bot OpenAPI (`qq_api_base`) with the header `Authorization: QQBot <token>`, the
token from `POST <qq_auth_base>/app/getAppAccessToken` {"appId", "clientSecret"} (kept until it expires or
the API answers 401). The conversation decides the endpoint: a private chat `POST /v2/users/{openid}/
messages`, a group `/v2/groups/{group_openid}/messages` (both {"content", "msg_type": 0, "msg_id"?,
"msg_seq"}), a guild channel `/channels/{channel_id}/messages`, a guild DM `/dms/{guild_id}/messages`
({"content", "msg_id"?}). A reply within the passive window of the message answered (60 minutes in a
private chat, 5 in a group) names its `msg_id` and is free; later it is an active message, which the
platform limits per user a month. `msg_seq` comes from the delivery's idempotency key, so a repeated
attempt is dropped by the platform as a duplicate (code 40054005), which counts as sent. The answer
{"id", "timestamp"} names the message; there are no delivery reports.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kefu.channels.adapters import (
    BadPayload,
    BadSignature,
    Outbound,
    Parsed,
    PermanentFailure,
    Sent,
    TemporaryFailure,
    register,
)
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings

CHANNEL = "im"
_PRIVATE = {"C2C_MESSAGE_CREATE", "DIRECT_MESSAGE_CREATE"}
_GROUP = {"GROUP_AT_MESSAGE_CREATE", "AT_MESSAGE_CREATE"}


class NotConfigured(BadPayload):
    status = 404
    code = "channel_not_configured"


def key_of(secret: str) -> Ed25519PrivateKey:
    seed = secret
    while len(seed) < 32:
        seed *= 2
    return Ed25519PrivateKey.from_private_bytes(seed[:32].encode())


def sign(secret: str, message: bytes) -> str:
    return key_of(secret).sign(message).hex()


def verify(secret: str | None, signature: str, timestamp: str, body: bytes) -> None:
    if not secret:
        raise NotConfigured("the QQ channel is not configured (qq_bot_secret on the console)")
    try:
        key_of(secret).public_key().verify(bytes.fromhex(signature), timestamp.encode() + body)
    except (InvalidSignature, ValueError):
        raise BadSignature("QQ signature does not match (Ed25519 over timestamp + body)") from None


def validation_answer(secret: str, body: bytes) -> dict[str, str] | None:
    """The answer to the callback URL check (op 13), or None when the payload is not one."""
    doc = _doc(body)
    if doc.get("op") != 13:
        return None
    d: dict[str, Any] = doc["d"] if isinstance(doc.get("d"), dict) else {}
    plain, ts = d.get("plain_token"), d.get("event_ts")
    if not isinstance(plain, str) or not isinstance(ts, str):
        raise BadPayload("QQ validation without plain_token or event_ts")
    return {"plain_token": plain, "signature": sign(secret, (ts + plain).encode())}


def _doc(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        raise BadPayload("QQ callback is not JSON") from None
    if not isinstance(doc, dict):
        raise BadPayload("QQ callback is not a JSON object")
    return doc


def parse(body: bytes) -> tuple[Parsed, list[dict[str, Any]]]:
    """An op 0 event into a message (and the group mentions among them)."""
    doc = _doc(body)
    if doc.get("op") != 0:
        raise BadPayload(f"QQ callback with op {str(doc.get('op'))[:8]} (0 or 13 expected)")
    kind, d = doc.get("t"), doc.get("d")
    if not isinstance(d, dict) or not isinstance(kind, str):
        raise BadPayload("QQ event without t or d")
    if kind not in _PRIVATE | _GROUP:
        return Parsed(ignored=[f"unsupported QQ event '{kind[:40]}'"]), []
    author: dict[str, Any] = d["author"] if isinstance(d.get("author"), dict) else {}
    sender = author.get("user_openid") or author.get("member_openid") or author.get("id")
    mid, content = d.get("id"), d.get("content")
    if not isinstance(sender, str) or not isinstance(mid, str) or not isinstance(content, str):
        raise BadPayload("QQ message without author, id or content")
    if not content.strip():
        raise BadPayload("QQ message without text")
    sent_at = None
    if isinstance(d.get("timestamp"), str):
        try:
            sent_at = datetime.fromisoformat(d["timestamp"])
        except ValueError:
            sent_at = None
    group = kind in _GROUP
    msg = InboundMessage(message_id=mid[:255], sender=sender, text=content.strip(), sent_at=sent_at,
                         thread_ref=_conversation(kind, d))
    key = str(d.get("group_openid") or d.get("channel_id") or "")[:128]
    mentions = [{"message_id": msg.message_id, "subtype": "group", "key": key}] if group else []
    return Parsed(messages=[msg]), mentions


def _conversation(kind: str, d: dict[str, Any]) -> str | None:
    """Where a reply goes, other than the sender's private chat: "group:", "channel:" or "dms:" + its id."""
    where = {"GROUP_AT_MESSAGE_CREATE": ("group", "group_openid"), "AT_MESSAGE_CREATE": ("channel", "channel_id"),
             "DIRECT_MESSAGE_CREATE": ("dms", "guild_id")}.get(kind)
    if where is None or not isinstance(d.get(where[1]), str) or not d[where[1]]:
        return None
    return f"{where[0]}:{d[where[1]]}"[:255]


# ---- outbound ----

PASSIVE_WINDOW = {"user": 3600.0, "group": 300.0, "channel": 300.0, "dms": 300.0}
DUPLICATE = 40054005  # the platform's code for a message dropped as a repeat of msg_id + msg_seq


class _Tokens:
    """The access token of each bot, shared by the process's adapters, fetched again when it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def get(self, url: str, app_id: str, secret: str, timeout: float) -> str:
        with self._lock:
            got = self._tokens.get((url, app_id))
            if got is not None and got[1] > time.monotonic():
                return got[0]
        try:
            r = httpx.post(url, json={"appId": app_id, "clientSecret": secret}, timeout=timeout)
            doc = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TemporaryFailure(f"QQ token endpoint unreachable: {type(exc).__name__}") from None
        token = doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise TemporaryFailure(f"QQ token refused (check qq_app_id and qq_bot_secret): {r.text[:200]}")
        ttl = int(doc.get("expires_in") or 60)
        with self._lock:
            self._tokens[(url, app_id)] = (token, time.monotonic() + max(ttl - 60, 1))
        return token

    def drop(self, url: str, app_id: str) -> None:
        with self._lock:
            self._tokens.pop((url, app_id), None)


tokens = _Tokens()


def target(out: Outbound) -> tuple[str, str]:
    """(the conversation's kind, the API path) a reply goes to."""
    kind, _, ref = (out.conversation or "").partition(":")
    if kind == "group" and ref:
        return kind, f"/v2/groups/{ref}/messages"
    if kind == "channel" and ref:
        return kind, f"/channels/{ref}/messages"
    if kind == "dms" and ref:
        return kind, f"/dms/{ref}/messages"
    return "user", f"/v2/users/{out.to}/messages"


def body_of(out: Outbound) -> dict[str, Any]:
    kind, _ = target(out)
    passive = (out.notice_kind is None and out.thread_ref is not None and out.thread_age is not None
               and out.thread_age < PASSIVE_WINDOW[kind])
    body: dict[str, Any] = {"content": out.body}
    if kind in ("user", "group"):
        body.update(msg_type=0, msg_seq=int(out.key[:6], 16) % 65535 + 1)
    if passive:
        body["msg_id"] = out.thread_ref
    return body


class QQAdapter:
    channel = CHANNEL

    def __init__(self, settings: Settings) -> None:
        assert settings.qq_app_id
        assert settings.qq_bot_secret
        self.app_id, self.secret = settings.qq_app_id, settings.qq_bot_secret.get_secret_value()
        self.api = settings.qq_api_base.rstrip("/")
        self.token_url = settings.qq_auth_base.rstrip("/") + "/app/getAppAccessToken"
        self.timeout = settings.outbound_timeout_seconds

    def send(self, out: Outbound) -> Sent:
        _, path = target(out)
        body = body_of(out)
        r = self._post(path, body)
        if r.status_code == 401:  # the token expired early or was revoked: a new one, once
            tokens.drop(self.token_url, self.app_id)
            r = self._post(path, body)
        try:
            doc = r.json()
        except ValueError:
            doc = {}
        doc = doc if isinstance(doc, dict) else {}
        if r.status_code < 300 and isinstance(doc.get("id"), str):
            return Sent((doc["id"],))
        if doc.get("code") == DUPLICATE or doc.get("err_code") == DUPLICATE:
            return Sent(())  # sent by an earlier attempt whose outcome was not recorded
        what = f"QQ API {r.status_code} {doc.get('code')}: {str(doc.get('message') or r.text)[:200]}"
        if r.status_code >= 500 or r.status_code in (401, 429) or r.status_code < 300:
            raise TemporaryFailure(what)
        raise PermanentFailure(what)

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        token = tokens.get(self.token_url, self.app_id, self.secret, self.timeout)
        try:
            return httpx.post(self.api + path, json=body, headers={"Authorization": f"QQBot {token}"},
                              timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"QQ API unreachable: {type(exc).__name__}") from None


@register(CHANNEL)
def _adapter(settings: Settings) -> QQAdapter | None:
    return QQAdapter(settings) if settings.qq_app_id and settings.qq_bot_secret else None
