"""Outbound delivery: every reply (`message.sent`) gets a delivery row, sent through its channel's
adapter by a job, retried with back-off, its status kept (queued → sent → delivered | failed).

Never lost: the row is written in the transaction that consumes `message.sent` (the outbox delivers
the event until a consumer commits), and a queued row is attempted again by the periodic retry job
until it is sent or fails for good. Never sent twice by kefu: an attempt locks the row and sends only
a queued one, and its outcome commits with the status; a process dying between the provider's answer
and the commit leaves the row queued, and the next attempt hands the provider the same idempotency key
(`key`), which the provider uses to drop the repeat. A reply sent as several provider messages one request
each (a long Weibo reply) keeps every part the provider took, also when a later part fails
(`SendFailure.accepted`); the retry is told them (`Outbound.sent_parts`) and sends only the rest.

A delivery report can arrive before its send is committed (a gateway reporting as it answers the
submit; the web chat widget showing a reply the moment it is published). Such a report is held
(`EarlyReport`) and applied when its part is there: by the attempt that records the part, by the
report's own transaction checking again after it commits, and by the minute's retry job for the one
case neither sees (both committing at the same moment). Held reports for ids never sent are dropped
after HOLD_REPORTS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.channels import config
from kefu.channels.adapters import (
    DeliveryReport,
    Outbound,
    PermanentFailure,
    SendFailure,
    TemporaryFailure,
    adapter_for,
)
from kefu.channels.models import EarlyReport, OutboundDelivery, OutboundPart
from kefu.core import events
from kefu.core.config import Settings
from kefu.interactions.models import Interaction, Message

EVENT = "message.delivery"
HOLD_REPORTS = timedelta(days=3)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: base, 4×base, 16×base, ... at most cap."""
    if attempts < 1:
        return 0.0
    return float(min(base * 4 ** min(attempts - 1, 30), cap))


def enqueue(session: Session, *, message_id: int, recipient: str | None, at: datetime,
            notice_kind: str | None = None, link: str | None = None) -> OutboundDelivery | None:
    """The delivery of an outbound message, queued (once: None when the message has one already)."""
    if session.scalar(select(OutboundDelivery.id).where(OutboundDelivery.message_id == message_id)) is not None:
        return None
    msg = session.get(Message, message_id)
    if msg is None or msg.direction != "outbound":
        return None
    it = session.get(Interaction, msg.interaction_id)
    assert it is not None
    d = OutboundDelivery(message_id=message_id, interaction_id=it.id, org_unit_id=it.org_unit_id,
                         channel=msg.channel, recipient=recipient, key=uuid.uuid4().hex, status="queued",
                         notice_kind=notice_kind, link=link if notice_kind else None,
                         attempts=0, next_attempt_at=at, created_at=at, updated_at=at)
    session.add(d)
    session.flush()
    return d


def attempt(session: Session, settings: Settings, delivery_id: int, *, now: datetime) -> str | None:
    """Send a queued delivery that is due, through its channel's adapter; returns the new status (None
    when there was nothing to do: not queued, not due, gone). Flushes, never commits."""
    d = session.get(OutboundDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if d is None or d.status != "queued" or (d.next_attempt_at is not None and d.next_attempt_at > now):
        return None
    try:
        adapter = adapter_for(config.settings_for(session, settings, d.channel, d.org_unit_id), d.channel)
    except Exception as exc:  # a configuration the adapter cannot work with: kept, retried after a fix
        d.attempts += 1
        return _retry_later(session, settings, d, now, f"adapter: {type(exc).__name__}: {exc}")
    if adapter is None:
        return _finish(session, d, "failed", now, error=f"no_adapter: no outbound adapter is configured for "
                                                        f"channel '{d.channel}'")
    if not d.recipient:
        return _finish(session, d, "failed", now, error="no_recipient: the conversation has no customer address")
    d.attempts += 1
    done = list(session.scalars(select(OutboundPart.provider_id).where(OutboundPart.delivery_id == d.id)
                                .order_by(OutboundPart.id)))
    try:
        sent = adapter.send(_outbound(session, d, now, tuple(done)))
    except PermanentFailure as exc:
        _record_parts(session, d, done, exc.accepted)
        return _finish(session, d, "failed", now, error=exc.message)
    except TemporaryFailure as exc:
        _record_parts(session, d, done, exc.accepted)
        return _retry_later(session, settings, d, now, exc.message)
    except Exception as exc:  # a bug or an unexpected protocol answer: kept, retried, never lost
        return _retry_later(session, settings, d, now, f"{type(exc).__name__}: {exc}")
    _record_parts(session, d, done, sent.provider_ids)
    d.sent_at = now
    status = _finish(session, d, "sent", now)
    if sent.provider_ids:
        return apply_held(session, channel=d.channel, provider_ids=sent.provider_ids, now=now).get(d.id, status)
    return status


def _record_parts(session: Session, d: OutboundDelivery, done: list[str], provider_ids: Iterable[str]) -> None:
    """The parts the provider took (those not recorded by an earlier attempt already)."""
    known = set(done)
    for pid in provider_ids:
        if pid not in known:
            known.add(pid)
            session.add(OutboundPart(delivery_id=d.id, channel=d.channel, provider_id=pid, status="sent"))
    session.flush()


def _retry_later(session: Session, settings: Settings, d: OutboundDelivery, now: datetime, error: str) -> str:
    if d.attempts >= settings.outbound_max_attempts:
        return _finish(session, d, "failed", now, error=f"{error} (gave up after {d.attempts} attempts)")
    d.last_error = error[:500]
    d.next_attempt_at = now + timedelta(seconds=backoff(d.attempts, settings.outbound_backoff_seconds,
                                                        settings.outbound_backoff_max_seconds))
    d.updated_at = now
    session.flush()
    _announce(session, d, now)
    return "queued"


def _finish(session: Session, d: OutboundDelivery, status: str, now: datetime, *, error: str | None = None) -> str:
    d.status = status
    d.next_attempt_at = None
    if error is not None:
        d.last_error = error[:500]
    if status == "delivered":
        d.delivered_at = now
    d.updated_at = now
    session.flush()
    _announce(session, d, now)
    return status


def _announce(session: Session, d: OutboundDelivery, now: datetime) -> None:
    ticket_id = session.scalar(select(Interaction.ticket_id).where(Interaction.id == d.interaction_id))
    events.record(session, EVENT, {"message_id": d.message_id, "interaction_id": d.interaction_id,
                                   "ticket_id": ticket_id, "status": d.status, "attempts": d.attempts,
                                   "error": d.last_error},
                  aggregate_type="interaction", aggregate_id=d.interaction_id, org_unit_id=d.org_unit_id, at=now)


def _outbound(session: Session, d: OutboundDelivery, now: datetime, sent_parts: tuple[str, ...] = ()) -> Outbound:
    msg = session.get(Message, d.message_id)
    it = session.get(Interaction, d.interaction_id)
    assert msg is not None
    assert it is not None
    answered = session.execute(select(Message.external_id, Message.created_at).where(
        Message.interaction_id == it.id, Message.direction == "inbound", Message.external_id.is_not(None))
        .order_by(Message.id)).all()
    refs = [r.external_id for r in answered if r.external_id]
    age = (now - answered[-1].created_at).total_seconds() if answered else None
    assert d.recipient is not None
    template = (config.extras_for(session, d.channel, d.org_unit_id).get(f"{d.channel}_notice_template")
                if d.notice_kind else None)
    return Outbound(message_id=msg.id, channel=d.channel, to=d.recipient, body=msg.body, key=d.key,
                    subject=it.subject, thread_ref=refs[-1] if refs else None, references=tuple(refs),
                    notice_kind=d.notice_kind, template_id=template, link=d.link, conversation=it.external_ref,
                    thread_age=age, sent_parts=sent_parts)


def due(session: Session, now: datetime, *, limit: int = 100) -> list[int]:
    """Queued deliveries whose next attempt is due, oldest first."""
    return list(session.scalars(
        select(OutboundDelivery.id).where(OutboundDelivery.status == "queued",
                                          OutboundDelivery.next_attempt_at <= now)
        .order_by(OutboundDelivery.next_attempt_at, OutboundDelivery.id).limit(limit)))


def apply_report(session: Session, channel: str, report: DeliveryReport, *, now: datetime) -> str | None:
    """A provider's delivery report for one of its messages: the part's status, then the delivery's
    (delivered when every part is, failed when one failed). None when the id is not known (yet): the
    report is held and applied when the send is recorded (see `apply_held`)."""
    part = session.scalar(select(OutboundPart).where(OutboundPart.channel == channel,
                                                     OutboundPart.provider_id == report.provider_id))
    if part is None:
        _hold(session, channel, report, now)
        return None
    part.status = "delivered" if report.delivered else "failed"
    part.error = (report.error or None) and str(report.error)[:200]
    part.reported_at = report.at or now
    session.flush()
    d = session.get(OutboundDelivery, part.delivery_id, with_for_update=True)
    assert d is not None
    if d.status in ("delivered", "failed"):
        return d.status
    statuses = set(session.scalars(select(OutboundPart.status).where(OutboundPart.delivery_id == d.id)))
    if "failed" in statuses:
        return _finish(session, d, "failed", now, error=f"delivery_report: {report.error or 'not delivered'}")
    if statuses == {"delivered"}:
        return _finish(session, d, "delivered", report.at or now)
    return d.status


def _hold(session: Session, channel: str, report: DeliveryReport, now: datetime) -> None:
    """Keep a report whose part is not there yet (once: a repeated report keeps the first)."""
    try:
        with session.begin_nested():
            session.add(EarlyReport(channel=channel, provider_id=report.provider_id, delivered=report.delivered,
                                    error=(report.error or None) and str(report.error)[:200],
                                    reported_at=report.at, received_at=now))
    except IntegrityError:  # the same report held already (a repeat, or a concurrent copy)
        pass


def apply_held(session: Session, *, now: datetime, channel: str | None = None,
               provider_ids: Iterable[str] | None = None, limit: int = 500) -> dict[int, str]:
    """Apply the held reports whose part is recorded now (those of `provider_ids` on `channel`, or all)
    and drop them; held reports older than HOLD_REPORTS whose id was never sent are dropped too. Returns
    each touched delivery's status."""
    q = (select(EarlyReport, OutboundPart.delivery_id)
         .join(OutboundPart, (OutboundPart.channel == EarlyReport.channel)
               & (OutboundPart.provider_id == EarlyReport.provider_id)))
    if channel is not None:
        q = q.where(EarlyReport.channel == channel)
    if provider_ids is not None:
        ids = list(provider_ids)
        if not ids:
            return {}
        q = q.where(EarlyReport.provider_id.in_(ids))
    out: dict[int, str] = {}
    for held, delivery_id in session.execute(q.order_by(EarlyReport.id).limit(limit)).all():
        status = apply_report(session, held.channel, DeliveryReport(held.provider_id, held.delivered, held.error,
                                                                    held.reported_at), now=now)
        if status is not None:
            out[delivery_id] = status
        session.delete(held)
    if provider_ids is None:
        session.execute(delete(EarlyReport).where(EarlyReport.received_at < now - HOLD_REPORTS))
    session.flush()
    return out


def of_messages(session: Session, message_ids: Iterable[int]) -> dict[int, OutboundDelivery]:
    ids = list(message_ids)
    if not ids:
        return {}
    return {d.message_id: d for d in session.scalars(
        select(OutboundDelivery).where(OutboundDelivery.message_id.in_(ids)))}


__all__ = ["SendFailure", "apply_held", "apply_report", "attempt", "backoff", "due", "enqueue", "of_messages"]
