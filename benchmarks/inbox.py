"""Inbox list latency with many tickets: p50/p99 of `tickets.service.list_inbox` and the query plans.

    python benchmarks/inbox.py                       # SQLite file in a temp dir, 100,000 tickets
    python benchmarks/inbox.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

With a PostgreSQL URL a scratch database is created (and dropped) next to the one named. The schema
is made by the migrations, tickets are bulk-inserted with a realistic mix (most closed, 10 cities,
a year of updates), and each scenario runs `--runs` times (items + bounded total). Prints figures.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kefu.core.db import Database
from kefu.core.deps import Page
from kefu.core.migrate import upgrade
from kefu.org import service as org
from kefu.org.models import User
from kefu.tickets import service as tickets
from kefu.tickets.models import Category, Ticket
from kefu.tickets.service import InboxFilters

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def seed(db: Database, n: int, rng: random.Random) -> dict[str, int]:
    with db.unit_of_work() as s:
        g = org.create_org_unit(s, kind="group", code="G", name="集团")
        cities: list[int] = []
        users: dict[str, int] = {}
        for p in range(2):
            prov = org.create_org_unit(s, kind="province", code=f"P{p}", name=f"省{p}", parent_id=g.id)
            for c in range(5):
                city = org.create_org_unit(
                    s, kind="city", code=f"C{p}{c}", name=f"市{p}{c}", parent_id=prov.id
                )
                cities.append(city.id)
                u = org.create_user(
                    s, username=f"agent{p}{c}", display_name="坐席", role="agent", org_unit_id=city.id
                )
                users[f"agent{p}{c}"] = u.id
        users["admin"] = org.create_user(
            s, username="admin", display_name="管理员", role="admin", org_unit_id=g.id
        ).id
        leaf_cats = list(s.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
    agents = [v for k, v in users.items() if k.startswith("agent")]
    statuses = (
        ["closed"] * 70
        + ["resolved"] * 8
        + ["new"] * 6
        + ["assigned"] * 4
        + ["in_progress"] * 7
        + ["waiting_customer"] * 3
        + ["waiting_support"] * 2
    )
    types = ["inquiry"] * 55 + ["complaint"] * 20 + ["request"] * 20 + ["suggestion"] * 4 + ["appeal"]
    channels = (
        ["voice"] * 50 + ["wechat"] * 20 + ["sms"] * 10 + ["app"] * 10 + ["email", "weibo", "webchat"] * 3
    )
    tiers = ["standard"] * 60 + ["silver"] * 25 + ["gold"] * 12 + ["diamond"] * 3
    rows = []
    for _ in range(n):
        opened = NOW - timedelta(seconds=rng.randint(0, 365 * 86400))
        updated = min(NOW, opened + timedelta(seconds=rng.randint(0, 20 * 86400)))
        status, type_ = rng.choice(statuses), rng.choice(types)
        rows.append(
            {
                "type": type_,
                "status": status,
                "priority": "normal",
                "subject": f"工单 {rng.randint(0, 10**6)}",
                "channel": rng.choice(channels),
                "category_id": rng.choice(leaf_cats),
                "org_unit_id": rng.choice(cities),
                "assignee_id": None if status == "new" else rng.choice(agents),
                "customer_tier": rng.choice(tiers),
                "opened_at": opened,
                "updated_at": updated,
                "version": 1,
                "reply_due_at": opened + timedelta(days=15) if type_ == "complaint" else None,
                "first_reply_at": updated if status not in ("new", "assigned") else None,
            }
        )
    with db.unit_of_work() as s:
        for i in range(0, n, 5000):
            s.execute(insert(Ticket), rows[i : i + 5000])
    with db.engine.begin() as c:
        c.execute(text("ANALYZE"))
    return users


SCENARIOS: list[tuple[str, str, InboxFilters]] = [
    ("admin, no filter", "admin", InboxFilters()),
    (
        "admin, open statuses",
        "admin",
        InboxFilters(status=("new", "assigned", "in_progress", "waiting_customer", "waiting_support")),
    ),
    ("admin, complaints", "admin", InboxFilters(type="complaint")),
    ("admin, channel=weibo", "admin", InboxFilters(channel="weibo")),
    ("admin, tier=diamond", "admin", InboxFilters(tier="diamond")),
    ("admin, category=billing (+children)", "admin", InboxFilters(category="billing")),
    ("admin, category=roaming.charges", "admin", InboxFilters(category="roaming.charges")),
    ("admin, org unit = province P0", "admin", InboxFilters(org_unit_id=-1)),
    ("admin, at-risk complaints", "admin", InboxFilters(at_risk=True)),
    ("admin, q=12345", "admin", InboxFilters(q="12345")),
    ("city agent, no filter", "agent00", InboxFilters()),
    ("city agent, open + unassigned", "agent00", InboxFilters(status=("new",), assignee="unassigned")),
    (
        "city agent, assignee=me open",
        "agent00",
        InboxFilters(assignee="me", status=("assigned", "in_progress")),
    ),
]


def existing_users(db: Database) -> dict[str, int] | None:
    with db.session() as s:
        if s.scalar(select(Ticket.id).limit(1)) is None:
            return None
        return {u.username: u.id for u in s.scalars(select(User))}


def run(url: str, n: int, runs: int, explain: bool) -> None:
    upgrade(url)
    db = Database(url)
    users = existing_users(db)
    if users is None:
        t0 = time.perf_counter()
        users = seed(db, n, random.Random(7))
        print(f"{db.dialect}: seeded {n:,} tickets in {time.perf_counter() - t0:.1f}s")
    with db.session() as s:
        print(
            f"{db.dialect}: {s.scalar(select(func.count()).select_from(Ticket)):,} tickets, {runs} runs each"
        )
        province = org.org_unit(s, users_unit(s, users["agent00"])).parent_id
        print(
            f"{'scenario':42} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'cpu p99':>8}"
            f" {'total':>7} {'items':>5}"
        )
        for name, who, f in SCENARIOS:
            if f.org_unit_id == -1:
                f = InboxFilters(org_unit_id=province)
            user = s.get(User, users[who])
            assert user is not None
            p = org.principal_for(s, user)
            times, cpu = [], []
            for _ in range(runs):
                t, c = time.perf_counter(), time.process_time()
                res = tickets.list_inbox(s, p, f, Page(limit=50, offset=0), at=NOW)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                s.expunge_all()
            times.sort()
            cpu.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            cpu99 = cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))]
            print(
                f"{name:42} {statistics.median(times):8.1f} {p99:8.1f} "
                f"{statistics.median(cpu):8.1f} {cpu99:8.1f} "
                f"{res.total:>7}{'+' if res.capped else ' '}{len(res.items):>5}"
            )
            if explain:
                q = tickets.inbox_query(s, p, f, at=NOW)
                print_plan(s, q.limit(50), db.dialect)
                bounded = q.order_by(None).with_only_columns(Ticket.id).limit(tickets.INBOX_TOTAL_CAP + 1)
                print("    count:")
                print_plan(s, select(func.count()).select_from(bounded.subquery()), db.dialect)
    db.dispose()


def users_unit(s, user_id: int) -> int:  # type: ignore[no-untyped-def]
    u = s.get(User, user_id)
    return int(u.org_unit_id)


def print_plan(s, stmt, dialect: str) -> None:  # type: ignore[no-untyped-def]
    compiled = stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
    for row in s.execute(text(prefix + str(compiled))):
        print("      " + (row[-1] if dialect == "sqlite" else row[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=None, help="PostgreSQL server URL (default: SQLite in a temp dir)")
    ap.add_argument("--sqlite-path", default=None, help="keep (and reuse) the SQLite database here")
    ap.add_argument("--pg-db", default=None, help="keep (and reuse) this PostgreSQL database")
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--explain", action="store_true")
    a = ap.parse_args()
    if a.url and a.url.startswith("postgresql"):
        name = a.pg_db or f"kefu_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(a.url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            if not c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(a.url).set(database=name).render_as_string(hide_password=False)
            run(url, a.n, a.runs, a.explain)
        finally:
            if not a.pg_db:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    elif a.sqlite_path:
        run(f"sqlite:///{Path(a.sqlite_path).resolve()}", a.n, a.runs, a.explain)
    else:
        with tempfile.TemporaryDirectory() as d:
            run(a.url or f"sqlite:///{d}/bench.sqlite3", a.n, a.runs, a.explain)


if __name__ == "__main__":
    main()
