"""`kefu bench routing --db postgres`: routing end to end through a real database.

A fresh database gets the default queues, `agents` agents (offline) and `waiting` waiting items in the
messages queue. The single writer (kefu.routing.runner.Writer) restores its engine from the tables (timed),
then, `rounds` times: an agent goes ready (the service call and its commit, as the console does), and the
writer's next round reads the input, decides, and commits the offers, the item states and the events. The
figure is the wall time from the agent's click to the offers committed. The reference measured in the same
run is the floor of any such path on this database: one small INSERT and COMMIT round trip.

Then the issue's end-to-end goal, arrival to offer shown: the backlog is withdrawn, `arrival_agents` agents
go ready with room, and `rounds` customers each send an SMS through the channel's inbound path (the
webhook's service call and its commit). Timed until the agent's console is told of the offer: the outbox
delivers `ticket.created` to routing's intake (a routing input), the writer's round commits the offer,
the outbox delivers `routing.offered` to the console's live consumer, which publishes the agent's notice
on the hub; the bench holds a subscription on the hub, as a console process does, and stops the clock
when the notice for that agent arrives. Each step is timed too. Dispatching, the writer and the
subscriber run in this one process, one after the other: the figure has no waiting for a poll or a
wake-up, which in a server are a notify away (kefu.routing.runtime kicks the writer on commit).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, text, update

from kefu.bench.common import percentile
from kefu.core.clock import utcnow
from kefu.core.db import Database

Echo = Callable[[str], None]


@dataclass
class EndToEnd:
    agents: int
    waiting: int
    seed_seconds: float = 0.0
    restore_seconds: float = 0.0
    click_to_offer_ms: list[float] = field(default_factory=list)
    round_ms: list[float] = field(default_factory=list)
    reference_ms: list[float] = field(default_factory=list)
    offers: int = 0
    arrival_agents: int = 0
    arrivals: int = 0
    arrival_ms: list[float] = field(default_factory=list)
    arrival_steps: dict[str, list[float]] = field(default_factory=dict)


def _seed(db: Database, agents: int, waiting: int) -> list[int]:
    from kefu.org import service as org
    from kefu.routing import service as routing
    from kefu.routing.models import RoutingItem

    with db.unit_of_work() as s:
        group = org.create_org_unit(s, kind="group", code="G", name="集团")
        province = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=group.id)
        cities = [org.create_org_unit(s, kind="city", code=f"C{i:02d}", name=f"城市{i}", parent_id=province.id)
                  for i in range(21)]
        routing.ensure_defaults(s, province.id)
    ids: list[int] = []
    for start in range(0, agents, 500):
        with db.unit_of_work() as s:
            for n in range(start, min(agents, start + 500)):
                user = org.create_user(s, username=f"bench_agent_{n}", display_name=f"坐席{n}", role="agent",
                                       org_unit_id=cities[n % len(cities)].id)
                s.flush()
                routing.default_profile(s, user.id)
                ids.append(user.id)
    now = utcnow()
    rows: list[dict[str, object]] = [
        {"queue_key": "messages", "entry_queue_key": "messages", "channel": "message", "skills": {},
             "weight": 20, "tier": ("gold" if n % 10 == 0 else "standard"), "kind": None, "category": None,
             "sla_at_risk": False, "repeat_contact": False, "city": f"C{n % 21:02d}", "province": "GD",
             "org_unit_id": cities[n % 21].id, "enqueued_at": now - timedelta(seconds=waiting - n),
             "queue_since": now - timedelta(seconds=waiting - n), "state": "waiting"} for n in range(waiting)]
    with db.unit_of_work() as s:
        for start in range(0, len(rows), 2_000):
            s.execute(insert(RoutingItem), rows[start:start + 2_000])
    return ids


def end_to_end(url: str, *, agents: int, waiting: int, rounds: int, arrival_agents: int = 50) -> EndToEnd:
    from kefu.org import service as org
    from kefu.routing import service as routing
    from kefu.routing.models import RoutingOffer
    from kefu.routing.runner import Writer

    db = Database(url)
    result = EndToEnd(agents=agents, waiting=waiting)
    try:
        started = time.perf_counter()
        ids = _seed(db, agents, waiting)
        result.seed_seconds = time.perf_counter() - started
        writer = Writer(db)
        started = time.perf_counter()
        writer.run_round()  # restores the engine from the tables
        result.restore_seconds = time.perf_counter() - started
        with db.engine.begin() as c:
            c.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS bench_ping (n integer)")
                      if db.dialect == "postgresql" else text("CREATE TABLE IF NOT EXISTS bench_ping (n integer)"))
        for n, user_id in enumerate(ids[:rounds]):
            t0 = time.perf_counter()
            with db.unit_of_work() as s:
                user = org.user(s, user_id)
                assert user is not None
                routing.set_presence(s, org.principal_for(s, user), "available")
            t1 = time.perf_counter()
            writer.run_round()
            t2 = time.perf_counter()
            result.click_to_offer_ms.append((t2 - t0) * 1000)
            result.round_ms.append((t2 - t1) * 1000)
            with db.engine.connect() as c:  # the reference: one tiny write and its commit
                t3 = time.perf_counter()
                c.execute(text("INSERT INTO bench_ping (n) VALUES (:n)"), {"n": n})
                c.commit()
                result.reference_ms.append((time.perf_counter() - t3) * 1000)
        with db.session() as s:
            result.offers = len(list(s.scalars(select(RoutingOffer.id))))
        _arrivals(db, writer, ids[rounds:rounds + arrival_agents], rounds, result)
    finally:
        db.dispose()
    return result


def _arrivals(db: Database, writer: Any, agent_ids: list[int], rounds: int, result: EndToEnd) -> None:
    """Customers' messages arriving while agents wait for work: arrival -> the agent's console told."""
    from kefu.channels import inbound
    from kefu.core import pubsub
    from kefu.core.config import get_settings
    from kefu.core.events import bus
    from kefu.jobs import registry
    from kefu.org import service as org
    from kefu.routing import service as routing
    from kefu.routing.models import RoutingItem, RoutingOffer, RoutingQueue
    from kefu.web import live

    registry.load()  # routing's intake and the console's live consumer among them
    bus.dispatch_pending(db)
    with db.unit_of_work() as s:  # no backlog: each arrival finds a ready agent
        # The items offered in the first part go too: left open, their offers time out during the arrivals
        # (60 s, the messages queue's), they wait again and fill the arrival agents' room, and later arrivals
        # then wait for a ring that only widens after 30 minutes (what once left half of them unoffered).
        s.execute(update(RoutingItem).where(RoutingItem.state.in_(("waiting", "offered")))
                  .values(state="withdrawn", end_reason="bench", ended_at=utcnow()))
        s.execute(update(RoutingOffer).where(RoutingOffer.state == "offered")
                  .values(state="revoked", reason="bench", ended_at=utcnow()))
        # Nobody answers in the bench: offers must not time out (and their agents go not ready) while a
        # slow machine runs the arrivals.
        s.execute(update(RoutingQueue).values(offer_timeout=24 * 3600.0))
    writer.engine = None
    for user_id in agent_ids:
        with db.unit_of_work() as s:
            user = org.user(s, user_id)
            assert user is not None
            routing.set_presence(s, org.principal_for(s, user), "available")
    writer.run_round()
    bus.dispatch_pending(db)
    result.arrival_agents = len(agent_ids)
    if not agent_ids:
        return
    told: list[float] = []

    def on_notice(message: dict[str, Any]) -> None:
        if message.get("kind") == "routing" and message.get("event") == "routing.offered":
            told.append(time.perf_counter())

    unsubscribe = pubsub.current().subscribe(live.CHANNEL, on_notice)
    settings = get_settings()
    steps = result.arrival_steps
    try:
        for n in range(min(rounds, 5 * len(agent_ids))):
            result.arrivals += 1
            told.clear()
            t0 = time.perf_counter()
            with db.unit_of_work() as s:
                inbound.receive(s, settings, "sms", inbound.InboundMessage(
                    message_id=f"bench-{n}", sender=f"1390000{n:04d}", text="流量包怎么退订",
                    org_unit_code=f"C{n % 21:02d}"))
            t1 = time.perf_counter()
            bus.dispatch_pending(db)  # ticket.created -> routing's intake
            t2 = time.perf_counter()
            writer.run_round()
            t3 = time.perf_counter()
            bus.dispatch_pending(db)  # routing.offered -> the live consumer -> the hub
            if not told:
                continue  # no offer (should not happen: every arrival finds room)
            for label, a, b in (("message stored (inbound + commit)", t0, t1),
                                ("outbox -> routing input", t1, t2), ("writer's round (offer committed)", t2, t3),
                                ("outbox -> console notice", t3, told[0])):
                steps.setdefault(label, []).append((b - a) * 1000)
            result.arrival_ms.append((told[0] - t0) * 1000)
    finally:
        unsubscribe()


def print_end_to_end(r: EndToEnd, kind: str, echo: Echo) -> None:
    def row(label: str, values: list[float]) -> str:
        return (f"  {label:<40} {percentile(values, 50):9.2f} {percentile(values, 99):9.2f} "
                f"{max(values):9.2f} {len(values):7,}")

    click = sorted(r.click_to_offer_ms)
    ref = sorted(r.reference_ms)
    echo(f"routing end to end on {kind}: {r.agents:,} agents, {r.waiting:,} waiting items "
         f"(seeded in {r.seed_seconds:.1f} s); the writer restored its engine from the tables in "
         f"{r.restore_seconds * 1000:.0f} ms")
    echo(f"  {'path':<40} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'count':>7}")
    echo(row("agent goes ready -> offers committed", click))
    echo(row("  of which the writer's round", sorted(r.round_ms)))
    echo(row("reference: one INSERT + COMMIT", ref))
    echo(f"  {r.offers:,} offers made; end to end / reference at p50: "
         f"{percentile(click, 50) / max(percentile(ref, 50), 1e-9):.1f}x (goal: p99 < 20 ms end to end)")
    if r.arrival_ms:
        arr = sorted(r.arrival_ms)
        echo(f"arrival -> offer shown on {kind}: a customer's SMS while {r.arrival_agents} agents wait for work; "
             f"{len(arr)} of {r.arrivals} arrivals offered in their own round (only those are timed)")
        echo(f"  {'path':<40} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'count':>7}")
        echo(row("SMS arrives -> agent's console told", arr))
        for label, values in r.arrival_steps.items():
            echo(row("  " + label, sorted(values)))
        echo(row("reference: one INSERT + COMMIT", ref))
        echo(f"  arrival / reference at p50: {percentile(arr, 50) / max(percentile(ref, 50), 1e-9):.1f}x "
             f"(goal: p99 < 20 ms end to end)")
