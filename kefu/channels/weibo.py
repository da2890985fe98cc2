"""Weibo (微博) through the fans-service platform's push (粉丝服务平台 消息推送), inbound.

The platform checks the callback URL with GET `signature`, `timestamp`, `nonce`, `echostr` (signature =
SHA1 of the app secret, timestamp and nonce sorted and joined) and then POSTs each event as JSON with the
same three query parameters:

    {"type": "text" | "image" | "voice" | "position" | "event" | "mention", "receiver_id": <account uid>,
     "sender_id": <uid>, "created_at": "Mon Jul 16 18:09:20 +0800 2012", "text": "...", "data": {...}}

A private message (text, image, voice, position) is a customer's message; `event` (follow, unfollow,
subscribe, unsubscribe, scan) is a channel event. A `mention` is a public post or comment naming the
account (data.subtype "status" or "comment", data.key its id): visible to everyone and to the media
(舆情), so its ticket is raised to at least high priority and the event `channel.public_mention` is
recorded. The app secret is the unit's console configuration (kefu.channels.config, `weibo_app_secret`).

Outbound: `WeiboAdapter`, the customer-service message API (客服消息, `POST <weibo_api_base>/2/messages/
reply.json?access_token=`, form-encoded `receiver_id`, `type=text`, `data` = the JSON {"text": ...}, and
`save_sender_box`): a private message to the customer, within 48 hours of their last message (once for
a mention), never after they unfollowed. A text has fewer than 300 characters; a longer reply is sent as
several, one request each. The API answers {"result": true, ...} (no message id, no delivery report: a reply
it took is "sent") or {"error", "error_code", "request"}: system errors and rate limits (1xxxx) are tried
again, the rest (window closed, unknown receiver) fail for good. Each text taken is kept as a part of the
delivery (`part_id`: the delivery's key and the text's place), also when a later text fails, so that a retry
sends only the texts the customer does not have yet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx

from kefu.channels.adapters import (
    BadPayload,
    BadSignature,
    ChannelEvent,
    Outbound,
    Parsed,
    PermanentFailure,
    SendFailure,
    Sent,
    TemporaryFailure,
    register,
)
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings

CHANNEL = "weibo"
_MESSAGES = {"text", "image", "voice", "position"}
_EVENTS = {"follow", "unfollow", "subscribe", "unsubscribe", "scan", "scan_follow", "click"}


class NotConfigured(BadPayload):
    status = 404
    code = "channel_not_configured"


def check_signature(secret: str | None, signature: str, timestamp: str, nonce: str) -> None:
    if not secret:
        raise NotConfigured("the Weibo channel is not configured (weibo_app_secret on the console)")
    want = hashlib.sha1("".join(sorted([secret, timestamp, nonce])).encode()).hexdigest()
    if not signature or not hmac.compare_digest(want, signature):
        raise BadSignature("Weibo signature does not match (app secret, timestamp, nonce)")


def parse(body: bytes) -> tuple[Parsed, list[dict[str, Any]]]:
    """The push's JSON into messages and events, and the public mentions among the messages
    ({"message_id", "subtype", "key"}). BadPayload when it is not the platform's format."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise BadPayload("Weibo push is not JSON") from None
    if not isinstance(doc, dict):
        raise BadPayload("Weibo push is not a JSON object")
    kind, sender, text = doc.get("type"), doc.get("sender_id"), doc.get("text")
    data: dict[str, Any] = doc["data"] if isinstance(doc.get("data"), dict) else {}
    if not isinstance(kind, str) or not isinstance(sender, int | str) or not str(sender).strip():
        raise BadPayload("Weibo push without type or sender_id")
    sender = str(sender)
    sent_at = _time(doc.get("created_at"))
    if kind == "event":
        name = str(data.get("subtype") or "")
        if name not in _EVENTS:
            return Parsed(ignored=[f"unsupported Weibo event '{name[:32]}'"]), []
        return Parsed(events=[ChannelEvent(name, sender, {"key": str(data.get("key") or "")[:128]})]), []
    if kind not in _MESSAGES and kind != "mention":
        return Parsed(ignored=[f"unsupported Weibo message type '{kind[:32]}'"]), []
    body_text = _text(kind, text, data)
    key = str(data.get("key") or data.get("id") or data.get("vfid") or "")
    digest = hashlib.sha1(body_text.encode()).hexdigest()[:12]
    mid = f"{kind}:{key}" if key else f"{kind}:{sender}:{doc.get('created_at')}:{digest}"
    msg = InboundMessage(message_id=mid[:255], sender=sender, text=body_text, sent_at=sent_at,
                         subject=("微博公开提及：" + body_text)[:40] if kind == "mention" else None)
    mentions = [{"message_id": msg.message_id, "subtype": str(data.get("subtype") or "status"), "key": key}] \
        if kind == "mention" else []
    return Parsed(messages=[msg]), mentions


def _text(kind: str, text: Any, data: dict[str, Any]) -> str:
    if kind == "position":
        return f"[位置] {data.get('longitude', '')}, {data.get('latitude', '')}"
    if kind in ("image", "voice"):
        label = "图片" if kind == "image" else "语音"
        return f"[{label} {data.get('vfid') or data.get('tovfid') or ''}]".replace(" ]", "]")
    if not isinstance(text, str) or not text.strip():
        raise BadPayload(f"Weibo {kind} without text")
    return text


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


# ---- outbound ----

TEXT_LIMIT = 299  # characters of one private message (fewer than 300)
# Error codes worth another attempt: system error, service unavailable, too many pending tasks, the IP's,
# the user's and the user's per-API rate limits; an expired or invalid access token (set a new one).
_TEMPORARY = {10001, 10002, 10009, 10022, 10023, 10024, 21327, 21332}


def chunks(text: str, size: int = TEXT_LIMIT) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class WeiboAdapter:
    channel = CHANNEL

    def __init__(self, settings: Settings) -> None:
        assert settings.weibo_access_token
        self.url = settings.weibo_api_base.rstrip("/") + "/2/messages/reply.json"
        self.token = settings.weibo_access_token.get_secret_value()
        self.timeout = settings.outbound_timeout_seconds

    def send(self, out: Outbound) -> Sent:
        if not out.to.isdigit():
            raise PermanentFailure(f"not a Weibo user id: {out.to[:40]!r}")
        texts = chunks(out.body)
        ids = tuple(part_id(out.key, i, len(texts)) for i in range(1, len(texts) + 1))
        done = set(out.sent_parts)
        accepted: list[str] = []
        for pid, part in zip(ids, texts, strict=True):
            if pid in done:  # taken by an earlier attempt: the customer has it
                continue
            form = {"receiver_id": out.to, "type": "text", "save_sender_box": "1",
                    "data": json.dumps({"text": part}, ensure_ascii=False)}
            try:
                try:
                    r = httpx.post(self.url, params={"access_token": self.token}, data=form,
                                   timeout=self.timeout)
                except httpx.HTTPError as exc:
                    raise TemporaryFailure(f"Weibo API unreachable: {type(exc).__name__}") from None
                _check(r)
            except SendFailure as exc:
                exc.accepted = tuple(accepted)
                raise
            accepted.append(pid)
        return Sent(ids)


def part_id(key: str, seq: int, total: int) -> str:
    """kefu's id of one text of a reply (the API names no message): the delivery's key and the text's place."""
    return f"{key}:{seq}/{total}"


def _check(r: httpx.Response) -> None:
    try:
        doc = r.json()
    except ValueError:
        doc = {}
    if r.status_code == 200 and isinstance(doc, dict) and doc.get("result") is True:
        return
    code = doc.get("error_code") if isinstance(doc, dict) else None
    what = f"Weibo API {r.status_code} {code}: {str(doc.get('error') if isinstance(doc, dict) else r.text)[:200]}"
    if r.status_code >= 500 or r.status_code == 429 or code in _TEMPORARY or code is None:
        raise TemporaryFailure(what)
    raise PermanentFailure(what)


@register(CHANNEL)
def _adapter(settings: Settings) -> WeiboAdapter | None:
    return WeiboAdapter(settings) if settings.weibo_access_token else None
