"""The one interface every channel adapter implements, and the adapter of each channel.

An adapter speaks one provider's protocol:

- inbound: `parse(request)` turns the provider's payload (WeChat XML, an SMS gateway's MO post, an
  e-mail) into `Parsed`: the messages for the generic inbound path (kefu.channels.inbound.receive),
  the delivery reports of messages kefu sent, and channel events that are not messages (a WeChat
  subscription). A payload it cannot accept raises `BadPayload` (a clear 4xx; the caller keeps it as
  an inbound rejection and creates nothing);
- outbound: `send(Outbound)` hands one reply to the provider and returns the provider's ids (one per
  part), or raises `TemporaryFailure` (retried with back-off) or `PermanentFailure` (marked failed),
  naming the parts it had sent before the failure (`accepted`); a retry is given them (`Outbound.sent_parts`);
- delivery status: reports come back inbound (`Parsed.reports`) and are applied by kefu.channels.outbound.

`adapter_for(settings, channel)` gives the configured adapter of a channel, or None when the channel
has no outbound side configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kefu.channels.inbound import InboundMessage
from kefu.core.config import Settings
from kefu.core.errors import InvalidInput


@dataclass(frozen=True)
class Outbound:
    """One reply to deliver."""

    message_id: int
    channel: str
    to: str  # the recipient's address as the customers domain stores it (E.164, openid, e-mail)
    body: str
    key: str  # idempotency key, the same for every attempt
    subject: str | None = None
    thread_ref: str | None = None  # e-mail: the Message-ID answered
    references: tuple[str, ...] = ()
    notice_kind: str | None = None  # a notice kefu sends on its own (not an agent's reply): its kind
    template_id: str | None = None  # WeChat: the template message for notices (the unit's configuration)
    link: str | None = None  # a notice's link (a survey's answer page): the template message's button (url)
    conversation: str | None = None  # the conversation's reference on the provider (a QQ group: "group:<openid>")
    thread_age: float | None = None  # seconds since the message answered (thread_ref) arrived (reply windows)
    # The provider ids of the parts an earlier attempt had accepted before it failed (a long Weibo reply is
    # sent text by text): an adapter that sends parts one by one sends only the others.
    sent_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sent:
    provider_ids: tuple[str, ...]  # one per provider message (a long SMS is several)


@dataclass(frozen=True)
class DeliveryReport:
    provider_id: str
    delivered: bool
    error: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class ChannelEvent:
    """Something a channel reports that is not a customer's message (WeChat subscribe, menu click)."""

    name: str  # e.g. "subscribe", "unsubscribe", "click", "scan"
    sender: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    reports: list[DeliveryReport] = field(default_factory=list)
    events: list[ChannelEvent] = field(default_factory=list)
    # Parts of concatenated SMS (kefu.channels.sms.Fragment), reassembled when all have arrived.
    fragments: list[Any] = field(default_factory=list)
    # A message swallowed without a ticket (an auto-reply, a bounce), with the reason: kept visible.
    ignored: list[str] = field(default_factory=list)


class BadPayload(InvalidInput):
    """The provider's payload cannot be accepted (bad signature, malformed XML, missing fields)."""

    status = 400
    code = "bad_payload"


class BadSignature(BadPayload):
    status = 403
    code = "bad_signature"


class SendFailure(Exception):
    """`accepted`: the provider ids of the parts the provider took in this attempt before it failed (kept
    on the delivery, so that the next attempt does not send them again)."""

    def __init__(self, message: str, *, accepted: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.accepted = accepted


class TemporaryFailure(SendFailure):
    """The provider could not take the message now (network, 5xx, rate limit): try again later."""


class PermanentFailure(SendFailure):
    """The provider refused the message for good (unknown recipient, window closed): do not retry."""


class Adapter(Protocol):
    channel: str

    def send(self, out: Outbound) -> Sent: ...


AdapterFactory = Callable[[Settings], "Adapter | None"]
_FACTORIES: dict[str, AdapterFactory] = {}


def register(channel: str) -> Callable[[AdapterFactory], AdapterFactory]:
    """Declare the factory building `channel`'s adapter from the settings (None: not configured)."""

    def deco(fn: AdapterFactory) -> AdapterFactory:
        _FACTORIES[channel] = fn
        return fn

    return deco


# Tests and benchmarks put an adapter in place of the configured one (a fake at the edge).
_overrides: dict[str, Adapter] = {}


def override(channel: str, adapter: Adapter | None) -> None:
    if adapter is None:
        _overrides.pop(channel, None)
    else:
        _overrides[channel] = adapter


def adapter_for(settings: Settings, channel: str) -> Adapter | None:
    if channel in _overrides:
        return _overrides[channel]
    _load()
    factory = _FACTORIES.get(channel)
    return factory(settings) if factory is not None else None


def _load() -> None:
    # The adapters register themselves on import; imported here so that a job process finds them.
    import importlib

    for name in ("wechat", "sms", "email", "webchat", "weibo", "qq", "app"):
        try:
            importlib.import_module(f"kefu.channels.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kefu.channels.{name}":
                raise
