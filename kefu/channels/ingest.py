"""What every adapter's parsed payload goes through: each message by the generic inbound path
(`inbound.receive_retrying`, one transaction each, retried after a lost race), delivery reports onto
the outbound deliveries, channel events recorded; a refused payload kept as an inbound rejection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from kefu.channels import inbound, outbound
from kefu.channels.adapters import Parsed
from kefu.channels.models import SmsFragment
from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database, xact_lock


@dataclass
class Ingested:
    results: list[inbound.InboundResult] = field(default_factory=list)
    reports: int = 0  # delivery reports matched to a message kefu sent
    events: int = 0


def ingest(db: Database, settings: Settings, channel: str, parsed: Parsed, *,
           principal: Principal | None = None) -> Ingested:
    out = Ingested()
    messages = list(parsed.messages)
    for frag in parsed.fragments:
        whole = _add_fragment(db, settings, frag)
        if whole is not None:
            messages.append(whole)
    for msg in messages:
        with db.unit_of_work() as s:
            out.results.append(inbound.receive_retrying(s, settings, channel, msg, principal=principal))
    if parsed.reports or parsed.events:
        now = utcnow()
        held: list[str] = []
        with db.unit_of_work() as s:
            for report in parsed.reports:
                if outbound.apply_report(s, channel, report, now=now) is not None:
                    out.reports += 1
                else:
                    held.append(report.provider_id)
            for ev in parsed.events:
                events.record(s, "channel.event", {"channel": channel, "event": ev.name, "sender": ev.sender,
                                                   **ev.data}, aggregate_type="channel", at=now)
                out.events += 1
        if held:  # a send committed while these were held: applied now (see kefu.channels.outbound)
            with db.unit_of_work() as s:
                out.reports += len(outbound.apply_held(s, channel=channel, provider_ids=held, now=now))
    if parsed.fragments:
        _drop_assembled(db, [m for m in messages if m not in parsed.messages])
    return out


def _add_fragment(db: Database, settings: Settings, frag: Any) -> inbound.InboundMessage | None:
    """Keep one part of a concatenated SMS (a repeated part is ignored); the whole message once every
    part is there. The parts stay until the whole message is stored (`_drop_assembled`), so a crash in
    between loses nothing: the next part or `reassemble_pending` finds them again."""
    from kefu.channels import sms

    sender = inbound.sender_value(sms.CHANNEL, frag.sender)
    with db.unit_of_work() as s:
        xact_lock(s, f"{sender}:{frag.ref}:{frag.total}")  # the parts of one message, one at a time
        exists = s.scalar(select(SmsFragment.id).where(SmsFragment.sender == sender, SmsFragment.ref == frag.ref,
                                                       SmsFragment.total == frag.total, SmsFragment.seq == frag.seq))
        if exists is None:
            s.add(SmsFragment(sender=sender, ref=frag.ref, total=frag.total, seq=frag.seq,
                              message_id=frag.message_id, text=frag.text, received_at=utcnow()))
            s.flush()
        rows = s.scalars(select(SmsFragment).where(SmsFragment.sender == sender, SmsFragment.ref == frag.ref,
                                                   SmsFragment.total == frag.total)).all()
        parts = [sms.Fragment(r.message_id, r.sender, r.ref, r.total, r.seq, r.text,
                              frag.sent_at if r.seq == 1 else None) for r in rows]
    return sms.assemble(parts)


def _drop_assembled(db: Database, wholes: list[inbound.InboundMessage]) -> None:
    if not wholes:
        return
    with db.unit_of_work() as s:
        for m in wholes:
            first = s.scalars(select(SmsFragment).where(SmsFragment.message_id == m.message_id,
                                                        SmsFragment.seq == 1)).first()
            if first is not None:
                s.execute(delete(SmsFragment).where(SmsFragment.sender == first.sender,
                                                    SmsFragment.ref == first.ref, SmsFragment.total == first.total))


def reject(db: Database, settings: Settings, channel: str, *, status: int, reason: str, payload: bytes,
           principal: Principal | None = None) -> None:
    """Keep a refused payload (its own transaction), in the posting gateway's unit or the default one."""
    with db.unit_of_work() as s:
        unit = principal.org_unit_id if principal is not None else inbound._org_unit_id(s, settings, None, None)
        inbound.record_rejection(s, channel, status_code=status, reason=reason, payload=payload,
                                 org_unit_id=unit)
