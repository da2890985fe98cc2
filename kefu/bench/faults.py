"""`kefu bench faults`: the scaled shape under load while its parts fail. Nothing may be lost, nothing done
twice, and service must come back by itself.

A private scaled shape (kefu.scaled.shape: its own PostgreSQL cluster and redis-server on free loopback
ports, API ×N behind one port, worker ×M) is loaded with inbound messages (`POST /api/v1/inbound/{channel}`)
by C client threads. A client whose message got no acknowledgement (an error, a 5xx, a dropped
connection) posts it again with the same message id until it is acknowledged, as SMS gateways do.
Phases, each on the same running shape:

- `none`: no fault; the reference for the others' throughput.
- `worker`: one worker is killed (SIGKILL) mid-load and started again `outage` seconds later
  (systemd's RestartSec).
- `postgres`: PostgreSQL is restarted (`pg_ctl restart -m fast`) mid-load.
- `redis`: redis-server is killed mid-load (it keeps nothing on disk: every notice and presence entry in
  it is gone) and started again `outage` seconds later.

The workers also run a counting consumer (this module's `register()`, loaded with `kefu worker --import`)
that writes one row per delivery into `bench_deliveries`, a table with no unique key, so that an event
delivered twice would show. Every 0.25 s a probe message is posted and followed until its ticket's live
notice arrives on a console stream (SSE, `/console/stream`): the whole path API → outbox → worker →
Redis → an API process → the page. Per phase the bench prints the counts (messages sent / acknowledged /
stored, events written / dispatched, consumer deliveries, duplicates), the probes, the longest time no
probe made the trip, and the recovery time: from the repair to the first probe posted after it that
made the whole trip.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from kefu.core.events import Event, bus

FAULTS = ("none", "worker", "postgres", "redis")
PHASES = ("warm-up", *FAULTS)
CONSUMER = "bench.faults"
PROBE_EVERY = 0.25
PROBE_TIMEOUT = 20.0
RECOVERY_GRACE = 30.0  # how long probing goes on after the load, waiting for the service to come back


# ---- the counting consumer, run by the workers ----


def _count_delivery(session: Session, event: Event) -> None:
    import os

    session.execute(text("INSERT INTO bench_deliveries (event_id, pid) VALUES (:e, :p)"),
                    {"e": event.id, "p": os.getpid()})


def register() -> None:
    """Loaded into the workers with `kefu worker --import kefu.bench.faults`."""
    bus.subscribe(CONSUMER, ["*"], _count_delivery)


def create_delivery_table(url: str) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(url)
    try:
        with eng.begin() as c:
            c.execute(text("CREATE TABLE IF NOT EXISTS bench_deliveries (event_id BIGINT NOT NULL, "
                           "pid INTEGER NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())"))
    finally:
        eng.dispose()


# ---- what one phase measured ----


@dataclass
class Probe:
    posted_at: float
    done_at: float | None = None


@dataclass
class PhaseResult:
    fault: str
    seconds: float = 0.0
    sent: int = 0  # distinct messages the clients posted
    acknowledged: int = 0  # ... answered 200/201 in the end
    attempts: int = 0  # posts in all, retries included
    stored: int = 0  # message rows with the phase's ids
    stored_distinct: int = 0
    events: int = 0  # outbox events written during the phase
    dispatched: int = 0
    deliveries: int = 0  # rows the counting consumer wrote for them
    delivered_events: int = 0  # distinct events among those rows
    faulted_at: float | None = None
    repaired_at: float | None = None
    drain_s: float | None = None  # after the load: until no event is pending
    probes: list[Probe] = field(default_factory=list, repr=False)
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def duplicate_messages(self) -> int:
        return self.stored - self.stored_distinct

    @property
    def duplicate_deliveries(self) -> int:
        return self.deliveries - self.delivered_events

    @property
    def lost(self) -> int:
        """Acknowledged messages that are not stored, events not dispatched, dispatched ones not delivered."""
        return max(0, self.acknowledged - self.stored_distinct) + (self.events - self.dispatched) + max(
            0, self.dispatched - self.delivered_events)

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0

    @property
    def probes_ok(self) -> int:
        return sum(1 for p in self.probes if p.done_at is not None)

    @property
    def recovery_s(self) -> float | None:
        """From the repair to the completion of the first probe posted after it that made the whole trip."""
        if self.repaired_at is None:
            return None
        done = [p.done_at for p in self.probes if p.posted_at >= self.repaired_at and p.done_at is not None]
        return min(done) - self.repaired_at if done else None

    @property
    def interruption_s(self) -> float:
        """The longest time, from the fault on, in which no probe made the whole trip."""
        if self.faulted_at is None:
            return 0.0
        ends = sorted(p.done_at for p in self.probes if p.done_at is not None and p.done_at >= self.faulted_at)
        marks = [self.faulted_at, *ends]
        return max((b - a for a, b in itertools.pairwise(marks)), default=0.0)

    @property
    def ok(self) -> bool:
        return (self.acknowledged == self.sent and self.lost == 0 and self.duplicate_messages == 0
                and self.duplicate_deliveries == 0 and self.drain_s is not None
                and (self.repaired_at is None or self.recovery_s is not None))

    def summary(self, reference: PhaseResult | None = None) -> str:
        rec = self.recovery_s
        recovery = f"{rec:.1f} s" if rec is not None else ("-" if self.repaired_at is None else "NONE")
        drain = f"{self.drain_s:.1f} s" if self.drain_s is not None else "NOT DONE"
        ratio = (f" ({self.per_second / reference.per_second:.2f}x the no-fault phase)"
                 if reference is not None and reference.per_second else "")
        return (
            f"fault {self.fault}: messages sent {self.sent}, acknowledged {self.acknowledged}, stored "
            f"{self.stored_distinct} ({self.attempts} posts); events {self.events}, dispatched {self.dispatched}; "
            f"consumer deliveries {self.deliveries} ({self.delivered_events} events); duplicates "
            f"{self.duplicate_messages} messages, {self.duplicate_deliveries} deliveries; lost {self.lost}; "
            f"probes {self.probes_ok}/{len(self.probes)}; longest without a live notice {self.interruption_s:.1f} s; "
            f"recovery {recovery}; drain {drain}; {self.per_second:.0f} msg/s{ratio}"
            + ("" if self.ok else "  <-- INVARIANT BROKEN")
        )


# ---- load ----


class StreamWatcher(threading.Thread):
    """A console page's live stream: when it was told about each ticket, and when it was told to refresh
    (`hello`: the page reloads what it shows, so it catches up with notices lost meanwhile)."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(name="bench-sse", daemon=True)
        self.base_url = base_url
        self.token = token
        self.seen: dict[int, float] = {}
        self.hellos: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                with httpx.Client(timeout=httpx.Timeout(30.0, read=60.0)) as http, http.stream(
                        "GET", f"{self.base_url}/console/stream",
                        headers={"Authorization": f"Bearer {self.token}"}) as r:
                    self._response = r
                    for line in r.iter_lines():
                        if line.startswith("event: "):
                            self._saw(line[7:].strip())
            except (httpx.HTTPError, RuntimeError):
                pass
            self._stop.wait(0.3)

    def _saw(self, kind: str) -> None:
        now = time.monotonic()
        with self._lock:
            if kind == "hello":
                self.hellos.append(now)
            elif kind.startswith("ticket-") and kind[7:].isdigit():
                self.seen.setdefault(int(kind[7:]), now)

    def told(self, ticket_id: int, since: float) -> float | None:
        """When the page learnt of the ticket: its notice, or the first refresh after `since`."""
        with self._lock:
            times = [t for t in (self.seen.get(ticket_id), *self.hellos) if t is not None and t >= since]
        return min(times) if times else None

    def wait_hello(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.hellos and time.monotonic() < deadline:
            time.sleep(0.05)
        return bool(self.hellos)

    def stop(self) -> None:
        self._stop.set()
        if self._response is not None:
            self._response.close()


def _post_until_acknowledged(http: httpx.Client, channel: str, body: dict[str, Any], deadline: float,
                             result: PhaseResult, lock: threading.Lock) -> dict[str, Any] | None:
    pause = 0.05
    while time.monotonic() < deadline:
        try:
            r = http.post(f"/api/v1/inbound/{channel}", json=body)
            code = str(r.status_code)
        except httpx.HTTPError as exc:
            r, code = None, type(exc).__name__
        with lock:
            result.attempts += 1
            result.statuses[code] += 1
        if r is not None and r.status_code in (200, 201):
            data: dict[str, Any] = r.json()
            return data
        if r is not None and 400 <= r.status_code < 500:
            return None  # refused for good: retrying would not help (counted as not acknowledged)
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
    return None


def _client(base_url: str, token: str, phase: str, idx: int, stop_at: float, give_up_at: float,
            result: PhaseResult, lock: threading.Lock) -> None:
    from kefu.bench.ingest import CITIES

    rng = random.Random(f"{phase}-{idx}")
    senders: list[tuple[str, str]] = []
    sent = acked = 0
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as http:
        i = 0
        while time.monotonic() < stop_at:
            if senders and rng.random() < 0.3:
                channel, sender = senders[rng.randrange(len(senders))]
            elif rng.random() < 0.6:
                channel, sender = "sms", f"+86139{PHASES.index(phase)}{idx:02d}{i % 100000:05d}"
                senders.append((channel, sender))
            else:
                channel, sender = "wechat", f"oFAULT{phase}{idx}x{i}"
                senders.append((channel, sender))
            body = {"message_id": f"f-{phase}-{idx}-{i}", "sender": sender, "text": "宽带又断了，请尽快处理",
                    "org_unit_code": rng.choice(CITIES)}
            sent += 1
            if _post_until_acknowledged(http, channel, body, give_up_at, result, lock) is not None:
                acked += 1
            i += 1
    with lock:
        result.sent += sent
        result.acknowledged += acked


def _prober(base_url: str, token: str, phase: str, stop_at: float, result: PhaseResult,
            tickets: list[tuple[Probe, int]], watcher: StreamWatcher) -> None:
    """Every PROBE_EVERY seconds a message from a new sender (so a new ticket); what the page was told is
    matched afterwards (`resolve_probes`). After the load it goes on, up to RECOVERY_GRACE seconds, until
    a probe posted after the repair has made the whole trip."""
    lock = threading.Lock()
    scratch = PhaseResult(phase)  # the probes' own posts are not the load's figures
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=5.0) as http:
        k = 0
        while True:
            now = time.monotonic()
            if now >= stop_at and (now >= stop_at + RECOVERY_GRACE or _recovered(result, tickets, watcher)):
                return
            probe = Probe(now)
            result.probes.append(probe)
            body = {"message_id": f"p-{phase}-{k}", "sender": f"oPROBE{phase}{k}", "text": "探针",
                    "org_unit_code": "GZ"}
            ack = _post_until_acknowledged(http, "wechat", body, probe.posted_at + PROBE_TIMEOUT, scratch, lock)
            if ack and isinstance(ack.get("ticket_id"), int):
                tickets.append((probe, ack["ticket_id"]))
            k += 1
            time.sleep(max(0.0, probe.posted_at + PROBE_EVERY - time.monotonic()))


def _recovered(result: PhaseResult, tickets: list[tuple[Probe, int]], watcher: StreamWatcher) -> bool:
    """No fault, or a probe posted after the repair has reached the page."""
    repaired = result.repaired_at if result.faulted_at is not None else 0.0
    if repaired is None:
        return False
    return any(p.posted_at >= repaired and watcher.told(t, p.posted_at) is not None for p, t in tickets)


def resolve_probes(tickets: list[tuple[Probe, int]], watcher: StreamWatcher) -> None:
    for probe, ticket_id in tickets:
        told = watcher.told(ticket_id, probe.posted_at)
        if told is not None and told - probe.posted_at <= PROBE_TIMEOUT:
            probe.done_at = told


# ---- a phase ----


def _max_event_id(s: Session) -> int:
    return int(s.scalar(text("SELECT coalesce(max(id), 0) FROM outbox_events")) or 0)


def _count(url: str, phase: str, first: int, last: int, result: PhaseResult) -> None:
    from kefu.core.db import Database

    db = Database(url)
    try:
        with db.session() as s:
            row = s.execute(text("SELECT count(*), count(DISTINCT external_id) FROM messages "
                                 "WHERE external_id LIKE :p"), {"p": f"f-{phase}-%"}).one()
            result.stored, result.stored_distinct = int(row[0]), int(row[1])
            row = s.execute(text("SELECT count(*), count(dispatched_at) FROM outbox_events "
                                 "WHERE id > :a AND id <= :b"), {"a": first, "b": last}).one()
            result.events, result.dispatched = int(row[0]), int(row[1])
            row = s.execute(text("SELECT count(*), count(DISTINCT event_id) FROM bench_deliveries "
                                 "WHERE event_id > :a AND event_id <= :b"), {"a": first, "b": last}).one()
            result.deliveries, result.delivered_events = int(row[0]), int(row[1])
    finally:
        db.dispose()


def _drain(url: str, seconds: float) -> float | None:
    """Wait until no event is pending; the seconds it took, or None."""
    from kefu.core.db import Database

    db = Database(url)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < seconds:
            try:
                if not bus.has_pending(db):
                    return time.monotonic() - t0
            except Exception:  # the database may still be coming back
                pass
            time.sleep(0.2)
        return None
    finally:
        db.dispose()


def run_phase(shape: Any, token: str, fault: str, *, clients: int, seconds: float, outage: float,
              watcher: StreamWatcher, echo: Callable[[str], None] = print, drain_seconds: float = 120.0) -> PhaseResult:
    from kefu.core.db import Database

    result = PhaseResult(fault)
    db = Database(shape.database_url)
    with db.session() as s:
        first = _max_event_id(s)
    db.dispose()
    lock = threading.Lock()
    t0 = time.monotonic()
    stop_at = t0 + seconds
    give_up_at = stop_at + drain_seconds
    threads = [threading.Thread(target=_client, args=(shape.base_url, token, fault, i, stop_at, give_up_at, result,
                                                      lock), daemon=True) for i in range(clients)]
    tickets: list[tuple[Probe, int]] = []
    threads.append(threading.Thread(target=_prober, args=(shape.base_url, token, fault, stop_at, result, tickets,
                                                          watcher), daemon=True))
    for t in threads:
        t.start()
    time.sleep(seconds / 3)
    _inject(shape, fault, outage, result, echo)
    for t in threads[:-1]:  # the clients
        t.join()
    result.seconds = time.monotonic() - t0
    threads[-1].join()  # the prober, which may wait for the service to come back
    shape.supervise()
    result.drain_s = _drain(shape.database_url, drain_seconds)
    db = Database(shape.database_url)
    with db.session() as s:
        last = _max_event_id(s)
    db.dispose()
    time.sleep(0.5)  # deliveries commit before the outbox row is marked dispatched; let the last settle
    _count(shape.database_url, fault, first, last, result)
    resolve_probes(tickets, watcher)
    return result


def _inject(shape: Any, fault: str, outage: float, result: PhaseResult, echo: Callable[[str], None]) -> None:
    if fault == "none":
        return
    result.faulted_at = time.monotonic()
    if fault == "worker":
        echo(f"  killing worker-1 (SIGKILL); starting it again in {outage:.0f} s")
        shape.kill_worker(0)
        time.sleep(outage)
        shape.supervise()
    elif fault == "postgres":
        echo("  restarting PostgreSQL (pg_ctl restart -m fast)")
        shape.pg.restart("fast")
    elif fault == "redis":
        echo(f"  killing redis-server (SIGKILL); starting it again in {outage:.0f} s")
        shape.redis.stop()
        time.sleep(outage)
        shape.redis.start()
    else:
        raise ValueError(f"unknown fault {fault!r} (one of {', '.join(FAULTS)})")
    result.repaired_at = time.monotonic()


def run(*, faults: tuple[str, ...] = FAULTS, api: int = 2, workers: int = 2, clients: int = 4, seconds: float = 20.0,
        outage: float = 3.0, concurrency: int = 4, echo: Callable[[str], None] = print,
        directory: Path | None = None) -> list[PhaseResult]:
    """Start a private scaled shape, run each phase on it, print and return the figures, stop it all."""
    import shutil
    import tempfile

    from kefu.bench.ingest import seed
    from kefu.scaled.shape import ScaledShape

    for f in faults:
        if f not in FAULTS:
            raise ValueError(f"unknown fault {f!r} (one of {', '.join(FAULTS)})")
    own = directory is None
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="kefu_faults_"))
        directory.chmod(0o755)  # PostgreSQL runs as its own user and must reach its data directory inside
    shape = ScaledShape(directory, api=api, workers=workers, concurrency=concurrency,
                        worker_imports=("kefu.bench.faults",))
    results: list[PhaseResult] = []
    try:
        from kefu.core.migrate import upgrade

        assert shape.pg is not None
        shape.pg.start()
        url = shape.pg.create_database(shape.database)
        upgrade(url)
        create_delivery_table(url)
        token = seed(url)
        shape.start()
        echo("scaled shape up: " + "; ".join(shape.describe()))
        watcher = StreamWatcher(shape.base_url, token)
        watcher.start()
        if not watcher.wait_hello(30):
            raise RuntimeError("the console stream did not open")
        warm = PhaseResult("warm-up")  # first requests of each process load what they need: not measured
        _client(shape.base_url, token, "warm-up", 0, time.monotonic() + 3, time.monotonic() + 60, warm,
                threading.Lock())
        reference = None
        for fault in faults:
            echo(f"phase {fault}: {clients} clients for {seconds:.0f} s")
            r = run_phase(shape, token, fault, clients=clients, seconds=seconds, outage=outage, watcher=watcher,
                          echo=echo)
            if fault == "none":
                reference = r
            results.append(r)
            echo(r.summary(reference))
            if r.statuses.keys() - {"200", "201"}:
                echo(f"  answers while it lasted: {dict(sorted(r.statuses.items()))}")
        watcher.stop()
        echo(f"workers started again by the supervisor: {shape.restarts}")
    finally:
        shape.stop()
        if own:
            shutil.rmtree(directory, ignore_errors=True)
    return results
