"""`kefu bench ingest`: inbound messages per second through the real HTTP API.

A real server (uvicorn, N worker processes) over a fresh database; an org and an API token with
`inbound.post` are seeded; then C keep-alive connections from a load process (kefu/bench/load.py) post
messages (`POST /api/v1/inbound/{channel}`) as fast as the server answers: a mix of new senders and
returning ones (who continue their open interaction and ticket) across channels. Prints throughput,
latency percentiles, errors and the CPU the server (and PostgreSQL) spent per message. Bounded by a
message count and a time limit; loopback only.

A message accepted is not yet a message processed: its events (message.received, ticket.created ...)
wait in the outbox for the dispatcher's consumers (classification, routing intake, the summaries). So
after posting the bench waits (bounded) for the outbox to drain, and prints both the CPU per message
while posting and the CPU per message in all (posting and dispatch), the drain time, and the
end-to-end rate: messages accepted / (posting + drain) seconds.

On PostgreSQL the reference is pgbench's own commit rate on the same server (`pgbench -N -c 8 -j 2`,
run before and after the load, each on a throwaway database): the machine is shared and noisy, so the
bench prints its throughput as a share of the database's in the same run.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from kefu.bench.common import PG_ADMIN_URL, fresh_database, live_server, percentile, postgres_cpu_seconds, safe_url
from kefu.bench.load import Post, run_load
from kefu.demo.generate import PREFIXES, TEMPLATES

# Channel mix of gateway traffic (voice is CTI, not posted here as text).
CHANNELS: tuple[tuple[str, float], ...] = (
    ("sms", 0.30),
    ("wechat", 0.25),
    ("app", 0.15),
    ("web", 0.10),
    ("email", 0.08),
    ("webchat", 0.07),
    ("weibo", 0.05),
)
RETURNING_SHARE = 0.4
CITIES = ("GZ", "SZ", "DG", "FS", "ZH")


@dataclass
class IngestResult:
    db: str
    workers: int
    clients: int
    sent: int = 0
    accepted: int = 0  # 201 (stored) or 200 (the same message again)
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    statuses: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    stopped_by_time: bool = False
    server_cpu_s: float = 0.0  # CPU of the server processes while posting
    database_cpu_s: float = 0.0  # CPU of the database server's processes meanwhile (PostgreSQL only)
    drain_seconds: float = 0.0  # after posting, until the outbox had no pending event
    drained: bool = True  # False: still pending events when the bounded wait ended
    pending_left: int = 0
    total_server_cpu_s: float = 0.0  # CPU of the server processes from the first post until drained
    total_database_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    reference: list[PgbenchRun] = field(default_factory=list)  # pgbench before and after, same run

    @property
    def server_cpu_ms_per_message(self) -> float:
        return self.server_cpu_s * 1000 / self.sent if self.sent else 0.0

    @property
    def total_server_cpu_ms_per_message(self) -> float:
        return self.total_server_cpu_s * 1000 / self.sent if self.sent else 0.0

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds > 0 else 0.0

    @property
    def processed_per_second(self) -> float:
        """Messages accepted and dispatched (outbox drained) per second, from the first post."""
        total = self.seconds + self.drain_seconds
        return self.accepted / total if total > 0 and self.drained else 0.0

    @property
    def reference_tps(self) -> float:
        runs = [r.tps for r in self.reference if r.tps > 0]
        return sum(runs) / len(runs) if runs else 0.0

    def pct(self, p: float) -> float:
        return percentile(sorted(self.latencies_ms), p)

    def summary(self) -> str:
        cpu = self.server_cpu_ms_per_message
        db_cpu = self.database_cpu_s * 1000 / self.sent if self.sent else 0.0
        ref = self.reference_tps
        return (
            f"ingest on {self.db}, {self.workers} worker(s), {self.clients} connections: "
            f"{self.accepted}/{self.sent} messages accepted in {self.seconds:.1f} s = "
            f"{self.per_second:.0f} msg/s; latency p50 {self.pct(50):.1f} ms, p95 {self.pct(95):.1f} ms, "
            f"p99 {self.pct(99):.1f} ms; errors {self.errors}"
            + (" (stopped by the time limit)" if self.stopped_by_time else "")
            + (f"; server CPU {cpu:.2f} ms/message (~{1000 / cpu:.0f} msg/s per core)" if cpu else "")
            + (f", database CPU {db_cpu:.2f} ms/message" if self.database_cpu_s else "")
            + (f"; statuses {dict(sorted(self.statuses.items()))}" if self.errors else "")
            + f"\n  {self._dispatch_line()}"
            + (f"\n  reference: pgbench -N -c 8 -j 2 {', '.join(r.label for r in self.reference)}; "
               f"kefu = {100 * self.per_second / ref:.1f} % of pgbench's mean {ref:.0f} tps while posting"
               + (f", {100 * self.processed_per_second / ref:.1f} % end to end" if self.drained else "")
               if ref else "")
        )

    def _dispatch_line(self) -> str:
        if not self.drained:
            return (f"outbox NOT drained: {self.pending_left} events still pending after {self.drain_seconds:.1f} s "
                    f"of waiting; server CPU so far {self.total_server_cpu_ms_per_message:.2f} ms/message")
        db_cpu = self.total_database_cpu_s * 1000 / self.sent if self.sent else 0.0
        return (f"outbox drained {self.drain_seconds:.1f} s after the last post; end to end "
                f"{self.processed_per_second:.0f} msg/s processed; server CPU in all (posting and dispatch) "
                f"{self.total_server_cpu_ms_per_message:.2f} ms/message"
                + (f", database CPU in all {db_cpu:.2f} ms/message" if self.total_database_cpu_s else ""))


@dataclass(frozen=True)
class PgbenchRun:
    when: str  # "before" or "after"
    tps: float
    latency_ms: float

    @property
    def label(self) -> str:
        return f"{self.when} {self.tps:.0f} tps"


def seed(url: str) -> str:
    """An org (group → province → cities) and a gateway token with `inbound.post`; returns the token."""
    from kefu.core.db import Database
    from kefu.org import service as org

    db = Database(url)
    try:
        with db.unit_of_work() as s:
            g = org.create_org_unit(s, kind="group", code="BENCH", name="基准集团")
            p = org.create_org_unit(s, kind="province", code="BENCH-GD", name="广东", parent_id=g.id)
            for code in CITIES:
                org.create_org_unit(s, kind="city", code=code, name=code, parent_id=p.id)
            gw = org.create_user(
                s, username="gateway", display_name="渠道网关", role="admin", org_unit_id=g.id
            )
            return org.create_api_token(s, gw.id, "bench-ingest")[0]
    finally:
        db.dispose()


class _Senders:
    """One connection's senders: new ones are made up as needed, returning ones drawn from those it used."""

    def __init__(self, rng: random.Random, client: int) -> None:
        self.rng = rng
        self.client = client
        self.used: dict[str, list[tuple[str, str]]] = {}  # channel -> [(sender, city)]
        self.n = 0

    def new(self, channel: str) -> str:
        self.n += 1
        r = self.rng
        tag = f"{self.client:02d}{self.n:07d}"
        if channel in ("sms", "web"):
            prefix = r.choice(PREFIXES[r.choice(("mobile", "mobile", "unicom", "telecom"))])
            return f"+86{prefix}{self.client:02d}{self.n % 10**6:06d}"
        return {
            "wechat": f"oBENCH{tag}",
            "app": f"app-{tag}",
            "email": f"u{tag}@example.com",
            "webchat": f"wc-{tag}",
            "weibo": f"wb{tag}",
        }[channel]

    def pick(self, channel: str) -> tuple[str, str]:
        seen = self.used.setdefault(channel, [])
        if seen and self.rng.random() < RETURNING_SHARE:
            return seen[self.rng.randrange(len(seen))]
        sender = (self.new(channel), self.rng.choice(CITIES))
        seen.append(sender)
        return sender


def _stream(client: int, count: int, seed_: int) -> Iterator[Post]:
    """One connection's messages: the channel mix, new and returning senders, texts from the demo."""
    rng = random.Random(seed_ * 1000 + client)
    senders = _Senders(rng, client)
    channels, weights = zip(*CHANNELS, strict=True)
    texts = [t.replace("{", "").replace("}", "") for _, ts in TEMPLATES.values() for t in ts]
    for i in range(count):
        channel = rng.choices(channels, weights=weights)[0]
        sender, city = senders.pick(channel)
        body: dict[str, Any] = {"message_id": f"bench-{seed_}-{client}-{i}", "sender": sender,
                                "text": rng.choice(texts), "org_unit_code": city}
        if channel == "email":
            body["subject"] = "咨询"
        yield Post(f"/api/v1/inbound/{channel}", json.dumps(body, ensure_ascii=False).encode())


def streams(*, connections: int, messages: int, seed_: int = 1) -> list[Iterator[Post]]:
    """`messages` posts shared by `connections` streams (the load generator's factory)."""
    per = [messages // connections + (1 if i < messages % connections else 0) for i in range(connections)]
    return [_stream(i, per[i], seed_) for i in range(connections)]


def post_messages(base_url: str, token: str, *, clients: int, messages: int, max_seconds: float,
                  seed_: int = 1, result: IngestResult) -> IngestResult:
    """`messages` posts over `clients` keep-alive connections from a load process; stops at `max_seconds`.
    Fills and returns `result`."""
    url = httpx.URL(base_url)
    load = run_load(url.host, url.port or 80, token, factory="kefu.bench.ingest.streams",
                    args={"messages": messages, "seed_": seed_}, connections=clients, seconds=max_seconds)
    result.sent += load.sent
    result.latencies_ms.extend(load.latencies_ms)
    result.statuses.update(load.statuses)
    result.accepted += load.statuses["200"] + load.statuses["201"]
    result.errors += load.sent - load.statuses["200"] - load.statuses["201"]
    result.first_errors.extend(load.first_errors[: max(0, 5 - len(result.first_errors))])
    result.seconds = load.seconds
    result.client_cpu_s = load.client_cpu_s
    result.stopped_by_time = result.sent < messages
    return result


def pgbench(pg_admin_url: str, *, seconds: int, when: str, scale: int = 10) -> PgbenchRun | None:
    """`pgbench -N -c 8 -j 2` on a throwaway database of this server: its commit rate is the reference a
    write path is compared with, measured beside it. None when pgbench is not installed."""
    exe = shutil.which("pgbench")
    if exe is None:
        return None
    u = make_url(pg_admin_url)
    with fresh_database("postgres", pg_admin_url=pg_admin_url, migrate=False) as url:
        name = make_url(url).database or ""
        conn = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
        env = {**os.environ, **({"PGPASSWORD": u.password} if u.password else {})}
        subprocess.run([exe, *conn, "-i", "-s", str(scale), "-q", name], check=True, env=env,
                       capture_output=True)
        out = subprocess.run([exe, *conn, "-N", "-c", "8", "-j", "2", "-T", str(seconds), name], check=True,
                             env=env, capture_output=True, text=True).stdout
    tps = re.search(r"tps = ([0-9.]+)", out)
    lat = re.search(r"latency average = ([0-9.]+) ms", out)
    return PgbenchRun(when, float(tps.group(1)) if tps else 0.0, float(lat.group(1)) if lat else 0.0)


def pending_events(url: str) -> int:
    """Events the outbox still holds for dispatch (as the dispatcher selects them)."""
    from sqlalchemy import create_engine, func, select

    from kefu.core.events import MAX_ATTEMPTS, OutboxEvent

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.dispatched_at.is_(None), OutboxEvent.attempts < MAX_ATTEMPTS)) or 0)
    finally:
        engine.dispose()


def wait_drained(url: str, *, max_seconds: float, poll: float = 0.2) -> tuple[float, int]:
    """Wait until the outbox has no pending event on two polls in a row (a consumer's work may record
    more events), or `max_seconds`; returns the seconds waited and the events still pending."""
    t0 = time.monotonic()
    empty = 0
    while True:
        left = pending_events(url)
        empty = empty + 1 if left == 0 else 0
        waited = time.monotonic() - t0
        if empty >= 2 or waited >= max_seconds:
            return waited, left
        time.sleep(poll)


def run(
    *,
    db: str = "sqlite",
    clients: int = 8,
    messages: int = 20000,
    workers: int = 1,
    max_seconds: float = 600.0,
    echo: Any = print,
    pg_admin_url: str = PG_ADMIN_URL,
    reference_seconds: int = 10,
    drain_seconds: float = 300.0,
) -> IngestResult:
    """The whole bench: pgbench (PostgreSQL), fresh database, seed, server, load, the outbox's drain
    (waited for at most `drain_seconds`), pgbench again. Returns the figures (also echoed).
    `reference_seconds=0` skips pgbench."""
    result = IngestResult(db=db, workers=workers, clients=clients)
    if db == "postgres" and reference_seconds > 0:
        before = pgbench(pg_admin_url, seconds=reference_seconds, when="before")
        if before is None:
            echo("pgbench is not installed: no reference figure (apt install postgresql-client)")
        else:
            result.reference.append(before)
            echo(f"reference before: pgbench -N -c 8 -j 2 -T {reference_seconds}: {before.tps:.0f} tps")
    with fresh_database(db, pg_admin_url=pg_admin_url) as url:
        token = seed(url)
        echo(f"database {safe_url(url)}; starting {workers} server worker(s)")
        with live_server(url, workers=workers) as server:
            echo(f"server {server.base_url}; {clients} connections posting {messages} messages")
            cpu0, db0 = server.cpu_seconds(), postgres_cpu_seconds() if db == "postgres" else 0.0
            post_messages(server.base_url, token, clients=clients, messages=messages, max_seconds=max_seconds,
                          result=result)
            result.server_cpu_s = server.cpu_seconds() - cpu0
            if db == "postgres":
                result.database_cpu_s = postgres_cpu_seconds() - db0
            echo(f"posted in {result.seconds:.1f} s; waiting for the outbox to drain")
            result.drain_seconds, result.pending_left = wait_drained(url, max_seconds=drain_seconds)
            result.drained = result.pending_left == 0
            result.total_server_cpu_s = server.cpu_seconds() - cpu0
            if db == "postgres":
                result.total_database_cpu_s = postgres_cpu_seconds() - db0
    if result.reference:
        after = pgbench(pg_admin_url, seconds=reference_seconds, when="after")
        if after is not None:
            result.reference.append(after)
    echo(result.summary())
    for e in result.first_errors:
        echo(f"  error: {e}")
    return result
