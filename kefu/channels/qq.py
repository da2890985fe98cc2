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
configuration (kefu.channels.config: `qq_app_id`, `qq_bot_secret`). No outbound side.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kefu.channels.adapters import BadPayload, BadSignature, Parsed
from kefu.channels.inbound import InboundMessage

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
                         thread_ref=str(d.get("group_openid") or d.get("channel_id") or "")[:255] or None)
    mentions = [{"message_id": msg.message_id, "subtype": "group", "key": msg.thread_ref or ""}] if group else []
    return Parsed(messages=[msg]), mentions
