"""E-mail by IMAP polling: the unseen mail of a mailbox, each through the same parse and ingest as the
SMTP ingress (kefu.channels.email: threading, auto-replies and bounces, attachments), then marked seen.

Never lost, never twice: a mail is marked \\Seen only after it was stored (or kept as an inbound rejection);
a poll interrupted in between finds it unseen again, and the inbound path stores a Message-ID once.
The mailbox of each org unit is its e-mail configuration on the console (kefu.channels.config:
`imap_host`, `imap_port`, `imap_username`, `imap_password`, `imap_ssl`, `imap_mailbox`, `imap_ca_file`: over
SSL (IMAPS) the server's certificate and host name are verified, against the system's CAs or this PEM file
for a mail server with a certificate of the operator's own CA); the listener
`kefu channels imap-poll [--every 60]` polls each configured one (like `smtp-ingress` and `cmpp-listen`,
a long-running process of its own: each mail is its own transaction, which a job's cannot be).
"""

from __future__ import annotations

import imaplib
import json
import ssl
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from kefu.channels import config, email
from kefu.channels.ingest import ingest, reject
from kefu.channels.models import ChannelConfig
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.errors import InvalidInput, NotFound, PayloadTooLarge
from kefu.org import service as org

BATCH = 200  # mails per poll at most


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    username: str
    password: str
    ssl: bool = False
    mailbox: str = "INBOX"
    org_code: str | None = None  # the unit the mail goes to
    ca_file: str | None = None  # the CA (PEM) the server's certificate is checked against; None: the system's


@dataclass
class Polled:
    stored: int = 0
    refused: int = 0


def mailbox_of(extras: dict[str, Any], org_code: str | None = None) -> Mailbox | None:
    if not extras.get("imap_host") or not extras.get("imap_username") or not extras.get("imap_password"):
        return None
    ssl = bool(extras.get("imap_ssl"))
    return Mailbox(str(extras["imap_host"]), int(extras.get("imap_port") or (993 if ssl else 143)),
                   str(extras["imap_username"]), str(extras["imap_password"]), ssl,
                   str(extras.get("imap_mailbox") or "INBOX"), org_code, str(extras.get("imap_ca_file") or "") or None)


def poll(db: Database, settings: Settings, box: Mailbox, *, timeout: float = 30.0) -> Polled:
    out = Polled()
    c: imaplib.IMAP4
    if box.ssl:  # the server's certificate and name are checked (the system's CAs, or the mailbox's CA file)
        c = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=ssl.create_default_context(cafile=box.ca_file),
                              timeout=timeout)
    else:
        c = imaplib.IMAP4(box.host, box.port, timeout=timeout)
    with c:
        c.login(box.username, box.password)
        typ, _ = c.select(_quoted(box.mailbox))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot select mailbox {box.mailbox!r}")
        _, found = c.uid("SEARCH", "UNSEEN")
        for uid in (u.decode() for u in (found[0] or b"").split()[:BATCH]):
            _, parts = c.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if raw is None:
                continue
            if receive(db, settings, bytes(raw), box.org_code):
                out.stored += 1
            else:
                out.refused += 1
            c.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        c.logout()
    return out


def receive(db: Database, settings: Settings, raw: bytes, org_code: str | None) -> bool:
    """One mail through the e-mail adapter's parse and the inbound path, placed in the mailbox's unit;
    False when refused (kept as an inbound rejection)."""
    limit = settings.max_message_bytes * 4 + settings.email_max_attachment_bytes * 2
    try:
        if len(raw) > limit:
            raise PayloadTooLarge(f"mail is {len(raw)} bytes; the limit is {limit}", code="message_too_large")
        parsed = email.parse(settings, raw)
        if org_code:
            parsed.messages = [m.model_copy(update={"org_unit_code": org_code}) for m in parsed.messages]
        ingest(db, settings, email.CHANNEL, parsed)
    except (InvalidInput, NotFound, PayloadTooLarge) as exc:
        reject(db, settings, email.CHANNEL, status=exc.status, reason=f"{exc.code}: {exc.message}", payload=raw)
        return False
    return True


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def configured(db: Database, settings: Settings) -> list[tuple[int, Mailbox]]:
    """Each org unit with a mailbox of its own on the console."""
    with db.session() as s:
        units = [r.org_unit_id for r in s.scalars(select(ChannelConfig).where(ChannelConfig.channel == "email"))
                 if json.loads(r.values).get("imap_host")]
        codes = {u.id: u.code for u in org.units(s, units)}
        boxes = [(u, mailbox_of(config.extras_for(s, "email", u, settings), codes.get(u))) for u in units]
    return [(u, b) for u, b in boxes if b is not None]
