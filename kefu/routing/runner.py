"""The single writer: one process at a time runs the routing engine in memory, fed by `routing_inputs`.

Why one writer. The engine's decisions depend on everything waiting and every agent at once (longest
idle, priority with aging, rings), so two deciders would each see half the picture. The writer's role is
a lock: on PostgreSQL a session advisory lock held on the writer's own connection (`pg_try_advisory_lock`;
if the process dies or its connection breaks, the lock goes with it and a standby takes over); on SQLite
(one machine) an exclusive `flock` on a file beside the database. Every server process and worker runs a
`RoutingRunner`; the one that holds the lock routes, the others wait for it.

A round. The writer reads the unprocessed inputs in id order, turns each into engine events (a ticket to
route is reconciled against the ticket as it is now: a new item, an update, a withdrawal when someone
took it by hand, a completion when it was resolved), lets the engine decide, and writes everything in one
transaction: new items, offers, presence, the items' places, ticket assignments on acceptance, events for
the console, and the inputs marked processed. If that transaction fails the in-memory engine is dropped
and restored from the tables on the next round, so the tables are always the truth.

The database guarantees what matters whatever the code does: the unique partial indexes of 0301_routing
(one live offer or assignment per item, one live item per ticket).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.db import Database, among
from kefu.routing import store
from kefu.routing.engine import Engine
from kefu.routing.model import (
    AgentPresenceChanged,
    AgentUpdated,
    Decision,
    EngineConfig,
    Event,
    Ignored,
    ItemEnqueued,
    ItemUpdated,
    MoveSuggested,
    Offer,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    Overflowed,
    Presence,
    PresenceChanged,
    QueueStateChanged,
)
from kefu.routing.models import RoutingAgent, RoutingInput, RoutingItem, RoutingOffer

log = logging.getLogger("kefu.routing")

ADVISORY_KEY = 0x6B656675  # "kefu": the routing writer's advisory lock on PostgreSQL
BATCH = 200
HOURS_EVERY = 30.0  # seconds between checks of the queues' service hours
POLL_SECONDS = 0.25
REVOKED_STATE = {"timeout": "timed_out", "rejected": "rejected"}


@dataclass
class Round:
    """What one round did (for tests and the bench)."""

    inputs: int = 0
    decisions: list[Decision] = field(default_factory=list)


class Writer:
    """The engine and the tables, for the process that holds the writer's role."""

    def __init__(self, db: Database, config: EngineConfig | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.config = config or EngineConfig()
        self.clock = clock
        self.engine: Engine | None = None
        # When the queues' service hours were last checked (engine time; None: at the next round).
        self._hours_checked: float | None = None
        # Certificates ending by time: those ending up to `_certs_until` (engine time) are applied; the next
        # one ends at `_certs_due` (None: none), known when `_certs_known` (else read at the next round).
        self._certs_until = 0.0
        self._certs_due: float | None = None
        self._certs_known = False
        # The next offer id as routing_state has it (None: not known, write it).
        self._offer_id_stored: int | None = None
        # Offers made in this round, by id: pending in the session until the round's flush.
        self._made: dict[int, RoutingOffer] = {}
        # The rows this round read ahead (held here: the session keeps unchanged rows only weakly).
        self._rows: list[Any] = []
        # Called after a round's commit (wake the outbox dispatcher: the round recorded events).
        self.after_commit: Callable[[], None] = lambda: None

    # ---- the round --------------------------------------------------------------------------

    def run_round(self) -> Round:
        """Process the pending inputs (up to BATCH) and the timers due. Raises on failure, after dropping
        the in-memory engine (the next round restores it from the tables)."""
        try:
            with self.db.unit_of_work() as s:
                result = self._round(s)
        except BaseException:
            self.engine = None
            self._offer_id_stored = None
            raise
        finally:
            self._made, self._rows = {}, []
        if result.inputs or result.decisions:
            self.after_commit()
        return result

    def next_timer(self) -> float | None:
        if self.engine is None:
            return None
        due = [t for t in (self.engine.next_timer(), self._certs_due if self._certs_known else None)
               if t is not None]
        return min(due) if due else None

    def _round(self, s: Session) -> Round:
        now = self.clock()
        self._made, self._rows = {}, []
        if self.engine is None:
            self.engine, settling = Engine.restore(store.load_snapshot(s, self.config, now))
            self._offer_id_stored = self._hours_checked = None
            self._certs_until, self._certs_known = now, False  # the snapshot's profiles hold at `now`
            self._project(s, settling)
        engine = self.engine
        rows = list(s.scalars(select(RoutingInput).where(RoutingInput.processed_at.is_(None))
                              .order_by(RoutingInput.id).limit(BATCH)))
        out = Round(inputs=len(rows))
        self._preload_inputs(s, rows)
        for row in rows:
            outcome = "ok"
            try:
                evs = self._events_for(s, row)
            except RestoreNeeded:
                store.set_next_offer_id(s, engine.next_offer_id)  # the snapshot reads it: never reuse an id
                self.engine, settling = Engine.restore(store.load_snapshot(s, self.config, max(now, engine.now)))
                self._certs_until, self._certs_known = max(now, engine.now), False
                engine = self.engine
                self._project(s, settling)
                evs = []
                outcome = "restored"
            for ev in evs:
                decisions = engine.handle(ev)
                outcome = _outcome(ev, decisions, outcome)
                self._project(s, decisions, cause=ev)
                out.decisions += decisions
            row.processed_at = utcnow()
            row.outcome = outcome[:200]
        if self._hours_checked is None or now - self._hours_checked >= HOURS_EVERY:
            self._hours_checked = now
            for ev in self._service_hours(s, engine, now):
                decisions = engine.handle(ev)
                self._project(s, decisions, cause=ev)
                out.decisions += decisions
        for ev in self._certificates_ended(s, now):
            decisions = engine.handle(ev)
            self._project(s, decisions, cause=ev)
            out.decisions += decisions
        due = engine.next_timer()
        if due is not None and due <= now:
            decisions = engine.advance(now)
            self._project(s, decisions)
            out.decisions += decisions
        if engine.next_offer_id != self._offer_id_stored:
            store.set_next_offer_id(s, engine.next_offer_id)
            self._offer_id_stored = engine.next_offer_id
        return out

    # ---- inputs to engine events -------------------------------------------------------------

    def _events_for(self, s: Session, row: RoutingInput) -> list[Event]:
        from kefu.routing import service

        p = row.payload or {}
        at = max(store.to_epoch(row.created_at), self.engine.now if self.engine else 0.0)
        kind = row.kind
        if kind == "ticket":
            return service.reconcile_ticket(s, self._engine(), int(p["ticket_id"]), at)
        if kind == "call":
            return service.reconcile_call(s, self._engine(), p, at)
        if kind == "presence":
            return self._presence(s, int(p["user_id"]), str(p["presence"]), p.get("reason"), at)
        if kind == "agent":
            self._certs_known = False  # a certificate issued (or revoked) may change when the next one ends
            return self._agent(s, int(p["user_id"]), at)
        if kind == "offer":
            return self._answer(s, int(p["offer_id"]), int(p["user_id"]), bool(p["accept"]), at)
        if kind == "queue":
            raise RestoreNeeded()  # a queue's configuration changed: rebuild the engine from the tables
        if kind == "queue_state":
            self._hours_checked = None  # opened or closed by hand: the round's hours check applies it
            return []
        log.warning("unknown routing input kind %r (input %s)", kind, row.id)
        return []

    def _engine(self) -> Engine:
        assert self.engine is not None
        return self.engine

    def _presence(self, s: Session, user_id: int, presence: str, reason: Any, at: float) -> list[Event]:
        from kefu.routing import service

        row = s.get(RoutingAgent, user_id)
        if row is None:
            return []
        if self._engine().agent(user_id) is None:
            profile = service.agent_profile(s, row)
            if profile is None:
                return []
            evs: list[Event] = [AgentUpdated(profile, at)]
        else:
            evs = []
        # The presence row is the engine's to write (below, from the decision), but a change the agent
        # asked for is no decision: write it here.
        row.presence = presence
        row.reason = reason if presence in ("break", "not_ready") else None
        row.presence_since = store.from_epoch(at)
        if presence != "after_call_work":
            row.acw_until = None
        events.defer(s, "routing.agent_presence_changed",
                     {"user_id": user_id, "presence": presence, "reason": row.reason, "by": "agent"},
                     aggregate_type="user", aggregate_id=user_id, at=store.from_epoch(at))
        return [*evs, AgentPresenceChanged(user_id, Presence(presence), at, row.reason)]

    def _agent(self, s: Session, user_id: int, at: float) -> list[Event]:
        from kefu.routing import service

        row = s.get(RoutingAgent, user_id)
        profile = service.agent_profile(s, row, at=store.from_epoch(at)) if row is not None else None
        if profile is None:
            raise RestoreNeeded()  # removed or deactivated: the engine forgets them through a restore
        keys = {q.key for q in store.active_queues(s)}
        profile = type(profile)(profile.id, frozenset(k for k in profile.queues if k in keys), profile.skills,
                                profile.channels, profile.capacity, profile.city, profile.province)
        return [AgentUpdated(profile, at)]

    def _certificates_ended(self, s: Session, now: float) -> list[Event]:
        """The agents a certificate of whom ended by time since the last look (kefu.quality.certification):
        their profiles read again at `now`, so a queue asking for that skill stops offering them its work
        (nothing records an event when a certificate runs out: the writer keeps its next end as a timer)."""
        from kefu.quality import certification

        if self._certs_known and (self._certs_due is None or self._certs_due > now):
            return []
        skills = certification.needs_certificate(s)
        after, until = store.from_epoch(self._certs_until), store.from_epoch(now)
        holders = certification.lapsed_holders(s, skills, after=after, until=until) if until > after else set()
        nxt = certification.next_expiry(s, skills, after=until)
        self._certs_until, self._certs_known = now, True
        self._certs_due = store.to_epoch(nxt) if nxt is not None else None
        engine = self._engine()
        evs: list[Event] = []
        for user_id in sorted(holders):
            if engine.agent(user_id) is not None:
                with contextlib.suppress(RestoreNeeded):  # gone meanwhile: their own input restores
                    evs += self._agent(s, user_id, now)
        return evs

    def _answer(self, s: Session, offer_id: int, user_id: int, accept: bool, at: float) -> list[Event]:
        offer = self._offer(s, offer_id)
        if offer is None or offer.agent_id != user_id or offer.state != "offered":
            return []
        return [OfferAccepted(offer_id, at) if accept else OfferRejected(offer_id, at)]

    def _service_hours(self, s: Session, engine: Engine, now: float) -> list[Event]:
        """Queues to open or close now: by hand, and by their service-hours calendar (checked every
        HOURS_EVERY seconds, at once after a restore or a change by hand). A closed queue with an overflow
        queue hands its waiting items there (the engine's overflow); otherwise they wait for the opening."""
        at = store.from_epoch(now)
        out: list[Event] = []
        for row in store.active_queues(s):
            try:
                have = engine.queue_config(row.key).open
            except KeyError:
                continue
            want = store.queue_open(s, row, at)
            if want != have:
                out.append(QueueStateChanged(row.key, want, now))
                events.defer(s, "routing.queue_state_changed",
                             {"queue": row.key, "open": want, "calendar_id": row.calendar_id},
                             aggregate_type="routing_queue", aggregate_id=row.id, org_unit_id=row.org_unit_id,
                             at=at)
        return out

    # ---- decisions to tables -----------------------------------------------------------------
    #
    # A round's writes stay in the session and go out in the round's one flush (before commit; or earlier,
    # when a query autoflushes): an UPDATE per changed row (sent as one batch per table and column set), one
    # multi-row INSERT of the offers and one of the events. What makes that safe with the unique indexes
    # (one live offer per item, one live item per ticket, offer ids): the session always holds a state the
    # indexes accept, so any flush at any moment is valid. An offer the engine takes back is changed on its
    # own object, even when it was made earlier in the same round and is not written yet (`_made`), before
    # the item's next offer is added; a flush writes every table's UPDATEs before its INSERTs, so the old
    # offer leaves the index before the new one enters it. Rows are read in one SELECT per kind before the
    # decisions that touch them (`_preload`), so projecting a decision runs no query.

    def _preload_inputs(self, s: Session, rows: list[RoutingInput]) -> None:
        """The tickets (with their live items and pins), agents and offers this round's inputs name, in a
        query each."""
        from kefu.routing import service as routing_service
        from kefu.tickets.models import Ticket

        agents: set[int] = set()
        offers: set[int] = set()
        tickets: set[int] = set()
        for row in rows:
            p = row.payload or {}
            if row.kind == "ticket" and isinstance(p.get("ticket_id"), int):
                tickets.add(p["ticket_id"])
            if row.kind in ("presence", "agent", "offer") and isinstance(p.get("user_id"), int):
                agents.add(p["user_id"])
            if row.kind == "offer" and isinstance(p.get("offer_id"), int):
                offers.add(p["offer_id"])
        self._rows += _load(s, Ticket, Ticket.id, tickets)
        routing_service.read_pins(s, tickets)
        # their live items (reconcile_ticket finds each by its id then: no entity query a ticket)
        self._rows += routing_service.read_live_items(s, tickets)
        self._rows += _load(s, RoutingAgent, RoutingAgent.user_id, agents)
        if offers:
            loaded = _load(s, RoutingOffer, RoutingOffer.id, offers)
            self._rows += loaded
            self._rows += _load(s, RoutingItem, RoutingItem.id, {o.item_id for o in loaded})

    def _preload(self, s: Session, decisions: list[Decision], cause: Event | None) -> None:
        """The items, offers and agents these decisions touch, one SELECT per kind, only those not in the
        session yet (offers made in this round are in `_made`)."""
        items: set[int] = set()
        agents: set[int] = set()
        offers: set[int] = set()
        for d in decisions:
            item_id, agent_id = getattr(d, "item_id", None), getattr(d, "agent_id", None)
            if isinstance(item_id, int):
                items.add(item_id)
            if isinstance(agent_id, int):
                agents.add(agent_id)
            if isinstance(d, OfferRevoked) and d.offer_id not in self._made:
                offers.add(d.offer_id)
        if isinstance(cause, AgentPresenceChanged | AgentUpdated):
            agents.add(cause.agent_id if isinstance(cause, AgentPresenceChanged) else cause.agent.id)
        self._rows += _load(s, RoutingItem, RoutingItem.id, items)
        self._rows += _load(s, RoutingAgent, RoutingAgent.user_id, agents)
        self._rows += _load(s, RoutingOffer, RoutingOffer.id, offers)

    def _offer(self, s: Session, offer_id: int) -> RoutingOffer | None:
        return self._made.get(offer_id) or s.get(RoutingOffer, offer_id)

    def _project(self, s: Session, decisions: list[Decision], *, cause: Event | None = None) -> None:
        """Write what the engine decided (and what an accepted offer means) into the tables."""
        if decisions:
            self._preload(s, decisions, cause)
        answered = not any(isinstance(d, Ignored) for d in decisions)
        if isinstance(cause, OfferAccepted) and answered:
            self._accepted(s, cause)
        elif isinstance(cause, OfferRejected) and answered:
            self._rejected(s, cause)
        for d in decisions:
            if isinstance(d, Offer):
                self._offered(s, d)
            elif isinstance(d, OfferRevoked):
                self._revoked(s, d)
            elif isinstance(d, Overflowed):
                self._overflowed(s, d)
            elif isinstance(d, PresenceChanged):
                self._presence_decided(s, d)
            elif isinstance(d, MoveSuggested):
                events.defer(s, "routing.move_suggested",
                             {"user_id": d.agent_id, "queue": d.queue, "channel": d.channel,
                              "waiting": d.waiting, "oldest_wait": round(d.oldest_wait, 1)},
                             aggregate_type="routing_queue", at=store.from_epoch(d.at))
        self._sync_places(s, decisions, cause)

    def _offered(self, s: Session, d: Offer) -> None:
        item = s.get(RoutingItem, d.item_id)
        assert item is not None
        item.state, item.agent_id = "offered", d.agent_id
        offer = RoutingOffer(id=d.offer_id, item_id=d.item_id, agent_id=d.agent_id, queue_key=d.queue,
                             offered_at=store.from_epoch(d.at), expires_at=store.from_epoch(d.expires_at),
                             state="offered")
        s.add(offer)
        self._made[d.offer_id] = offer
        events.defer(s, "routing.offered",
                     {"offer_id": d.offer_id, "item_id": d.item_id, "ticket_id": item.ticket_id,
                      "user_id": d.agent_id, "queue": d.queue,
                      "expires_at": store.from_epoch(d.expires_at).isoformat()},
                     aggregate_type="routing_offer", aggregate_id=d.offer_id, org_unit_id=item.org_unit_id,
                     at=store.from_epoch(d.at))

    def _revoked(self, s: Session, d: OfferRevoked) -> None:
        offer = self._offer(s, d.offer_id)
        if offer is not None and offer.state == "offered":
            offer.state = REVOKED_STATE.get(d.reason, "revoked")
            offer.ended_at = store.from_epoch(d.at)
            offer.reason = d.reason
        item = s.get(RoutingItem, d.item_id)
        if item is not None and item.state == "offered":
            item.state, item.agent_id = "waiting", None
        events.defer(s, "routing.offer_ended",
                     {"offer_id": d.offer_id, "item_id": d.item_id, "user_id": d.agent_id, "reason": d.reason,
                      "ticket_id": item.ticket_id if item is not None else None},
                     aggregate_type="routing_offer", aggregate_id=d.offer_id,
                     org_unit_id=item.org_unit_id if item is not None else None, at=store.from_epoch(d.at))

    def _rejected(self, s: Session, cause: OfferRejected) -> None:
        """The agent said no: the offer is over and the item waits again (the engine may offer it to the
        next agent in the same round: that decision follows)."""
        offer = self._offer(s, cause.offer_id)
        assert offer is not None
        at = store.from_epoch(cause.at)
        offer.state, offer.ended_at, offer.reason = "rejected", at, "rejected"
        item = s.get(RoutingItem, offer.item_id)
        assert item is not None
        if item.state == "offered":
            item.state, item.agent_id = "waiting", None
        events.defer(s, "routing.offer_ended",
                     {"offer_id": offer.id, "item_id": item.id, "user_id": offer.agent_id, "reason": "rejected",
                      "ticket_id": item.ticket_id},
                     aggregate_type="routing_offer", aggregate_id=offer.id, org_unit_id=item.org_unit_id, at=at)

    def _accepted(self, s: Session, cause: OfferAccepted) -> None:
        from kefu.tickets import service as tickets

        offer = self._offer(s, cause.offer_id)
        assert offer is not None
        at = store.from_epoch(cause.at)
        offer.state, offer.ended_at = "accepted", at
        item = s.get(RoutingItem, offer.item_id)
        assert item is not None
        item.state, item.agent_id, item.assigned_at = "assigned", offer.agent_id, at
        if item.ticket_id is not None:
            tickets.assign(s, item.ticket_id, assignee_id=offer.agent_id, actor_id=offer.agent_id, at=at,
                           routed=True)
        events.defer(s, "routing.offer_accepted",
                     {"offer_id": offer.id, "item_id": item.id, "ticket_id": item.ticket_id,
                      "user_id": offer.agent_id, "queue": item.queue_key,
                      "waited": round(cause.at - store.to_epoch(item.enqueued_at), 3)},
                     aggregate_type="routing_offer", aggregate_id=offer.id, org_unit_id=item.org_unit_id, at=at)

    def _overflowed(self, s: Session, d: Overflowed) -> None:
        item = s.get(RoutingItem, d.item_id)
        if item is not None:
            item.queue_key = d.to_queue
            item.queue_since = store.from_epoch(d.at)
        events.defer(s, "routing.overflowed", {"item_id": d.item_id, "from": d.from_queue, "to": d.to_queue,
                                               "reason": d.reason},
                     aggregate_type="routing_item", aggregate_id=d.item_id,
                     org_unit_id=item.org_unit_id if item is not None else None, at=store.from_epoch(d.at))

    def _presence_decided(self, s: Session, d: PresenceChanged) -> None:
        row = s.get(RoutingAgent, d.agent_id)
        if row is None:
            return
        row.presence, row.reason = d.presence.value, d.reason
        row.presence_since = store.from_epoch(d.at)
        row.acw_until = store.from_epoch(d.until) if d.until is not None else None
        events.defer(s, "routing.agent_presence_changed",
                     {"user_id": d.agent_id, "presence": d.presence.value, "reason": d.reason, "by": "engine"},
                     aggregate_type="user", aggregate_id=d.agent_id, at=store.from_epoch(d.at))

    def _sync_places(self, s: Session, decisions: list[Decision], cause: Event | None) -> None:
        """Keep idle-since and parked-with as the engine has them, so a restore continues exactly."""
        engine = self._engine()
        agents: set[int] = set()
        items: set[int] = set()
        for d in decisions:
            agent_id = getattr(d, "agent_id", None)
            if isinstance(agent_id, int):
                agents.add(agent_id)
            item_id = getattr(d, "item_id", None)
            if isinstance(item_id, int):
                items.add(item_id)
        if isinstance(cause, AgentPresenceChanged | AgentUpdated):
            agents.add(cause.agent_id if isinstance(cause, AgentPresenceChanged) else cause.agent.id)
        if isinstance(cause, ItemEnqueued | ItemUpdated):
            items.add(cause.item.id)
        for agent_id in agents:
            view = engine.agent(agent_id)
            row = s.get(RoutingAgent, agent_id)
            if view is not None and row is not None:
                row.idle_since = store.from_epoch(view.idle_since)
        for item_id in items:
            w = engine.waiting_item(item_id)
            if w is None:
                continue
            item = s.get(RoutingItem, item_id)  # loaded by _preload, or just created by the cause
            if item is not None:
                item.parked_with, item.queue_key = w.parked_with, w.queue
                item.queue_since = store.from_epoch(w.queue_since)


class RestoreNeeded(Exception):
    """The engine must be rebuilt from the tables (a queue or an agent went away)."""


def _load(s: Session, model: Any, key: Any, ids: set[int]) -> list[Any]:
    """Rows of `model` with these keys into the session, one SELECT for those not there yet. The caller
    keeps the returned rows for the round (the session holds unchanged rows weakly)."""
    def present(i: int) -> Any:
        return s.identity_map.get(s.identity_key(model, i))

    missing = sorted(i for i in ids if present(i) is None)
    if not missing:
        return [present(i) for i in ids]
    # No autoflush: a row that is not in the session has no pending change in it, so reading it cannot
    # miss one; the session's changes go out together in the round's flush.
    with s.no_autoflush:
        loaded = list(s.scalars(select(model).where(among(s, key, missing))))
    return loaded + [row for i in ids if i not in missing and (row := present(i)) is not None]


def _outcome(ev: Event, decisions: list[Decision], previous: str) -> str:
    ignored = [d for d in decisions if isinstance(d, Ignored)]
    if ignored:
        return f"ignored: {ignored[0].reason}"
    return previous


# ---- the writer's role ----------------------------------------------------------------------------


class Leadership:
    """Who holds the writer's role: a PostgreSQL advisory lock on a connection of its own, or a file lock
    beside an SQLite database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Connection | None = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.db.dialect == "postgresql":
            conn = self.db.engine.connect()
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
                conn.commit()
            except Exception:
                conn.close()
                raise
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        path = _lock_path(self.db)
        f = open(path, "a+")  # noqa: SIM115 - held for as long as the role
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._file = f
        return True

    def check(self) -> bool:
        """Still ours? (The PostgreSQL connection may have broken: then the lock went with it.)"""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
            except Exception:
                self.release()
                return False
        return self.held

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _lock_path(db: Database) -> str:
    database = db.engine.url.database or ""
    if database and database != ":memory:":
        return database + ".routing.lock"
    return os.path.join("/tmp", f"kefu-routing-{os.getpid()}.lock")


class RoutingRunner:
    """The thread every server process and worker runs: it routes while it holds the writer's role, and
    tries to take the role otherwise. Woken by `kick()` (an input was committed in this process) and by
    the hub's routing channel (another process committed one); otherwise it polls every POLL_SECONDS and
    wakes for the engine's next timer."""

    def __init__(self, db: Database, *, config: EngineConfig | None = None,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        self.writer = Writer(db, config)
        if on_commit is not None:
            self.writer.after_commit = on_commit
        self.leadership = Leadership(db)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kefu-routing", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.leadership.release()

    def step(self) -> Round | None:
        """One round if this process holds (or can take) the writer's role; None otherwise."""
        if not (self.leadership.try_acquire() and self.leadership.check()):
            self.writer.engine = None
            return None
        return self.writer.run_round()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = POLL_SECONDS
            try:
                result = self.step()
                self.failures = 0
                if result is not None and result.inputs >= BATCH:
                    wait = 0.0  # more inputs are waiting
                due = self.writer.next_timer()
                if due is not None:
                    wait = max(0.0, min(wait, due - time.time()))
            except Exception:
                self.failures += 1
                log.exception("routing round failed (%s in a row)", self.failures)
                wait = min(5.0, POLL_SECONDS * 2 ** min(self.failures, 4))
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()

