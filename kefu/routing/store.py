"""Between the tables and the engine: rows to engine dataclasses, the snapshot the single writer restores
from, and times (the engine counts float seconds since the Unix epoch)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.org import service as org
from kefu.routing import rules as routing_rules
from kefu.routing.model import (
    Agent,
    AgentState,
    Assignment,
    EngineConfig,
    Presence,
    QueueConfig,
    Snapshot,
    Waiting,
    WorkItem,
)
from kefu.routing.models import LIVE_ITEM, RoutingAgent, RoutingItem, RoutingOffer, RoutingQueue, RoutingState

NEXT_OFFER = "next_offer_id"


def to_epoch(at: datetime) -> float:
    return at.timestamp()


def from_epoch(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def queue_open(session: Session, row: RoutingQueue, at: datetime) -> bool:
    """Whether a queue takes work at `at`: opened by hand (`open`), and within its service hours when it has
    a calendar (kefu.sla's working calendars, statutory holidays and make-up days included)."""
    if not row.open:
        return False
    if row.calendar_id is None:
        return True
    from kefu.sla import service as sla

    return sla.queue_open_at(session, row.calendar_id, at)


def queue_config(row: RoutingQueue, *, open_now: bool | None = None) -> QueueConfig:
    return QueueConfig(
        key=row.key, channel=row.channel, skills={k: int(v) for k, v in (row.skills or {}).items()},
        base_priority=row.base_priority, aging_per_minute=row.aging_per_minute,
        rings=routing_rules.rings_from_json(row.rings or []), overflow_to=row.overflow_to,
        overflow_after=row.overflow_after, offer_timeout=row.offer_timeout, wrap_up=row.wrap_up,
        preferred_window=row.preferred_window, open=row.open if open_now is None else open_now)


def active_queues(session: Session) -> list[RoutingQueue]:
    return list(session.scalars(select(RoutingQueue).where(RoutingQueue.active.is_(True))
                                .order_by(RoutingQueue.position, RoutingQueue.id)))


def places(session: Session) -> dict[int, tuple[str | None, str | None]]:
    """Each org unit's place for routing: (city code, province code). A province-level unit has no city;
    the group has neither."""
    units = org.units(session)
    by_id = {u.id: u for u in units}
    out: dict[int, tuple[str | None, str | None]] = {}
    for u in units:
        if u.kind == "city":
            parent = by_id.get(u.parent_id) if u.parent_id is not None else None
            out[u.id] = (u.code, parent.code if parent is not None else None)
        elif u.kind == "province":
            out[u.id] = (None, u.code)
        else:
            out[u.id] = (None, None)
    return out


def agent_profile(row: RoutingAgent, skills: dict[str, int], place: tuple[str | None, str | None]) -> Agent:
    channels = {ch: int(n) for ch, n in (row.channels or {}).items() if int(n) > 0}
    return Agent(id=row.user_id, queues=frozenset(row.queues or ()), skills=skills, channels=channels,
                 capacity=row.capacity, city=place[0], province=place[1])


def agent_profiles(session: Session, rows: Iterable[RoutingAgent],
                   unit_places: dict[int, tuple[str | None, str | None]], *,
                   at: datetime | None = None) -> dict[int, Agent]:
    """Profiles of these agents (active users only), with their skills and place, in a few queries. A skill
    that needs a certificate (kefu.quality.certification: one with an active course) counts only for the
    agents holding a valid one: the engine sees the others without it, so a queue asking for it never
    offers them its items (eligibility is data here; the engine stays pure)."""
    from kefu.quality import certification

    rows = list(rows)
    users = org.users(session, (r.user_id for r in rows))
    skills: dict[int, dict[str, int]] = {}
    for r in rows:
        u = users.get(r.user_id)
        if u is not None and u.active:
            skills[r.user_id] = {us.skill.key: us.level for us in u.skills}
    for skill in sorted(certification.needs_certificate(session)):
        holders = [uid for uid, held in skills.items() if skill in held]
        certified = certification.certified_user_ids(session, skill, holders, at=at)
        for uid in holders:
            if uid not in certified:
                del skills[uid][skill]
    return {r.user_id: agent_profile(r, skills[r.user_id], unit_places.get(users[r.user_id].org_unit_id,
                                                                           (None, None)))
            for r in rows if r.user_id in skills}


def work_item(row: RoutingItem) -> WorkItem:
    return WorkItem(id=row.id, queue=row.entry_queue_key, channel=row.channel, enqueued_at=to_epoch(row.enqueued_at),
                    skills={k: int(v) for k, v in (row.skills or {}).items()}, weight=row.weight, tier=row.tier,
                    kind=row.kind, category=row.category, ticket_priority=row.ticket_priority,
                    sla_at_risk=row.sla_at_risk,
                    repeat_contact=row.repeat_contact, city=row.city, province=row.province,
                    preferred_agent=row.preferred_agent_id)


def next_offer_id(session: Session) -> int:
    row = session.get(RoutingState, NEXT_OFFER)
    if row is not None:
        return int(row.value)
    highest = session.scalar(select(RoutingOffer.id).order_by(RoutingOffer.id.desc()).limit(1))
    return (highest or 0) + 1


def set_next_offer_id(session: Session, value: int) -> None:
    row = session.get(RoutingState, NEXT_OFFER)
    if row is None:
        session.add(RoutingState(key=NEXT_OFFER, value=str(value)))
    elif int(row.value) != value:
        row.value = str(value)


def load_snapshot(session: Session, config: EngineConfig, now: float) -> Snapshot:
    """Everything the engine needs to continue from the tables: queues (active; items of a queue since
    deactivated stay out), agents and their state, waiting items, open offers and assignments."""
    queue_rows = active_queues(session)
    queues = tuple(queue_config(q, open_now=queue_open(session, q, from_epoch(now))) for q in queue_rows)
    keys = {q.key for q in queues}
    unit_places = places(session)
    agent_rows = list(session.scalars(select(RoutingAgent)))
    profiles = agent_profiles(session, agent_rows, unit_places, at=from_epoch(now))
    agents = []
    for r in agent_rows:
        profile = profiles.get(r.user_id)
        if profile is None:
            continue
        profile = Agent(profile.id, frozenset(k for k in profile.queues if k in keys), profile.skills,
                        profile.channels, profile.capacity, profile.city, profile.province)
        agents.append(AgentState(profile, Presence(r.presence), r.reason,
                                 to_epoch(r.idle_since or r.presence_since),
                                 to_epoch(r.acw_until) if r.acw_until is not None else None))
    known_agents = {a.agent.id for a in agents}
    items = list(session.scalars(select(RoutingItem).where(RoutingItem.state.in_(LIVE_ITEM))
                                 .order_by(RoutingItem.id)))
    offers = {o.item_id: o for o in session.scalars(
        select(RoutingOffer).where(RoutingOffer.state == "offered"))}
    waiting: list[Waiting] = []
    held: list[Assignment] = []
    for it in items:
        if it.queue_key not in keys or it.entry_queue_key not in keys:
            continue
        item = work_item(it)
        if it.state == "waiting" or it.agent_id not in known_agents:
            parked = it.parked_with if it.parked_with in known_agents else None
            waiting.append(Waiting(item, it.queue_key, to_epoch(it.queue_since), parked))
        elif it.state == "offered" and it.id in offers:
            o = offers[it.id]
            held.append(Assignment(item, o.agent_id, it.queue_key, o.id, to_epoch(o.offered_at),
                                   to_epoch(o.expires_at)))
        elif it.state == "assigned":
            assert it.agent_id is not None
            held.append(Assignment(item, it.agent_id, it.queue_key))
        else:  # offered without a live offer row: put it back in line
            waiting.append(Waiting(item, it.queue_key, to_epoch(it.queue_since), None))
    return Snapshot(config, queues, tuple(agents), tuple(waiting), tuple(held), now, next_offer_id(session))


def describe(obj: Any) -> str:
    """A short text for a decision or event in logs and input outcomes."""
    return type(obj).__name__
