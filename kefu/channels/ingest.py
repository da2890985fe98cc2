"""What every adapter's parsed payload goes through: each message by the generic inbound path
(`inbound.receive_retrying`, one transaction each, retried after a lost race), delivery reports onto
the outbound deliveries, channel events recorded; a refused payload kept as an inbound rejection."""

from __future__ import annotations

from dataclasses import dataclass, field

from kefu.channels import inbound, outbound
from kefu.channels.adapters import Parsed
from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database


@dataclass
class Ingested:
    results: list[inbound.InboundResult] = field(default_factory=list)
    reports: int = 0  # delivery reports matched to a message kefu sent
    events: int = 0


def ingest(db: Database, settings: Settings, channel: str, parsed: Parsed, *,
           principal: Principal | None = None) -> Ingested:
    out = Ingested()
    for msg in parsed.messages:
        with db.unit_of_work() as s:
            out.results.append(inbound.receive_retrying(s, settings, channel, msg, principal=principal))
    if parsed.reports or parsed.events:
        now = utcnow()
        with db.unit_of_work() as s:
            for report in parsed.reports:
                if outbound.apply_report(s, channel, report, now=now) is not None:
                    out.reports += 1
            for ev in parsed.events:
                events.record(s, "channel.event", {"channel": channel, "event": ev.name, "sender": ev.sender,
                                                   **ev.data}, aggregate_type="channel", at=now)
                out.events += 1
    return out


def reject(db: Database, settings: Settings, channel: str, *, status: int, reason: str, payload: bytes,
           principal: Principal | None = None) -> None:
    """Keep a refused payload (its own transaction), in the posting gateway's unit or the default one."""
    with db.unit_of_work() as s:
        unit = principal.org_unit_id if principal is not None else inbound._org_unit_id(s, settings, None, None)
        inbound.record_rejection(s, channel, status_code=status, reason=reason, payload=payload,
                                 org_unit_id=unit)
