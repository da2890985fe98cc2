"""Calls from the switch: CTI events stored once, folded into the call's state, the call kept as an
interaction, and the call handed to routing while it waits for an agent.

`ingest` takes a batch of events (a CTI link sends them one by one or in bursts; a replay after an outage
sends thousands). Per call: the new events are inserted unless their (call id, event id) is stored already,
the call row is locked, the call is folded again from all its events (kefu/voice/callstate.py; a call has
a handful), and what changed is written: the call row, the interaction (customer by the ANI, times,
outcome, agent), and a routing input when what routing cares about changed (waiting, with which agent,
ended). Services flush, never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.db import insert_unless_exists
from kefu.core.errors import NotFound
from kefu.customers.phone import InvalidPhone, normalize_phone
from kefu.org import service as org
from kefu.voice import ivr
from kefu.voice.callstate import WITH_AGENT, CallState, CtiEvent, apply, canonical
from kefu.voice.models import CtiEventRow, VoiceCall


class CallNotFound(NotFound):
    code = "call_not_found"


@dataclass(frozen=True, slots=True)
class CallResult:
    call_id: str
    interaction_id: int
    accepted: int  # new events
    duplicates: int  # events stored before
    phase: str


@lru_cache(maxsize=2)
def _insert_event(dialect: str) -> Any:
    return insert_unless_exists(dialect, CtiEventRow, "call_id", "event_id").returning(CtiEventRow.id)


def _event_data(e: CtiEvent) -> dict[str, Any]:
    return {k: v for k, v in (("ani", e.ani), ("dnis", e.dnis), ("node", e.node), ("queue", e.queue),
                              ("agent", e.agent), ("recording_url", e.recording_url)) if v is not None}


def _from_row(r: CtiEventRow) -> CtiEvent:
    d = r.data or {}
    return CtiEvent(call_id=r.call_id, event_id=r.event_id, kind=r.kind, at=r.at, ani=d.get("ani"),
                    dnis=d.get("dnis"), node=d.get("node"), queue=d.get("queue"), agent=d.get("agent"),
                    recording_url=d.get("recording_url"))


class _Agents:
    """Agents named by the switch (their kefu username), looked up once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: dict[str, int | None] = {}

    def __call__(self, ref: str | None) -> int | None:
        if ref is None:
            return None
        if ref not in self.ids:
            user = org.user_by_username(self.session, ref)
            self.ids[ref] = user.id if user is not None and user.active else None
        return self.ids[ref]


def ingest(session: Session, events: Sequence[CtiEvent], *, org_unit_id: int,
           at: datetime | None = None) -> list[CallResult]:
    """Store and apply a batch of CTI events of the switch of `org_unit_id` (validated already)."""
    at = at or utcnow()
    by_call: dict[str, list[CtiEvent]] = defaultdict(list)
    for e in events:
        by_call[e.call_id].append(e)
    agents = _Agents(session)
    return [_ingest_call(session, call_id, evs, org_unit_id=org_unit_id, at=at, agents=agents)
            for call_id, evs in by_call.items()]


def _ingest_call(session: Session, call_id: str, evs: list[CtiEvent], *, org_unit_id: int, at: datetime,
                 agents: _Agents) -> CallResult:
    conn = session.connection()
    stmt = _insert_event(conn.dialect.name)
    accepted = 0
    for e in evs:
        new = conn.execute(stmt, {"call_id": e.call_id, "event_id": e.event_id, "kind": e.kind, "at": e.at,
                                  "data": _event_data(e), "received_at": at}).scalar()
        accepted += new is not None
    call = session.scalar(select(VoiceCall).where(VoiceCall.call_id == call_id).with_for_update())
    if accepted == 0 and call is not None:
        return CallResult(call_id, call.interaction_id, 0, len(evs), call.phase)
    rows = list(session.scalars(select(CtiEventRow).where(CtiEventRow.call_id == call_id)))
    new_ids = {e.event_id for e in evs}
    state = CallState(call_id)
    views: list[RoutingView] = []  # what routing must hear, step by step: a batch may hold a whole call
    steps: list[tuple[CallState, bool]] = []
    for e in canonical(_from_row(r) for r in rows):
        state = apply(state, e)
        steps.append((state, e.event_id in new_ids))
    # a call the switch queued without naming the queue waits in the queue of the caller's "0" (IVR)
    ivr_queue = ivr.queue_for_path(session, [n for n, _ in state.ivr_path]) if state.ivr_path else None
    for step, new in steps:
        if new and step.queued_at is not None:
            views.append(_routing_view(replace(step, queue=step.queue or ivr_queue), agents))
    if state.queue is None and ivr_queue is not None and state.queued_at is not None:
        state = replace(state, queue=ivr_queue)
    call = _project(session, call, state, org_unit_id=org_unit_id, at=at, agents=agents, views=views)
    new_nodes = [step.ivr_path[-1][0] for step, new in steps if new and step.ivr_path and step.phase == "ivr"]
    if new_nodes:
        _ivr_handoffs(session, call, new_nodes, at=at)
        _ivr_callback(session, call, new_nodes, at=at)
    return CallResult(call_id, call.interaction_id, accepted, len(evs) - accepted, call.phase)


def _customer_for(session: Session, ani: str | None, org_unit_id: int, at: datetime) -> int | None:
    """The caller's customer by the ANI (a withheld or foreign-format number: no customer)."""
    from kefu.customers import service as customers

    if not ani:
        return None
    try:
        normalize_phone(ani)
    except InvalidPhone:
        return None
    customer, _ = customers.identify(session, kind="phone", value=ani, org_unit_id=org_unit_id, at=at)
    return customer.id


RoutingView = tuple[bool, bool, int | None, str | None, datetime | None]


def _routing_view(s: CallState, agents: _Agents) -> RoutingView:
    """What routing cares about: waiting, ended, the agent talking, the queue (and when that was)."""
    return (s.waiting, s.phase == "ended", agents(s.agent) if s.phase in WITH_AGENT else None, s.queue, s.last_at)


def _project(session: Session, call: VoiceCall | None, s: CallState, *, org_unit_id: int, at: datetime,
             agents: _Agents, views: list[RoutingView]) -> VoiceCall:
    from kefu.interactions import service as interactions
    from kefu.routing import service as routing

    assert s.offered_at is not None
    before = None if call is None else (call.phase in ("queued", "ringing"), call.phase == "ended",
                                        call.agent_id if call.phase in WITH_AGENT else None, call.queue_key)
    agent_id = agents(s.agent)
    if call is None:
        customer_id = _customer_for(session, s.ani, org_unit_id, at)
        it = interactions.open_call(session, customer_id=customer_id, org_unit_id=org_unit_id,
                                    external_ref=f"cti:{s.call_id}", offered_at=s.offered_at)
        call = VoiceCall(call_id=s.call_id, interaction_id=it.id, org_unit_id=org_unit_id)
        session.add(call)
    else:
        found = interactions.get(session, call.interaction_id)
        assert found is not None
        it = found
    call.ani, call.dnis, call.phase, call.queue_key = s.ani, s.dnis, s.phase, s.queue
    call.ivr_path = [{"node": node, "at": when.isoformat()} for node, when in s.ivr_path]
    call.transfers = [{"at": when.isoformat(), "to": kind, "target": target} for when, kind, target in s.transfers]
    call.agent_id, call.agent_ref = agent_id, s.agent
    call.offered_at, call.queued_at, call.answered_at, call.ended_at = (s.offered_at, s.queued_at, s.answered_at,
                                                                        s.ended_at)
    call.ivr_seconds, call.queue_seconds = s.ivr_seconds, s.queue_seconds
    call.talk_seconds, call.hold_seconds = s.talk_seconds, s.hold_seconds
    call.outcome, call.recording_url, call.events, call.updated_at = s.outcome, s.recording_url, s.events, at
    session.flush()
    interactions.sync_call(session, it, offered_at=s.offered_at, queued_at=s.queued_at, answered_at=s.answered_at,
                           ended_at=s.ended_at, agent_id=agent_id, outcome=s.outcome)
    last = before
    for waiting, ended, agent, queue, when in views:  # a call served by the IVR alone is none of routing's
        if (waiting, ended, agent, queue) == last:
            continue
        last = (waiting, ended, agent, queue)
        routing.submit_call(session, it.id, waiting=waiting, ended=ended, agent_id=agent, queue=queue,
                            at=when or at)
    return call


def _ivr_handoffs(session: Session, call: VoiceCall, node_keys: list[str], *, at: datetime) -> None:
    """The caller reached a handoff node: they are sent the link (once per node and call), when kefu knows
    them and has their address on the node's channel."""
    from kefu.core.config import get_settings
    from kefu.handoffs import service as handoffs
    from kefu.interactions import service as interactions

    nodes = ivr.names_of(session, node_keys)
    it = interactions.get(session, call.interaction_id)
    if it is None or it.customer_id is None:
        return
    settings = get_settings()
    for key in dict.fromkeys(node_keys):
        node = nodes.get(key)
        if node is None or node.kind != "handoff" or node.handoff_channel is None:
            continue
        if handoffs.offered_from(session, call.interaction_id, key):
            continue
        try:
            handoffs.offer(session, customer_id=it.customer_id, org_unit_id=call.org_unit_id,
                           to_channel=node.handoff_channel, task=node.name, source="ivr",
                           secret=settings.secret_key.get_secret_value().encode(), public_url=settings.public_url,
                           link_hours=settings.handoff_link_hours, from_interaction_id=call.interaction_id,
                           ivr_node=key, at=at)
        except handoffs.NoAddress:
            continue  # the switch plays "please call an agent" when no link can be sent


CALLBACK_TYPE = "request"  # a callback request is a ticket of 业务办理


def _ivr_callback(session: Session, call: VoiceCall, node_keys: list[str], *, at: datetime) -> None:
    """The caller chose a callback node (预约回拨; the switch offers it when the queue is closed): once per
    call, and only for a number that can be called back, a ticket (业务办理, channel voice, the caller's
    customer) routed to the node's voice queue. Routing makes it a work item there like any ticket; while
    the queue is closed (outside its service hours) it waits, and it is offered when the queue opens. The
    agent who accepts it calls back and resolves the ticket, which completes the item."""
    from kefu.interactions import service as interactions
    from kefu.routing import service as routing
    from kefu.tickets import service as tickets

    nodes = ivr.names_of(session, node_keys)
    node = next((n for k in node_keys if (n := nodes.get(k)) is not None and n.kind == "callback"
                 and n.queue_key), None)
    it = interactions.get(session, call.interaction_id)
    if node is None or node.queue_key is None or it is None or it.ticket_id is not None or not call.ani:
        return
    ticket = tickets.create_ticket(
        session, type=CALLBACK_TYPE, subject=f"预约回拨 {call.ani}", org_unit_id=call.org_unit_id,
        customer_id=it.customer_id, channel="voice", at=at,
        description=f"来电 {call.ani} 于 {at.isoformat(timespec='minutes')} 在语音菜单「{node.name}」选择预约回拨。")
    routing.queue_ticket(session, ticket.id, node.queue_key)
    interactions.link_ticket(session, it.id, ticket.id)


# ---- reading -------------------------------------------------------------------------------------

def get_visible(session: Session, principal: Principal, call_id: str) -> VoiceCall:
    call = session.scalar(select(VoiceCall).where(VoiceCall.call_id == call_id))
    if call is None or not principal.sees_path(org.org_unit(session, call.org_unit_id).path):
        raise CallNotFound(f"call {call_id!r} not found")
    return call


def call_for_interaction(session: Session, interaction_id: int) -> VoiceCall | None:
    return session.scalar(select(VoiceCall).where(VoiceCall.interaction_id == interaction_id))
