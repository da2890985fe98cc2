"""E-mail: an SMTP ingress (aiosmtpd) and SMTP sending.

Threading: a reply continues the conversation its References (root first) or In-Reply-To name (the
inbound path's `thread_ref`). Never a ticket for mail no person wrote: auto-replies (Auto-Submitted
other than "no", X-Autoreply, Precedence bulk/junk/list), bounces (multipart/report delivery-status, or
a null / MAILER-DAEMON sender: a bounce of a reply kefu sent marks that delivery failed) and loops (our
own X-Kefu-Loop header, or our own address as the sender). Attachments within the size limit and of an
allowed content type are listed in the message; others are refused and named as such.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

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
from kefu.core.db import Database

CHANNEL = "email"
LOOP_HEADER = "X-Kefu-Loop"
_BULK = {"bulk", "junk", "list", "auto_reply"}
_DAEMONS = ("mailer-daemon", "postmaster")


def message_id_for(key: str, settings: Settings) -> str:
    domain = settings.email_from.rpartition("@")[2] or "kefu.local"
    return f"<{key}@{domain}>"


def parse(settings: Settings, raw: bytes) -> Parsed:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:
        raise BadPayload(f"unreadable e-mail: {type(exc).__name__}") from None
    if not msg.keys():
        raise BadPayload("e-mail without headers")
    sender = _address(msg.get("From", ""))
    if msg.get_content_type() == "multipart/report" or not sender or \
            sender.split("@")[0].lower() in _DAEMONS:
        return _bounce(msg)
    if msg.get(LOOP_HEADER) is not None or sender.lower() == settings.email_from.lower():
        return Parsed(ignored=["loop: our own message came back"])
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    if auto != "no" or msg.get("X-Autoreply") or msg.get("X-Autorespond") or \
            str(msg.get("Precedence", "")).strip().lower() in _BULK:
        return Parsed(ignored=[f"auto-reply (Auto-Submitted: {auto}, Precedence: {msg.get('Precedence', '')})"])
    mid = str(msg.get("Message-ID", "")).strip()
    if not mid:
        raise BadPayload("e-mail without a Message-ID")
    refs = str(msg.get("References", "")).split()
    in_reply_to = str(msg.get("In-Reply-To", "")).strip() or None
    thread_ref = refs[0] if refs else in_reply_to
    try:
        sent_at = parsedate_to_datetime(str(msg["Date"])) if msg.get("Date") else None
    except (TypeError, ValueError):
        sent_at = None
    body, notes = _body_and_attachments(settings, msg)
    subject = str(msg.get("Subject", "")).strip()[:200] or None
    return Parsed(messages=[InboundMessage(message_id=mid[:255], sender=sender, text="\n".join([body, *notes]).strip(),
                                           subject=subject, sent_at=sent_at, thread_ref=thread_ref)])


def _address(value: str) -> str:
    found = getaddresses([value])
    return found[0][1].strip() if found else ""


def _body_and_attachments(settings: Settings, msg: EmailMessage) -> tuple[str, list[str]]:
    part = msg.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    if part is not None and part.get_content_type() == "text/html":
        import re

        body = re.sub(r"<[^>]+>", " ", body)
    allowed = {t.strip() for t in settings.email_attachment_types.split(",") if t.strip()}
    notes = []
    for att in msg.iter_attachments():
        name = att.get_filename() or "(未命名)"
        ctype = att.get_content_type()
        size = len(att.get_payload(decode=True) or b"")
        if ctype not in allowed:
            notes.append(f"[附件被拒绝：{name}，类型 {ctype} 不在允许列表]")
        elif size > settings.email_max_attachment_bytes:
            notes.append(f"[附件被拒绝：{name}，{size} 字节超过上限 {settings.email_max_attachment_bytes}]")
        else:
            notes.append(f"[附件：{name}，{ctype}，{size} 字节]")
    return str(body).strip(), notes


def _bounce(msg: EmailMessage) -> Parsed:
    """A delivery status notification: the failed original's Message-ID as a failed delivery report."""
    original = None
    status = "bounced"
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "text/rfc822-headers"):
            payload: Any = part.get_payload()
            inner: Any = payload[0] if isinstance(payload, list) and payload else None
            if inner is not None:
                original = inner.get("Message-ID")
            elif isinstance(payload, str):
                headers = email.message_from_string(payload, policy=email.policy.default)
                original = headers.get("Message-ID")
        elif ctype == "message/delivery-status":
            blocks: Any = part.get_payload() or []
            for block in blocks:
                if block.get("Status"):
                    status = f"{block.get('Action', 'failed')} {block.get('Status')}"
    reports = [DeliveryReport(str(original).strip(), False, status)] if original else []
    return Parsed(reports=reports, ignored=[f"bounce: {status}"])


def smtp_send(settings: Settings, msg: EmailMessage) -> None:
    """Hand one message to the operator's SMTP server (the settings' smtp_*); smtplib's exceptions pass
    through. Also the path of other domains' mail (analytics' scheduled reports)."""
    s = settings
    assert s.smtp_host
    with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.outbound_timeout_seconds) as smtp:
        if s.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if s.smtp_username and s.smtp_password:
            smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
        smtp.send_message(msg)


class SmtpAdapter:
    channel = CHANNEL

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, out: Outbound) -> Sent:
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.email_from
        msg["To"] = out.to
        subject = out.subject or "您的咨询"
        msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        mid = message_id_for(out.key, s)
        msg["Message-ID"] = mid
        if out.thread_ref:
            msg["In-Reply-To"] = out.thread_ref
            msg["References"] = " ".join(out.references or (out.thread_ref,))
        msg[LOOP_HEADER] = "1"
        msg.set_content(out.body)
        try:
            smtp_send(s, msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"SMTP refused the recipient: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            err = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            raise (PermanentFailure(err) if 500 <= exc.smtp_code < 600 else TemporaryFailure(err)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"SMTP server unreachable: {type(exc).__name__}: {exc}") from None
        return Sent((mid,))


@register(CHANNEL)
def _adapter(settings: Settings) -> SmtpAdapter | None:
    return SmtpAdapter(settings) if settings.smtp_host else None


class SmtpIngress:
    """An aiosmtpd handler: each mail DATA parsed and ingested; refused mail kept and answered 550."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from starlette.concurrency import run_in_threadpool

        return str(await run_in_threadpool(self.receive, bytes(envelope.original_content or envelope.content)))

    def receive(self, raw: bytes) -> str:
        from kefu.channels.ingest import ingest, reject
        from kefu.core.errors import InvalidInput, NotFound, PayloadTooLarge

        limit = self.settings.max_message_bytes * 4 + self.settings.email_max_attachment_bytes * 2
        try:
            if len(raw) > limit:
                raise PayloadTooLarge(f"mail is {len(raw)} bytes; the limit is {limit}", code="message_too_large")
            ingest(self.db, self.settings, CHANNEL, parse(self.settings, raw))
        except (InvalidInput, NotFound, PayloadTooLarge) as exc:
            reject(self.db, self.settings, CHANNEL, status=exc.status, reason=f"{exc.code}: {exc.message}",
                   payload=raw)
            return f"550 {exc.code}: {exc.message}"[:500]
        return "250 OK"
