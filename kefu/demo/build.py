"""Build a generated demo operator into a database, through the real services.

Everything goes through the domains' own functions (org, customers, channels.inbound, interactions,
tickets), with `at=` set to the simulated time, so the demo database is what the product would have
recorded had the day really happened: events in the outbox, transitions, reply clocks, call times.
Work is committed in batches of a few hundred operations; each contact runs in a savepoint, so one
refused contact is reported and skipped rather than losing its batch.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal, hash_password
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.errors import KefuError
from kefu.demo.generate import CST, DEMO_PASSWORD, GROUP_CODE, SKILLS, ContactSpec, Demo

T = TypeVar("T")

TICKET_FATES = (
    "new",
    "assigned",
    "in_progress",
    "waiting_customer",
    "waiting_support",
    "resolved",
    "closed",
    "merged",
)
IVR_SECONDS = 35  # time in the IVR menu before asking for a human
CHAT_CHANNELS = ("wechat", "webchat", "app", "im")
ASKS = {
    "waiting_customer": "为了进一步核实，请您提供一下机主身份证后四位及问题出现的具体时间，谢谢。",
    "waiting_support": "您的问题已提交后台支撑部门核查，预计1-2个工作日内给您答复。",
}


@dataclass
class BuildReport:
    people: int = 0
    customers: int = 0
    contacts: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (contact seq, why)
    tickets_by_status: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: the build's own cost, whatever else the machine runs
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase
    knowledge: Any = None  # kefu.demo.knowledge.KnowledgeReport


def demo_exists(db: Database) -> bool:
    from kefu.org.models import OrgUnit

    with db.session() as s:
        return s.scalar(select(OrgUnit.id).where(OrgUnit.code == GROUP_CODE)) is not None


def demo_day(now: datetime) -> Any:
    """The local (CST) day before `now`: the simulated traffic is then wholly in the past."""
    return (now.astimezone(CST) - timedelta(days=1)).date()


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="", disable=not enabled, leave=True, mininterval=0.5)


# ---- organisation -----------------------------------------------------------------------------


def _build_org(db: Database, demo: Demo, at: datetime) -> tuple[dict[str, int], dict[str, int]]:
    from kefu.org import service as org

    units: dict[str, int] = {}
    users: dict[str, int] = {}
    with db.unit_of_work() as s:
        for key, name, name_en in SKILLS:
            org.ensure_skill(s, key, name, name_en)
        for u in demo.units:
            unit = org.create_org_unit(
                s,
                kind=u.kind,
                code=u.code,
                name=u.name,
                name_en=u.name_en,
                parent_id=units[u.parent] if u.parent else None,
            )
            units[u.code] = unit.id
        # Argon2 is slow on purpose; the demo's accounts all share one known password, so it is hashed once
        # (org.service.create_user has no parameter for a ready hash: the hash is set on the new user).
        shared_hash = hash_password(DEMO_PASSWORD)
        for p in demo.people:
            user = org.create_user(
                s,
                username=p.username,
                display_name=p.display_name,
                role=p.role,
                org_unit_id=units[p.unit],
                password=None,
                authority_limit=p.authority_limit,
                skills=dict(p.skills),
            )
            user.password_hash = shared_hash
            users[p.username] = user.id
    return units, users


def _build_routing(db: Database, units: dict[str, int], users: dict[str, int]) -> None:
    """The default queues and rules (kefu.routing.service.ensure_defaults) for the whole group, and a routing
    profile for everyone who takes work: offline until they go ready in the console."""
    from kefu.org import service as org
    from kefu.routing import service as routing
    from kefu.tickets.service import ASSIGNING_ROLES

    with db.unit_of_work() as s:
        routing.ensure_defaults(s, units[GROUP_CODE])
        for user in org.users(s, users.values()).values():
            if user.role in ASSIGNING_ROLES:
                routing.default_profile(s, user.id)


# ---- customers --------------------------------------------------------------------------------


def _build_customers(
    db: Database, demo: Demo, units: dict[str, int], at: datetime, batch: int, progress: bool
) -> None:
    """The subscriber base arrives as operators load it: CSV import, then the channel identities."""
    import csv
    import io

    from kefu.customers import service as customers
    from kefu.customers.models import Customer

    size = batch  # customers per transaction (an import plus their identities: a few hundred writes)
    with _bar(len(demo.customers), "customers", progress) as bar:
        for chunk in _batches(demo.customers, size):
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow([*customers.COLUMNS, "birth_year"])
            for c in chunk:
                w.writerow(
                    [
                        c.phone,
                        c.name,
                        c.unit,
                        c.plan,
                        c.arpu,
                        c.tenure_months,
                        c.share_voice,
                        c.share_data,
                        c.share_sms,
                        c.share_vas,
                        c.birth_year or "",
                    ]
                )
            with db.unit_of_work() as s:
                rep = customers.import_customers_csv(
                    s, buf.getvalue(), actor_org_unit_ids=list(units.values()), at=at
                )
                if rep.rejected:
                    raise RuntimeError(f"demo customers refused by the import: {rep.rejected[:3]}")
                with_ids = [c for c in chunk if c.identities]
                if with_ids:
                    by_phone = {
                        cu.phone: cu
                        for cu in s.scalars(
                            select(Customer).where(Customer.phone.in_([c.phone for c in with_ids]))
                        )
                    }
                    for c in with_ids:
                        for kind, value in c.identities:
                            customers.attach_identity(s, by_phone[c.phone], kind=kind, value=value, at=at)
            bar.update(len(chunk))


# ---- a day of contacts ------------------------------------------------------------------------


@dataclass
class _Ctx:
    settings: Settings
    users: dict[str, int]
    principals: dict[str, Principal]
    now: datetime
    seed: int
    opened: dict[int, int] = field(default_factory=dict)  # contact seq -> ticket id it opened


def _principal(s: Session, ctx: _Ctx, username: str) -> Principal:
    p = ctx.principals.get(username)
    if p is None:
        from kefu.org import service as org
        from kefu.org.models import User

        user = s.get(User, ctx.users[username])
        assert user is not None
        p = ctx.principals[username] = org.principal_for(s, user)
    return p


def _contact(s: Session, ctx: _Ctx, c: ContactSpec, tier_of: Callable[[int], str]) -> None:
    """One contact arrives at its time and is then handled as its fate says."""
    from kefu.channels import inbound
    from kefu.interactions import service as interactions
    from kefu.tickets import service as tickets

    rng = random.Random(f"{ctx.seed}-{c.seq}")
    call_ref = f"call-{c.external_id}" if c.channel == "voice" else None
    msg = inbound.InboundMessage(
        message_id=c.external_id,
        sender=c.sender,
        text=c.body,
        subject=c.subject if c.channel == "email" else None,
        thread_ref=call_ref,
    )
    res = inbound.receive(s, ctx.settings, c.channel, msg, at=c.at)
    if c.fate == "followup":
        return
    assert res.ticket_id is not None
    # Held for the whole contact: the session's identity map is weak, and the services fetch it by id often.
    ticket, interaction = _ticket(s, res.ticket_id), _interaction(s, res.interaction_id)
    assert interaction.ticket_id == ticket.id
    new_ticket = ticket.id not in ctx.opened.values()
    ctx.opened[c.seq] = res.ticket_id
    t0 = c.at

    def cap(at: datetime) -> datetime:
        return min(ctx.now - timedelta(seconds=1), at)

    def later(minutes: float) -> datetime:
        nonlocal t0
        t0 = min(ctx.now - timedelta(seconds=1), t0 + timedelta(minutes=minutes))
        return t0

    if c.channel == "voice":
        queued = c.at + timedelta(seconds=IVR_SECONDS)
        if c.fate == "self_served":
            ended = cap(c.at + timedelta(seconds=60 + rng.randint(0, 90)))
            interactions.update_times(s, res.interaction_id, ended_at=ended, outcome="self_served")
        elif c.fate == "abandoned":
            ended = cap(queued + timedelta(seconds=c.queue_seconds or 30))
            interactions.update_times(
                s, res.interaction_id, queued_at=queued, ended_at=ended, outcome="abandoned"
            )
        if c.fate in ("self_served", "abandoned"):
            if new_ticket:
                why = "IVR 自助服务完成" if c.fate == "self_served" else "来电放弃，已发送回访短信"
                tickets.change_status(s, res.ticket_id, "closed", actor_id=None, reason=why, at=later(3))
            return
    agent_id = ctx.users[c.agent] if c.agent else None
    if c.channel == "voice":
        answered = cap(c.at + timedelta(seconds=IVR_SECONDS + (c.queue_seconds or 0)))
        interactions.update_times(
            s,
            res.interaction_id,
            queued_at=c.at + timedelta(seconds=IVR_SECONDS),
            answered_at=answered,
            agent_id=agent_id,
        )
        t0 = max(t0, answered)
    # Classified (by the agent who takes it, or by the intake rules while nobody has).
    tier = tier_of(res.customer_id)
    tickets.update(
        s,
        res.ticket_id,
        actor_id=agent_id,
        type=c.type,
        category_key=c.category,
        priority=tickets.default_priority(c.type, tier),
        at=later(0.5 if agent_id else 0.1),
    )
    if c.fate != "new" and agent_id is not None:
        _handle(s, ctx, c, res, agent_id, later, rng)
    if c.channel == "voice":
        talk_end = c.at + timedelta(seconds=IVR_SECONDS + (c.queue_seconds or 0) + (c.talk_seconds or 180))
        interactions.update_times(s, res.interaction_id, ended_at=cap(max(answered, talk_end)))
    elif c.fate == "closed" and c.channel in CHAT_CHANNELS:
        interactions.close(s, res.interaction_id, outcome="replied", actor_id=agent_id, at=later(1))


def _handle(
    s: Session,
    ctx: _Ctx,
    c: ContactSpec,
    res: Any,
    agent_id: int,
    later: Callable[[float], datetime],
    rng: random.Random,
) -> None:
    """The agent's work on the case: assign, work, reply, wait, resolve, close, merge a duplicate."""
    from kefu.interactions import service as interactions
    from kefu.tickets import service as tickets

    agent = _principal(s, ctx, c.agent or "")
    tickets.assign(s, res.ticket_id, assignee_id=agent_id, actor_id=agent_id, at=later(rng.uniform(1, 20)))
    if c.fate == "merged":
        # A colleague had logged the same problem again; the agent merges the duplicate into this case.
        t = tickets.create_ticket(
            s,
            type=c.type,
            subject=c.subject,
            org_unit_id=agent.org_unit_id,
            customer_id=res.customer_id,
            channel="voice",
            category_key=c.category,
            actor_id=agent_id,
            at=later(rng.uniform(5, 60)),
        )
        tickets.merge(s, t.id, res.ticket_id, actor_id=agent_id, reason="重复工单，合并处理", at=later(2))
        tickets.change_status(s, res.ticket_id, "in_progress", actor_id=agent_id, at=later(1))
    elif c.fate != "assigned":
        tickets.change_status(
            s, res.ticket_id, "in_progress", actor_id=agent_id, at=later(rng.uniform(1, 10))
        )
    if c.reply:
        if c.channel == "voice":
            tickets.on_agent_reply(s, _ticket(s, res.ticket_id), actor_id=agent_id, at=later(0))
        else:
            interactions.reply(s, res.interaction_id, body=c.reply, actor=agent, at=later(rng.uniform(1, 8)))
        if c.fate in ASKS and c.channel != "voice":
            interactions.reply(s, res.interaction_id, body=ASKS[c.fate], actor=agent, at=later(1))
    if c.fate in ("waiting_customer", "waiting_support"):
        tickets.change_status(s, res.ticket_id, c.fate, actor_id=agent_id, at=later(rng.uniform(1, 5)))
    elif c.fate in ("resolved", "closed"):
        tickets.change_status(
            s,
            res.ticket_id,
            "resolved",
            actor_id=agent_id,
            reason="已按口径答复并处理完毕",
            at=later(rng.uniform(3, 40)),
        )
        if c.fate == "closed":
            tickets.change_status(
                s, res.ticket_id, "closed", actor_id=agent_id, reason=None, at=later(rng.uniform(30, 240))
            )


def _interaction(s: Session, interaction_id: int) -> Any:
    from kefu.interactions.models import Interaction

    it = s.get(Interaction, interaction_id)
    assert it is not None
    return it


def _ticket(s: Session, ticket_id: int) -> Any:
    from kefu.tickets.models import Ticket

    t = s.get(Ticket, ticket_id)
    assert t is not None
    return t


def _build_contacts(
    db: Database, ctx: _Ctx, demo: Demo, batch: int, progress: bool, report: BuildReport
) -> None:
    from kefu.customers.models import Customer
    from kefu.org.models import OrgUnit, User

    tiers: dict[int, str] = {}

    def tier_of_factory(s: Session) -> Callable[[int], str]:
        def tier_of(customer_id: int) -> str:
            if customer_id not in tiers:
                tiers[customer_id] = (
                    s.scalar(select(Customer.tier).where(Customer.id == customer_id)) or "standard"
                )
            return tiers[customer_id]

        return tier_of

    with _bar(len(demo.contacts), "contacts", progress) as bar:
        # ~10 writes per contact: a transaction of batch/5 contacts is a few hundred operations.
        for chunk in _batches(demo.contacts, max(1, batch // 5)):
            with db.unit_of_work() as s:
                tier_of = tier_of_factory(s)
                # Kept referenced for the batch, so the services' lookups by id hit the identity map.
                keep = [*s.scalars(select(User)), *s.scalars(select(OrgUnit))]
                for c in chunk:
                    try:
                        with s.begin_nested():
                            _contact(s, ctx, c, tier_of)
                    except KefuError as exc:
                        report.skipped.append((c.seq, f"{exc.code}: {exc.message}"))
                        ctx.opened.pop(c.seq, None)
                    else:
                        report.contacts += 1
                del keep
            bar.update(len(chunk))


def _build_segments(db: Database, now: datetime, seed: int) -> None:
    """Fit the customer segmentation on the built customers and their tickets (what the weekly job
    `complaints.segments` does), so the demo's ticket and customer pages show segments from the start."""
    from kefu.complaints import customer_segments

    with db.unit_of_work() as s:
        customer_segments.fit_and_assign(s, at=now, seed=seed)


# ---- the whole demo ---------------------------------------------------------------------------


def build(
    db: Database,
    settings: Settings,
    demo: Demo,
    *,
    now: datetime | None = None,
    batch: int = 250,
    progress: bool = True,
) -> BuildReport:
    """Build `demo` into `db` (migrated, without a demo yet). `now` bounds every simulated time."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    now = now or utcnow()
    report = BuildReport()
    first = min((c.at for c in demo.contacts), default=now)
    imported_at = min(now, first) - timedelta(days=7)  # the subscriber base was loaded before any contact
    units, users = _build_org(db, demo, imported_at)
    _build_routing(db, units, users)
    report.people = len(users)
    report.phases["org"] = time.perf_counter() - started
    _build_customers(db, demo, units, imported_at, batch, progress)
    report.customers = len(demo.customers)
    report.phases["customers"] = time.perf_counter() - started - report.phases["org"]
    ctx = _Ctx(settings=settings, users=users, principals={}, now=now, seed=demo.seed)
    late = [c for c in demo.contacts if c.at >= now]
    if late:
        raise ValueError(
            f"{len(late)} contacts are at or after now ({now.isoformat()}); generate an earlier day"
        )
    mark = time.perf_counter()
    _build_contacts(db, ctx, demo, batch, progress, report)
    report.phases["contacts"] = time.perf_counter() - mark
    mark = time.perf_counter()
    from kefu.demo import knowledge

    report.knowledge = knowledge.seed(db, demo, units, users, now=now)
    report.phases["knowledge"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _build_segments(db, now, demo.seed)
    report.phases["segments"] = time.perf_counter() - mark
    report.tickets_by_status = ticket_counts(db, units[GROUP_CODE])
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = time.process_time() - cpu_started
    return report


def ticket_counts(db: Database, group_unit_id: int) -> Counter[str]:
    from sqlalchemy import func

    from kefu.org.models import OrgUnit
    from kefu.tickets.models import Ticket

    with db.session() as s:
        group_path = s.scalar(select(OrgUnit.path).where(OrgUnit.id == group_unit_id)) or "/"
        rows = s.execute(
            select(Ticket.status, func.count())
            .join(OrgUnit, OrgUnit.id == Ticket.org_unit_id)
            .where(OrgUnit.path.startswith(group_path))
            .group_by(Ticket.status)
        ).all()
    return Counter({status: n for status, n in rows})


def accounts(demo: Demo) -> list[tuple[str, str, str, str]]:
    """(username, role, title, unit name) of the demo's people, for the login table."""
    names = {u.code: u.name for u in demo.units}
    return [(p.username, p.role, p.title, names[p.unit]) for p in demo.people]


__all__ = ["DEMO_PASSWORD", "BuildReport", "accounts", "build", "demo_day", "demo_exists", "ticket_counts"]
