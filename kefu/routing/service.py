"""Routing as the rest of kefu sees it: what an agent asks (ready, not ready, accept, reject), what an
administrator configures (queues, rules, agents' profiles), what a supervisor reads (queues, agents, offers),
and how a ticket becomes a work item.

Requests never run the engine: they write a routing input in their own transaction (`submit`), and the
single writer (kefu/routing/runner.py) processes it within milliseconds. An agent's request that needs the
writer's answer (an acceptance) waits for it after commit (`wait_for_offer`). Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.db import among
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.org import service as org
from kefu.routing import rules as routing_rules
from kefu.routing import store
from kefu.routing.engine import Engine
from kefu.routing.model import Agent, Event, ItemEnqueued, ItemUpdated, ItemWithdrawn, Reach, Ring, WorkCompleted
from kefu.routing.models import (
    LIVE_ITEM,
    RoutingAgent,
    RoutingInput,
    RoutingItem,
    RoutingOffer,
    RoutingQueue,
    RoutingRule,
    RoutingTicketQueue,
)

KICK = "kefu_routing_kick"
# Presences an agent may choose (the others are the engine's: wrap-up, and not-ready after a missed offer,
# which the agent leaves by choosing available again).
AGENT_PRESENCES = ("available", "break", "not_ready", "offline")
BREAK_REASONS = ("rest", "meal", "training", "meeting", "coaching", "back_office", "other")
REPEAT_WINDOW = timedelta(days=7)
TEXT_MEDIA = ("chat", "message")  # queues whose contacts can be answered with a text


class QueueNotFound(NotFound):
    code = "queue_not_found"


class OfferNotFound(NotFound):
    code = "offer_not_found"


class OfferNotOpen(Conflict):
    code = "offer_not_open"


class InvalidQueue(InvalidInput):
    code = "invalid_queue"


# ---- inputs ---------------------------------------------------------------------------------------

def submit(session: Session, kind: str, payload: dict[str, Any], *, at: datetime | None = None) -> RoutingInput:
    """Queue an input for the single writer, in the caller's transaction; the writer is woken after
    commit (see kefu.routing.runtime)."""
    row = RoutingInput(kind=kind, payload=payload, created_at=at or utcnow())
    session.add(row)
    session.flush()
    session.info[KICK] = True
    return row


def submit_many(session: Session, kind: str, inputs: list[tuple[dict[str, Any], datetime]]) -> None:
    """`submit` of several inputs of one kind (payload, time), in one INSERT, in this order."""
    if inputs:
        session.execute(insert(RoutingInput), [{"kind": kind, "payload": payload, "created_at": at}
                                               for payload, at in inputs])
        session.info[KICK] = True


# ---- agents ---------------------------------------------------------------------------------------

def default_profile(session: Session, user_id: int) -> RoutingAgent:
    """An agent's routing row, created on first use: every active queue of their org subtree's units or
    above, the default number of items per media, the full capacity, offline."""
    row = session.get(RoutingAgent, user_id)
    if row is not None:
        return row
    user = org.user(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    unit = org.org_unit(session, user.org_unit_id)
    keys = [q.key for q in store.active_queues(session)
            if _related(unit.path, org.org_unit(session, q.org_unit_id).path)]
    now = utcnow()
    row = RoutingAgent(user_id=user_id, queues=keys, channels=dict(routing_rules.MEDIA_LIMIT),
                       capacity=routing_rules.CAPACITY, presence="offline", reason=None, presence_since=now,
                       idle_since=now)
    session.add(row)
    session.flush()
    return row


def _related(a: str, b: str) -> bool:
    """One unit is the other's ancestor (or the same): an agent serves the queues of their own branch."""
    return a.startswith(b) or b.startswith(a)


def agent_profile(session: Session, row: RoutingAgent, *, at: datetime | None = None) -> Agent | None:
    """The engine's view of an agent at `at` (now by default; the certificates valid then count), None for an
    inactive user."""
    return store.agent_profiles(session, [row], store.places(session), at=at).get(row.user_id)


def set_presence(session: Session, principal: Principal, presence: str, reason: str | None = None, *,
                 user_id: int | None = None) -> RoutingInput:
    """An agent goes available, on a break (with a reason), not ready or offline; a supervisor may do it
    for an agent of their subtree (`user_id`)."""
    target = principal.user_id if user_id is None else _managed_user(session, principal, user_id)
    if presence not in AGENT_PRESENCES:
        raise InvalidInput(f"unknown presence '{presence}' (one of {', '.join(AGENT_PRESENCES)})",
                           code="invalid_presence", details={"field": "presence"})
    if presence == "break" and reason not in BREAK_REASONS:
        raise InvalidInput(f"a break needs a reason (one of {', '.join(BREAK_REASONS)})", code="reason_required",
                           details={"field": "reason"})
    default_profile(session, target)
    return submit(session, "presence", {"user_id": target, "presence": presence,
                                        "reason": reason if presence in ("break", "not_ready") else None})


def _managed_user(session: Session, principal: Principal, user_id: int) -> int:
    if user_id == principal.user_id:
        return user_id
    if not principal.can("routing.supervise"):
        raise Forbidden("only a supervisor may change another agent's state", code="forbidden")
    user = org.user(session, user_id)
    if user is None or not principal.sees_path(org.org_unit(session, user.org_unit_id).path):
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    return user_id


def answer_offer(session: Session, principal: Principal, offer_id: int, *, accept: bool) -> RoutingInput:
    """The agent accepts or rejects an offer made to them: 404 for another agent's offer, 409 when it is
    no longer open (answered, timed out, revoked)."""
    offer = session.get(RoutingOffer, offer_id)
    if offer is None or offer.agent_id != principal.user_id:
        raise OfferNotFound(f"offer {offer_id} not found")
    if offer.state != "offered":
        raise OfferNotOpen(f"offer {offer_id} is {offer.state.replace('_', ' ')}; it can no longer be answered",
                           details={"state": offer.state})
    return submit(session, "offer", {"offer_id": offer_id, "user_id": principal.user_id, "accept": accept})


def update_agent(session: Session, principal: Principal, user_id: int, *, queues: Sequence[str] | None = None,
                 channels: dict[str, int] | None = None, capacity: int | None = None) -> RoutingAgent:
    """A supervisor's move: an agent's queues, media limits or capacity, applied live."""
    target = _managed_user(session, principal, user_id)
    row = default_profile(session, target)
    if queues is not None:
        known = {q.key for q in store.active_queues(session)}
        unknown = sorted(set(queues) - known)
        if unknown:
            raise QueueNotFound(f"unknown queue(s): {', '.join(unknown)}", details={"queues": unknown})
        row.queues = sorted(set(queues))
    if channels is not None:
        bad = sorted(k for k, v in channels.items() if k not in routing_rules.MEDIA or not 0 <= v <= 20)
        if bad:
            raise InvalidInput(f"media limits must be 0..20 for {', '.join(routing_rules.MEDIA)}",
                               code="invalid_channels", details={"field": "channels", "bad": bad})
        row.channels = {k: int(v) for k, v in channels.items()}
    if capacity is not None:
        if not 1 <= capacity <= 1000:
            raise InvalidInput("capacity must be 1..1000", code="invalid_capacity", details={"field": "capacity"})
        row.capacity = capacity
    session.flush()
    submit(session, "agent", {"user_id": target})
    return row


# ---- queues and rules -----------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueSpec:
    key: str
    name: str
    channel: str
    org_unit_id: int
    name_en: str | None = None
    skills: dict[str, int] | None = None
    weight: int | None = None
    base_priority: float = 0.0
    aging_per_minute: float = 1.0
    rings: Sequence[dict[str, Any]] = ()
    overflow_to: str | None = None
    overflow_after: float | None = None
    offer_timeout: float = 20.0
    wrap_up: float = 0.0
    preferred_window: float = 0.0
    open: bool = True
    position: int = 0
    after_hours_reply: str | None = None


def save_queue(session: Session, principal: Principal | None, spec: QueueSpec) -> RoutingQueue:
    """Create a queue or change one (by key); checked against the engine's own rules first, so a queue the
    engine would refuse is never stored."""
    from kefu.routing.errors import RoutingConfigError
    from kefu.routing.model import QueueConfig

    if spec.channel not in routing_rules.MEDIA:
        raise InvalidQueue(f"a queue serves one of {', '.join(routing_rules.MEDIA)}", details={"field": "channel"})
    if principal is not None:
        org.check_visible(session, principal, spec.org_unit_id)
    try:
        rings = routing_rules.rings_from_json(list(spec.rings))
        QueueConfig(key=spec.key, channel=spec.channel, skills=dict(spec.skills or {}),
                    base_priority=spec.base_priority, aging_per_minute=spec.aging_per_minute, rings=rings,
                    overflow_to=spec.overflow_to, overflow_after=spec.overflow_after,
                    offer_timeout=spec.offer_timeout, wrap_up=spec.wrap_up, preferred_window=spec.preferred_window)
    except (RoutingConfigError, KeyError, ValueError) as exc:
        raise InvalidQueue(str(exc)) from None
    if spec.overflow_to is not None:
        target = session.scalar(select(RoutingQueue).where(RoutingQueue.key == spec.overflow_to))
        if target is None or target.channel != spec.channel:
            raise InvalidQueue(f"overflow queue '{spec.overflow_to}' must exist and serve the same media",
                               details={"field": "overflow_to"})
        if target.overflow_to == spec.key:
            raise InvalidQueue("two queues cannot overflow into each other", details={"field": "overflow_to"})
    reply = (spec.after_hours_reply or "").strip() or None
    if reply is not None and spec.channel not in TEXT_MEDIA:
        raise InvalidQueue("only a chat or message queue answers outside its hours with a text",
                           details={"field": "after_hours_reply"})
    if reply is not None and len(reply) > 500:
        raise InvalidQueue("the reply outside hours is at most 500 characters", details={"field": "after_hours_reply"})
    row = session.scalar(select(RoutingQueue).where(RoutingQueue.key == spec.key))
    now = utcnow()
    if row is None:
        row = RoutingQueue(key=spec.key, created_at=now)
        session.add(row)
    elif principal is not None:
        org.check_visible(session, principal, row.org_unit_id)
    row.name, row.name_en, row.channel, row.org_unit_id = spec.name, spec.name_en, spec.channel, spec.org_unit_id
    row.skills = dict(spec.skills or {})
    row.weight = spec.weight or routing_rules.MEDIA_WEIGHT[spec.channel]
    row.base_priority, row.aging_per_minute = spec.base_priority, spec.aging_per_minute
    row.rings = routing_rules.rings_to_json(rings)
    row.overflow_to, row.overflow_after = spec.overflow_to, spec.overflow_after
    row.offer_timeout, row.wrap_up, row.preferred_window = spec.offer_timeout, spec.wrap_up, spec.preferred_window
    row.open, row.position, row.active, row.updated_at = spec.open, spec.position, True, now
    row.after_hours_reply = reply
    session.flush()
    submit(session, "queue", {"key": spec.key})
    return row


def queues(session: Session, principal: Principal | None = None) -> list[RoutingQueue]:
    """Active queues (of the principal's branch: their subtree and the units above it)."""
    rows = store.active_queues(session)
    return rows if principal is None else _of_branch(session, rows, principal.org_path)


def _of_branch(session: Session, rows: list[RoutingQueue], path: str) -> list[RoutingQueue]:
    units = {u.id: u.path for u in org.units(session, [q.org_unit_id for q in rows])}
    return [q for q in rows if _related(path, units.get(q.org_unit_id, "/"))]


def queue(session: Session, principal: Principal, key: str) -> RoutingQueue:
    row = next((q for q in queues(session, principal) if q.key == key), None)
    if row is None:
        raise QueueNotFound(f"queue '{key}' not found")
    return row


def ticket_ids_in_queue(session: Session, principal: Principal, key: str) -> Any:
    """A SELECT of the ids of the tickets in a queue of the principal's branch: waiting, offered or held
    there (the inbox's queue view; the inbox applies the principal's org scope on top)."""
    queue(session, principal, key)
    return select(RoutingItem.ticket_id).where(RoutingItem.queue_key == key, RoutingItem.state.in_(LIVE_ITEM),
                                               RoutingItem.ticket_id.is_not(None))


def set_queue_open(session: Session, principal: Principal, key: str, is_open: bool) -> RoutingQueue:
    row = queue(session, principal, key)
    row.open = is_open
    row.updated_at = utcnow()
    session.flush()
    submit(session, "queue_state", {"key": key, "open": is_open})
    return row


def rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))
                                .order_by(RoutingRule.position, RoutingRule.id)))


def set_rules(session: Session, specs: Sequence[routing_rules.Rule]) -> list[RoutingRule]:
    """Replace the rules, in order. Work already routed keeps its queue until it changes."""
    known = {q.key for q in store.active_queues(session)}
    unknown = sorted({r.queue_key for r in specs} - known)
    if unknown:
        raise QueueNotFound(f"unknown queue(s): {', '.join(unknown)}", details={"queues": unknown})
    for old in session.scalars(select(RoutingRule)):
        session.delete(old)
    session.flush()
    rows = [RoutingRule(position=i, queue_key=r.queue_key, channels=list(r.channels), types=list(r.types),
                        categories=list(r.categories), tiers=list(r.tiers), active=True) for i, r in enumerate(specs)]
    session.add_all(rows)
    session.flush()
    return rows


DEFAULT_QUEUES = (
    # key, name, name_en, media, base priority, aging per minute, rings, offer time-out, wrap-up
    ("complaints", "投诉处理", "Complaints", "message", 20.0, 2.0, ({"after": 600, "reach": "province"},), 30.0, 0.0),
    ("voice", "热线人工", "Hotline", "voice", 0.0, 60.0, ({"after": 30, "reach": "province"},), 15.0, 20.0),
    ("chat", "在线客服", "Online chat", "chat", 0.0, 20.0, ({"after": 60, "reach": "province"},), 20.0, 0.0),
    ("messages", "短信与邮件", "Messages", "message", 0.0, 1.0, ({"after": 1800, "reach": "province"},), 60.0, 0.0),
    ("tickets", "工单受理", "Tickets", "ticket", 0.0, 1.0, ({"after": 3600, "reach": "province"},), 60.0, 0.0),
)


def ensure_defaults(session: Session, org_unit_id: int) -> list[RoutingQueue]:
    """A working set for a new installation (and the demo): a queue per media, a complaints queue, and
    rules that send complaints and appeals to it and everything else by channel. Nothing is changed when
    queues exist already."""
    existing = store.active_queues(session)
    if existing:
        return existing
    made = [save_queue(session, None, QueueSpec(key=k, name=n, name_en=e, channel=m, org_unit_id=org_unit_id,
                                                base_priority=p, aging_per_minute=a, rings=r, offer_timeout=t,
                                                wrap_up=w, position=i))
            for i, (k, n, e, m, p, a, r, t, w) in enumerate(DEFAULT_QUEUES)]
    by_media = {"voice": "voice", "chat": "chat", "message": "messages"}
    set_rules(session, [
        routing_rules.Rule("complaints", types=("complaint", "appeal")),
        *[routing_rules.Rule(by_media[m], channels=tuple(c for c, cm in routing_rules.CHANNEL_MEDIA.items() if cm == m))
          for m in ("voice", "chat", "message")],
        routing_rules.Rule("tickets"),
    ])
    return made


# ---- tickets become work items --------------------------------------------------------------------

def reconcile_ticket(session: Session, engine: Engine, ticket_id: int, at: float) -> list[Event]:
    """What the engine must hear about a ticket, from the ticket as it is now (inputs are hints, in any
    order): an open ticket without an owner and without an item becomes one (if a rule takes it); an item
    whose ticket changed is updated; one whose ticket someone took by hand is withdrawn; one whose ticket
    was resolved, closed, merged or handed to someone else is completed."""
    from kefu.tickets import lifecycle
    from kefu.tickets import service as tickets

    ticket = tickets.get(session, ticket_id)
    # The live item's id, then the row (from the session when the writer's round read it already): a
    # column query costs a fraction of an entity query.
    # From what the writer's round read of its tickets' live items (`read_live_items`, kept up to date with
    # the items it makes), else one query, without flushing the round's pending changes first (they go out
    # together at the round's flush, or the next one a new item makes). Either way an item this round ended
    # but has not written is live in the table only, so the row's own state decides. (New items are written
    # when made; items never come back.)
    live: dict[int, int | None] | None = session.info.get(_LIVE)
    if live is not None and ticket_id in live:
        item_id = live[ticket_id]
    else:
        with session.no_autoflush:
            item_id = session.scalar(select(RoutingItem.id).where(RoutingItem.ticket_id == ticket_id,
                                                                  RoutingItem.state.in_(LIVE_ITEM)))
    item = session.get(RoutingItem, item_id) if item_id is not None else None
    if item is not None and item.state not in LIVE_ITEM:
        item = None
    unowned = ticket is not None and ticket.status in lifecycle.OPEN_STATUSES and ticket.assignee_id is None
    when = store.from_epoch(at)
    if item is None:
        if ticket is None or not unowned:
            return []
        row = _new_item(session, ticket, engine, at)
        return [] if row is None else [ItemEnqueued(store.work_item(row), at)]
    if unowned and item.state != "assigned":
        assert ticket is not None
        spec = _item_fields(session, ticket, engine, at)
        if spec is None:
            item.state, item.ended_at, item.end_reason = "withdrawn", when, "no_queue"
            return [ItemWithdrawn(item.id, at, "no_queue")]
        changed = {k: v for k, v in spec.items() if k not in ("queue_key", "entry_queue_key") and getattr(item, k) != v}
        if spec["entry_queue_key"] != item.entry_queue_key:
            changed["entry_queue_key"] = spec["entry_queue_key"]
        if not changed:
            return []
        for k, v in changed.items():
            setattr(item, k, v)
        session.flush()
        return [ItemUpdated(store.work_item(item), at)]
    if item.state in ("waiting", "offered"):
        reason = "taken" if ticket is not None and ticket.assignee_id is not None else (
            ticket.status if ticket is not None else "deleted")
        item.state, item.ended_at, item.end_reason = "withdrawn", when, reason
        return [ItemWithdrawn(item.id, at, reason)]
    # assigned
    if ticket is not None and ticket.status in lifecycle.OPEN_STATUSES and ticket.assignee_id == item.agent_id:
        return []
    reason = "transferred" if ticket is not None and ticket.status in lifecycle.OPEN_STATUSES else (
        ticket.status if ticket is not None else "deleted")
    item.state, item.ended_at, item.end_reason = "completed", when, reason
    done: list[Event] = [WorkCompleted(item.id, at)]
    if unowned:  # handed back to routing (转派 to a queue): it waits again, as a new item
        session.flush()
        assert ticket is not None
        row = _new_item(session, ticket, engine, at)
        if row is not None:
            done.append(ItemEnqueued(store.work_item(row), at))
    return done


def check_queue_key(key: str) -> None:
    """A new queue's key: 1-40 ASCII letters, digits, '-' or '_' (InvalidQueue otherwise), for the API and
    the console alike."""
    if not (1 <= len(key) <= 40 and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)):
        raise InvalidQueue("a queue key is 1-40 letters, digits, '-' or '_'", details={"field": "key"})


def send_to_queue(session: Session, principal: Principal, ticket_id: int, key: str) -> RoutingTicketQueue:
    """Route this ticket to a queue of the principal's branch instead of by the rules (转派 to a queue). The
    ticket's service clears its owner and records why; the routing intake then queues it here."""
    return queue_ticket(session, ticket_id, queue(session, principal, key).key, set_by_id=principal.user_id)


def queue_ticket(session: Session, ticket_id: int, key: str, *, set_by_id: int | None = None,
                 at: datetime | None = None) -> RoutingTicketQueue:
    """Route this ticket to the queue `key` (known to be active) instead of by the rules: for send_to_queue,
    and for a domain that knows the queue itself (a hotline callback request: kefu.voice; an SLA breach's
    escalation: escalate_to_queue)."""
    at = at or utcnow()
    row = session.get(RoutingTicketQueue, ticket_id)
    if row is None:
        row = RoutingTicketQueue(ticket_id=ticket_id, queue_key=key, set_by_id=set_by_id, set_at=at)
        session.add(row)
    else:
        row.queue_key, row.set_by_id, row.set_at = key, set_by_id, at
    session.flush()
    return row


def transfer_to_queue(session: Session, principal: Principal, ticket_id: int, key: str, *, reason: str | None,
                      expected_version: int | None = None) -> Any:
    """转派 to a queue, whole: routing will queue the ticket there, and the ticket loses its owner with the
    reason recorded (kefu.tickets.service.release_to_queue). Returns the ticket."""
    from kefu.tickets import service as tickets

    row = send_to_queue(session, principal, ticket_id, key)
    return tickets.release_to_queue(session, ticket_id, queue=row.queue_key, actor_id=principal.user_id,
                                    reason=reason, expected_version=expected_version)


def queues_for_ticket(session: Session, ticket: Any) -> list[RoutingQueue]:
    """The active queues of a ticket's branch (its unit's subtree and the units above it)."""
    return _of_branch(session, store.active_queues(session), org.org_unit(session, ticket.org_unit_id).path)


def escalate_to_queue(session: Session, ticket_id: int, key: str, *, reason: str,
                      at: datetime | None = None) -> Any:
    """转派 to a queue by the system (an SLA policy's escalation on breach), whole like `transfer_to_queue`:
    the queue must be an active one of the ticket's branch (QueueNotFound otherwise); nobody set it. A ticket
    already waiting there without an owner is left as it is (a second breach does not requeue it). The ticket
    is released first and pinned to the queue after, in one savepoint: a refused release (the ticket is not
    open, it changed meanwhile) leaves the ticket and its queue pin exactly as they were, for a caller that
    records the failure and carries on (kefu.sla's escalation on breach)."""
    from kefu.tickets import service as tickets

    at = at or utcnow()
    ticket = tickets.get(session, ticket_id)
    q = next((q for q in queues_for_ticket(session, ticket) if q.key == key), None) if ticket is not None else None
    if ticket is None or q is None:
        raise QueueNotFound(f"queue '{key}' not found for this ticket")
    pinned = session.get(RoutingTicketQueue, ticket_id)
    if ticket.assignee_id is None and pinned is not None and pinned.queue_key == q.key:
        return ticket
    with session.begin_nested():
        released = tickets.release_to_queue(session, ticket_id, queue=q.key, actor_id=None, reason=reason, at=at)
        queue_ticket(session, ticket_id, q.key, at=at)
    return released


def _new_item(session: Session, ticket: Any, engine: Engine, at: float) -> RoutingItem | None:
    fields = _item_fields(session, ticket, engine, at)
    if fields is None:
        return None
    when = store.from_epoch(at)
    row = RoutingItem(ticket_id=ticket.id, org_unit_id=ticket.org_unit_id, enqueued_at=when, queue_since=when,
                      state="waiting", **fields)
    session.add(row)
    session.flush()
    live: dict[int, int | None] | None = session.info.get(_LIVE)
    if live is not None:
        live[ticket.id] = row.id
    _reply_after_hours(session, engine, row, when)
    return row


def _reply_after_hours(session: Session, engine: Engine, item: RoutingItem, at: datetime) -> None:
    """A text contact that arrives while its queue is closed gets the queue's reply outside hours, once (when
    its work item is made), on the contact's own conversation, as a system message (kefu.interactions:
    `message.sent` of kind `after_hours`, which the channel delivers after commit)."""
    from kefu.interactions import service as interactions
    from kefu.interactions.models import Interaction

    queue = _config(session)["queues"].get(item.queue_key)
    if queue is None or not queue.after_hours_reply or engine.queue_config(item.queue_key).open:
        return
    conversation = session.scalar(select(Interaction.id).where(
        Interaction.ticket_id == item.ticket_id, Interaction.direction == "inbound",
        Interaction.channel.in_([c for c, m in routing_rules.CHANNEL_MEDIA.items() if m in TEXT_MEDIA]))
        .order_by(Interaction.id.desc()).limit(1))
    if conversation is not None:
        interactions.send_notice(session, conversation, body=queue.after_hours_reply, kind="after_hours", at=at)


_CONFIG = "kefu_routing_config"


def _config(session: Session) -> dict[str, Any]:
    """What every work item of a writer's round reads and nothing in the round changes: the rules (as the
    pure `choose_queue` takes them), the queues by key, the category keys, the org units' places. Read
    once per session (the writer's round is one session; a queue or rule change is another transaction,
    which the next round sees)."""
    from kefu.tickets import service as tickets

    cached: dict[str, Any] | None = session.info.get(_CONFIG)
    if cached is None:
        cached = {
            "rules": [routing_rules.Rule(r.queue_key, tuple(r.channels), tuple(r.types), tuple(r.categories),
                                         tuple(r.tiers)) for r in rules(session)],
            "queues": {q.key: q for q in store.active_queues(session)},
            "categories": {cid: c.key for cid, c in tickets.categories_by_id(session).items()},
            "places": store.places(session),
        }
        session.info[_CONFIG] = cached
    return cached


_PINS = "kefu_routing_pins"
_LIVE = "kefu_routing_live_items"


def read_live_items(session: Session, ticket_ids: Iterable[int]) -> list[RoutingItem]:
    """The live work items of these tickets, read in one query and kept for the session with the tickets
    that have none (a writer's round, the only maker of items: reconcile_ticket then finds a ticket's item
    without a query, and the items the round makes are added as they are made)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return []
    with session.no_autoflush:
        rows = list(session.scalars(select(RoutingItem).where(among(session, RoutingItem.ticket_id, ids),
                                                              RoutingItem.state.in_(LIVE_ITEM))))
    live: dict[int, int | None] = session.info.setdefault(_LIVE, {})
    live.update(dict.fromkeys(ids))
    live.update({r.ticket_id: r.id for r in rows if r.ticket_id is not None})
    return rows


def read_pins(session: Session, ticket_ids: Iterable[int]) -> None:
    """The queues these tickets were sent to by hand (or none), read in one query and kept for the session
    (a writer's round: its work items are made without a query a ticket for the pin)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return
    pins: dict[int, str | None] = session.info.setdefault(_PINS, {})
    pins.update(dict.fromkeys(ids))
    with session.no_autoflush:
        for tid, key in session.execute(select(RoutingTicketQueue.ticket_id, RoutingTicketQueue.queue_key)
                                        .where(among(session, RoutingTicketQueue.ticket_id, ids))):
            pins[tid] = key


def _item_fields(session: Session, ticket: Any, engine: Engine, at: float) -> dict[str, Any] | None:
    """The work item a ticket makes: its queue by the rules, the queue's media and weight, what priority
    reads (tier, type, category, the ticket's priority, complaint clock at risk, a repeat contact), the place,
    the preferred agent. Its reads (pins, customers, tickets) do not flush the session's pending routing rows
    first: those change none of them, and go out with the next flush."""
    with session.no_autoflush:
        return _item_fields_read(session, ticket, engine, at)


def _item_fields_read(session: Session, ticket: Any, engine: Engine, at: float) -> dict[str, Any] | None:
    from kefu.customers import service as customers
    from kefu.tickets import service as tickets

    config = _config(session)
    category = config["categories"].get(ticket.category_id)
    pins: dict[int, str | None] = session.info.get(_PINS, {})
    if ticket.id in pins:
        pinned = pins[ticket.id]
    else:
        chosen = session.get(RoutingTicketQueue, ticket.id)
        pinned = chosen.queue_key if chosen is not None else None
    key = pinned if pinned is not None else routing_rules.choose_queue(
        config["rules"], channel=ticket.channel, type=ticket.type, category=category, tier=ticket.customer_tier)
    if key is None:
        return None
    try:
        cfg = engine.queue_config(key)
    except KeyError:
        return None
    q = config["queues"].get(key)
    weight = q.weight if q is not None else routing_rules.MEDIA_WEIGHT.get(cfg.channel, 20)
    place = config["places"].get(ticket.org_unit_id, (None, None))
    family = customers.customer_ids_of(session, ticket.customer_id) if ticket.customer_id is not None else []
    when = store.from_epoch(at)
    clock = tickets.reply_clock(ticket, at=when)
    preferred = None
    if cfg.preferred_window > 0 and family:
        preferred = tickets.last_handler(session, family, since=when - timedelta(seconds=cfg.preferred_window))
    return {"queue_key": key, "entry_queue_key": key, "channel": cfg.channel, "weight": weight, "skills": {},
            "tier": ticket.customer_tier, "kind": ticket.type, "category": category,
            "ticket_priority": ticket.priority,
            "sla_at_risk": bool(clock is not None and clock.at_risk),
            "repeat_contact": bool(family) and tickets.has_other_ticket(session, family, since=when - REPEAT_WINDOW,
                                                                       excluding=ticket.id),
            "city": place[0], "province": place[1], "preferred_agent_id": preferred}


# ---- calls become work items ----------------------------------------------------------------------

def submit_call(session: Session, interaction_id: int, *, waiting: bool, ended: bool, agent_id: int | None,
                queue: str | None, at: datetime) -> RoutingInput:
    """A call's state as the switch reports it (kefu.voice): waiting for an agent, with an agent, or ended."""
    return submit(session, "call", {"interaction_id": interaction_id, "waiting": waiting, "ended": ended,
                                    "agent_id": agent_id, "queue": queue}, at=at)


def reconcile_call(session: Session, engine: Engine, payload: dict[str, Any], at: float) -> list[Event]:
    """What the engine must hear about a call: a call waiting for an agent is a voice work item (its queue
    the IVR's, else the rules'); answered by the agent it was offered to, the offer is accepted (the agent is
    busy); answered by someone else (the switch chose), the item is withdrawn; ended, the item is completed
    (the agent goes to after-call work, the queue's wrap-up) or withdrawn if nobody had it (abandoned)."""
    from kefu.interactions import service as interactions
    from kefu.routing.model import OfferAccepted

    iid = int(payload["interaction_id"])
    item = session.scalar(select(RoutingItem).where(RoutingItem.interaction_id == iid,
                                                    RoutingItem.state.in_(LIVE_ITEM)))
    when = store.from_epoch(at)
    agent_id = payload.get("agent_id")
    if payload.get("ended"):
        if item is None:
            return []
        if item.state == "assigned":
            item.state, item.ended_at, item.end_reason = "completed", when, "ended"
            return [WorkCompleted(item.id, at)]
        item.state, item.ended_at, item.end_reason = "withdrawn", when, "abandoned"
        return [ItemWithdrawn(item.id, at, "abandoned")]
    if payload.get("waiting"):
        if item is not None:
            return []
        it = interactions.get(session, iid)
        if it is None:
            return []
        fields = _call_fields(session, engine, it, payload.get("queue"), at)
        if fields is None:
            return []
        row = RoutingItem(interaction_id=iid, org_unit_id=it.org_unit_id, enqueued_at=when, queue_since=when,
                          state="waiting", **fields)
        session.add(row)
        session.flush()
        return [ItemEnqueued(store.work_item(row), at)]
    if item is None or agent_id is None:
        return []
    if item.state == "offered" and item.agent_id == agent_id:
        offer = session.scalar(select(RoutingOffer).where(RoutingOffer.item_id == item.id,
                                                          RoutingOffer.state == "offered"))
        return [] if offer is None else [OfferAccepted(offer.id, at)]
    if item.state == "assigned":
        if item.agent_id == agent_id:
            return []
        item.state, item.ended_at, item.end_reason = "completed", when, "transferred"
        return [WorkCompleted(item.id, at)]
    item.state, item.ended_at, item.end_reason = "withdrawn", when, "answered_elsewhere"
    return [ItemWithdrawn(item.id, at, "answered_elsewhere")]


def _call_fields(session: Session, engine: Engine, it: Any, queue_hint: Any, at: float) -> dict[str, Any] | None:
    from kefu.customers import service as customers

    tier = None
    if it.customer_id is not None:
        tier = customers.resolve(session, customers.get(session, it.customer_id)).tier
    key = str(queue_hint) if queue_hint else None
    if key is not None:
        try:
            engine.queue_config(key)
        except KeyError:
            key = None
    if key is None:
        key = routing_rules.choose_queue(_config(session)["rules"], channel="voice", type=None, category=None,
                                         tier=tier)
        if key is None:
            return None
        try:
            engine.queue_config(key)
        except KeyError:
            return None
    cfg = engine.queue_config(key)
    q = _config(session)["queues"].get(key)
    place = _config(session)["places"].get(it.org_unit_id, (None, None))
    return {"queue_key": key, "entry_queue_key": key, "channel": cfg.channel,
            "weight": q.weight if q is not None else routing_rules.MEDIA_WEIGHT["voice"], "skills": {},
            "tier": tier, "kind": None, "category": None, "sla_at_risk": False, "repeat_contact": False,
            "city": place[0], "province": place[1], "preferred_agent_id": None}


# ---- what people read -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AgentStatus:
    user_id: int
    presence: str
    reason: str | None
    since: datetime
    offers: list[RoutingOffer]
    held: list[RoutingItem]
    queues: list[str]


def agent_status(session: Session, user_id: int) -> AgentStatus:
    """An agent's presence, their open offers and the work routing gave them."""
    row = session.get(RoutingAgent, user_id)
    offers = list(session.scalars(select(RoutingOffer).where(RoutingOffer.agent_id == user_id,
                                                             RoutingOffer.state == "offered")
                                  .order_by(RoutingOffer.id)))
    held = list(session.scalars(select(RoutingItem).where(RoutingItem.agent_id == user_id,
                                                          RoutingItem.state == "assigned")
                                .order_by(RoutingItem.assigned_at)))
    if row is None:
        return AgentStatus(user_id, "offline", None, utcnow(), offers, held, [])
    return AgentStatus(user_id, row.presence, row.reason, row.presence_since, offers, held, list(row.queues))


@dataclass(frozen=True)
class QueueStats:
    queue: RoutingQueue
    waiting: int
    offered: int
    assigned: int
    oldest_since: datetime | None


def queue_stats(session: Session, principal: Principal) -> list[QueueStats]:
    """Per queue of the principal's branch: items waiting, offered, held, and the oldest waiting one."""
    return branch_queue_stats(session, principal.org_path)


def branch_queue_stats(session: Session, path: str) -> list[QueueStats]:
    """Per queue of the branch of the unit at ``path`` (its subtree and the units above it): items waiting,
    offered, held, and the oldest waiting one."""
    rows = _of_branch(session, store.active_queues(session), path)
    counts: dict[tuple[str, str], int] = {}
    oldest: dict[str, datetime] = {}
    for key, state, n, first in session.execute(
            select(RoutingItem.queue_key, RoutingItem.state, func.count(), func.min(RoutingItem.enqueued_at))
            .where(RoutingItem.state.in_(LIVE_ITEM)).group_by(RoutingItem.queue_key, RoutingItem.state)):
        counts[(key, state)] = n
        if state == "waiting":
            oldest[key] = first
    return [QueueStats(q, counts.get((q.key, "waiting"), 0), counts.get((q.key, "offered"), 0),
                       counts.get((q.key, "assigned"), 0), oldest.get(q.key)) for q in rows]


def agents_of(session: Session, principal: Principal) -> list[tuple[Any, RoutingAgent | None, int]]:
    """The agents of the principal's subtree (roles that take work), with their routing row and how many
    items they hold."""
    from kefu.tickets.service import ASSIGNING_ROLES

    unit_ids = org.visible_unit_ids(session, principal)
    users = [u for u in org.users_in_units(session, unit_ids) if u.active and u.role in ASSIGNING_ROLES]
    rows = {r.user_id: r for r in session.scalars(select(RoutingAgent).where(
        RoutingAgent.user_id.in_([u.id for u in users])))}
    held: dict[int, int] = {agent: n for agent, n in session.execute(
        select(RoutingItem.agent_id, func.count()).where(
            RoutingItem.state == "assigned", RoutingItem.agent_id.in_([u.id for u in users]))
        .group_by(RoutingItem.agent_id)) if agent is not None}
    return [(u, rows.get(u.id), held.get(u.id, 0)) for u in users]


@dataclass(frozen=True)
class MoveSuggestion:
    """The engine's advice (`routing.move_suggested`): this idle agent could take this backlogged queue."""

    user: Any
    queue: RoutingQueue
    waiting: int
    oldest_wait: float
    at: datetime


SUGGESTIONS_FOR = timedelta(minutes=15)


def move_suggestions(session: Session, principal: Principal, *, at: datetime | None = None,
                     within: timedelta = SUGGESTIONS_FOR) -> list[MoveSuggestion]:
    """The engine's suggestions of the last `within` for the principal's agents, newest first, one per (agent,
    queue), left out once applied (the agent serves the queue and its media) or when the queue or agent is
    gone. The supervisor's page and the wall show them."""
    from kefu.core.events import OutboxEvent

    at = at or utcnow()
    agents = {u.id: (u, row) for u, row, _ in agents_of(session, principal)}
    queues = {q.key: q for q in store.active_queues(session)}
    rows = session.execute(select(OutboxEvent.payload, OutboxEvent.occurred_at).where(
        OutboxEvent.name == "routing.move_suggested", OutboxEvent.occurred_at >= at - within)
        .order_by(OutboxEvent.id.desc()).limit(200))
    seen: set[tuple[int, str]] = set()
    out = []
    for payload, when in rows:
        user_id, key = payload.get("user_id"), payload.get("queue")
        if not isinstance(user_id, int) or user_id not in agents or key not in queues or (user_id, key) in seen:
            continue
        seen.add((user_id, key))
        user, row = agents[user_id]
        queue = queues[key]
        if row is not None and key in row.queues and row.channels.get(queue.channel, 0) > 0:
            continue  # already applied
        out.append(MoveSuggestion(user, queue, int(payload.get("waiting") or 0),
                                  float(payload.get("oldest_wait") or 0.0), when))
    return out


def apply_move(session: Session, principal: Principal, user_id: int, queue_key: str) -> RoutingAgent:
    """Take a suggestion: the agent also serves the queue, with at least one item at a time of its media."""
    row = default_profile(session, _managed_user(session, principal, user_id))
    queue = session.scalar(select(RoutingQueue).where(RoutingQueue.key == queue_key))
    if queue is None:
        raise QueueNotFound(f"unknown queue: {queue_key}", details={"queues": [queue_key]})
    channels = dict(row.channels)
    channels[queue.channel] = max(1, channels.get(queue.channel, 0))
    return update_agent(session, principal, user_id, queues=[*row.queues, queue_key], channels=channels)


def offer_for(session: Session, offer_id: int) -> RoutingOffer | None:
    return session.get(RoutingOffer, offer_id)


def reaches() -> Iterable[str]:
    return (r.name.lower() for r in Reach)


def ring_rows(rings: Sequence[Ring]) -> list[dict[str, Any]]:
    return routing_rules.rings_to_json(rings)


def set_queue_calendar(session: Session, principal: Principal, key: str, calendar_id: int | None) -> RoutingQueue:
    """The working calendar that gives the queue its service hours (kefu.sla calendars; None: by hand)."""
    row = queue(session, principal, key)
    row.calendar_id = calendar_id
    row.updated_at = utcnow()
    session.flush()
    return row
