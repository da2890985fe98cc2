"""The one inbound path every channel adapter feeds.

`receive` turns a channel message into stored facts: the customer (identified or created), the
interaction it threads into (or a new one), the message itself, and the ticket it opens or updates.
It is idempotent on the sender's message id: a message already stored on that channel is answered
with the stored result and nothing is written.

Bursts: any number of messages of one customer may arrive at the same moment (a WeChat user sending
five lines, a gateway retrying). Races are settled by the database and a fresh run of the loser's
transaction (`receive_retrying`): two identical messages by the unique (channel, external_id)
constraint on messages; two first messages of a new sender by the unique identity (or phone); two
messages on one ticket by the ticket's row (updates queue on it, and a status change applies only to
the status that was read); two messages opening a contact for a known customer by a lock on the
customer's row. On SQLite writers are serialised by BEGIN IMMEDIATE (kefu.core.db) and never race.

Refused payloads (too large, invalid sender, malformed, NUL characters) are kept as
`InboundRejection` rows for inspection, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam, func, literal, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import retrying
from kefu.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from kefu.customers import service as customers
from kefu.interactions import service as interactions
from kefu.interactions.models import CHANNELS, IDENTITY_KIND, InboundRejection, Interaction, Message
from kefu.org import service as org
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket

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


class NulCharacter(InvalidInput):
    code = "nul_character"


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


def check_text(settings: Settings, msg: InboundMessage) -> None:
    """The body within the size limit, and no NUL character in any field (no database can keep one,
    and PostgreSQL refuses it): refused whole, with the field named, before anything is written."""
    check_size(settings, msg.text)
    for name, value in msg:
        if isinstance(value, str) and "\x00" in value:
            raise NulCharacter(f"field '{name}' contains a NUL character (\\u0000)", details={"field": name})


def sender_value(channel: str, sender: str) -> str:
    """The sender as the customers domain stores it (E.164, lower-case e-mail, ...), checked before
    anything is written: InvalidPhone (invalid_phone) or InvalidInput (invalid_identity) otherwise."""
    return _normalized(IDENTITY_KIND[channel], sender)


@lru_cache(maxsize=4096)
def _normalized(kind: str, value: str) -> str:
    # Parsing a number with phonenumbers costs more than the rest of a returning customer's message;
    # a gateway sees the same senders again and again. (Errors are not cached: they propagate.)
    return customers.normalize_identity(kind, value)


def receive(session: Session, settings: Settings, channel: str, msg: InboundMessage, *,
            at: datetime | None = None, principal: Principal | None = None) -> InboundResult:
    """Store one inbound message (identify, thread, ticket). Flushes, never commits.

    The hot path, in Core statements: one read finds a stored message with this id, the sender's
    customer and its open interaction on the channel with that interaction's ticket; then a returning
    customer's message is an INSERT of the message, an UPDATE of the interaction and one of the
    ticket, and the events in one INSERT; a new customer's adds the customer, the ticket, its first
    transition and the interaction. Rarer cases (a merged customer, a thread whose ticket has ended)
    take the slower ORM path. Raises StaleTicket or an IntegrityError when a concurrent transaction
    won a race; `receive_retrying` runs it again.

    `principal`: the gateway posting; its org scope must hold the `org_unit_code` it names."""
    check_channel(channel)
    check_text(settings, msg)
    at = at or utcnow()
    kind = IDENTITY_KIND[channel]
    value = sender_value(channel, msg.sender)
    unit_id = _org_unit_id(session, settings, msg.org_unit_code, principal)
    found = _lookup(session, channel, kind, value, msg.message_id, msg.thread_ref)
    if found.stored is not None:
        return found.stored

    customer = found.customer
    if customer is not None and customer.merged_into_id is not None:
        customer = _survivor(session, customer)
        found = replace(found, customer=customer, thread=None)
        found = replace(found, thread=_thread_of(session, channel, customer.id, msg.thread_ref))
    if customer is None:
        new = customers.create_identified(session, kind=kind, value=value, org_unit_id=unit_id,
                                          name=msg.customer_name, at=at)
        if new is None:
            raise _LostRace(f"{kind} '{value}' was identified by a concurrent request")
        return _start_thread(session, channel, msg, value, new, unit_id, at, ticket=None)
    if msg.customer_name:
        _name_if_unknown(session, customer, msg.customer_name, at)

    thread = found.thread
    if thread is not None and thread.ended:
        # Its case is over: the contact ends here, and the message starts a new one.
        interactions.close(session, thread.interaction_id,
                           outcome="replied" if thread.answered else "no_reply", at=at)
        thread = None
    if thread is None:
        # Opening a contact for a known customer: hold the customer until commit, so that two messages
        # arriving at once do not both open one; then look again (the other may have opened it).
        customers.lock(session, customer.id)
        thread = _thread_of(session, channel, customer.id, msg.thread_ref)
        if thread is None or thread.ended:
            if thread is not None:
                raise _LostRace("the open contact's ticket ended meanwhile")
            # the topic rule: the open ticket of the same topic, or a new one (docs/routing.md)
            ticket = tickets.ticket_to_continue(session, customers.customer_ids_of(session, customer.id),
                                                f"{msg.subject or ''} {msg.text}")
            return _start_thread(session, channel, msg, value, customer,
                                 unit_id if msg.org_unit_code is not None else customer.org_unit_id, at,
                                 ticket=ticket)

    assert thread.ticket_id is not None
    assert thread.ticket_status is not None
    tickets.customer_wrote(session, ticket_id=thread.ticket_id, status=thread.ticket_status,
                           closed_at=thread.ticket_closed_at, org_unit_id=thread.ticket_org_unit_id, at=at)
    tickets.complain_by_keyword(session, thread.ticket_id, msg.text, at=at)
    mid = interactions.add_inbound_message(
        session, interaction_id=thread.interaction_id, org_unit_id=thread.org_unit_id, customer_id=customer.id,
        ticket_id=thread.ticket_id, channel=channel, body=msg.text, sender=value, external_id=msg.message_id,
        sent_at=msg.sent_at, at=at, touch=True)
    if mid is None:
        raise _LostRace(f"message {msg.message_id!r} was stored by a concurrent request")
    events.write_deferred(session)
    return InboundResult(customer.id, thread.interaction_id, mid, thread.ticket_id)


def _start_thread(session: Session, channel: str, msg: InboundMessage, sender: str, customer: customers.Known,
                  unit_id: int, at: datetime, *, ticket: Ticket | None) -> InboundResult:
    """A new contact: continue the customer's open ticket (another channel, a finished contact) or
    open a new inquiry, then the interaction and its first message."""
    if ticket is not None:
        tickets.on_customer_message(session, ticket, at=at)
        tickets.complain_by_keyword(session, ticket.id, msg.text, at=at)
        ticket_id = ticket.id
    else:
        ticket_id = tickets.create_for_inbound(session, type="inquiry", subject=_subject(msg),
                                               description=msg.text, channel=channel, customer_id=customer.id,
                                               customer_tier=customer.tier, org_unit_id=unit_id, at=at).id
    opened = interactions.open_inbound_with_message(
        session, customer_id=customer.id, org_unit_id=unit_id, channel=channel, subject=msg.subject,
        ticket_id=ticket_id, external_ref=msg.thread_ref or msg.message_id, body=msg.text, sender=sender,
        external_id=msg.message_id, sent_at=msg.sent_at, at=at)
    if opened is None:
        raise _LostRace(f"message {msg.message_id!r} was stored by a concurrent request")
    iid, mid = opened
    events.write_deferred(session)
    return InboundResult(customer.id, iid, mid, ticket_id)


def _survivor(session: Session, known: customers.Known) -> customers.Known:
    c = customers.resolve(session, customers.get(session, known.id))
    return customers.Known(c.id, c.org_unit_id, c.tier, None, c.name)


def _name_if_unknown(session: Session, customer: customers.Known, name: str, at: datetime) -> None:
    if customer.name is None:
        customers.fill_name(session, customer.id, name, at=at)


# Races a fresh run gets past: the winner's row is there to be found next time.
class _LostRace(Conflict):
    code = "lost_race"


RETRYABLE = (IntegrityError, tickets.StaleTicket, _LostRace)
ATTEMPTS = 5


def receive_retrying(session: Session, settings: Settings, channel: str, msg: InboundMessage, *,
                     at: datetime | None = None, principal: Principal | None = None) -> InboundResult:
    """`receive`, run again (up to ATTEMPTS times in all) after a lost race: an identical message, the
    same new customer, a change to the same ticket or a deadlock committed meanwhile. Each run starts a
    fresh transaction, so it sees what the winner committed.

    The session must hold no other work: a failed attempt is rolled back whole."""
    return retrying(session, lambda: receive(session, settings, channel, msg, at=at, principal=principal),
                    lost_race=lambda exc: isinstance(exc, RETRYABLE), attempts=ATTEMPTS)


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
                     at: datetime | None = None, org_unit_id: int | None = None,
                     payload_bytes: int | None = None) -> InboundRejection:
    """Keep a refused payload for inspection (in the caller's transaction) and say so with an event.
    `org_unit_id`: the refused gateway's unit (its administrators see the refusal); `payload_bytes`
    when only the start of a larger payload was read."""
    raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else payload
    excerpt = raw[:EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS].replace("\x00", "\ufffd")
    rej = InboundRejection(channel=channel[:32].replace("\x00", ""), status_code=status_code,
                           reason=reason[:500].replace("\x00", "\ufffd"), payload_excerpt=excerpt,
                           payload_bytes=payload_bytes if payload_bytes is not None else len(raw),
                           received_at=at or utcnow(), org_unit_id=org_unit_id)
    session.add(rej)
    session.flush()
    events.record(session, "inbound.rejected",
                  {"channel": rej.channel, "status_code": status_code, "reason": rej.reason,
                   "payload_bytes": rej.payload_bytes},
                  aggregate_type="inbound_rejection", aggregate_id=rej.id, org_unit_id=org_unit_id,
                  at=rej.received_at)
    return rej


def list_rejections(session: Session, principal: Principal, *, channel: str | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[list[InboundRejection], int]:
    """The refusals of the gateways in the principal's org subtree, newest first."""
    q = select(InboundRejection).where(InboundRejection.org_unit_id.in_(org.visible_unit_ids(session, principal)))
    if channel is not None:
        q = q.where(InboundRejection.channel == channel)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(InboundRejection.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


# ---- the lookup ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Thread:
    """The customer's open interaction on the channel that a message continues, with its ticket."""

    interaction_id: int
    org_unit_id: int
    answered: bool
    ticket_id: int | None
    ticket_status: str | None
    ticket_closed_at: datetime | None
    ticket_org_unit_id: int

    @property
    def ended(self) -> bool:
        """Its case is over (no ticket, or one that ended): a message starts a new contact."""
        return self.ticket_id is None or self.ticket_status in _ENDED_TICKET


@dataclass(frozen=True)
class Found:
    stored: InboundResult | None
    customer: customers.Known | None
    thread: Thread | None


def _open_interaction(customer_id: Any, with_ref: bool) -> Any:
    """The id of the customer's newest open interaction on the channel (bind parameter `channel`), as a
    scalar subquery.

    With a thread reference (bind parameter `ref`: e-mail In-Reply-To, CTI call id) only the
    interaction it names is continued: its root reference or one of its messages. Without one, the
    newest open interaction on the channel."""
    i2 = aliased(Interaction, name="i2")
    q = select(func.max(i2.id)).where(i2.customer_id == customer_id, i2.channel == bindparam("channel"),
                                      i2.status == "open")
    if with_ref:
        in_thread = select(Message.interaction_id).where(Message.channel == bindparam("channel"),
                                                         Message.external_id == bindparam("ref"))
        q = q.where(or_(i2.external_ref == bindparam("ref"), i2.id.in_(in_thread)))
    return q.scalar_subquery()


_THREAD_COLUMNS = (Interaction.id, Interaction.org_unit_id, Interaction.answered_at, Ticket.id, Ticket.status,
                   Ticket.closed_at, Ticket.org_unit_id)


def _thread(row: Any, offset: int) -> Thread | None:
    iid, unit, answered, tid, status, closed_at, t_unit = row[offset:offset + 7]
    if iid is None:
        return None
    return Thread(iid, unit, answered is not None, tid, status, closed_at, t_unit if t_unit is not None else unit)


@lru_cache(maxsize=4)
def _lookup_statement(is_phone: bool, with_ref: bool) -> Any:
    """Built once per shape (building costs more than running); bind parameters channel, mid, kind,
    value and ref."""
    base = select(literal(1).label("one")).subquery("base")
    dup = (select(Message.id.label("mid"), Message.interaction_id.label("iid"),
                  Interaction.customer_id.label("cid"), Interaction.ticket_id.label("tid"))
           .join(Interaction, Interaction.id == Message.interaction_id)
           .where(Message.channel == bindparam("channel"), Message.external_id == bindparam("mid"))
           .subquery("dup"))
    owner = customers.owner_select(is_phone).subquery("owner")
    return (select(dup.c.mid, dup.c.iid, dup.c.cid, dup.c.tid,
                   *[owner.c[c.key] for c in customers.KNOWN_COLUMNS], *_THREAD_COLUMNS)
            .select_from(base)
            .outerjoin(dup, true())
            .outerjoin(owner, true())
            .outerjoin(Interaction, Interaction.id == _open_interaction(owner.c.id, with_ref))
            .outerjoin(Ticket, Ticket.id == Interaction.ticket_id))


def _lookup(session: Session, channel: str, kind: str, value: str, message_id: str,
            thread_ref: str | None) -> Found:
    """One read: a message already stored under this id on the channel, the customer holding the
    sender's address (before merges), and that customer's open interaction on the channel with its
    ticket. (Reads across domains for the statement budget of the hot path; writes go through each
    domain's service.)"""
    stmt = _lookup_statement(kind == "phone", thread_ref is not None)
    params = {"channel": channel, "mid": message_id, "kind": kind, "value": value}
    if thread_ref is not None:
        params["ref"] = thread_ref
    row = session.connection().execute(stmt, params).one()
    if row[0] is not None:
        return Found(InboundResult(customer_id=row[2], interaction_id=row[1], message_id=row[0],
                                   ticket_id=row[3], duplicate=True), None, None)
    known = customers.Known(*row[4:9]) if row[4] is not None else None
    return Found(None, known, _thread(row, 9) if known is not None else None)


@lru_cache(maxsize=2)
def _thread_statement(with_ref: bool) -> Any:
    return (select(*_THREAD_COLUMNS)
            .select_from(Interaction)
            .outerjoin(Ticket, Ticket.id == Interaction.ticket_id)
            .where(Interaction.id == _open_interaction(bindparam("cid"), with_ref)))


def _thread_of(session: Session, channel: str, customer_id: int, thread_ref: str | None) -> Thread | None:
    params: dict[str, Any] = {"channel": channel, "cid": customer_id}
    if thread_ref is not None:
        params["ref"] = thread_ref
    row = session.connection().execute(_thread_statement(thread_ref is not None), params).first()
    return _thread(row, 0) if row is not None else None


def _subject(msg: InboundMessage) -> str:
    if msg.subject:
        return msg.subject[:200]
    text = " ".join(msg.text.split())
    if not text:
        return "（无内容）"
    return text if len(text) <= SUBJECT_CHARS else text[:SUBJECT_CHARS] + "…"


# ---- org unit of a new customer ------------------------------------------------------------------

# (database url, code or "" for the default) -> (org unit id, path). Codes are unique; units never move.
_unit_cache: dict[tuple[str, str], tuple[int, str]] = {}


def _org_unit_id(session: Session, settings: Settings, code: str | None, principal: Principal | None) -> int:
    """The org unit a message names by code (it must be in the posting gateway's scope), or for a
    sender kefu cannot place the default unit: KEFU_DEFAULT_ORG_UNIT, else the first city of the first
    province; a gateway whose scope does not hold the default places such senders in its own unit."""
    url = str(session.get_bind().engine.url)
    key = (url, code or settings.default_org_unit or "")
    if key not in _unit_cache:
        _unit_cache[key] = _find_unit(session, code or settings.default_org_unit)
    unit_id, path = _unit_cache[key]
    if principal is None or principal.sees_path(path):
        return unit_id
    if code is not None:
        raise UnknownOrgUnit(f"unknown org unit code '{code}'", details={"field": "org_unit_code"})
    return principal.org_unit_id


def _find_unit(session: Session, code: str | None) -> tuple[int, str]:
    if code is not None:
        unit = org.unit_by_code_or_none(session, code)
        if unit is None:
            raise UnknownOrgUnit(f"unknown org unit code '{code}'", details={"field": "org_unit_code"})
        return unit.id, unit.path
    unit = org.default_city(session)
    if unit is None:
        raise InvalidInput("no org unit exists yet to receive messages", code="no_org_unit")
    return unit.id, unit.path
