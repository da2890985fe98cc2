"""WeChat official account (公众号): the callback's URL verification and messages, plain or safe (AES)
mode, through wechatpy; replies through the customer-service message API (客服消息), since the callback
must be answered within 5 seconds ("success" at once) and an agent answers later (within 48 hours).

Inbound: `verify_url` (GET: the SHA1 signature of sorted token/timestamp/nonce, answered with echostr)
and `parse` (POST: signature checked, safe mode decrypted, XML parsed into messages and events).
Outbound: `WeChatAdapter`, talking HTTP to `wechat_api_base` (the real API, a proxy, or a test double)
with an access token fetched with the app id and secret and kept until the API says it expired.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import requests
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import (
    ClickEvent,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    TemplateSendJobFinishEvent,
    UnsubscribeEvent,
    ViewEvent,
)
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException
from wechatpy.messages import ImageMessage, LinkMessage, LocationMessage, TextMessage, VideoMessage, VoiceMessage
from wechatpy.utils import check_signature

from kefu.channels.adapters import (
    BadPayload,
    BadSignature,
    ChannelEvent,
    DeliveryReport,
    Outbound,
    Parsed,
    PermanentFailure,
    Sent,
    TemporaryFailure,
    register,
)
from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings

CHANNEL = "wechat"
# API error codes worth another attempt later: system busy, call frequency limits.
_TEMPORARY_ERRCODES = {-1, 45009, 45047, 45011}


class NotConfigured(BadPayload):
    status = 404
    code = "channel_not_configured"


def _token(settings: Settings) -> str:
    if not settings.wechat_token:
        raise NotConfigured("the WeChat channel is not configured (KEFU_WECHAT_TOKEN)")
    return settings.wechat_token


def verify_url(settings: Settings, *, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
    """The server URL check WeChat makes when the URL is saved: echostr back if the signature holds."""
    _check(settings, signature, timestamp, nonce)
    return echostr


def _check(settings: Settings, signature: str, timestamp: str, nonce: str) -> None:
    try:
        check_signature(_token(settings), signature, timestamp, nonce)
    except InvalidSignatureException:
        raise BadSignature("WeChat signature does not match (token, timestamp, nonce)") from None


def parse(settings: Settings, query: dict[str, str], body: bytes) -> Parsed:
    """One callback POST: check the signature (and in safe mode the message signature, then decrypt),
    parse the XML. Raises BadSignature (403) or BadPayload (400)."""
    _check(settings, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise BadPayload("XML with a document type or entities is not accepted")
    xml: bytes | str = body
    if query.get("encrypt_type") == "aes":
        if not settings.wechat_aes_key or not settings.wechat_app_id:
            raise BadPayload("a safe-mode (AES) message, but no EncodingAESKey is configured")
        crypto = WeChatCrypto(_token(settings), settings.wechat_aes_key, settings.wechat_app_id)
        try:
            xml = crypto.decrypt_message(body, query.get("msg_signature", ""), query.get("timestamp", ""),
                                         query.get("nonce", ""))
        except InvalidSignatureException:
            raise BadSignature("WeChat message signature does not match (safe mode)") from None
        except Exception as exc:  # malformed envelope, wrong key, another app's message
            raise BadPayload(f"cannot decrypt the safe-mode message: {type(exc).__name__}") from None
    try:
        msg = parse_message(xml)
    except Exception as exc:
        raise BadPayload(f"malformed WeChat XML: {type(exc).__name__}: {str(exc)[:120]}") from None
    if msg is None or not msg.source:
        raise BadPayload("WeChat XML without FromUserName")
    try:
        return _parsed(msg)
    except ValueError as exc:  # a numeric field that is not a number (MsgId, CreateTime, MsgID)
        raise BadPayload(f"malformed WeChat XML: {str(exc)[:120]}") from None


def _parsed(msg: Any) -> Parsed:
    sent_at = datetime.fromtimestamp(int(msg.time), UTC) if msg.time else None
    text = _text_of(msg)
    if text is not None:
        if not msg.id:
            raise BadPayload("WeChat message without MsgId")
        return Parsed(messages=[InboundMessage(message_id=str(msg.id), sender=msg.source, text=text,
                                               sent_at=sent_at)])
    if isinstance(msg, TemplateSendJobFinishEvent):
        status = str(msg.status or "")
        return Parsed(reports=[DeliveryReport(provider_id=f"tpl:{msg.id}", delivered=status == "success",
                                              error=None if status == "success" else status[:200], at=sent_at)])
    event = _event_of(msg)
    if event is not None:
        return Parsed(events=[event])
    return Parsed(ignored=[f"unsupported WeChat message type '{msg.type}'"])


def _text_of(msg: Any) -> str | None:
    if isinstance(msg, TextMessage):
        return str(msg.content or "")
    if isinstance(msg, ImageMessage):
        return f"[图片] {msg.image}"
    if isinstance(msg, VoiceMessage):
        said = f" {msg.recognition}" if msg.recognition else ""
        return f"[语音 {msg.media_id}]{said}"
    if isinstance(msg, VideoMessage):
        return f"[视频 {msg.media_id}]"
    if isinstance(msg, LocationMessage):
        return f"[位置] {msg.label or ''} ({msg.location_x}, {msg.location_y})".replace("  ", " ")
    if isinstance(msg, LinkMessage):
        return f"[链接] {msg.title} {msg.url}"
    return None


def _event_of(msg: Any) -> ChannelEvent | None:
    if isinstance(msg, SubscribeScanEvent):
        return ChannelEvent("subscribe", msg.source, {"scene": msg.scene_id})
    if isinstance(msg, SubscribeEvent):
        return ChannelEvent("subscribe", msg.source)
    if isinstance(msg, UnsubscribeEvent):
        return ChannelEvent("unsubscribe", msg.source)
    if isinstance(msg, ClickEvent):
        return ChannelEvent("click", msg.source, {"key": msg.key})
    if isinstance(msg, ViewEvent):
        return ChannelEvent("view", msg.source, {"url": msg.url})
    if isinstance(msg, ScanEvent):
        return ChannelEvent("scan", msg.source, {"scene": msg.scene_id})
    return None


# ---- outbound ----

class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client against a configurable API base (it fetches the token from the real one)."""

    def __init__(self, base: str, appid: str, secret: str, timeout: float) -> None:
        super().__init__(appid, secret, timeout=timeout)
        self.base = base.rstrip("/")
        self.API_BASE_URL = f"{self.base}/cgi-bin/"

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(url=f"{self.base}/cgi-bin/token",
                                        params={"grant_type": "client_credential", "appid": self.appid,
                                                "secret": self.secret})


_clients: dict[tuple[str, str, str], _Client] = {}
_clients_lock = threading.Lock()


class WeChatAdapter:
    channel = CHANNEL

    def __init__(self, settings: Settings) -> None:
        assert settings.wechat_app_id
        assert settings.wechat_app_secret
        key = (settings.wechat_api_base, settings.wechat_app_id, settings.wechat_app_secret.get_secret_value())
        with _clients_lock:  # one client (one cached access token) per account and API base
            if key not in _clients:
                _clients[key] = _Client(*key, timeout=settings.outbound_timeout_seconds)
            self.client = _clients[key]

    def send(self, out: Outbound) -> Sent:
        try:
            if out.notice_kind and out.template_id:
                got = self.client.message.send_template(out.to, out.template_id, template_data(out),
                                                        url=out.link)  # the notice's button (a survey's page)
                return Sent((f"tpl:{got.get('msgid')}",))  # its result comes as TEMPLATESENDJOBFINISH
            self.client.message.send_text(out.to, out.body)
        except WeChatClientException as exc:
            if exc.errcode is None or exc.errcode in _TEMPORARY_ERRCODES:
                raise TemporaryFailure(f"WeChat API {exc.errcode}: {exc.errmsg}") from None
            raise PermanentFailure(f"WeChat API {exc.errcode}: {exc.errmsg}") from None
        except requests.RequestException as exc:
            raise TemporaryFailure(f"WeChat API unreachable: {type(exc).__name__}") from None
        return Sent(())  # the customer-service API reports no message id and no delivery


NOTICE_KINDS = {"handoff": "业务办理提醒", "survey": "满意度调查", "ticket": "工单进度通知"}


def template_data(out: Outbound) -> dict[str, dict[str, str]]:
    """A notice as the data of a service-notice template with the usual fields first / keyword1 (the
    notice's kind) / keyword2 (the ticket or conversation) / remark: the body goes in `first`."""
    return {"first": {"value": out.body}, "keyword1": {"value": NOTICE_KINDS.get(out.notice_kind or "", "服务通知")},
            "keyword2": {"value": out.subject or f"#{out.message_id}"}, "remark": {"value": "如有疑问请回复本公众号。"}}


@register(CHANNEL)
def _adapter(settings: Settings) -> WeChatAdapter | None:
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        return None
    return WeChatAdapter(settings)
