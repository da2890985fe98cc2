"""`kefu bench ingest`: inbound messages per second through the real HTTP API.

A real server (uvicorn, N worker processes) over a fresh database; an org and an API token with
`inbound.post` are seeded; then C client threads, each with a keep-alive httpx client, post messages
(`POST /api/v1/inbound/{channel}`) as fast as the server answers: a mix of new senders and returning
ones (who continue their open interaction and ticket) across channels. Prints throughput, latency
percentiles and errors. Bounded by a message count and a time limit; loopback only.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from kefu.bench.common import PG_ADMIN_URL, fresh_database, live_server, percentile, safe_url
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
    server_cpu_s: float = 0.0  # CPU of the server processes while posting (PostgreSQL's own not included)

    @property
    def server_cpu_ms_per_message(self) -> float:
        return self.server_cpu_s * 1000 / self.sent if self.sent else 0.0

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds > 0 else 0.0

    def pct(self, p: float) -> float:
        return percentile(sorted(self.latencies_ms), p)

    def summary(self) -> str:
        cpu = self.server_cpu_ms_per_message
        return (
            f"ingest on {self.db}, {self.workers} worker(s), {self.clients} clients: "
            f"{self.accepted}/{self.sent} messages accepted in {self.seconds:.1f} s = "
            f"{self.per_second:.0f} msg/s; latency p50 {self.pct(50):.1f} ms, p95 {self.pct(95):.1f} ms, "
            f"p99 {self.pct(99):.1f} ms; errors {self.errors}"
            + (" (stopped by the time limit)" if self.stopped_by_time else "")
            + (f"; server CPU {cpu:.1f} ms/message (~{1000 / cpu:.0f} msg/s per core)" if cpu else "")
            + (f"; statuses {dict(sorted(self.statuses.items()))}" if self.errors else "")
        )


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
    """One client's senders: new ones are made up as needed, returning ones drawn from those it used."""

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


def _client(
    base_url: str,
    token: str,
    client: int,
    count: int,
    seed_: int,
    deadline: float,
    result: IngestResult,
    lock: threading.Lock,
    start: threading.Barrier,
) -> None:
    rng = random.Random(seed_ * 1000 + client)
    senders = _Senders(rng, client)
    channels, weights = zip(*CHANNELS, strict=True)
    texts = [t for _, ts in TEMPLATES.values() for t in ts]
    lat: list[float] = []
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    sent = 0
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as http:
        start.wait()
        for i in range(count):
            if time.monotonic() > deadline:
                break
            channel = rng.choices(channels, weights=weights)[0]
            sender, city = senders.pick(channel)
            body: dict[str, Any] = {
                "message_id": f"bench-{seed_}-{client}-{i}",
                "sender": sender,
                "text": rng.choice(texts).replace("{", "").replace("}", ""),
                "org_unit_code": city,
            }
            if channel == "email":
                body["subject"] = "咨询"
            t0 = time.perf_counter()
            try:
                r = http.post(f"/api/v1/inbound/{channel}", json=body)
                code = str(r.status_code)
                if r.status_code not in (200, 201) and len(errors) < 3:
                    errors.append(f"{channel} {r.status_code}: {r.text[:200]}")
            except httpx.HTTPError as exc:
                code = type(exc).__name__
                if len(errors) < 3:
                    errors.append(f"{channel}: {exc!r}")
            lat.append((time.perf_counter() - t0) * 1000)
            statuses[code] += 1
            sent += 1
    with lock:
        result.sent += sent
        result.latencies_ms.extend(lat)
        result.statuses.update(statuses)
        result.accepted += statuses["200"] + statuses["201"]
        result.errors += sent - statuses["200"] - statuses["201"]
        result.first_errors.extend(errors[: max(0, 5 - len(result.first_errors))])


def post_messages(
    base_url: str,
    token: str,
    *,
    clients: int,
    messages: int,
    max_seconds: float,
    seed_: int = 1,
    result: IngestResult,
) -> IngestResult:
    """C client threads share `messages` posts; stops at `max_seconds`. Fills and returns `result`."""
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    per = [messages // clients + (1 if i < messages % clients else 0) for i in range(clients)]
    t_start = time.monotonic()
    deadline = t_start + max_seconds + 5  # + time to open connections
    threads = [
        threading.Thread(
            target=_client,
            args=(base_url, token, i, per[i], seed_, deadline, result, lock, start),
            daemon=True,
        )
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - t0
    result.stopped_by_time = result.sent < messages
    return result


def run(
    *,
    db: str = "sqlite",
    clients: int = 8,
    messages: int = 20000,
    workers: int = 1,
    max_seconds: float = 600.0,
    echo: Any = print,
    pg_admin_url: str = PG_ADMIN_URL,
) -> IngestResult:
    """The whole bench: fresh database, seed, server, clients. Returns the figures (also echoed)."""
    result = IngestResult(db=db, workers=workers, clients=clients)
    with fresh_database(db, pg_admin_url=pg_admin_url) as url:
        token = seed(url)
        echo(f"database {safe_url(url)}; starting {workers} server worker(s)")
        with live_server(url, workers=workers) as server:
            echo(f"server {server.base_url}; {clients} clients posting {messages} messages")
            cpu0 = server.cpu_seconds()
            post_messages(
                server.base_url,
                token,
                clients=clients,
                messages=messages,
                max_seconds=max_seconds,
                result=result,
            )
            result.server_cpu_s = server.cpu_seconds() - cpu0
    echo(result.summary())
    for e in result.first_errors:
        echo(f"  error: {e}")
    return result
