"""`kefu bench inbox`: how fast the ticket inbox lists with 100,000 tickets.

A fresh database gets an org (group → 2 provinces → 12 cities), people in each role, 40% as many
customers as tickets, and the tickets themselves, bulk-inserted with SQLAlchemy core `executemany`
in batches (realistic spread over org units, statuses, types, channels, tiers, categories and the
last 90 days). Then `tickets.service.list_inbox` is timed for an agent (city), a supervisor (province)
and an admin (group) with several filter combinations, each case many times in a fresh session as a
request would; and GET /api/v1/tickets through a live server likewise. Prints p50/p99 per case.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, insert, select

from kefu.bench.common import fresh_database, live_server, percentile, safe_url

PROVINCES = (
    ("GD", "广东", ("GZ", "SZ", "DG", "FS", "ZH", "HZ")),
    ("ZJ", "浙江", ("HZ2", "NB", "WZ", "JX", "SX", "JH")),
)
STATUS_MIX = (
    ("new", 6),
    ("assigned", 6),
    ("in_progress", 9),
    ("waiting_customer", 4),
    ("waiting_support", 3),
    ("resolved", 14),
    ("closed", 56),
    ("merged", 2),
)
TYPE_MIX = (("inquiry", 55), ("complaint", 20), ("request", 20), ("suggestion", 4), ("appeal", 1))
CHANNEL_MIX = (
    ("voice", 45),
    ("sms", 11),
    ("wechat", 14),
    ("app", 10),
    ("web", 6),
    ("email", 4),
    ("weibo", 3),
    ("webchat", 7),
)
TIER_MIX = (("standard", 60), ("silver", 25), ("gold", 12), ("diamond", 3))
SUBJECTS = (
    "话费不明扣费",
    "流量用得太快",
    "信号差",
    "宽带掉线",
    "套餐变更",
    "被订购增值业务",
    "国际漫游",
    "携号转网",
    "服务态度差",
    "账单查询",
    "缴费未到账",
    "光猫故障",
)
OPEN = ("new", "assigned", "in_progress", "waiting_customer", "waiting_support")
BATCH = 5000

# (label, filters as InboxFilters keyword arguments, the same as GET /api/v1/tickets query parameters)
CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("default (all, newest first)", {}),
    ("open work (priority, deadline)", {"status": OPEN, "order": "work"}),
    ("my work (priority, deadline)", {"assignee": "me", "status": OPEN, "order": "work"}),
    ("open statuses", {"status": OPEN}),
    ("mine, open", {"assignee": "me", "status": OPEN}),
    ("unassigned new", {"assignee": "unassigned", "status": ("new",)}),
    ("complaints at risk", {"type": "complaint", "at_risk": True}),
    ("diamond tier, open", {"tier": "diamond", "status": OPEN}),
    ("wechat channel", {"channel": "wechat"}),
    ("category billing (+children)", {"category": "billing"}),
    ("subject contains 流量", {"q": "流量"}),
)


@dataclass
class Seeded:
    users: dict[str, int]  # role key -> user id
    tokens: dict[str, str]


@dataclass
class CaseResult:
    role: str
    case: str
    via: str  # "service" or "http"
    ms: list[float] = field(default_factory=list, repr=False)
    items: int = 0
    total: int = 0
    cpu_ms: float = (
        0.0  # mean CPU per run: this process's (service) or the server's (http); not the DB server's
    )

    def line(self) -> str:
        s = sorted(self.ms)
        return (
            f"{self.via:7s} {self.role:10s} {self.case:30s} p50 {percentile(s, 50):7.2f} ms  "
            f"p99 {percentile(s, 99):7.2f} ms  cpu {self.cpu_ms:6.2f} ms  "
            f"(n={len(s)}, page {self.items}, total {self.total})"
        )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _pick(rng: random.Random, mix: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([n for n, _ in mix], weights=[w for _, w in mix])[0]


def seed(url: str, tickets: int, *, seed_: int = 7, progress: Callable[[int], None] | None = None) -> Seeded:
    """The org, people, customers and `tickets` tickets, bulk-inserted."""
    from kefu.core.clock import utcnow
    from kefu.core.db import Database
    from kefu.customers.models import Customer
    from kefu.org import service as org
    from kefu.tickets.models import Category, Ticket

    rng = random.Random(seed_)
    now = utcnow()
    db = Database(url)
    users: dict[str, int] = {}
    tokens: dict[str, str] = {}
    city_ids: list[int] = []
    agents_by_city: dict[int, list[int]] = {}
    try:
        with db.unit_of_work() as s:
            g = org.create_org_unit(s, kind="group", code="BENCH", name="基准集团")
            admin = org.create_user(
                s, username="bench_admin", display_name="管理员", role="admin", org_unit_id=g.id
            )
            users["admin"] = admin.id
            for pcode, pname, cities in PROVINCES:
                p = org.create_org_unit(s, kind="province", code=pcode, name=pname, parent_id=g.id)
                sup = org.create_user(
                    s,
                    username=f"sup_{pcode.lower()}",
                    display_name="值班长",
                    role="supervisor",
                    org_unit_id=p.id,
                )
                users.setdefault("supervisor", sup.id)
                for ccode in cities:
                    c = org.create_org_unit(s, kind="city", code=ccode, name=ccode, parent_id=p.id)
                    city_ids.append(c.id)
                    for k in range(3):
                        a = org.create_user(
                            s,
                            username=f"agent_{ccode.lower()}_{k}",
                            display_name="坐席",
                            role="agent",
                            org_unit_id=c.id,
                        )
                        agents_by_city.setdefault(c.id, []).append(a.id)
            users["agent"] = agents_by_city[city_ids[0]][0]
            for role, uid in users.items():
                tokens[role] = org.create_api_token(s, uid, "bench-inbox")[0]
            cats = [(c.id, c.parent_id) for c in s.scalars(select(Category))]
        leaf_ids = [cid for cid, parent in cats if parent is not None]
        city_weights = [rng.uniform(0.5, 3.0) for _ in city_ids]
        # Customers: 0.4 per ticket, so many have several tickets.
        n_customers = max(1, int(tickets * 0.4))
        customer_rows = []
        tiers: list[str] = []
        cust_city: list[int] = []
        for i in range(n_customers):
            tier = _pick(rng, TIER_MIX)
            unit = rng.choices(city_ids, weights=city_weights)[0]
            tiers.append(tier)
            cust_city.append(unit)
            customer_rows.append(
                {
                    "phone": f"+86138{i:08d}",
                    "name": None,
                    "org_unit_id": unit,
                    "plan": None,
                    "arpu": 50,
                    "tenure_months": 12,
                    "share_voice": 0.5,
                    "share_data": 0.5,
                    "share_sms": 0.0,
                    "share_vas": 0.0,
                    "tier": tier,
                    "vip": tier != "standard",
                    "created_at": now - timedelta(days=400),
                    "updated_at": now - timedelta(days=400),
                }
            )
        with db.unit_of_work() as s:
            for i in range(0, n_customers, BATCH):
                s.execute(insert(cast(Table, Customer.__table__)), customer_rows[i : i + BATCH])
            first_id = s.scalar(select(Customer.id).order_by(Customer.id).limit(1)) or 1
        done = 0
        while done < tickets:
            rows: list[dict[str, Any]] = []
            for _ in range(min(BATCH, tickets - done)):
                ci = rng.randrange(n_customers)
                unit = cust_city[ci]
                status = _pick(rng, STATUS_MIX)
                typ = _pick(rng, TYPE_MIX)
                age = timedelta(days=90) * (rng.random() ** 2)  # more recent than not
                opened = now - age
                updated = min(now, opened + timedelta(hours=rng.expovariate(1 / 30)))
                due = (
                    opened + timedelta(days=15 if typ == "complaint" else 30)
                    if typ in ("complaint", "appeal")
                    else None
                )
                rows.append(
                    {
                        "type": typ,
                        "status": status,
                        "priority": rng.choice(("normal", "normal", "high", "low")),
                        "subject": f"{rng.choice(SUBJECTS)} #{done + len(rows)}",
                        "description": None,
                        "channel": _pick(rng, CHANNEL_MIX),
                        "category_id": rng.choice(leaf_ids),
                        "customer_id": first_id + ci,
                        "org_unit_id": unit,
                        "assignee_id": None if status == "new" else rng.choice(agents_by_city[unit]),
                        "created_by_id": None,
                        "merged_into_id": None,
                        "customer_tier": tiers[ci],
                        "opened_at": opened,
                        "updated_at": updated,
                        "reply_due_at": due,
                        "first_reply_at": updated
                        if status not in ("new", "assigned") and rng.random() < 0.8
                        else None,
                        "resolved_at": updated if status in ("resolved", "closed") else None,
                        "closed_at": updated if status == "closed" else None,
                        "version": 1,
                    }
                )
            with db.unit_of_work() as s:
                # core executemany without RETURNING: the ORM bulk path fetches ids row by row on PostgreSQL
                s.execute(insert(cast(Table, Ticket.__table__)), rows)
            done += len(rows)
            if progress:
                progress(len(rows))
        with db.engine.connect() as conn:  # fresh statistics, as a database in service would have
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    finally:
        db.dispose()
    return Seeded(users, tokens)


def time_service(
    url: str,
    seeded: Seeded,
    runs: int,
    on_case: Callable[[CaseResult], None] | None = None,
    cases: int = len(CASES),
) -> list[CaseResult]:
    from kefu.core.db import Database
    from kefu.core.deps import Page
    from kefu.org import service as org
    from kefu.org.models import User
    from kefu.tickets import service as tickets

    db = Database(url)
    out: list[CaseResult] = []
    page = Page(limit=50, offset=0)
    try:
        with db.session() as s:
            principals = {
                role: org.principal_for(s, s.get_one(User, uid)) for role, uid in seeded.users.items()
            }
        for role in ("agent", "supervisor", "admin"):
            for label, kw in CASES[:cases]:
                res = CaseResult(role, label, "service")
                filters = tickets.InboxFilters(**kw)
                c0 = time.process_time()
                for _ in range(runs):
                    t0 = time.perf_counter()
                    with db.session() as s:
                        result = tickets.list_inbox(s, principals[role], filters, page)
                    res.ms.append((time.perf_counter() - t0) * 1000)
                res.cpu_ms = (time.process_time() - c0) * 1000 / runs
                res.items, res.total = len(result.items), result.total
                out.append(res)
                if on_case:
                    on_case(res)
    finally:
        db.dispose()
    return out


def time_http(
    base_url: str,
    seeded: Seeded,
    runs: int,
    server_cpu: Callable[[], float] | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
    cases: int = len(CASES),
) -> list[CaseResult]:
    out: list[CaseResult] = []
    for role in ("agent", "supervisor", "admin"):
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {seeded.tokens[role]}"}, timeout=60
        ) as http:
            for label, kw in CASES[:cases]:
                params: dict[str, Any] = {"limit": 50}
                for k, v in kw.items():
                    params[k] = ",".join(v) if isinstance(v, tuple) else ("true" if v is True else v)
                res = CaseResult(role, label, "http")
                http.get("/api/v1/tickets", params=params)  # warm the connection
                c0 = server_cpu() if server_cpu else 0.0
                for _ in range(runs):
                    t0 = time.perf_counter()
                    r = http.get("/api/v1/tickets", params=params)
                    res.ms.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                if server_cpu:
                    res.cpu_ms = (server_cpu() - c0) * 1000 / runs
                body = r.json()
                res.items, res.total = len(body["items"]), body["total"]
                out.append(res)
                if on_case:
                    on_case(res)
    return out


def run(
    *,
    db: str = "sqlite",
    tickets: int = 100_000,
    runs: int = 200,
    http_runs: int = 200,
    workers: int = 1,
    cases: int = len(CASES),
    http_cases: int = len(CASES),
    echo: Any = print,
) -> list[CaseResult]:
    from tqdm import tqdm

    results: list[CaseResult] = []
    with fresh_database(db) as url:
        echo(f"database {safe_url(url)}: inserting {tickets} tickets")
        t0 = time.perf_counter()
        with tqdm(total=tickets, unit="", desc="tickets", mininterval=0.5) as bar:
            seeded = seed(url, tickets, progress=bar.update)
        echo(f"inserted in {time.perf_counter() - t0:.1f} s; timing list_inbox, {runs} runs per case")
        results += time_service(url, seeded, runs, on_case=lambda r: echo(r.line()), cases=cases)
        if http_runs and http_cases:
            with live_server(url, workers=workers) as server:
                echo(f"timing GET /api/v1/tickets on {server.base_url}, {http_runs} runs per case")
                http = time_http(
                    server.base_url,
                    seeded,
                    http_runs,
                    server_cpu=server.cpu_seconds,
                    on_case=lambda r: echo(r.line()),
                    cases=http_cases,
                )
            results += http
    for via in ("service", "http"):
        every = sorted(ms for r in results if r.via == via for ms in r.ms)
        if every:
            echo(
                f"all {via} cases on {db} with {tickets} tickets: p50 {percentile(every, 50):.2f} ms, "
                f"p99 {percentile(every, 99):.2f} ms (n={len(every)}); mean CPU per run "
                f"{_mean([r.cpu_ms for r in results if r.via == via]):.2f} ms"
            )
    return results
