"""Interactions: read within scope, the agent's reply, call times, closing, the unified inbox.

Services flush, never commit. Decisions the issue left open:

- A reply is refused on a closed interaction (409 interaction_closed): a closed contact is history;
  the agent writes again when the customer does, or on the ticket.
- The first reply sets `answered_at` and, when no agent handles the interaction yet, `agent_id`.
- `update_times` records CTI call times; an `ended_at` closes the call, as answered when it was
  answered and as abandoned when it was not (unless an outcome is given).
- Inbox order: latest activity first (last message, else offered), then newest id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.db import insert_unless_exists
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.interactions.models import CHANNELS, OUTCOMES, Interaction, Message
from kefu.org import service as org

STATUSES = ("open", "closed")


class InteractionNotFound(NotFound):
    code = "interaction_not_found"


class InteractionClosed(Conflict):
    code = "interaction_closed"


class InvalidOutcome(InvalidInput):
    code = "invalid_outcome"


# ---- read -------------------------------------------------------------------------------------

def get_visible(session: Session, principal: Principal, interaction_id: int, *,
                with_messages: bool = True) -> Interaction:
    """The interaction (with its messages, in order) if the principal's org subtree holds it or its ticket
    is the principal's own work; else 404."""
    opts = [selectinload(Interaction.messages)] if with_messages else []
    it = session.get(Interaction, interaction_id, options=opts)
    if it is None or not (principal.sees_path(org.org_unit(session, it.org_unit_id).path)
                          or _own_ticket(session, principal, it.ticket_id)):
        raise InteractionNotFound(f"interaction {interaction_id} not found")
    return it


def _own_ticket(session: Session, principal: Principal, ticket_id: int | None) -> bool:
    from kefu.tickets import service as tickets

    ticket = tickets.get(session, ticket_id) if ticket_id is not None else None
    return ticket is not None and ticket.assignee_id == principal.user_id


def list_for_customer(session: Session, customer_ids: list[int]) -> list[Interaction]:
    """Every interaction of these customers, newest first (messages not loaded)."""
    if not customer_ids:
        return []
    return list(session.scalars(select(Interaction).where(Interaction.customer_id.in_(customer_ids))
                                .order_by(Interaction.offered_at.desc(), Interaction.id.desc())))


def last_messages(session: Session, interaction_ids: Iterable[int]) -> dict[int, Message]:
    """The latest message of each interaction, in one query."""
    ids = list(set(interaction_ids))
    if not ids:
        return {}
    latest = (select(func.max(Message.id)).where(Message.interaction_id.in_(ids))
              .group_by(Message.interaction_id))
    return {m.interaction_id: m for m in session.scalars(select(Message).where(Message.id.in_(latest)))}


@dataclass(frozen=True)
class InteractionFilters:
    channel: str | None = None
    status: str | None = None
    outcome: str | None = None
    org_unit_id: int | None = None
    customer_id: int | None = None
    ticket_id: int | None = None


def _check_choice(value: str | None, allowed: tuple[str, ...], what: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidInput(f"unknown {what} '{value}' (one of {', '.join(allowed)})", code=f"unknown_{what}",
                           details={"field": what, "allowed": list(allowed)})


def inbox_query(session: Session, principal: Principal, f: InteractionFilters) -> Select[Interaction]:
    _check_choice(f.channel, CHANNELS, "channel")
    _check_choice(f.status, STATUSES, "status")
    _check_choice(f.outcome, OUTCOMES, "outcome")
    units = org.list_units(session, principal)
    if f.org_unit_id is not None:
        # The unit and everything below it, within what the principal sees.
        unit = next((u for u in units if u.id == f.org_unit_id), None)
        if unit is None:
            raise NotFound(f"org unit {f.org_unit_id} not found", code="org_unit_not_found")
        units = [u for u in units if u.path.startswith(unit.path)]
    q = select(Interaction).where(Interaction.org_unit_id.in_([u.id for u in units]))
    for column, value in ((Interaction.channel, f.channel), (Interaction.status, f.status),
                          (Interaction.outcome, f.outcome), (Interaction.customer_id, f.customer_id),
                          (Interaction.ticket_id, f.ticket_id)):
        if value is not None:
            q = q.where(column == value)
    return q


def list_interactions(session: Session, principal: Principal, filters: InteractionFilters, *, limit: int = 50,
                      offset: int = 0, with_messages: bool = False) -> tuple[list[Interaction], int]:
    """The unified inbox: interactions in scope matching the filters, latest activity first, and the total.
    With `with_messages`, each interaction's messages are (re)loaded in one more query."""
    q = inbox_query(session, principal, filters)
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    activity = func.coalesce(Interaction.last_message_at, Interaction.offered_at)
    q = q.order_by(activity.desc(), Interaction.id.desc()).limit(limit).offset(offset)
    if with_messages:  # fresh, also for interactions already in the session (a reply was just added)
        q = q.options(selectinload(Interaction.messages)).execution_options(populate_existing=True)
    return list(session.scalars(q)), total


# ---- write ------------------------------------------------------------------------------------

def reply(session: Session, interaction_id: int, *, body: str, actor: Principal,
          at: datetime | None = None) -> Message:
    """An agent's answer, recorded as outbound on the interaction's channel; adapters deliver it after
    commit on `message.sent`. Marks the interaction answered and the ticket replied to."""
    from kefu.tickets import service as tickets
    from kefu.tickets.models import Ticket

    at = at or utcnow()
    it = get_visible(session, actor, interaction_id, with_messages=False)
    if it.status != "open":
        raise InteractionClosed(f"interaction {interaction_id} is closed; it takes no more replies")
    body = body.strip()
    if not body:
        raise InvalidInput("a reply needs a body", code="body_required", details={"field": "body"})
    to = session.scalar(select(Message.sender).where(Message.interaction_id == it.id,
                                                     Message.direction == "inbound")
                        .order_by(Message.id.desc()).limit(1))
    msg = Message(interaction_id=it.id, channel=it.channel, direction="outbound", body=body, sender=None,
                  external_id=None, author_id=actor.user_id, created_at=at)
    session.add(msg)
    it.last_message_at = at
    if it.answered_at is None:
        it.answered_at = at
    if it.agent_id is None:
        it.agent_id = actor.user_id
    session.flush()
    if it.ticket_id is not None:
        ticket = session.get(Ticket, it.ticket_id)
        if ticket is not None:
            tickets.on_agent_reply(session, ticket, actor_id=actor.user_id, at=at)
    events.record(session, "message.sent",
                  {"interaction_id": it.id, "message_id": msg.id, "channel": it.channel, "to": to,
                   "customer_id": it.customer_id, "ticket_id": it.ticket_id, "author_id": actor.user_id},
                  aggregate_type="interaction", aggregate_id=it.id, org_unit_id=it.org_unit_id, at=at)
    return msg


# ---- the inbound hot path (Core statements; kefu.channels.inbound) -----------------------------

_OPEN_INBOUND = insert(Interaction).values(direction="inbound", status="open").returning(Interaction.id)
_TOUCH = (update(Interaction).where(Interaction.id == bindparam("iid"))
          .values(last_message_at=bindparam("at")))


@lru_cache(maxsize=2)
def _add_message(dialect: str) -> Any:
    return insert_unless_exists(dialect, Message, "channel", "external_id").values(
        direction="inbound", author_id=None).returning(Message.id)


_MESSAGE_FIELDS = ("interaction_id", "channel", "body", "sender", "external_id", "created_at", "sent_at")


@lru_cache(maxsize=1)
def _add_message_and_touch() -> Any:
    """PostgreSQL: `_add_message` and `_TOUCH` in one statement (a data-modifying CTE); the interaction
    is touched only when the message was stored. Bind parameters: m_ + each of _MESSAGE_FIELDS, direction
    and author_id (prefixed: an UPDATE would take a parameter named like one of its columns into its SET)."""
    m = (insert_unless_exists("postgresql", Message, "channel", "external_id")
         .values({f: bindparam(f"m_{f}") for f in (*_MESSAGE_FIELDS, "direction", "author_id")})
         .returning(Message.id).cte("m"))
    touch = (update(Interaction).where(Interaction.id == bindparam("m_interaction_id"), exists(select(m.c.id)))
             .values(last_message_at=bindparam("m_created_at")).cte("touch"))
    return select(m.c.id).add_cte(touch)


def _opened(session: Session, iid: int, *, customer_id: int, channel: str, ticket_id: int | None,
            org_unit_id: int, at: datetime) -> None:
    """`interaction.opened` of a contact the customer started (after commit)."""
    events.defer(session, "interaction.opened",
                 {"customer_id": customer_id, "channel": channel, "direction": "inbound", "ticket_id": ticket_id},
                 aggregate_type="interaction", aggregate_id=iid, org_unit_id=org_unit_id, at=at)


def _received(session: Session, iid: int, mid: int, *, customer_id: int, channel: str, ticket_id: int | None,
              external_id: str, org_unit_id: int, at: datetime) -> None:
    """`message.received` of a customer's message (after commit)."""
    events.defer(session, "message.received",
                 {"interaction_id": iid, "message_id": mid, "customer_id": customer_id, "channel": channel,
                  "ticket_id": ticket_id, "external_id": external_id},
                 aggregate_type="interaction", aggregate_id=iid, org_unit_id=org_unit_id, at=at)


def open_inbound(session: Session, *, customer_id: int, org_unit_id: int, channel: str, subject: str | None,
                 ticket_id: int, external_ref: str, at: datetime) -> int:
    """A new inbound interaction (a contact the customer started); records `interaction.opened`."""
    iid = session.connection().execute(_OPEN_INBOUND, {
        "customer_id": customer_id, "org_unit_id": org_unit_id, "channel": channel, "subject": subject,
        "offered_at": at, "last_message_at": at, "ticket_id": ticket_id, "external_ref": external_ref,
    }).scalar_one()
    _opened(session, iid, customer_id=customer_id, channel=channel, ticket_id=ticket_id, org_unit_id=org_unit_id,
            at=at)
    return int(iid)


_OPENING_FIELDS = ("customer_id", "org_unit_id", "channel", "subject", "offered_at", "last_message_at", "ticket_id",
                   "external_ref")


@lru_cache(maxsize=1)
def _open_with_message() -> Any:
    """PostgreSQL: `_OPEN_INBOUND` and the message's `_add_message` in one statement (a data-modifying CTE);
    returns the message's id and its interaction's, or no row when the channel has the message id already
    (the interaction was inserted all the same: the caller rolls back). Bind parameters: i_ + each of
    _OPENING_FIELDS, m_ + each of _MESSAGE_FIELDS but interaction_id."""
    i = (insert(Interaction).values({**{f: bindparam(f"i_{f}") for f in _OPENING_FIELDS}, "direction": "inbound",
                                     "status": "open"})
         .returning(Interaction.id).cte("i"))
    values: dict[str, Any] = {f: bindparam(f"m_{f}") for f in _MESSAGE_FIELDS if f != "interaction_id"}
    return (insert_unless_exists("postgresql", Message, "channel", "external_id")
            .values({**values, "interaction_id": select(i.c.id).scalar_subquery(), "direction": "inbound",
                     "author_id": None})
            .returning(Message.id, Message.interaction_id).add_cte(i))


def open_inbound_with_message(session: Session, *, customer_id: int, org_unit_id: int, channel: str,
                              subject: str | None, ticket_id: int, external_ref: str, body: str, sender: str,
                              external_id: str, sent_at: datetime | None, at: datetime) -> tuple[int, int] | None:
    """`open_inbound` and its first message (`add_inbound_message`): (interaction id, message id), or None
    when the channel has stored this message id already (committed by a concurrent request); the
    caller then rolls back. On PostgreSQL one round trip."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        iid = open_inbound(session, customer_id=customer_id, org_unit_id=org_unit_id, channel=channel,
                           subject=subject, ticket_id=ticket_id, external_ref=external_ref, at=at)
        mid = add_inbound_message(session, interaction_id=iid, org_unit_id=org_unit_id, customer_id=customer_id,
                                  ticket_id=ticket_id, channel=channel, body=body, sender=sender,
                                  external_id=external_id, sent_at=sent_at, at=at, touch=False)
        return None if mid is None else (iid, mid)
    row = conn.execute(_open_with_message(), {
        "i_customer_id": customer_id, "i_org_unit_id": org_unit_id, "i_channel": channel, "i_subject": subject,
        "i_offered_at": at, "i_last_message_at": at, "i_ticket_id": ticket_id, "i_external_ref": external_ref,
        "m_channel": channel, "m_body": body, "m_sender": sender, "m_external_id": external_id, "m_created_at": at,
        "m_sent_at": sent_at}).first()
    if row is None:
        return None
    iid, mid = int(row[1]), int(row[0])
    _opened(session, iid, customer_id=customer_id, channel=channel, ticket_id=ticket_id, org_unit_id=org_unit_id,
            at=at)
    _received(session, iid, mid, customer_id=customer_id, channel=channel, ticket_id=ticket_id,
              external_id=external_id, org_unit_id=org_unit_id, at=at)
    return iid, mid


def add_inbound_message(session: Session, *, interaction_id: int, org_unit_id: int, customer_id: int,
                        ticket_id: int | None, channel: str, body: str, sender: str, external_id: str,
                        sent_at: datetime | None, at: datetime, touch: bool) -> int | None:
    """Store a customer's message on the interaction, unless the channel has stored this message id
    already (committed by a concurrent request): then None, and nothing is written. `touch` moves
    the interaction's last activity (an interaction opened in the same transaction has it already).
    Records `message.received`."""
    conn = session.connection()
    params = {"interaction_id": interaction_id, "channel": channel, "body": body, "sender": sender,
              "external_id": external_id, "created_at": at, "sent_at": sent_at}
    if touch and conn.dialect.name == "postgresql":  # the message and the touch in one round trip
        mid = conn.execute(_add_message_and_touch(), {f"m_{k}": v for k, v in
                                                      {**params, "direction": "inbound", "author_id": None}.items()}
                           ).scalar()
    else:
        mid = conn.execute(_add_message(conn.dialect.name), params).scalar()
        if mid is not None and touch:
            conn.execute(_TOUCH, {"iid": interaction_id, "at": at})
    if mid is None:
        return None
    _received(session, interaction_id, mid, customer_id=customer_id, channel=channel, ticket_id=ticket_id,
              external_id=external_id, org_unit_id=org_unit_id, at=at)
    return int(mid)


def close(session: Session, interaction_id: int, *, outcome: str, actor_id: int | None = None,
          at: datetime | None = None) -> Interaction:
    """End the interaction with an outcome (one of OUTCOMES). Refused when closed already."""
    at = at or utcnow()
    _check_outcome(outcome)
    it = _get(session, interaction_id)
    if it.status != "open":
        raise InteractionClosed(f"interaction {interaction_id} is closed already")
    it.status = "closed"
    it.outcome = outcome
    it.ended_at = at
    session.flush()
    events.record(session, "interaction.closed",
                  {"channel": it.channel, "outcome": outcome, "customer_id": it.customer_id,
                   "ticket_id": it.ticket_id, "agent_id": it.agent_id, "actor_id": actor_id},
                  aggregate_type="interaction", aggregate_id=it.id, org_unit_id=it.org_unit_id, at=at)
    return it


def update_times(session: Session, interaction_id: int, *, queued_at: datetime | None = None,
                 answered_at: datetime | None = None, ended_at: datetime | None = None,
                 agent_id: int | None = None, outcome: str | None = None) -> Interaction:
    """Record a call's CTI times (queued, answered by an agent, ended). Ending closes the interaction:
    as `outcome` if given, else answered when it was answered and abandoned when it was not."""
    if outcome is not None:
        _check_outcome(outcome)
    it = _get(session, interaction_id)
    if it.status != "open":
        raise InteractionClosed(f"interaction {interaction_id} is closed already")
    changed: dict[str, str | int] = {}
    if queued_at is not None:
        it.queued_at = queued_at
        changed["queued_at"] = queued_at.isoformat()
    if answered_at is not None:
        it.answered_at = answered_at
        changed["answered_at"] = answered_at.isoformat()
    if agent_id is not None:
        it.agent_id = agent_id
        changed["agent_id"] = agent_id
    session.flush()
    if changed:
        events.record(session, "interaction.updated", {"channel": it.channel, **changed},
                      aggregate_type="interaction", aggregate_id=it.id, org_unit_id=it.org_unit_id,
                      at=answered_at or queued_at)
    if ended_at is not None:
        close(session, it.id, outcome=outcome or ("answered" if it.answered_at else "abandoned"), at=ended_at)
    return it


def _get(session: Session, interaction_id: int) -> Interaction:
    it = session.get(Interaction, interaction_id)
    if it is None:
        raise InteractionNotFound(f"interaction {interaction_id} not found")
    return it


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise InvalidOutcome(f"unknown outcome '{outcome}' (one of {', '.join(OUTCOMES)})",
                             details={"field": "outcome", "allowed": list(OUTCOMES)})


# ---- messages kefu sends on its own (a survey, a notice, a handoff link) ---------------------------------

# A text notice cannot go out on a call: a customer who called is told by SMS.
NOTICE_CHANNEL = {"voice": "sms"}


def _last_sender(session: Session, interaction_id: int) -> str | None:
    """The address the customer last wrote from on this interaction (where a reply goes)."""
    return session.scalar(select(Message.sender).where(Message.interaction_id == interaction_id,
                                                       Message.direction == "inbound")
                          .order_by(Message.id.desc()).limit(1))


def _system_message(session: Session, it: Interaction, *, body: str, to: str | None, kind: str,
                    author_id: int | None, at: datetime, ticket_id: int | None = None,
                    link: str | None = None) -> Message:
    """An outbound message kefu starts, not an agent's answer (the reply clocks do not stop): stored on
    `it` and recorded as `message.sent` (`kind` says what it is; `notice` marks it as not a reply; `link`,
    when given, is the page the notice points to: a WeChat template notice's button) for the channel's
    outbound delivery to carry after commit."""
    msg = Message(interaction_id=it.id, channel=it.channel, direction="outbound", body=body, sender=None,
                  external_id=None, author_id=author_id, created_at=at)
    session.add(msg)
    it.last_message_at = at
    session.flush()
    events.record(session, "message.sent",
                  {"interaction_id": it.id, "message_id": msg.id, "channel": it.channel, "to": to,
                   "customer_id": it.customer_id, "ticket_id": ticket_id if ticket_id is not None else it.ticket_id,
                   "author_id": author_id, "kind": kind, "notice": True, **({"link": link} if link else {})},
                  aggregate_type="interaction", aggregate_id=it.id, org_unit_id=it.org_unit_id, at=at)
    return msg


def _outbound_interaction(session: Session, *, customer_id: int, org_unit_id: int, channel: str, at: datetime,
                          subject: str | None = None, ticket_id: int | None = None) -> Interaction:
    it = Interaction(customer_id=customer_id, org_unit_id=org_unit_id, channel=channel, direction="outbound",
                     status="open", subject=subject, offered_at=at, last_message_at=at, ticket_id=ticket_id)
    session.add(it)
    session.flush()
    return it


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}", code="unknown_channel", details={"field": "channel"})


def send_notice(session: Session, interaction_id: int, *, body: str, kind: str, link: str | None = None,
                at: datetime | None = None) -> Message:
    """A message the system sends the customer on this interaction's channel (a satisfaction survey),
    to the address they last wrote from; `link` is the page it points to (a WeChat template's button)."""
    it = session.get(Interaction, interaction_id)
    if it is None:
        raise InteractionNotFound(f"interaction {interaction_id} does not exist")
    return _system_message(session, it, body=body, to=_last_sender(session, it.id), kind=kind, author_id=None,
                           at=at or utcnow(), link=link)


def notify_customer(session: Session, *, customer_id: int, org_unit_id: int, channel: str, body: str,
                    actor_id: int | None, ticket_id: int | None = None, at: datetime | None = None) -> Message:
    """A notice kefu sends a customer on its own initiative (an outage update, the state of a coordinated
    case): on the customer's open interaction of that channel, or on a new outbound one."""
    from kefu.customers.models import Customer

    at = at or utcnow()
    channel = NOTICE_CHANNEL.get(channel, channel)
    _check_channel(channel)
    body = body.strip()
    if not body:
        raise InvalidInput("a notice needs a body", code="body_required", details={"field": "body"})
    it = session.scalar(select(Interaction).where(Interaction.customer_id == customer_id,
                                                  Interaction.channel == channel, Interaction.status == "open")
                        .order_by(Interaction.id.desc()).limit(1))
    to = _last_sender(session, it.id) if it is not None else None
    if it is None:
        it = _outbound_interaction(session, customer_id=customer_id, org_unit_id=org_unit_id, channel=channel,
                                   at=at, ticket_id=ticket_id)
    if to is None and channel == "sms":
        customer = session.get(Customer, customer_id)
        to = customer.phone if customer is not None else None
    return _system_message(session, it, body=body, to=to, kind="notice", author_id=actor_id, at=at,
                           ticket_id=ticket_id)


# ---- calls as the switch reports them (kefu.voice) ------------------------------------------------

def get(session: Session, interaction_id: int) -> Interaction | None:
    """The interaction, unscoped (for domains that hold its id: routing, voice)."""
    return session.get(Interaction, interaction_id)


def link_ticket(session: Session, interaction_id: int, ticket_id: int) -> Interaction:
    """Keep a contact with the ticket it gave rise to (a call's callback request); a contact that has a
    ticket keeps it."""
    it = _get(session, interaction_id)
    if it.ticket_id is None:
        it.ticket_id = ticket_id
        session.flush()
    return it


def open_call(session: Session, *, customer_id: int | None, org_unit_id: int, external_ref: str,
              offered_at: datetime) -> Interaction:
    """A new inbound voice interaction for a call the switch reported; records `interaction.opened`."""
    it = Interaction(customer_id=customer_id, org_unit_id=org_unit_id, channel="voice", direction="inbound",
                     status="open", offered_at=offered_at, external_ref=external_ref)
    session.add(it)
    session.flush()
    events.record(session, "interaction.opened",
                  {"customer_id": customer_id, "channel": "voice", "direction": "inbound", "ticket_id": None},
                  aggregate_type="interaction", aggregate_id=it.id, org_unit_id=org_unit_id, at=offered_at)
    return it


def sync_call(session: Session, it: Interaction, *, offered_at: datetime, queued_at: datetime | None,
              answered_at: datetime | None, ended_at: datetime | None, agent_id: int | None,
              outcome: str | None) -> None:
    """Set a call's times as its CTI events say now. Events come late and out of order, so the times may
    change after the call was closed (a late "answered" turns an abandon into an answered call); the call
    is closed once, when it first ends (`interaction.closed`), and `interaction.updated` tells later
    corrections."""
    if outcome is not None:
        _check_outcome(outcome)
    values = {"offered_at": offered_at, "queued_at": queued_at, "answered_at": answered_at,
              "ended_at": ended_at, "agent_id": agent_id, "outcome": outcome}
    changed = {k: v for k, v in values.items() if getattr(it, k) != v}
    if not changed:
        return
    for k, v in changed.items():
        setattr(it, k, v)
    closing = it.status == "open" and ended_at is not None
    if closing:
        it.status = "closed"
    session.flush()
    if closing:
        events.record(session, "interaction.closed",
                      {"channel": it.channel, "outcome": outcome, "customer_id": it.customer_id,
                       "ticket_id": it.ticket_id, "agent_id": it.agent_id, "actor_id": None},
                      aggregate_type="interaction", aggregate_id=it.id, org_unit_id=it.org_unit_id, at=ended_at)
    else:
        events.record(session, "interaction.updated",
                      {"channel": it.channel, **{k: v.isoformat() if isinstance(v, datetime) else v
                                                 for k, v in changed.items()}},
                      aggregate_type="interaction", aggregate_id=it.id, org_unit_id=it.org_unit_id)


def send_to_address(session: Session, *, customer_id: int, org_unit_id: int, channel: str, to: str, body: str,
                    subject: str | None = None, kind: str = "handoff", at: datetime | None = None) -> Interaction:
    """A message kefu starts to a given address (a handoff link, a login code): a new outbound interaction
    with it."""
    at = at or utcnow()
    _check_channel(channel)
    it = _outbound_interaction(session, customer_id=customer_id, org_unit_id=org_unit_id, channel=channel, at=at,
                               subject=subject)
    _system_message(session, it, body=body, to=to, kind=kind, author_id=None, at=at)
    return it
