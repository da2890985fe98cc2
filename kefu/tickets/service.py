"""Tickets: create, read within scope, move through the lifecycle, assign, edit, merge, the inbox.

Services flush, never commit. Every status change goes through `_move`, which checks the lifecycle
first and changes nothing when refused; it records a TicketTransition (who, when, from, to, why) and a
`ticket.transitioned` event. Decisions the issue left open:

- Default priority: from the customer's tier (diamond → urgent, gold → high, silver and standard →
  normal, no customer → normal); complaints and appeals are at least high. An explicit priority wins.
- Reply deadline: complaints get opened_at + complaint_reply_days (15 calendar days), appeals
  opened_at + 30 days (sla.APPEAL_REPLY_DAYS). Merging a complaint into a complaint keeps the earlier
  deadline on the surviving ticket.
- Merge: source must be open; target must not be closed or merged; both must belong to the same
  customer (or to customers merged into one another, or the source has no customer); a complaint or
  appeal merges only into a ticket of the same type (so the legal clock is not lost). A reason is required.
- Assign: the assignee must be an active user whose org unit contains the ticket's unit; a new ticket
  becomes assigned (recorded); later reassignments change only the assignee; resolved, closed and
  merged tickets cannot be assigned.
- Reopening (resolved/closed → in_progress) clears resolved_at/closed_at; closing sets closed_at.
- Inbox total: counted up to INBOX_TOTAL_CAP (1,000 with a subject search); beyond it the total is
  reported as the cap with capped=True (API: total_capped).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import ensure_aware, utcnow
from kefu.core.config import get_settings
from kefu.core.db import among
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.interactions.models import CHANNELS
from kefu.org import service as org
from kefu.tickets import lifecycle, sla
from kefu.tickets.lifecycle import CLOSED, IN_PROGRESS, MERGED, NEW, RESOLVED
from kefu.tickets.models import PRIORITIES, TICKET_TYPES, Category, Ticket, TicketTransition, masked_subject

TIER_PRIORITY = {"diamond": "urgent", "gold": "high", "silver": "normal", "standard": "normal"}
TIERS = tuple(TIER_PRIORITY)
CLOCKED_TYPES = ("complaint", "appeal")
INBOX_TOTAL_CAP = 10_000
# A subject search reads rows, not an index: its total is counted to a lower cap to bound the scan.
INBOX_TEXT_TOTAL_CAP = 1_000
ASSIGNING_ROLES = frozenset({"agent", "support", "expert", "supervisor", "admin"})


class TicketNotFound(NotFound):
    code = "ticket_not_found"


class StaleTicket(Conflict):
    code = "stale_ticket"


class ReasonRequired(InvalidInput):
    code = "reason_required"


# ---- helpers --------------------------------------------------------------------------------

def _rank(priority: str) -> int:
    return PRIORITIES.index(priority)


def default_priority(type: str, tier: str | None) -> str:
    base = TIER_PRIORITY.get(tier or "", "normal")
    if type in CLOCKED_TYPES and _rank(base) < _rank("high"):
        return "high"
    return base


def _reply_terms(type: str) -> tuple[int, int] | None:
    """(reply days, at risk after days) for tickets with a legal reply clock."""
    if type == "complaint":
        s = get_settings()
        return s.complaint_reply_days, s.complaint_risk_after_days
    if type == "appeal":
        return sla.APPEAL_REPLY_DAYS, sla.APPEAL_RISK_AFTER_DAYS
    return None


def reply_clock(ticket: Ticket, *, at: datetime | None = None) -> sla.ReplyClock | None:
    """The legal reply deadline block of a complaint or appeal; None for other types."""
    terms = _reply_terms(ticket.type)
    if terms is None or ticket.reply_due_at is None:
        return None
    days, risk_after = terms
    done = [d for d in (ticket.first_reply_at, ticket.resolved_at, ticket.closed_at) if d is not None]
    if ticket.status == MERGED:
        done.append(ticket.updated_at)  # merged is terminal: its last change is the merge
    return sla.reply_clock(ticket.reply_due_at, warn_before=timedelta(days=days - risk_after),
                           now=at or utcnow(), answered_at=min(done) if done else None)


def _check_choice(value: str, allowed: tuple[str, ...], what: str, code: str) -> None:
    if value not in allowed:
        raise InvalidInput(f"unknown {what} '{value}' (one of {', '.join(allowed)})", code=code,
                           details={"field": what, "allowed": list(allowed)})


def category_by_key(session: Session, key: str) -> Category:
    cat = session.scalar(select(Category).where(Category.key == key))
    if cat is None:
        raise InvalidInput(f"unknown category '{key}'", code="unknown_category",
                           details={"field": "category"})
    return cat


def known_category_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of these category keys exist."""
    if not keys:
        return set()
    return set(session.scalars(select(Category.key).where(Category.key.in_(keys))))


def _get(session: Session, ticket_id: int) -> Ticket:
    """The ticket, locked for the rest of the transaction (PostgreSQL: SELECT ... FOR UPDATE; SQLite's
    writers hold the database lock already), read fresh: changes to one ticket queue up instead of
    failing on each other's versions, and the version checked is the latest committed one."""
    t = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if t is None:
        raise TicketNotFound(f"ticket {ticket_id} not found")
    return t


def _check_version(ticket: Ticket, expected_version: int | None, *, session: Session | None = None) -> None:
    """The change is refused if the ticket moved on from the version its author saw. Given `session`, the
    system's own edits since then (`system_edits_since`) do not count: a person's status click is not
    refused because the classifier filed the ticket a moment after the page was shown."""
    if (expected_version is not None and expected_version != ticket.version
            and (session is None or system_edits_since(session, ticket, expected_version) is None)):
        raise StaleTicket(f"ticket {ticket.id} was changed by someone else (version {ticket.version}, "
                          f"you had {expected_version}); reload it", details={"expected": expected_version,
                                                                               "current": ticket.version})


def system_edits_since(session: Session, ticket: Ticket, version: int) -> list[Any] | None:
    """The `ticket.updated` events that made every version after `version` up to the ticket's current
    one, when each was the system's (no actor: the classifier, the SLA's priority raise, social
    monitoring); None when anything else moved it (a person, a status move, the customer's message, an
    assignment) or a version is unaccounted for."""
    from kefu.core.events import OutboxEvent

    if not 0 < version < ticket.version:
        return None
    wanted = set(range(version + 1, ticket.version + 1))
    edits = [e for e in session.scalars(select(OutboxEvent)
                                        .where(OutboxEvent.aggregate_type == "ticket",
                                               OutboxEvent.aggregate_id == ticket.id,
                                               OutboxEvent.name == "ticket.updated")
                                        .order_by(OutboxEvent.id.desc()).limit(len(wanted)))
             if e.payload.get("version") in wanted and e.payload.get("actor_id") is None]
    return edits if {e.payload["version"] for e in edits} == wanted and len(edits) == len(wanted) else None


def _flush(session: Session, ticket: Ticket) -> None:
    ticket_id = ticket.id  # read first: after a failed flush the session refuses to load attributes
    try:
        session.flush()
    except StaleDataError as exc:  # a concurrent writer bumped the version between our read and write
        raise StaleTicket(f"ticket {ticket_id} was changed by someone else; reload it",
                          details={"ticket_id": ticket_id}) from exc


def lost_race(exc: BaseException) -> bool:
    """The error a ticket change fails with when another transaction changed the ticket first."""
    return isinstance(exc, StaleTicket)


def _record_transition(session: Session, ticket: Ticket, src: str | None, dst: str, *, actor_id: int | None,
                       reason: str | None, at: datetime) -> TicketTransition:
    tr = TicketTransition(ticket_id=ticket.id, from_status=src, to_status=dst, actor_id=actor_id,
                          reason=reason, at=at)
    session.add(tr)
    return tr


def _move(session: Session, ticket: Ticket, dst: str, *, actor_id: int | None, reason: str | None,
          at: datetime, via_merge: bool = False) -> None:
    """Check, then change status, timestamps, the transition row and the event. Refused: nothing changes."""
    src = ticket.status
    closed_at = ensure_aware(ticket.closed_at) if ticket.closed_at else None
    lifecycle.check_transition(src, dst, closed_at=closed_at, at=at, via_merge=via_merge)
    reason = (reason or "").strip() or None
    if reason is None and lifecycle.requires_reason(src, dst):
        raise ReasonRequired(f"moving a ticket from '{src}' to '{dst}' needs a reason",
                             details={"from": src, "to": dst})
    ticket.status = dst
    if dst == RESOLVED:
        ticket.resolved_at = at
    elif dst == CLOSED:
        ticket.closed_at = at
    elif lifecycle.is_reopen(src, dst):
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.updated_at = at
    _record_transition(session, ticket, src, dst, actor_id=actor_id, reason=reason, at=at)
    events.record(session, "ticket.transitioned",
                  {"from": src, "to": dst, "actor_id": actor_id, "reason": reason},
                  aggregate_type="ticket", aggregate_id=ticket.id, org_unit_id=ticket.org_unit_id, at=at)


# ---- create and read ------------------------------------------------------------------------

def create_ticket(session: Session, *, type: str, subject: str, org_unit_id: int,
                  customer_id: int | None = None, channel: str | None = None, description: str | None = None,
                  category_key: str | None = None, priority: str | None = None, actor_id: int | None = None,
                  at: datetime | None = None) -> Ticket:
    at = at or utcnow()
    _check_choice(type, TICKET_TYPES, "type", "unknown_ticket_type")
    if priority is not None:
        _check_choice(priority, PRIORITIES, "priority", "unknown_priority")
    if channel is not None:
        _check_choice(channel, CHANNELS, "channel", "unknown_channel")
    subject = subject.strip()
    if not subject:
        raise InvalidInput("a ticket needs a subject", code="subject_required", details={"field": "subject"})
    try:
        org.org_unit(session, org_unit_id)
    except NotFound:
        raise InvalidInput(f"org unit {org_unit_id} does not exist", code="unknown_org_unit",
                           details={"field": "org_unit_id"}) from None
    category_id = category_by_key(session, category_key).id if category_key else None
    tier = None
    if customer_id is not None:
        from kefu.customers import service as customers  # the tier snapshot only; no customer logic here

        try:
            tier = customers.get(session, customer_id).tier
        except customers.CustomerNotFound:
            tier = None
        if tier is None:
            raise InvalidInput(f"customer {customer_id} does not exist", code="unknown_customer",
                               details={"field": "customer_id"})
    terms = _reply_terms(type)
    t = Ticket(type=type, status=NEW, priority=priority or default_priority(type, tier),
               subject=subject[:200], description=description, channel=channel, category_id=category_id,
               customer_id=customer_id, org_unit_id=org_unit_id, created_by_id=actor_id, customer_tier=tier,
               opened_at=at, updated_at=at, reply_due_at=sla.reply_due_at(at, terms[0]) if terms else None)
    session.add(t)
    session.flush()
    _record_transition(session, t, None, NEW, actor_id=actor_id, reason=None, at=at)
    events.record(session, "ticket.created",
                  {"type": type, "priority": t.priority, "channel": channel, "customer_id": customer_id,
                   "category": category_key, "actor_id": actor_id},
                  aggregate_type="ticket", aggregate_id=t.id, org_unit_id=org_unit_id, at=at)
    session.flush()
    return t


def get(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket, unscoped (for system work such as routing; callers check scope)."""
    return session.get(Ticket, ticket_id)


def hold(session: Session, ticket_ids: Iterable[int]) -> list[Ticket]:
    """The tickets with these ids, read in one statement and kept in the session for its life: a later
    `get` of one of them is answered from the session, without a query (an event consumer's batch).
    Unscoped, like `get`."""
    ids = sorted(set(ticket_ids))
    rows = list(session.scalars(select(Ticket).where(among(session, Ticket.id, ids)))) if ids else []
    session.info.setdefault(_HELD, []).extend(rows)  # the session keeps loaded rows only while referred to
    return rows


_HELD = "kefu_held_tickets"


def hold_event_tickets(session: Session, batch: list[Any]) -> list[Any]:
    """An event consumer's prefilter (kefu.core.events) that only reads the batch's tickets at once
    (`hold`) and keeps every event."""
    hold(session, {ev.aggregate_id for ev in batch if ev.aggregate_type == "ticket" and ev.aggregate_id is not None})
    return batch


def last_handler(session: Session, customer_ids: list[int], *, since: datetime) -> int | None:
    """Who last owned a ticket of these customers that was resolved or closed since `since` (the agent a
    returning customer is offered to first, within a queue's window)."""
    if not customer_ids:
        return None
    return session.scalar(
        select(Ticket.assignee_id).where(Ticket.customer_id.in_(customer_ids), Ticket.assignee_id.is_not(None),
                                         func.coalesce(Ticket.resolved_at, Ticket.closed_at) >= since)
        .order_by(func.coalesce(Ticket.resolved_at, Ticket.closed_at).desc()).limit(1))


def has_other_ticket(session: Session, customer_ids: list[int], *, since: datetime, excluding: int) -> bool:
    """Whether these customers opened another ticket since `since` (a repeat contact)."""
    if not customer_ids:
        return False
    return session.scalar(select(Ticket.id).where(Ticket.customer_id.in_(customer_ids), Ticket.id != excluding,
                                                  Ticket.opened_at >= since).limit(1)) is not None


def get_visible(session: Session, principal: Principal, ticket_id: int) -> Ticket:
    """The ticket if the principal's org subtree holds it, or it is the principal's own work (routing may
    give an agent a ticket of a neighbouring city); 404 otherwise (existence does not leak)."""
    t = session.get(Ticket, ticket_id)
    if t is None or not (t.assignee_id == principal.user_id
                         or principal.sees_path(org.org_unit(session, t.org_unit_id).path)):
        raise TicketNotFound(f"ticket {ticket_id} not found")
    return t


def transitions_of(session: Session, ticket_id: int) -> list[TicketTransition]:
    return list(session.scalars(select(TicketTransition).where(TicketTransition.ticket_id == ticket_id)
                                .order_by(TicketTransition.id)))


def find_open_for_customer(session: Session, customer_ids: list[int]) -> Ticket | None:
    """The newest ticket of these customers that is not resolved, closed or merged."""
    if not customer_ids:
        return None
    return session.scalar(select(Ticket).where(Ticket.customer_id.in_(customer_ids),
                                               Ticket.status.in_(lifecycle.OPEN_STATUSES))
                          .order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(1))


def ticket_to_continue(session: Session, customer_ids: list[int], text: str) -> Ticket | None:
    """The open ticket of these customers that a new contact saying `text` continues, by the topic rule
    (kefu.tickets.topics.ticket_to_continue): the same topic's, or None for a new ticket. A ticket's topic
    is its first-level category, or for an uncategorised ticket the topic of its subject."""
    from kefu.tickets import topics

    if not customer_ids:
        return None
    rows = list(session.scalars(select(Ticket).where(Ticket.customer_id.in_(customer_ids),
                                                     Ticket.status.in_(lifecycle.OPEN_STATUSES))
                                .order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(50)))
    if not rows:
        return None
    cats = categories_by_id(session) if any(t.category_id for t in rows) else {}

    def topic(t: Ticket) -> str | None:
        cat = cats.get(t.category_id) if t.category_id is not None else None
        while cat is not None and cat.parent_id is not None:
            cat = cats.get(cat.parent_id)
        return cat.key if cat is not None else topics.topic_of(t.subject)

    chosen = topics.ticket_to_continue([topics.OpenTicket(t.id, topic(t), ensure_aware(t.opened_at))
                                        for t in rows], topics.topic_of(text))
    return next((t for t in rows if t.id == chosen), None)


def list_for_customer(session: Session, customer_ids: list[int]) -> list[Ticket]:
    """Every ticket of these customers, newest first."""
    if not customer_ids:
        return []
    return list(session.scalars(select(Ticket).where(Ticket.customer_id.in_(customer_ids))
                                .order_by(Ticket.opened_at.desc(), Ticket.id.desc())))


# ---- lifecycle ------------------------------------------------------------------------------

def change_status(session: Session, ticket_id: int, to_status: str, *, actor_id: int | None,
                  reason: str | None = None, expected_version: int | None = None,
                  at: datetime | None = None) -> Ticket:
    at = at or utcnow()
    t = _get(session, ticket_id)
    _check_version(t, expected_version, session=session)
    if to_status == lifecycle.ASSIGNED and t.assignee_id is None:
        raise InvalidInput("a ticket is assigned by naming an assignee (POST /tickets/{id}/assign)",
                           code="assignee_required")
    _move(session, t, to_status, actor_id=actor_id, reason=reason, at=at)
    _flush(session, t)
    return t


def on_customer_message(session: Session, ticket: Ticket, *, at: datetime | None = None) -> Ticket:
    """The customer wrote: waiting_customer → in_progress, resolved → in_progress (reopened)."""
    at = at or utcnow()
    if ticket.status == lifecycle.WAITING_CUSTOMER:
        _move(session, ticket, IN_PROGRESS, actor_id=None, reason="customer replied", at=at)
    elif ticket.status == RESOLVED:
        _move(session, ticket, IN_PROGRESS, actor_id=None, reason="customer wrote after resolution", at=at)
    elif ticket.status in lifecycle.OPEN_STATUSES:
        ticket.updated_at = at
    _flush(session, ticket)
    return ticket


# ---- the inbound hot path (Core statements; kefu.channels.inbound) -----------------------------

# What a customer's message does to a ticket in each status (see on_customer_message): None = stays.
_CUSTOMER_MESSAGE_MOVES: dict[str, tuple[str, str] | None] = {
    lifecycle.WAITING_CUSTOMER: (IN_PROGRESS, "customer replied"),
    RESOLVED: (IN_PROGRESS, "customer wrote after resolution"),
    **{st: None for st in lifecycle.OPEN_STATUSES if st != lifecycle.WAITING_CUSTOMER},
}


_INSERT_TICKET = insert(Ticket).returning(Ticket.id)
_INSERT_TICKET_TOPIC = (insert(Ticket).values(category_id=select(Category.id)
                                               .where(Category.key == bindparam("topic")).scalar_subquery())
                        .returning(Ticket.id))
_INSERT_TRANSITION = insert(TicketTransition)
# A customer's message on a ticket that is still in the status read: bump, or move (`new_status`).
_CUSTOMER_TOUCH = (sql_update(Ticket)
                   .where(Ticket.id == bindparam("tid"), Ticket.status == bindparam("was"))
                   .values(updated_at=bindparam("at"), version=Ticket.version + 1))
_CUSTOMER_MOVE = _CUSTOMER_TOUCH.values(status=bindparam("new_status"))
_CUSTOMER_REOPEN = _CUSTOMER_MOVE.values(resolved_at=None, closed_at=None)


_NEW_TICKET_FIELDS = ("type", "status", "priority", "subject", "subject_masked", "description", "channel",
                      "customer_id", "org_unit_id", "assignee_id", "created_by_id", "merged_into_id", "customer_tier",
                      "opened_at", "updated_at", "reply_due_at", "first_reply_at", "resolved_at", "closed_at",
                      "version")


@lru_cache(maxsize=2)
def _insert_ticket_with_transition(by_topic: bool) -> Any:
    """PostgreSQL: the INSERT of a new ticket and of its `new` transition in one statement (a data-modifying
    CTE); returns the ticket's id. Bind parameters: t_ + each of _NEW_TICKET_FIELDS, and t_category_id, or
    with `by_topic` the topic whose category the ticket takes (looked up in the statement)."""
    values: dict[str, Any] = {f: bindparam(f"t_{f}") for f in _NEW_TICKET_FIELDS}
    values["category_id"] = (select(Category.id).where(Category.key == bindparam("topic")).scalar_subquery()
                             if by_topic else bindparam("t_category_id"))
    t = insert(Ticket).values(values).returning(Ticket.id, Ticket.opened_at).cte("t")
    return (insert(TicketTransition)
            .from_select(["ticket_id", "from_status", "to_status", "actor_id", "reason", "at"],
                         select(t.c.id, null(), literal(NEW), null(), null(), t.c.opened_at))
            .returning(TicketTransition.ticket_id))


def create_for_inbound(session: Session, *, type: str, subject: str, description: str, channel: str,
                       customer_id: int, customer_tier: str, org_unit_id: int, at: datetime) -> Ticket:
    """`create_ticket` for a customer's first message, in Core statements: the same default priority and
    reply deadline, the `new` transition and `ticket.created` (deferred). The keyword rules apply: 投诉 in the
    subject or text makes a complaint, and the topic of the words (kefu.tickets.topics) its first-level
    category. Returns the new row as a transient Ticket (not in the session): id, type, status, priority,
    org unit and times."""
    _check_choice(type, TICKET_TYPES, "type", "unknown_ticket_type")
    from kefu.tickets import topics

    if type not in CLOCKED_TYPES and (topics.says_complaint(subject) or topics.says_complaint(description)):
        type = "complaint"  # the keyword rule (kefu.tickets.topics.says_complaint)
    topic = topics.topic_of(subject) or topics.topic_of(description)
    terms = _reply_terms(type)
    row = {"type": type, "status": NEW, "priority": default_priority(type, customer_tier),
           "subject": (subject.strip() or "（无内容）")[:200], "description": description, "channel": channel,
           "category_id": None, "customer_id": customer_id, "org_unit_id": org_unit_id, "assignee_id": None,
           "created_by_id": None, "merged_into_id": None, "customer_tier": customer_tier, "opened_at": at,
           "updated_at": at, "reply_due_at": sla.reply_due_at(at, terms[0]) if terms else None,
           "first_reply_at": None, "resolved_at": None, "closed_at": None, "version": 1}
    row["subject_masked"] = masked_subject(str(row["subject"]))
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # the ticket and its first transition in one round trip
        params = {f"t_{k}": v for k, v in row.items() if k != "category_id"}
        if topic is None:
            params["t_category_id"] = None
        tid = conn.execute(_insert_ticket_with_transition(topic is not None), {**params, "topic": topic}
                           ).scalar_one()
    else:
        if topic is not None:  # the category of the topic, looked up in the same statement
            del row["category_id"]
            tid = conn.execute(_INSERT_TICKET_TOPIC, {**row, "topic": topic}).scalar_one()
            row["category_id"] = None
        else:
            tid = conn.execute(_INSERT_TICKET, row).scalar_one()
        conn.execute(_INSERT_TRANSITION, {"ticket_id": tid, "from_status": None, "to_status": NEW, "actor_id": None,
                                          "reason": None, "at": at})
    row["category_id"] = None  # (the topic's category id is not read back into the returned row)
    events.defer(session, "ticket.created",
                 {"type": type, "priority": row["priority"], "channel": channel, "customer_id": customer_id,
                  "category": topic, "actor_id": None},
                 aggregate_type="ticket", aggregate_id=tid, org_unit_id=org_unit_id, at=at)
    return Ticket(id=tid, **row)


def customer_wrote(session: Session, *, ticket_id: int, status: str, closed_at: datetime | None,
                   org_unit_id: int, at: datetime) -> str:
    """`on_customer_message` in Core statements, for a ticket the caller read in `status`: waiting on
    the customer or resolved → in_progress (recorded as a transition with its reason); any other open
    status only bumps updated_at and the version. The change applies only if the ticket is still in
    `status`; otherwise another transaction changed it first and StaleTicket is raised (the caller runs
    again on fresh data). Returns the new status."""
    if status not in _CUSTOMER_MESSAGE_MOVES:
        raise Conflict(f"a {status} ticket takes no customer messages", code="ticket_not_open",
                       details={"status": status})
    move = _CUSTOMER_MESSAGE_MOVES[status]
    params: dict[str, Any] = {"tid": ticket_id, "was": status, "at": at}
    stmt = _CUSTOMER_TOUCH
    if move is not None:
        lifecycle.check_transition(status, move[0], closed_at=closed_at, at=at)
        params["new_status"] = move[0]
        stmt = _CUSTOMER_REOPEN if lifecycle.is_reopen(status, move[0]) else _CUSTOMER_MOVE
    conn = session.connection()
    if conn.execute(stmt, params).rowcount != 1:
        raise StaleTicket(f"ticket {ticket_id} was changed by someone else meanwhile",
                          details={"ticket_id": ticket_id})
    if move is None:
        return status
    conn.execute(_INSERT_TRANSITION, {"ticket_id": ticket_id, "from_status": status, "to_status": move[0],
                                      "actor_id": None, "reason": move[1], "at": at})
    events.defer(session, "ticket.transitioned", {"from": status, "to": move[0], "actor_id": None,
                                                  "reason": move[1]},
                 aggregate_type="ticket", aggregate_id=ticket_id, org_unit_id=org_unit_id, at=at)
    return move[0]


def on_agent_reply(session: Session, ticket: Ticket, *, actor_id: int, at: datetime | None = None) -> None:
    """An agent answered the customer: the first answer stops the complaint reply clock."""
    at = at or utcnow()
    if ticket.first_reply_at is None:
        ticket.first_reply_at = at
    ticket.updated_at = at
    _flush(session, ticket)
    events.record(session, "ticket.replied", {"actor_id": actor_id},
                  aggregate_type="ticket", aggregate_id=ticket.id, org_unit_id=ticket.org_unit_id, at=at)
    if ticket.assignee_id is None and lifecycle.is_open(ticket.status):
        # whoever answers an unowned ticket owns it (recorded as an assignment by the replier)
        assign(session, ticket.id, assignee_id=actor_id, actor_id=actor_id, at=at, reason="replied")


def assign(session: Session, ticket_id: int, *, assignee_id: int, actor_id: int | None,
           expected_version: int | None = None, at: datetime | None = None, routed: bool = False,
           reason: str | None = None) -> Ticket:
    """Give the ticket to a person. `routed`: the routing engine gave it (an accepted offer), which may
    reach past the assignee's own unit (bullseye rings); the assignee then sees it as their work."""
    at = at or utcnow()
    t = _get(session, ticket_id)
    _check_version(t, expected_version)
    if not lifecycle.is_open(t.status):
        raise Conflict(f"a {t.status} ticket cannot be assigned", code="ticket_not_open",
                       details={"status": t.status})
    user = org.user(session, assignee_id)
    unit = org.org_unit(session, t.org_unit_id)
    if (user is None or not user.active or user.role not in ASSIGNING_ROLES
            or not (routed or unit.path.startswith(org.org_unit(session, user.org_unit_id).path))):
        raise InvalidInput(f"user {assignee_id} cannot take this ticket (unknown, inactive, or outside "
                           "the ticket's org unit)", code="invalid_assignee",
                           details={"field": "assignee_id"})
    if t.assignee_id == assignee_id:
        return t
    previous = t.assignee_id
    t.assignee_id = assignee_id
    if t.status == NEW:
        _move(session, t, lifecycle.ASSIGNED, actor_id=actor_id, reason=None, at=at)
    t.updated_at = at
    events.record(session, "ticket.assigned", {"assignee_id": assignee_id, "previous_assignee_id": previous,
                                               "actor_id": actor_id, "routed": routed,
                                               "reason": (reason or "").strip() or None},
                  aggregate_type="ticket", aggregate_id=t.id, org_unit_id=t.org_unit_id, at=at)
    _flush(session, t)
    return t


class AlreadyAssigned(Conflict):
    code = "already_assigned"


def claim(session: Session, ticket_id: int, *, actor_id: int, expected_version: int | None = None,
          at: datetime | None = None) -> Ticket:
    """领取: take an unowned open ticket for oneself. A ticket someone else owns is refused (409); it is
    transferred (转派) instead, with a reason."""
    t = _get(session, ticket_id)
    if t.assignee_id is not None and t.assignee_id != actor_id:
        raise AlreadyAssigned(f"ticket {t.id} is already assigned; transfer it instead",
                              details={"assignee_id": t.assignee_id})
    return assign(session, ticket_id, assignee_id=actor_id, actor_id=actor_id, expected_version=expected_version,
                  at=at, reason="claimed")


def release_to_queue(session: Session, ticket_id: int, *, queue: str, actor_id: int | None, reason: str | None,
                     expected_version: int | None = None, at: datetime | None = None) -> Ticket:
    """转派 to a routing queue: the ticket loses its owner (its status stays) and waits in `queue` (the
    caller has told routing; kefu.routing.service.send_to_queue). A reason is required."""
    at = at or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired("a transfer needs a reason", details={"field": "reason"})
    t = _get(session, ticket_id)
    _check_version(t, expected_version)
    if not lifecycle.is_open(t.status):
        raise Conflict(f"a {t.status} ticket cannot be transferred", code="ticket_not_open",
                       details={"status": t.status})
    previous = t.assignee_id
    t.assignee_id = None
    t.updated_at = at
    events.record(session, "ticket.transferred", {"queue": queue, "previous_assignee_id": previous,
                                                  "actor_id": actor_id, "reason": reason},
                  aggregate_type="ticket", aggregate_id=t.id, org_unit_id=t.org_unit_id, at=at)
    _flush(session, t)
    return t


def complain_by_keyword(session: Session, ticket_id: int, text: str, *, at: datetime | None = None) -> bool:
    """The keyword rule (kefu.tickets.topics.says_complaint): a customer's message saying 投诉 makes its
    ticket a complaint, with the complaint reply clock and at least high priority. Recorded as a
    `ticket.updated` by nobody (actor None) with reason "keyword". True when the ticket changed."""
    from kefu.tickets import topics

    if not topics.says_complaint(text):
        return False
    t = _get(session, ticket_id)
    if t.type in CLOCKED_TYPES or not lifecycle.is_open(t.status):
        return False
    priority = t.priority if _rank(t.priority) >= _rank("high") else "high"
    update(session, ticket_id, actor_id=None, type="complaint", priority=priority, at=at, reason="keyword")
    return True


def history_of(session: Session, ticket_id: int) -> list[Any]:
    """What was done to the ticket besides status moves (assignments, transfers, edits, replies, merges):
    its recorded events, oldest first."""
    from kefu.core.events import OutboxEvent

    names = ("ticket.assigned", "ticket.transferred", "ticket.updated", "ticket.replied", "ticket.merged")
    return list(session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_type == "ticket",
                                                          OutboxEvent.aggregate_id == ticket_id,
                                                          OutboxEvent.name.in_(names))
                                .order_by(OutboxEvent.id)))


def update(session: Session, ticket_id: int, *, actor_id: int | None, subject: str | None = None,
           category_key: str | None = None, priority: str | None = None, type: str | None = None,
           expected_version: int | None = None, at: datetime | None = None, reason: str | None = None) -> Ticket:
    """Edit subject, category, priority or type (None = unchanged). A merged ticket is frozen."""
    t = _get(session, ticket_id)
    _check_version(t, expected_version)
    if edit(session, t, actor_id=actor_id, subject=subject, category_key=category_key, priority=priority,
            type=type, at=at, reason=reason):
        _flush(session, t)
    return t


def lock_many(session: Session, ticket_ids: Iterable[int]) -> dict[int, Ticket]:
    """`_get` of several tickets in one statement: locked for the rest of the transaction (in id order, so
    that two such batches queue on each other instead of deadlocking) and read fresh. Absent: no such
    ticket. For a batch of `edit`s by the system, flushed together (`flush_edits`)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = session.scalars(select(Ticket).where(among(session, Ticket.id, ids)).order_by(Ticket.id).with_for_update()
                           .execution_options(populate_existing=True))
    return {t.id: t for t in rows}


def edit(session: Session, t: Ticket, *, actor_id: int | None, subject: str | None = None,
         category_key: str | None = None, priority: str | None = None, type: str | None = None,
         at: datetime | None = None, reason: str | None = None,
         categories: dict[str, Category] | None = None) -> bool:
    """`update` of a ticket the caller holds locked (`_get`, `lock_many`), not flushed: the changes and the
    `ticket.updated` event; False when nothing changed. `categories`: category rows by key already read
    (a batch's), else each key is looked up."""
    at = at or utcnow()
    if t.status == MERGED:
        raise Conflict(f"ticket {t.id} was merged into {t.merged_into_id} and cannot be edited",
                       code="ticket_merged", details={"merged_into_id": t.merged_into_id})
    changes: dict[str, Any] = {}
    if subject is not None:
        subject = subject.strip()
        if not subject:
            raise InvalidInput("a ticket needs a subject", code="subject_required",
                               details={"field": "subject"})
        if subject != t.subject:
            changes["subject"] = subject[:200]
    if priority is not None:
        _check_choice(priority, PRIORITIES, "priority", "unknown_priority")
        if priority != t.priority:
            changes["priority"] = priority
    if category_key is not None:
        cat = categories[category_key] if categories and category_key in categories \
            else category_by_key(session, category_key)
        if cat.id != t.category_id:
            changes["category_id"] = cat.id
    if type is not None:
        _check_choice(type, TICKET_TYPES, "type", "unknown_ticket_type")
        if type != t.type:
            changes["type"] = type
            terms = _reply_terms(type)
            changes["reply_due_at"] = sla.reply_due_at(ensure_aware(t.opened_at), terms[0]) if terms else None
    if not changes:
        return False
    for name, value in changes.items():
        setattr(t, name, value)
    t.updated_at = at
    shown = {k: v for k, v in changes.items() if k in ("subject", "priority", "type", "category_id")}
    if "category_id" in shown:
        shown["category"] = category_key
    # `version`: the one this change makes (the mapper's version counter adds 1 at the flush)
    events.record(session, "ticket.updated", {"changed": sorted(changes), "actor_id": actor_id, **shown,
                                              "reason": (reason or "").strip() or None,
                                              "version": t.version + 1},
                  aggregate_type="ticket", aggregate_id=t.id, org_unit_id=t.org_unit_id, at=at)
    return True


def categories_by_key(session: Session, keys: Iterable[str]) -> dict[str, Category]:
    """The category rows of these keys that exist, in one query."""
    wanted = sorted(set(keys))
    return {c.key: c for c in session.scalars(select(Category).where(Category.key.in_(wanted)))} if wanted else {}


def flush_edits(session: Session) -> None:
    """Write a batch of `edit`s (their UPDATEs go out together). Tickets held by `lock_many` cannot go stale;
    StaleTicket if one was edited without its lock and another transaction changed it meanwhile."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleTicket("a ticket was changed by someone else; reload it") from exc


def _related_customers(session: Session, a: int, b: int) -> bool:
    from kefu.customers import service as customers

    return b in customers.lineage_ids(session, a)


def merge(session: Session, source_id: int, target_id: int, *, actor_id: int | None, reason: str | None,
          at: datetime | None = None) -> Ticket:
    """Merge a duplicate (source) into the ticket that carries on (target). Returns the target."""
    at = at or utcnow()
    if source_id == target_id:
        raise Conflict("a ticket cannot be merged into itself", code="merge_into_self")
    # Locked in id order, so two merges of the same pair in opposite directions cannot deadlock.
    locked = {i: _get(session, i) for i in sorted((source_id, target_id))}
    source, target = locked[source_id], locked[target_id]
    if target.status in (CLOSED, MERGED):
        raise Conflict(f"ticket {target.id} is {target.status}; merge into an open ticket",
                       code="merge_target_closed", details={"status": target.status})
    if (source.customer_id is not None and source.customer_id != target.customer_id
            and (target.customer_id is None or not _related_customers(session, source.customer_id,
                                                                       target.customer_id))):
        raise Conflict("tickets of different customers cannot be merged", code="merge_across_customers",
                       details={"source_customer_id": source.customer_id,
                                "target_customer_id": target.customer_id})
    if source.type in CLOCKED_TYPES and target.type != source.type:
        raise Conflict(f"a {source.type} can only be merged into a {source.type} (its reply deadline must "
                       "carry over); change the target's type first", code="merge_type_mismatch",
                       details={"source_type": source.type, "target_type": target.type})
    _move(session, source, MERGED, actor_id=actor_id, reason=reason, at=at, via_merge=True)
    source.merged_into_id = target.id
    if source.reply_due_at and target.reply_due_at and source.reply_due_at < target.reply_due_at:
        target.reply_due_at = source.reply_due_at
    target.updated_at = at
    events.record(session, "ticket.merged", {"into_id": target.id, "actor_id": actor_id,
                                             "reason": (reason or "").strip()},
                  aggregate_type="ticket", aggregate_id=source.id, org_unit_id=source.org_unit_id, at=at)
    _flush(session, source)
    return target


# ---- categories -----------------------------------------------------------------------------

@dataclass
class CategoryNode:
    id: int
    key: str
    name: str
    name_en: str
    children: list[CategoryNode] = field(default_factory=list)


def category_tree(session: Session) -> list[CategoryNode]:
    """First-level categories in order, each with its children in order."""
    rows = session.scalars(select(Category).order_by(Category.parent_id.is_not(None), Category.position,
                                                     Category.id)).all()
    nodes = {c.id: CategoryNode(c.id, c.key, c.name, c.name_en) for c in rows}
    roots: list[CategoryNode] = []
    for c in rows:
        (nodes[c.parent_id].children if c.parent_id in nodes else roots).append(nodes[c.id])
    return roots


def categories_by_id(session: Session) -> dict[int, Category]:
    return {c.id: c for c in session.scalars(select(Category))}


# ---- the inbox ------------------------------------------------------------------------------

@dataclass(frozen=True)
class InboxFilters:
    channel: str | None = None
    type: str | None = None
    status: tuple[str, ...] = ()
    tier: str | None = None
    category: str | None = None  # a key; a first-level key includes its children
    org_unit_id: int | None = None  # must be visible; includes its subtree
    assignee: str | None = None  # "me", "unassigned" or a user id
    q: str | None = None  # subject contains
    at_risk: bool = False  # complaints/appeals not answered yet and past their risk point
    order: str = "updated"  # "updated" (latest change first) or "work" (priority, then reply deadline)
    # Only these tickets: a SELECT of ticket ids from another domain (a routing queue's tickets).
    ticket_ids: Any = None


@dataclass(frozen=True)
class InboxPage:
    items: list[Ticket]
    total: int
    capped: bool  # True when there are more matches than `total` (the cap)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _one_of(col: Any, values: list[Any]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(page form, count form) of "col is one of values": `col = v` for one value, `IN` for several.

    In the page form on SQLite (which runs without planner statistics) a multi-value IN is written
    `+col IN (...)`: SQLite's unary plus keeps the term from driving an index, so the page is read in
    inbox order from ix_tickets_updated, or from an equality filter's (col, updated_at, id) index, and
    stops after `limit` rows, instead of collecting every match of the IN and sorting them all. The
    bounded count keeps the plain, indexable form. PostgreSQL gets the plain form for both.
    """
    if len(values) == 1:
        eq: ColumnElement[bool] = col == values[0]
        return eq, eq
    plain: ColumnElement[bool] = col.in_(values)
    return _unindexed(col).in_(values), plain


def _unindexed(col: Any) -> Any:
    """`+tickets.col`: the same value, but SQLite will not drive an index with the term."""
    return type_coerce(literal_column(f"+{col.table.name}.{col.name}"), col.type)


@dataclass
class _Conditions:
    page: list[ColumnElement[bool]] = field(default_factory=list)
    count: list[ColumnElement[bool]] = field(default_factory=list)

    def add(self, cond: ColumnElement[bool] | tuple[ColumnElement[bool], ColumnElement[bool]]) -> None:
        page, count = cond if isinstance(cond, tuple) else (cond, cond)
        self.page.append(page)
        self.count.append(count)


def _inbox_conditions(session: Session, principal: Principal, f: InboxFilters, at: datetime) -> _Conditions:
    conds = _Conditions()
    sqlite = session.get_bind().dialect.name == "sqlite"
    if f.org_unit_id is not None:
        unit = org.check_visible(session, principal, f.org_unit_id)
        unit_ids = org.subtree_ids(session, unit.path)
        conds.add(_one_of(Ticket.org_unit_id, unit_ids))
    else:
        unit_ids = org.visible_unit_ids(session, principal)
        if len(unit_ids) < org.unit_count(session):
            conds.add(_one_of(Ticket.org_unit_id, unit_ids))  # (who sees every unit needs no filter)
    if f.channel is not None:
        _check_choice(f.channel, CHANNELS, "channel", "unknown_channel")
        conds.add(Ticket.channel == f.channel)
    if f.type is not None:
        _check_choice(f.type, TICKET_TYPES, "type", "unknown_ticket_type")
        conds.add(Ticket.type == f.type)
    if f.status:
        for s in f.status:
            _check_choice(s, lifecycle.STATUSES, "status", "unknown_status")
        conds.add(_one_of(Ticket.status, list(dict.fromkeys(f.status))))
    if f.tier is not None:
        _check_choice(f.tier, TIERS, "tier", "unknown_tier")
        conds.add(Ticket.customer_tier == f.tier)
    if f.category is not None:
        cat = category_by_key(session, f.category)
        ids = [cat.id, *session.scalars(select(Category.id).where(Category.parent_id == cat.id))]
        conds.add(_one_of(Ticket.category_id, ids))
    if f.assignee is not None:
        if f.assignee == "me":
            conds.add(Ticket.assignee_id == principal.user_id)
        elif f.assignee == "unassigned":
            conds.add(Ticket.assignee_id.is_(None))
        elif f.assignee.isdigit():
            conds.add(Ticket.assignee_id == int(f.assignee))
        else:
            raise InvalidInput("assignee is 'me', 'unassigned' or a user id", code="invalid_assignee_filter",
                               details={"field": "assignee"})
    if f.q:
        # a role without `pii` searches the subject as it sees it: the digits a mask hides cannot be guessed
        subject = Ticket.subject if principal.can("pii") else Ticket.subject_masked
        conds.add(subject.ilike(f"%{_like_escape(f.q.strip())}%", escape="\\"))
    if f.at_risk:
        cfg = get_settings()
        warn = {"complaint": timedelta(days=cfg.complaint_reply_days - cfg.complaint_risk_after_days),
                "appeal": timedelta(days=sla.APPEAL_REPLY_DAYS - sla.APPEAL_RISK_AFTER_DAYS)}
        # The redundant bound on reply_due_at lets the partial index ix_tickets_reply_open do the work.
        conds.add(Ticket.first_reply_at.is_(None))
        conds.add(Ticket.reply_due_at <= at + max(warn.values()))
        # On SQLite the status and type terms must not drive an index (it would collect every open
        # ticket, or every complaint and appeal, through one), so the partial index is used.
        status, type_ = (_unindexed(Ticket.status), _unindexed(Ticket.type)) if sqlite else (Ticket.status,
                                                                                              Ticket.type)
        conds.add(status.in_(sorted(lifecycle.OPEN_STATUSES)))
        conds.add(or_(*(and_(type_ == typ, Ticket.reply_due_at <= at + w) for typ, w in warn.items())))
    if f.ticket_ids is not None:
        conds.add(Ticket.id.in_(f.ticket_ids))
    _check_choice(f.order, INBOX_ORDERS, "order", "unknown_order")
    if not sqlite:
        # (the unindexed page forms serve reading in inbox order off an index: ix_tickets_updated, or
        # ix_tickets_work for the work order)
        conds.page = conds.count
    return conds


INBOX_ORDERS = ("updated", "work")


def _order(order: str) -> tuple[Any, ...]:
    """"updated": the latest change first. "work": what to do next first: the highest priority, then the
    earliest reply deadline (tickets without one after those with one), then the oldest, then by id. The
    work order reads the stored columns the database computes from priority and deadline (work_rank,
    work_due_at: kefu.tickets.models), so an index (ix_tickets_work, ix_tickets_assignee_work) gives it."""
    if order == "work":
        return (Ticket.work_rank, Ticket.work_due_at, Ticket.opened_at, Ticket.id)
    return (Ticket.updated_at.desc(), Ticket.id.desc())


def _page(session: Session, conds: list[ColumnElement[bool]], page: Any, order: str = "updated") -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(*conds).order_by(*_order(order))
                                .limit(page.limit).offset(page.offset)))


def inbox_query(session: Session, principal: Principal, filters: InboxFilters, *,
                at: datetime | None = None) -> Select[Any]:
    """The inbox page SELECT without limit/offset (exposed for EXPLAIN in benchmarks and tests)."""
    conds = _inbox_conditions(session, principal, filters, at or utcnow())
    return select(Ticket).where(*conds.page).order_by(*_order(filters.order))


def list_inbox(session: Session, principal: Principal, filters: InboxFilters, page: Any, *,
               at: datetime | None = None) -> InboxPage:
    """Tickets in the principal's scope matching the filters, most recently updated first (or in work
    order: `filters.order`).

    `page` has `limit` and `offset`. The total is counted up to INBOX_TOTAL_CAP rows (a count of a
    bounded subquery, off an index for every filter but `q`), so a huge inbox costs no full count.
    A subject search (`q`) matches no index: its matching ids are collected once, up to
    INBOX_TEXT_TOTAL_CAP; when they are fewer, the page is read by primary key from them, otherwise
    matches are common and the ordered page query finds its rows after a short scan.
    """
    conds = _inbox_conditions(session, principal, filters, at or utcnow())
    if filters.q:
        ids = list(session.scalars(select(Ticket.id).where(*conds.count).limit(INBOX_TEXT_TOTAL_CAP + 1)))
        if len(ids) > INBOX_TEXT_TOTAL_CAP:
            return InboxPage(_page(session, conds.page, page, filters.order), INBOX_TEXT_TOTAL_CAP, True)
        return InboxPage(_page(session, [Ticket.id.in_(ids)], page, filters.order) if ids else [], len(ids),
                         False)
    items = _page(session, conds.page, page, filters.order)
    if page.offset == 0 and len(items) < page.limit:
        return InboxPage(items, len(items), False)
    bounded = select(Ticket.id).where(*conds.count).limit(INBOX_TOTAL_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(bounded)) or 0
    return InboxPage(items, min(total, INBOX_TOTAL_CAP), total > INBOX_TOTAL_CAP)
