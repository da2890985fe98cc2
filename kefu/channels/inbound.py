"""The one inbound path every channel adapter feeds.

`receive` turns a channel message into stored facts: the customer (identified or created), the
interaction it threads into (or a new one), the message itself, and the ticket it opens or updates.
It is idempotent on the sender's message id: a message already stored on that channel is answered
with the stored result and nothing is written. Two identical messages racing each other are kept
apart by the unique (channel, external_id) constraint on messages: the loser's transaction fails
and `receive_retrying` runs it once more, when it finds the winner's message.

Refused payloads (too large, invalid sender, malformed) are kept as `InboundRejection` rows for
inspection, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.errors import InvalidInput, NotFound, PayloadTooLarge
from kefu.customers import service as customers
from kefu.interactions import service as interactions
from kefu.interactions.models import CHANNELS, IDENTITY_KIND, InboundRejection, Interaction, Message
from kefu.org.models import OrgUnit
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket

# How a sender is addressed on each channel: the customers domain's identity kind.

SUBJECT_CHARS = 40
EXCERPT_CHARS = 2000
# Ticket statuses after which a customer's message can no longer continue the case.
_ENDED_TICKET = ("closed", "merged")


class InboundMessage(BaseModel):
    """One message as a channel delivers it, in any channel's terms."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    message_id: str = Field(min_length=1, max_length=255, description="the sender's (provider's) message id")
    sender: str = Field(min_length=1, max_length=255,
                        description="address on the channel: phone number, e-mail, openid, weibo id, ...")
    text: str = Field(description="message body")
    subject: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = None
    org_unit_code: str | None = Field(default=None, max_length=32,
                                      description="city; default: the customer's")
    customer_name: str | None = Field(default=None, max_length=100)
    thread_ref: str | None = Field(default=None, max_length=255,
                                   description="thread or call id: e-mail In-Reply-To, CTI call id")


@dataclass(frozen=True)
class InboundResult:
    customer_id: int
    interaction_id: int
    message_id: int
    ticket_id: int | None
    duplicate: bool = False


class UnknownChannel(NotFound):
    code = "unknown_channel"


class MessageTooLarge(PayloadTooLarge):
    code = "message_too_large"


class UnknownOrgUnit(InvalidInput):
    code = "unknown_org_unit"


def check_channel(channel: str) -> str:
    if channel not in IDENTITY_KIND:
        raise UnknownChannel(f"unknown channel '{channel}' (one of {', '.join(CHANNELS)})",
                             details={"channel": channel[:32]})
    return channel


def check_size(settings: Settings, text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > settings.max_message_bytes:
        raise MessageTooLarge(
            f"message body is {size} bytes; the limit is {settings.max_message_bytes}",
            details={"bytes": size, "limit": settings.max_message_bytes})


def sender_value(channel: str, sender: str) -> str:
    """The sender as the customers domain stores it (E.164, lower-case e-mail, ...), checked before
    anything is written: InvalidPhone (invalid_phone) or InvalidInput (invalid_identity) otherwise."""
    return customers.normalize_identity(IDENTITY_KIND[channel], sender)


def receive(session: Session, settings: Settings, channel: str, msg: InboundMessage, *,
            at: datetime | None = None) -> InboundResult:
    """Store one inbound message (identify, thread, ticket). Flushes, never commits."""
    check_channel(channel)
    check_size(settings, msg.text)
    stored = find_stored(session, channel, msg.message_id)
    if stored is not None:
        return stored
    at = at or utcnow()
    value = sender_value(channel, msg.sender)
    unit_id = _org_unit_id(session, settings, msg.org_unit_code)
    customer, _created = customers.identify(session, kind=IDENTITY_KIND[channel], value=value,
                                            org_unit_id=unit_id, name=msg.customer_name, at=at)
    if msg.org_unit_code is None:
        unit_id = customer.org_unit_id

    interaction, ticket = _open_thread(session, channel, customer.id, msg.thread_ref, at)
    if interaction is not None and ticket is not None:
        ticket = tickets.on_customer_message(session, ticket, at=at)
    if interaction is None:
        ticket = tickets.find_open_for_customer(session, customers.customer_ids_of(session, customer.id))
        if ticket is not None:
            ticket = tickets.on_customer_message(session, ticket, at=at)
        else:
            ticket = tickets.create_ticket(session, type="inquiry", subject=_subject(msg),
                                           org_unit_id=unit_id, customer_id=customer.id, channel=channel,
                                           description=msg.text, at=at)
        interaction = Interaction(customer_id=customer.id, org_unit_id=unit_id, channel=channel,
                                  direction="inbound", status="open", subject=msg.subject,
                                  offered_at=at, last_message_at=at, ticket_id=ticket.id,
                                  external_ref=msg.thread_ref or msg.message_id)
        session.add(interaction)
        session.flush()
        events.record(session, "interaction.opened",
                      {"customer_id": customer.id, "channel": channel, "direction": "inbound",
                       "ticket_id": ticket.id},
                      aggregate_type="interaction", aggregate_id=interaction.id,
                      org_unit_id=interaction.org_unit_id, at=at)
    else:
        interaction.last_message_at = at

    message = Message(interaction_id=interaction.id, channel=channel, direction="inbound", body=msg.text,
                      sender=value, external_id=msg.message_id, created_at=at)
    session.add(message)
    session.flush()
    events.record(session, "message.received",
                  {"interaction_id": interaction.id, "message_id": message.id, "customer_id": customer.id,
                   "channel": channel, "ticket_id": interaction.ticket_id, "external_id": msg.message_id},
                  aggregate_type="interaction", aggregate_id=interaction.id,
                  org_unit_id=interaction.org_unit_id, at=at)
    return InboundResult(customer.id, interaction.id, message.id, interaction.ticket_id)


def receive_retrying(session: Session, settings: Settings, channel: str, msg: InboundMessage, *,
                     at: datetime | None = None) -> InboundResult:
    """`receive`, run once more after a lost race: an identical message, the same new customer, or a
    change to the same ticket committed meanwhile.

    The session must hold no other work: the failed attempt is rolled back whole.
    """
    try:
        return receive(session, settings, channel, msg, at=at)
    except (IntegrityError, OperationalError, tickets.StaleTicket):
        session.rollback()
        return receive(session, settings, channel, msg, at=at)


def find_stored(session: Session, channel: str, message_id: str) -> InboundResult | None:
    """The result stored for a message already received on this channel, if any."""
    row = session.execute(
        select(Message.id, Message.interaction_id, Interaction.customer_id, Interaction.ticket_id)
        .join(Interaction, Interaction.id == Message.interaction_id)
        .where(Message.channel == channel, Message.external_id == message_id)
    ).first()
    if row is None:
        return None
    return InboundResult(customer_id=row.customer_id, interaction_id=row.interaction_id, message_id=row.id,
                         ticket_id=row.ticket_id, duplicate=True)


def record_rejection(session: Session, channel: str, *, status_code: int, reason: str, payload: bytes | str,
                     at: datetime | None = None) -> InboundRejection:
    """Keep a refused payload for inspection (in the caller's transaction) and say so with an event."""
    raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else payload
    rej = InboundRejection(channel=channel[:32], status_code=status_code, reason=reason[:500],
                           payload_excerpt=raw[:EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS],
                           payload_bytes=len(raw), received_at=at or utcnow())
    session.add(rej)
    session.flush()
    events.record(session, "inbound.rejected",
                  {"channel": rej.channel, "status_code": status_code, "reason": rej.reason,
                   "payload_bytes": rej.payload_bytes},
                  aggregate_type="inbound_rejection", aggregate_id=rej.id, at=rej.received_at)
    return rej


def list_rejections(session: Session, *, channel: str | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[list[InboundRejection], int]:
    from sqlalchemy import func

    q = select(InboundRejection)
    if channel is not None:
        q = q.where(InboundRejection.channel == channel)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(InboundRejection.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


# ---- threading ---------------------------------------------------------------------------------

def _open_thread(session: Session, channel: str, customer_id: int, thread_ref: str | None,
                 at: datetime) -> tuple[Interaction | None, Ticket | None]:
    """The customer's open interaction on this channel that the message continues, with its ticket.

    With a thread reference (e-mail In-Reply-To, CTI call id) only the interaction it names is
    continued: its root reference or one of its messages. Without one, the newest open interaction
    on the channel. An interaction keeps its ticket for life: when that ticket has ended (closed,
    merged), the interaction is closed and the message starts a new one, so a stored message's
    ticket never changes.
    """
    q = (select(Interaction, Ticket)
         .outerjoin(Ticket, Ticket.id == Interaction.ticket_id)
         .where(Interaction.customer_id == customer_id, Interaction.channel == channel,
                Interaction.status == "open"))
    if thread_ref is not None:
        in_thread = select(Message.interaction_id).where(Message.channel == channel,
                                                         Message.external_id == thread_ref)
        q = q.where(or_(Interaction.external_ref == thread_ref, Interaction.id.in_(in_thread)))
    row = session.execute(q.order_by(Interaction.id.desc()).limit(1)).first()
    if row is None:
        return None, None
    interaction, ticket = row
    if ticket is None or ticket.status in _ENDED_TICKET:
        # Its case is over: the contact ends here, and the message starts a new one.
        outcome = "replied" if interaction.answered_at is not None else "no_reply"
        interactions.close(session, interaction.id, outcome=outcome, at=at)
        return None, None
    return interaction, ticket


def _subject(msg: InboundMessage) -> str:
    if msg.subject:
        return msg.subject[:200]
    text = " ".join(msg.text.split())
    if not text:
        return "（无内容）"
    return text if len(text) <= SUBJECT_CHARS else text[:SUBJECT_CHARS] + "…"


# ---- org unit of a new customer ------------------------------------------------------------------

# (database url, code or "" for the default) -> org unit id. Codes are unique and units never move.
_unit_cache: dict[tuple[str, str], int] = {}


def _org_unit_id(session: Session, settings: Settings, code: str | None) -> int:
    url = str(session.get_bind().engine.url)
    code = code or settings.default_org_unit
    key = (url, code or "")
    if key in _unit_cache:
        return _unit_cache[key]
    if code is not None:
        unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
        if unit_id is None:
            raise UnknownOrgUnit(f"unknown org unit code '{code}'", details={"field": "org_unit_code"})
    else:
        # The first city under the first province (by creation), else the top of the tree.
        first_province = (select(OrgUnit.id).where(OrgUnit.kind == "province")
                          .order_by(OrgUnit.id).limit(1).scalar_subquery())
        unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == first_province)
                                 .order_by(OrgUnit.id).limit(1))
        if unit_id is None:
            unit_id = session.scalar(select(OrgUnit.id).order_by(OrgUnit.id).limit(1))
        if unit_id is None:
            raise InvalidInput("no org unit exists yet to receive messages", code="no_org_unit")
    _unit_cache[key] = unit_id
    return unit_id
