"""`kefu bench routing`: decision latency of the engine in process, and a real day replayed through it.

Latency: a province of 21 cities, 24 queues (8 skills x voice, web chat, e-mail), 2,000 agents with
2-5 skills at levels 1-5, and 20,000 waiting items (calls, chats and tickets of every tier, with skill
levels, places and up to a day of waiting, so rings and ceilings are in play). Every agent is full.
Then, one after another: an agent finishes an item (the engine picks its next item: the decision
timed), the agent accepts the offer, and a new item arrives (also timed; it waits, as nobody is free).
Reference, measured in the same run: a plain FIFO heap doing the same number of pops and pushes on
20,000 entries, and a linear scan of the whole line for the best item an agent may take (the obvious
implementation without buckets).

The replay: the busiest day of a month of the Technion "Anonymous Bank" log (kefu/routing/replay.py)
through the engine, per class beside the log, and a FIFO pool (any agent takes any call) on the same
staffing as reference. Skipped, with a message, when the log is not there.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kefu.routing import pool
from kefu.routing.engine import Engine
from kefu.routing.model import (
    Agent,
    AgentPresenceChanged,
    AgentUpdated,
    Decision,
    EngineConfig,
    ItemEnqueued,
    Offer,
    OfferAccepted,
    Presence,
    QueueConfig,
    Reach,
    Ring,
    WorkCompleted,
    WorkItem,
)
from kefu.routing.priority import initial_priority

Echo = Callable[[str], None]

CITIES = {  # Guangdong's 21 cities, weighted roughly by subscribers, with their neighbours
    "guangzhou": (12, ("foshan", "dongguan", "qingyuan", "huizhou", "zhongshan", "shaoguan")),
    "shenzhen": (12, ("dongguan", "huizhou")),
    "dongguan": (7, ("guangzhou", "shenzhen", "huizhou")),
    "foshan": (7, ("guangzhou", "zhaoqing", "jiangmen", "zhongshan", "qingyuan", "yunfu")),
    "huizhou": (4, ("guangzhou", "shenzhen", "dongguan", "heyuan", "shanwei")),
    "zhongshan": (3, ("guangzhou", "foshan", "jiangmen", "zhuhai")),
    "jiangmen": (3, ("foshan", "zhongshan", "zhuhai", "yangjiang", "yunfu")),
    "zhuhai": (2, ("zhongshan", "jiangmen")),
    "shantou": (4, ("chaozhou", "jieyang")),
    "zhanjiang": (5, ("maoming",)),
    "maoming": (4, ("zhanjiang", "yangjiang", "yunfu")),
    "zhaoqing": (3, ("foshan", "yunfu", "qingyuan")),
    "qingyuan": (3, ("guangzhou", "foshan", "zhaoqing", "shaoguan")),
    "shaoguan": (2, ("guangzhou", "qingyuan", "heyuan")),
    "meizhou": (3, ("heyuan", "chaozhou", "jieyang", "shanwei")),
    "heyuan": (2, ("huizhou", "shaoguan", "meizhou")),
    "shanwei": (2, ("huizhou", "meizhou", "jieyang")),
    "yangjiang": (2, ("jiangmen", "maoming", "yunfu")),
    "chaozhou": (2, ("shantou", "meizhou", "jieyang")),
    "jieyang": (4, ("shantou", "chaozhou", "meizhou", "shanwei")),
    "yunfu": (2, ("foshan", "zhaoqing", "jiangmen", "maoming", "yangjiang")),
}
SKILLS = ("billing", "data", "network", "broadband", "plan", "vas", "number", "service")
CHANNELS = {  # channel: (weight, per-agent limit, rings, share of waiting items, enqueued up to s ago)
    "voice": (100, 1, (Ring(0.0), Ring(20.0, 1), Ring(40.0, 1, Reach.NEIGHBOURS), Ring(60.0, 2, Reach.PROVINCE)),
              0.15, 300.0),
    "webchat": (30, 3, (Ring(0.0), Ring(60.0, 1), Ring(120.0, 1, Reach.NEIGHBOURS), Ring(300.0, 2, Reach.PROVINCE)),
                0.30, 1_800.0),
    "email": (20, 5, (Ring(0.0), Ring(600.0, 1), Ring(1_800.0, 1, Reach.NEIGHBOURS),
                      Ring(3_600.0, 2, Reach.PROVINCE)), 0.55, 86_400.0),
}
AGING = {"voice": 60.0, "webchat": 10.0, "email": 0.5}  # points a minute: a voice call caps in 100 s
PROFILES = (("voice",), ("voice",), ("voice", "webchat"), ("webchat",), ("email",))
TIERS = ((None, 70), ("silver", 20), ("gold", 8), ("diamond", 2))
KINDS = ((None, 83), ("complaint", 15), ("appeal", 2))
PROVINCE = "gd"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0-100) of unsorted values."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


@dataclass(frozen=True, slots=True)
class LatencyResult:
    agents: int
    waiting: int
    queues: int
    freed_ms: list[float]  # agent finishes an item: the engine picks the next (wall clock)
    arrive_ms: list[float]  # an item arrives (and waits)
    accept_ms: list[float]
    freed_cpu_ms: list[float]  # the same on the thread's CPU clock: the engine's own work, whatever the
    arrive_cpu_ms: list[float]  # machine's other processes do
    offers: int
    loop_seconds: float  # wall time of all timed and untimed engine calls of the loop
    heap_ms: list[float]  # reference: a FIFO heap pop + push on the same line length
    scan_ms: list[float]  # reference: a linear scan of the line for one agent's best item
    setup_seconds: float
    holding: int  # agents holding work when the timing starts


class _World:
    """The synthetic province: queues, agents and a stream of items, all from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.cities = list(CITIES)
        self.city_weights = [CITIES[c][0] for c in self.cities]
        self.neighbours = {c: frozenset(n) for c, (_, n) in CITIES.items()}
        self.queues = [QueueConfig(f"{skill}-{channel}", channel, skills={skill: 1}, aging_per_minute=AGING[channel],
                                   rings=CHANNELS[channel][2], offer_timeout=1e9)
                       for skill in SKILLS for channel in CHANNELS]
        self.next_item = 1

    def agent(self, agent_id: int) -> Agent:
        rnd = self.rnd
        channels = rnd.choice(PROFILES)
        skills = {s: rnd.randint(1, 5) for s in rnd.sample(SKILLS, rnd.randint(2, 5))}
        city = rnd.choices(self.cities, self.city_weights)[0]
        return Agent(agent_id, frozenset(f"{s}-{c}" for s in skills for c in channels), skills,
                     {c: CHANNELS[c][1] for c in channels}, 100, city, PROVINCE)

    def item(self, now: float) -> WorkItem:
        rnd = self.rnd
        channel = rnd.choices(list(CHANNELS), [v[3] for v in CHANNELS.values()])[0]
        skill = rnd.choice(SKILLS)
        item_id = self.next_item
        self.next_item += 1
        return WorkItem(item_id, f"{skill}-{channel}", channel, now - rnd.random() * CHANNELS[channel][4],
                        {skill: rnd.randint(1, 4)}, CHANNELS[channel][0],
                        tier=rnd.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0],
                        kind=rnd.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0],
                        sla_at_risk=rnd.random() < 0.05, repeat_contact=rnd.random() < 0.1,
                        city=rnd.choices(self.cities, self.city_weights)[0], province=PROVINCE)


def _accept_all(engine: Engine, decisions: Sequence[Decision], at: float) -> int:
    accepted = 0
    for d in decisions:
        if isinstance(d, Offer):
            engine.handle(OfferAccepted(d.offer_id, at))
            accepted += 1
    return accepted


def build(agents: int, waiting: int, seed: int, now: float) -> tuple[Engine, _World]:
    """An engine with every agent full and ``waiting`` items in line."""
    world = _World(seed)
    config = EngineConfig(neighbours=world.neighbours, move_check_every=1e18)
    engine = Engine(config, world.queues, now=now)
    profiles = [world.agent(agent_id) for agent_id in range(1, agents + 1)]
    for profile in profiles:
        engine.handle(AgentUpdated(profile, now))
    for _ in range(waiting):
        engine.handle(ItemEnqueued(world.item(now), now))
    for profile in profiles:
        _accept_all(engine, engine.handle(AgentPresenceChanged(profile.id, Presence.AVAILABLE, now)), now)
    line = len(engine.waiting())
    for _ in range(max(0, waiting - line)):
        _accept_all(engine, engine.handle(ItemEnqueued(world.item(now), now)), now)
    return engine, world


def latency(*, agents: int = 2_000, waiting: int = 20_000, decisions: int = 5_000, seed: int = 0,
            scans: int = 30) -> LatencyResult:
    """Time the engine's decisions in a steady full house (see the module docstring)."""
    now = 1_000_000.0
    started = time.perf_counter()
    engine, world = build(agents, waiting, seed, now)
    setup = time.perf_counter() - started
    rnd = random.Random(seed + 1)
    holders = [a for a in engine.agent_ids() if (v := engine.agent(a)) is not None and v.held]
    holding = len(holders)
    freed_ms: list[float] = []
    arrive_ms: list[float] = []
    accept_ms: list[float] = []
    freed_cpu: list[float] = []
    arrive_cpu: list[float] = []
    offers = 0
    clock, cpu = time.perf_counter, time.thread_time
    loop_started = clock()
    for _ in range(decisions):
        now += 0.05
        view = engine.agent(rnd.choice(holders))
        if view is None or not view.held:
            continue
        event = WorkCompleted(rnd.choice(view.held), now)
        t0, c0 = clock(), cpu()
        out = engine.handle(event)
        c1, t1 = cpu(), clock()
        freed_ms.append((t1 - t0) * 1e3)
        freed_cpu.append((c1 - c0) * 1e3)
        for d in out:
            if isinstance(d, Offer):
                t0 = clock()
                engine.handle(OfferAccepted(d.offer_id, now))
                accept_ms.append((clock() - t0) * 1e3)
                offers += 1
        arrival = ItemEnqueued(world.item(now), now)
        t0, c0 = clock(), cpu()
        out = engine.handle(arrival)
        c1, t1 = cpu(), clock()
        arrive_ms.append((t1 - t0) * 1e3)
        arrive_cpu.append((c1 - c0) * 1e3)
        offers += _accept_all(engine, out, now)
    loop_seconds = clock() - loop_started
    return LatencyResult(agents, len(engine.waiting()), len(world.queues), freed_ms, arrive_ms, accept_ms,
                         freed_cpu, arrive_cpu, offers, loop_seconds, _fifo_heap_ms(waiting, decisions, seed),
                         _scan_ms(engine, world, scans, now), setup, holding)


def _fifo_heap_ms(waiting: int, operations: int, seed: int) -> list[float]:
    """Reference: pop the head of a FIFO heap of ``waiting`` entries and push a newcomer."""
    rnd = random.Random(seed)
    heap = [(rnd.random() * 1e6, i) for i in range(waiting)]
    heapq.heapify(heap)
    clock = time.perf_counter
    out = []
    t = 1e6
    for i in range(operations):
        t += 1.0
        t0 = clock()
        heapq.heappop(heap)
        heapq.heappush(heap, (t, waiting + i))
        out.append((clock() - t0) * 1e3)
    return out


def _scan_ms(engine: Engine, world: _World, scans: int, now: float) -> list[float]:
    """Reference: find one agent's best item by scanning every waiting item (eligibility and priority)."""
    line = engine.waiting()
    config = engine.config
    queues = {q.key: q for q in world.queues}
    clock = time.perf_counter
    out = []
    for _ in range(scans):
        agent = world.agent(0)
        t0 = clock()
        best: tuple[float, float, int] | None = None
        for w in line:
            q = queues[w.queue]
            if not (pool.item_eligible(agent, w.item, q, now - w.item.enqueued_at, config.neighbours)
                    and pool.fits(agent, 0, 0, w.item.channel, w.item.weight)):
                continue
            p0 = initial_priority(w.item, q, config.rules, config.max_priority)
            key = (min(config.max_priority, p0 + q.aging_per_minute * (now - w.item.enqueued_at) / 60),
                   -w.item.enqueued_at, -w.item.id)
            if best is None or key > best:
                best = key
        out.append((clock() - t0) * 1e3)
    return out


def print_latency(r: LatencyResult, echo: Echo) -> None:
    def row(label: str, values: list[float]) -> str:
        return (f"  {label:<34} {percentile(values, 50):9.3f} {percentile(values, 99):9.3f} "
                f"{max(values):9.3f} {len(values):8,}")

    echo(f"routing engine in process: {r.agents:,} agents ({r.holding:,} holding work, none with room for a "
         f"waiting item it may take), {r.waiting:,} waiting items, "
         f"{r.queues} queues; set up in {r.setup_seconds:.1f} s")
    echo(f"  {'decision':<34} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'count':>8}")
    echo(row("agent frees up -> next offer", r.freed_ms))
    echo(row("  the same, CPU time of the thread", r.freed_cpu_ms))
    echo(row("item arrives (waits in line)", r.arrive_ms))
    echo(row("  the same, CPU time of the thread", r.arrive_cpu_ms))
    echo(row("offer accepted", r.accept_ms))
    echo(row("reference: FIFO heap pop + push", r.heap_ms))
    echo(row("reference: linear scan of the line", r.scan_ms))
    decisions = r.freed_ms + r.arrive_ms
    cpu = r.freed_cpu_ms + r.arrive_cpu_ms
    echo(f"  all decisions: p50 {percentile(decisions, 50):.3f} ms, p99 {percentile(decisions, 99):.3f} ms wall "
         f"clock; p99 {percentile(cpu, 99):.3f} ms of CPU (goal: p99 < 5 ms)")
    echo(f"  engine / FIFO heap at p50: {percentile(r.freed_ms, 50) / percentile(r.heap_ms, 50):.0f}x for a "
         f"freed agent's pick; linear scan / engine at p50: "
         f"{percentile(r.scan_ms, 50) / percentile(r.freed_ms, 50):.0f}x")
    echo(f"  assignments per second: {r.offers / r.loop_seconds:,.0f} ({r.offers:,} offers accepted in "
         f"{r.loop_seconds:.2f} s, each with a completion, an acceptance and a new arrival)")


# ---------------------------------------------------------------- the real day


def default_log_dir() -> Path | None:
    """../shared/data/callcenter-anonymous-bank beside the project (or beside the working directory)."""
    import kefu

    roots = [Path(kefu.__file__).resolve().parents[1], Path.cwd()]
    for root in roots:
        candidate = root.parent / "shared" / "data" / "callcenter-anonymous-bank"
        if candidate.is_dir():
            return candidate
    return None


def print_replay(log_dir: Path | None, month: str, day: date | None, replications: int, seed: int,
                 echo: Echo) -> None:
    from kefu.routing.replay import busiest_day, replay_day
    from kefu.workforce.history import read_call_log

    files = sorted(log_dir.glob(f"{month}_*.txt")) if log_dir is not None else []
    if not files:
        echo(f"replay skipped: no call log {month}_*.txt under {log_dir or '../shared/data/callcenter-anonymous-bank'}"
             " (give --data)")
        return
    records = read_call_log(files).records
    the_day = day or busiest_day(records)
    started = time.perf_counter()
    replays = [(label, replay_day(records, the_day, replications=replications, seed=seed, widen_after=widen))
               for label, widen in (("skills", None), ("skills, any agent after 60 s", 60.0))]
    seconds = time.perf_counter() - started
    base = replays[0][1]
    echo("")
    echo(f"replay of {the_day} ({files[0].name}): {base.offered:,} offered calls, {base.agents} agents on a "
         f"{base.agent_hours:.1f} agent-hour roster (every half-hour each served in), {replications} replications "
         f"through the engine in {seconds:.1f} s; priority customers get the green channel")
    echo(f"  {'class':<16} {'calls':>6} | {'SL20 log':>8} {'engine':>7} | {'ASA log':>7} {'engine':>7} | "
         f"{'aband log':>9} {'engine':>7}")

    def f(v: float | None, pattern: str) -> str:
        return "-" if v is None or v != v else pattern.format(v)

    for label, replay in replays:
        echo(f"  [{label}]" + ("" if not replay.unrouted else f" ({replay.unrouted:.1f} calls no agent could take)"))
        for c in [*replay.classes, replay.total]:
            echo(f"  {c.name:<16} {c.offered:6,} | {f(c.log_service_level, '{:.3f}'):>8} "
                 f"{f(c.service_level.mean, '{:.3f}'):>7} | {f(c.log_asa, '{:.1f}'):>7} {f(c.asa.mean, '{:.1f}'):>7} | "
                 f"{f(c.log_abandon, '{:.3f}'):>9} {f(c.abandon.mean, '{:.3f}'):>7}")
    fifo = base.fifo
    echo(f"  reference in the same run, the same calls and head count as one FIFO pool (any agent, any call): "
         f"SL20 {fifo.service_level.mean:.3f}, ASA {fifo.asa.mean:.1f} s, abandonment {fifo.abandon.mean:.3f}")
