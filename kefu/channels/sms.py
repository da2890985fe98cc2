"""SMS: long messages split and reassembled (concatenated SMS, UDH 05 00 03), an HTTP SMS gateway
adapter (MO messages and delivery reports posted to kefu; submissions posted to the gateway), and the
choice between it and CMPP (kefu.channels.cmpp) by `sms_transport`.

A short message holds 70 UCS-2 characters (160 in the GSM 7-bit alphabet); a longer one is sent as
parts of 67 (153) characters, each with a user data header naming the reference, the part count and
the part's number, which the handset (and kefu, inbound) puts back together.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kefu.channels.adapters import (
    BadPayload,
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

CHANNEL = "sms"
UCS2_SINGLE, UCS2_PART = 70, 67
GSM_SINGLE, GSM_PART = 160, 153
# The GSM 03.38 basic alphabet (what a 7-bit SMS carries without escapes).
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
DELIVERED = "DELIVRD"


def is_gsm(text: str) -> bool:
    return all(c in _GSM for c in text)


def split(text: str) -> list[str]:
    """The parts a message is sent as: one when it fits (70 UCS-2 / 160 GSM characters), else parts of
    67 / 153 characters. Characters outside the BMP count as two UCS-2 units and are never cut."""
    single, part = (GSM_SINGLE, GSM_PART) if is_gsm(text) else (UCS2_SINGLE, UCS2_PART)
    if _units(text) <= single:
        return [text]
    parts: list[str] = []
    cur: list[str] = []
    size = 0
    for ch in text:
        w = 2 if ord(ch) > 0xFFFF else 1
        if size + w > part:
            parts.append("".join(cur))
            cur, size = [], 0
        cur.append(ch)
        size += w
    parts.append("".join(cur))
    return parts


def _units(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def udh(ref: int, total: int, seq: int) -> bytes:
    """The concatenation header: IEI 00 (8-bit reference), length 3, reference, total, sequence."""
    return bytes([5, 0, 3, ref & 0xFF, total, seq])


def parse_udh(data: bytes) -> tuple[tuple[int, int, int] | None, bytes]:
    """(reference, total, seq) of a concatenation header (8- or 16-bit reference), and the rest."""
    if not data:
        raise BadPayload("user data header flag set but no data")
    n = data[0]
    if len(data) < n + 1:
        raise BadPayload("user data header longer than the message")
    header, rest = data[1:n + 1], data[n + 1:]
    i = 0
    while i + 1 < len(header):
        iei, ln = header[i], header[i + 1]
        v = header[i + 2:i + 2 + ln]
        if iei == 0 and ln == 3 and len(v) == 3:
            return (v[0], v[1], v[2]), rest
        if iei == 8 and ln == 4 and len(v) == 4:
            return ((v[0] << 8) | v[1], v[2], v[3]), rest
        i += 2 + ln
    return None, rest


@dataclass(frozen=True)
class Fragment:
    """One part of a concatenated inbound SMS (stored until its siblings arrive; kefu.channels.ingest)."""

    message_id: str
    sender: str
    ref: int
    total: int
    seq: int
    text: str
    sent_at: datetime | None = None


def assemble(parts: list[Fragment]) -> InboundMessage | None:
    """The whole message when every part of a reference is there (any order), else None."""
    if not parts:
        return None
    total = parts[0].total
    by_seq = {p.seq: p for p in parts if p.total == total}
    if set(by_seq) != set(range(1, total + 1)):
        return None
    first = by_seq[1]
    return InboundMessage(message_id=first.message_id, sender=first.sender,
                          text="".join(by_seq[i].text for i in range(1, total + 1)), sent_at=first.sent_at)


def assemble_partial(parts: list[Fragment]) -> InboundMessage:
    """What arrived of a message whose other parts never came: the parts in order, each gap marked."""
    total = max(p.total for p in parts)
    by_seq = {p.seq: p for p in parts}
    first = by_seq[min(by_seq)]
    text = "".join(by_seq[i].text if i in by_seq else f"[第{i}段缺失]" for i in range(1, total + 1))
    return InboundMessage(message_id=first.message_id, sender=first.sender, text=text, sent_at=first.sent_at)


# ---- the HTTP gateway's formats ----

def national(e164: str) -> str:
    """The number as Chinese gateways take it: 13812345678 for +8613812345678."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


class _Concat(BaseModel):
    ref: int = Field(ge=0, le=0xFFFF)
    total: int = Field(ge=1, le=255)
    seq: int = Field(ge=1, le=255)


class _Mo(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    msg_id: str = Field(min_length=1, max_length=128)
    mobile: str = Field(min_length=1, max_length=32)
    content: str
    time: datetime | None = None
    concat: _Concat | None = None


class _MoBatch(BaseModel):
    messages: list[_Mo] = Field(min_length=1, max_length=500)


class _Report(BaseModel):
    msg_id: str = Field(min_length=1, max_length=128)
    status: str = Field(min_length=1, max_length=16)  # DELIVRD or an error code (UNDELIV, EXPIRED, ...)
    time: datetime | None = None


class _ReportBatch(BaseModel):
    reports: list[_Report] = Field(min_length=1, max_length=1000)


def _load(model: type[BaseModel], raw: bytes) -> Any:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "body"
        raise BadPayload(f"invalid SMS gateway payload at {where}: {first.get('msg')}") from None


def parse_mo(raw: bytes) -> Parsed:
    """The gateway's MO post: {"messages": [{"msg_id", "mobile", "content", "time"?, "concat"?: {"ref",
    "total", "seq"}}]}; a part with `concat` waits for its siblings."""
    batch: _MoBatch = _load(_MoBatch, raw)
    out = Parsed()
    for m in batch.messages:
        if m.concat is not None and m.concat.total > 1:
            if m.concat.seq > m.concat.total:
                raise BadPayload(f"part {m.concat.seq} of {m.concat.total}")
            out.fragments.append(Fragment(m.msg_id, m.mobile, m.concat.ref, m.concat.total, m.concat.seq,
                                          m.content, m.time))
        else:
            out.messages.append(InboundMessage(message_id=m.msg_id, sender=m.mobile, text=m.content, sent_at=m.time))
    return out


def parse_reports(raw: bytes) -> Parsed:
    """The gateway's delivery reports: {"reports": [{"msg_id", "status": "DELIVRD" | error, "time"?}]}."""
    batch: _ReportBatch = _load(_ReportBatch, raw)
    return Parsed(reports=[DeliveryReport(r.msg_id, r.status == DELIVERED,
                                          None if r.status == DELIVERED else r.status, r.time)
                           for r in batch.reports])


_refs = itertools.count(1)
_refs_lock = threading.Lock()


def next_ref() -> int:
    with _refs_lock:
        return next(_refs) % 256


class HttpGatewayAdapter:
    """Submits to `sms_gateway_url` + "/send": {"mobile", "client_ref" (the idempotency key), "parts":
    [{"content", "concat"?}]}; the gateway answers {"msg_ids": [one per part]}."""

    channel = CHANNEL

    def __init__(self, settings: Settings) -> None:
        assert settings.sms_gateway_url
        self.url = settings.sms_gateway_url.rstrip("/") + "/send"
        token = settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else ""
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = settings.outbound_timeout_seconds

    def send(self, out: Outbound) -> Sent:
        parts = split(out.body)
        ref = next_ref()
        body = {"mobile": national(out.to), "client_ref": out.key,
                "parts": [{"content": p, **({"concat": {"ref": ref, "total": len(parts), "seq": i}}
                                            if len(parts) > 1 else {})}
                          for i, p in enumerate(parts, 1)]}
        try:
            r = httpx.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"SMS gateway unreachable: {type(exc).__name__}") from None
        if r.status_code >= 500 or r.status_code == 429:
            raise TemporaryFailure(f"SMS gateway {r.status_code}: {r.text[:200]}")
        if r.status_code >= 400:
            raise PermanentFailure(f"SMS gateway {r.status_code}: {r.text[:200]}")
        ids = r.json().get("msg_ids")
        if not isinstance(ids, list) or len(ids) != len(parts):
            raise TemporaryFailure(f"SMS gateway answered without one id per part: {r.text[:200]}")
        return Sent(tuple(str(i) for i in ids))


@register(CHANNEL)
def _adapter(settings: Settings) -> Any:
    if settings.sms_transport == "cmpp":
        from kefu.channels.cmpp import CmppAdapter

        return CmppAdapter(settings) if settings.cmpp_host else None
    return HttpGatewayAdapter(settings) if settings.sms_gateway_url else None
