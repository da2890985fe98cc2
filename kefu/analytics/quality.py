"""The complaint, appeal and first-contact summaries kept from events: complaints (and their 15-day
replies, their repeats), appeals, contacts of known customers and whether the customer came back, per local
day × org unit × channel (analytics_daily_quality, migration 0704), so the reports read those figures from
a few rows per day instead of the tickets and interactions of the period.

As for the contact summaries (kefu/analytics/summary.py), each complaint, appeal and contact has a fact row
(analytics_quality_facts) with what the sums last counted of it; :func:`observe` takes the old contribution
out and adds the new one, so it is idempotent. The rules are the pure core's (kefu/analytics/kpi.py):

- a complaint (ticket of type complaint, not merged) is a *repeat* when the same customer complained on the
  same first-level category within ``kpi.REPEAT_DAYS`` before (earlier: opened before, or at the same
  instant with a smaller id); replied on time when its first reply came by its reply deadline (its own, or
  15 days after opening);
- an appeal is a ticket of type appeal;
- a contact (inbound interaction of a known customer) *returned* when the same customer made another
  inbound contact, on any channel, within ``kpi.FCR_DAYS`` after it (strictly later); first-contact
  resolution is 1 - returned / contacts.

A new contact can change the flags of the customer's contacts of the week before, and a complaint those of
the customer's complaints of the month after: the consumer observes them too. Whether an unreplied complaint
is overdue depends on the reader's now, so that count is read from the facts (the unreplied ones of the
period, an index). :func:`rebuild` recomputes facts and sums of a period from the raw tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from kefu.analytics import kpi
from kefu.analytics.models import QUALITY_SUMS, DayHandlerQualitySummary, DayQualitySummary, QualityFact
from kefu.analytics.summary import DAY, DAY_OFFSET, LOCK_CLASS, bump, day_number, net_change
from kefu.interactions.models import Interaction
from kefu.tickets.models import Category, Ticket

KEYS = ("day", "org_unit_id", "channel", "category", "tier")
#: The keys of the sums per handler (DayHandlerQualitySummary): the routing queue and the agent.
HANDLER_KEYS = ("day", "org_unit_id", "channel", "queue_key", "agent_id")
#: The keys a report can break the figures down by (besides the day): of one summary or the other.
DIMENSIONS = ("org_unit_id", "channel", "category", "tier", "queue_key", "agent_id")
FACT_COLS = ("kind", "ref_id", "type", *KEYS, "opened", "reply_due", "first_reply", "repeat", "queue_key",
             "agent_id")
REPEAT_WINDOW = timedelta(days=kpi.REPEAT_DAYS)
RETURN_WINDOW = timedelta(days=kpi.FCR_DAYS)


def _day(t: float) -> int:
    return int((t + DAY_OFFSET) // DAY)


def sums_of(fact: dict[str, Any]) -> dict[str, int]:
    """One fact's contribution to its summary row."""
    complaint = fact["type"] == "complaint"
    replied = fact["first_reply"] is not None
    on_time = complaint and replied and fact["first_reply"] <= fact["reply_due"]
    return {"complaints": int(complaint), "complaint_repeats": int(complaint and fact["repeat"]),
            "replied_on_time": int(on_time), "replied_late": int(complaint and replied and not on_time),
            "unreplied": int(complaint and not replied), "appeals": int(fact["type"] == "appeal"),
            "contacts": int(fact["type"] == "contact"),
            "contacts_returned": int(fact["type"] == "contact" and fact["repeat"])}


def _ticket_fact(t: Ticket, issue: str | None, repeat: bool, tier: str | None,
                 handler: tuple[str, int] = ("", 0)) -> dict[str, Any]:
    opened = t.opened_at.timestamp()
    due = t.reply_due_at.timestamp() if t.reply_due_at is not None else opened + kpi.REPLY_DAYS * kpi.DAY
    complaint = t.type == "complaint"
    return {"kind": "ticket", "ref_id": t.id, "type": t.type, "day": _day(opened), "org_unit_id": t.org_unit_id,
            "channel": t.channel or "", "category": issue or "", "tier": tier or "", "opened": opened,
            "reply_due": due if complaint else None,
            "first_reply": t.first_reply_at.timestamp() if complaint and t.first_reply_at is not None else None,
            "repeat": repeat, "queue_key": handler[0], "agent_id": handler[1]}


def _contact_fact(it: Interaction, returned: bool, issue: str | None, tier: str | None,
                  queue: str | None = None) -> dict[str, Any]:
    opened = it.offered_at.timestamp()
    return {"kind": "contact", "ref_id": it.id, "type": "contact", "day": _day(opened),
            "org_unit_id": it.org_unit_id, "channel": it.channel, "category": issue or "", "tier": tier or "",
            "opened": opened, "reply_due": None,
            "first_reply": None, "repeat": returned, "queue_key": queue or "", "agent_id": it.agent_id or 0}


def _issue(session: Session, category_id: int | None) -> str | None:
    if category_id is None:
        return None
    key = session.scalar(select(Category.key).where(Category.id == category_id))
    return key.split(".")[0] if key else None


def _tier(session: Session, customer_id: int | None) -> str | None:
    from kefu.customers.models import Customer

    return session.scalar(select(Customer.tier).where(Customer.id == customer_id)) if customer_id else None


def _entry_queue(session: Session, interaction_id: int) -> str | None:
    """The routing queue the contact first entered (as the contact summaries key it)."""
    from kefu.routing.models import RoutingItem

    return session.scalar(select(RoutingItem.entry_queue_key).where(RoutingItem.interaction_id == interaction_id)
                          .order_by(RoutingItem.id).limit(1))


def _handler(session: Session, ticket_id: int) -> tuple[str, int]:
    """A ticket's queue and agent: those of its first contact ('' and 0 when it has none)."""
    i = Interaction
    first = session.execute(select(i.id, i.agent_id).where(i.ticket_id == ticket_id)
                            .order_by(i.offered_at, i.id).limit(1)).first()
    if first is None:
        return "", 0
    return _entry_queue(session, first[0]) or "", first[1] or 0


def _handlers(session: Session, ticket_ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    """:func:`_handler` of many tickets at once (the rebuild)."""
    from kefu.routing.models import RoutingItem

    i = Interaction
    firsts: dict[int, tuple[int, int]] = {}
    for n in range(0, len(ticket_ids), 1000):
        for tid, iid, agent in session.execute(select(i.ticket_id, i.id, i.agent_id).where(
                i.ticket_id.in_(ticket_ids[n:n + 1000])).order_by(i.offered_at.desc(), i.id.desc())):
            if tid is not None:
                firsts[tid] = (iid, agent or 0)  # the earliest wins, last
    queues = _entry_queues(session, [iid for iid, _ in firsts.values()], RoutingItem)
    return {tid: (queues.get(iid, ""), agent) for tid, (iid, agent) in firsts.items()}


def _entry_queues(session: Session, interaction_ids: Sequence[int], item: Any) -> dict[int, str]:
    out: dict[int, str] = {}
    for n in range(0, len(interaction_ids), 1000):
        for iid, key in session.execute(select(item.interaction_id, item.entry_queue_key).where(
                item.interaction_id.in_(interaction_ids[n:n + 1000])).order_by(item.id.desc())):
            out[iid] = key or ""  # the first item wins, last
    return out


def _counted_complaint(t: Any = Ticket) -> Any:
    return and_(t.type == "complaint", t.status != "merged")


def ticket_fact(session: Session, t: Ticket) -> dict[str, Any] | None:
    """The fact row a ticket makes now (None: neither a complaint nor an appeal)."""
    if t.type == "appeal":
        return _ticket_fact(t, _issue(session, t.category_id), False, _tier(session, t.customer_id),
                            _handler(session, t.id))
    if t.type != "complaint" or t.status == "merged":
        return None
    issue = _issue(session, t.category_id)
    repeat = False
    if t.customer_id is not None:
        earlier = (select(Ticket.category_id).where(
            _counted_complaint(), Ticket.customer_id == t.customer_id, Ticket.id != t.id,
            Ticket.opened_at >= t.opened_at - REPEAT_WINDOW,
            or_(Ticket.opened_at < t.opened_at, and_(Ticket.opened_at == t.opened_at, Ticket.id < t.id))))
        repeat = any(_issue(session, c) == issue for c in session.scalars(earlier))
    return _ticket_fact(t, issue, repeat, _tier(session, t.customer_id), _handler(session, t.id))


def contact_fact(session: Session, it: Interaction) -> dict[str, Any] | None:
    """The fact row an interaction makes now (None: not an inbound contact of a known customer)."""
    if it.direction != "inbound" or it.customer_id is None:
        return None
    i = Interaction
    later = session.scalar(select(i.id).where(
        i.direction == "inbound", i.customer_id == it.customer_id, i.offered_at > it.offered_at,
        i.offered_at <= it.offered_at + RETURN_WINDOW).limit(1))
    category_id = (session.scalar(select(Ticket.category_id).where(Ticket.id == it.ticket_id))
                   if it.ticket_id is not None else None)
    return _contact_fact(it, later is not None, _issue(session, category_id), _tier(session, it.customer_id),
                         _entry_queue(session, it.id))


def observe(session: Session, *, tickets: Iterable[int] = (), contacts: Iterable[int] = (),
            seen: set[tuple[str, int]] | None = None) -> int:
    """Bring facts and sums up to date with these tickets and interactions as they are now; returns how many
    facts changed. Idempotent. ``seen``: the ("ticket" | "contact", id) observed already in this transaction
    with nothing they are computed from changed since (summary.observe); skipped, and the others added."""
    cols = QualityFact.__table__.c
    work = [("ticket", i) for i in sorted(set(tickets))] + [("contact", i) for i in sorted(set(contacts))]
    if seen is not None:
        work = [w for w in work if w not in seen]
        seen.update(work)
    if work and session.get_bind().dialect.name == "postgresql":  # one writer at a time (summary.observe)
        session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, 1)))
    changed = 0
    for kind, ref in work:
        old_row = session.execute(select(*cols).where(cols.kind == kind, cols.ref_id == ref)).mappings().first()
        old = dict(old_row) if old_row is not None else None
        new: dict[str, Any] | None
        if kind == "ticket":
            t = session.scalar(select(Ticket).where(Ticket.id == ref).execution_options(populate_existing=True))
            new = ticket_fact(session, t) if t is not None else None
        else:
            it = session.scalar(select(Interaction).where(Interaction.id == ref)
                                .execution_options(populate_existing=True))
            new = contact_fact(session, it) if it is not None else None
        if old == new:
            continue
        changed += 1
        for table, keys in ((DayQualitySummary, KEYS), (DayHandlerQualitySummary, HANDLER_KEYS)):
            for key, change in net_change(old, None if old is None else sums_of(old), new,
                                          None if new is None else sums_of(new), keys, QUALITY_SUMS):
                bump(session, table, key, change, 1, QUALITY_SUMS)
        if old is not None:
            session.execute(delete(QualityFact).where(QualityFact.kind == kind, QualityFact.ref_id == ref))
        if new is not None:
            session.execute(insert(QualityFact), [new])
    return changed


def neighbours_of_ticket(session: Session, ticket_id: int) -> list[int]:
    """The ticket and the customer's complaints of the month after it (whose repeat flag it may change),
    of every category: a complaint given another category changes the flags of both its old and its new
    category's later complaints. Whatever the ticket's type now: a complaint re-typed to another type no
    longer makes the later ones repeats (and one re-typed to a complaint does)."""
    t = session.get(Ticket, ticket_id)
    if t is None or t.customer_id is None:
        return [ticket_id]
    return [ticket_id, *session.scalars(select(Ticket.id).where(
        Ticket.type == "complaint", Ticket.customer_id == t.customer_id, Ticket.opened_at >= t.opened_at,
        Ticket.opened_at <= t.opened_at + REPEAT_WINDOW, Ticket.id != t.id))]


def neighbours_of_contact(session: Session, interaction_id: int) -> list[int]:
    """The interaction and the customer's contacts of the week before it (whose returned flag it may
    change)."""
    it = session.get(Interaction, interaction_id)
    if it is None or it.customer_id is None:
        return [interaction_id]
    i = Interaction
    return [interaction_id, *session.scalars(select(i.id).where(
        i.customer_id == it.customer_id, i.direction == "inbound", i.offered_at <= it.offered_at,
        i.offered_at >= it.offered_at - RETURN_WINDOW, i.id != it.id))]


def off_tier(session: Session) -> dict[str, list[int]]:
    """The tickets and contacts counted under a tier their customer no longer has (after a bulk recompute of
    the tiers that sent no event per customer)."""
    from kefu.customers.models import Customer

    f = QualityFact
    tier = func.coalesce(Customer.tier, "")
    tickets = session.scalars(select(f.ref_id).join(Ticket, Ticket.id == f.ref_id)
                              .join(Customer, Customer.id == Ticket.customer_id)
                              .where(f.kind == "ticket", f.tier != tier))
    contacts = session.scalars(select(f.ref_id).join(Interaction, Interaction.id == f.ref_id)
                               .join(Customer, Customer.id == Interaction.customer_id)
                               .where(f.kind == "contact", f.tier != tier))
    return {"tickets": list(tickets), "contacts": list(contacts)}


# ---- rebuilding from the raw tables --------------------------------------------------------------------------

def rebuild(session: Session, *, start: datetime | None = None, end: datetime | None = None) -> int:
    """Recompute the facts and sums of the complaints, appeals and contacts opened in the local days
    covering [start, end) (all when not given) from the raw tables; returns the facts counted."""
    lo_day = None if start is None else _day(start.timestamp())
    hi_day = None if end is None else -int(-(end.timestamp() + DAY_OFFSET) // DAY)
    lo = None if lo_day is None else datetime.fromtimestamp(lo_day * DAY - DAY_OFFSET, UTC)
    hi = None if hi_day is None else datetime.fromtimestamp(hi_day * DAY - DAY_OFFSET, UTC)

    def span(col: Any, first: Any, last: Any) -> list[Any]:
        return [c for c in (None if first is None else col >= first, None if last is None else col < last)
                if c is not None]

    session.execute(delete(QualityFact).where(*span(QualityFact.day, lo_day, hi_day)))
    session.execute(delete(DayQualitySummary).where(*span(DayQualitySummary.day, lo_day, hi_day)))
    session.execute(delete(DayHandlerQualitySummary).where(*span(DayHandlerQualitySummary.day, lo_day, hi_day)))

    def inside(at: datetime) -> bool:
        return (lo is None or at >= lo) and (hi is None or at < hi)

    from kefu.customers.models import Customer

    t = Ticket
    rows = list(session.execute(
        select(t, Category.key, Customer.tier).outerjoin(Category, Category.id == t.category_id)
        .outerjoin(Customer, Customer.id == t.customer_id)
        .where(_counted_complaint(), *span(t.opened_at, None if lo is None else lo - REPEAT_WINDOW, hi))
        .order_by(t.opened_at, t.id)))
    issues = [key.split(".")[0] if key else None for _, key, _ in rows]
    flags = kpi.repeat_flags([kpi.Complaint(x.opened_at.timestamp(), x.customer_id, issue)
                              for (x, _, _), issue in zip(rows, issues, strict=True)])
    appeals = list(session.execute(
        select(t, Category.key, Customer.tier).outerjoin(Category, Category.id == t.category_id)
        .outerjoin(Customer, Customer.id == t.customer_id).where(t.type == "appeal", *span(t.opened_at, lo, hi))))
    from kefu.routing.models import RoutingItem

    handlers = _handlers(session, [x.id for (x, _, _) in rows if inside(x.opened_at)] + [x.id for x, _, _ in appeals])
    facts = [_ticket_fact(x, issue, flag, tier, handlers.get(x.id, ("", 0)))
             for (x, _, tier), issue, flag in zip(rows, issues, flags, strict=True) if inside(x.opened_at)]
    facts += [_ticket_fact(x, key.split(".")[0] if key else None, False, tier, handlers.get(x.id, ("", 0)))
              for x, key, tier in appeals]
    i = Interaction
    its = list(session.execute(
        select(i, Category.key, Customer.tier).outerjoin(Ticket, Ticket.id == i.ticket_id)
        .outerjoin(Category, Category.id == Ticket.category_id).outerjoin(Customer, Customer.id == i.customer_id)
        .where(i.direction == "inbound", i.customer_id.is_not(None),
               *span(i.offered_at, lo, None if hi is None else hi + RETURN_WINDOW))))
    returned = kpi.first_contact_flags([(x.customer_id, x.offered_at.timestamp()) for x, _, _ in its])
    queues = _entry_queues(session, [x.id for x, _, _ in its if inside(x.offered_at)], RoutingItem)
    facts += [_contact_fact(x, first is False, key.split(".")[0] if key else None, tier, queues.get(x.id))
              for (x, key, tier), first in zip(its, returned, strict=True) if inside(x.offered_at)]
    for n in range(0, len(facts), 1000):
        session.execute(insert(QualityFact), facts[n:n + 1000])
    f = QualityFact
    complaint = f.type == "complaint"

    def count(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    sums = [count(complaint), count(and_(complaint, f.repeat)),
            count(and_(complaint, f.first_reply <= f.reply_due)),
            count(and_(complaint, f.first_reply > f.reply_due)), count(and_(complaint, f.first_reply.is_(None))),
            count(f.type == "appeal"), count(f.type == "contact"), count(and_(f.type == "contact", f.repeat))]
    for table, names in ((DayQualitySummary, KEYS), (DayHandlerQualitySummary, HANDLER_KEYS)):
        keys = [getattr(f, k) for k in names]
        session.execute(insert(table).from_select(
            [*names, *QUALITY_SUMS], select(*keys, *sums).where(*span(f.day, lo_day, hi_day)).group_by(*keys)))
    session.flush()
    return len(facts)


# ---- reading them ---------------------------------------------------------------------------------------------

def _scoped(q: Any, table: Any, first: date, end: date, unit_ids: Sequence[int],
            channels: Iterable[str] | None) -> Any:
    q = q.where(table.day >= day_number(first), table.day < day_number(end), table.org_unit_id.in_(list(unit_ids)))
    return q.where(table.channel.in_(list(channels))) if channels is not None else q


@dataclass(frozen=True)
class Figures:
    """A period's complaint figures (customers 0: a part's customer base is not kept) and first-contact
    resolution (resolved at first contact, contacts of a known customer)."""

    complaints: Any  # kefu.analytics.service.ComplaintFigures
    fcr: tuple[int, int]


def figures_by(session: Session, first: date, end: date, *, by: Sequence[str], unit_ids: Iterable[int],
               now: datetime, channels: Iterable[str] | None = None) -> dict[tuple[Any, ...], Figures]:
    """The complaint and first-contact figures of the local days [first, end) from the summary, per the named
    keys (of DIMENSIONS; none: one row, key ()); only keys with a complaint, an appeal or a contact. By
    queue or agent, from the sums per handler (with neither category nor tier)."""
    from kefu.analytics import service

    for k in by:
        if k not in DIMENSIONS:
            raise ValueError(f"unknown breakdown {k!r} (one of {', '.join(DIMENSIONS)})")
    per_handler = bool({"queue_key", "agent_id"} & set(by))
    if per_handler and {"category", "tier"} & set(by):
        raise ValueError("the figures per queue or agent are not kept per category or tier")
    units = list(unit_ids)
    q: Any = DayHandlerQualitySummary if per_handler else DayQualitySummary
    f = QualityFact
    sums = session.execute(_scoped(
        select(*(getattr(q, k) for k in by), *(func.sum(getattr(q, n)) for n in QUALITY_SUMS)),
        q, first, end, units, channels).group_by(*(getattr(q, k) for k in by)))
    overdue = {tuple(row[:-1]): int(row[-1]) for row in session.execute(_scoped(
        select(*(getattr(f, k) for k in by), func.count()).where(
            f.type == "complaint", f.first_reply.is_(None), f.reply_due < now.timestamp()),
        f, first, end, units, channels).group_by(*(getattr(f, k) for k in by)))}
    out = {}
    for row in sums:
        key = tuple(row[:len(by)])
        complaints, repeats, on_time, late, unreplied, appeals, contacts, returned = (
            int(v or 0) for v in row[len(by):])
        if complaints or appeals or contacts:
            late_now = overdue.get(key, 0)
            out[key] = Figures(service.ComplaintFigures(
                complaints, kpi.ReplyTally(on_time, late, late_now, unreplied - late_now), repeats, appeals, 0),
                (contacts - returned, contacts))
    return out


def complaint_figures(session: Session, first: date, end: date, *, unit_ids: Iterable[int], now: datetime,
                      channels: Iterable[str] | None = None) -> Any:
    """:func:`kefu.analytics.service.complaint_figures` of the local days [first, end), from the summary."""
    from kefu.analytics import service

    units = list(unit_ids)
    got = figures_by(session, first, end, by=(), unit_ids=units, now=now, channels=channels).get(())
    c = got.complaints if got is not None else service.ComplaintFigures(0, kpi.ReplyTally(), 0, 0, 0)
    return replace(c, customers=service.customer_base(session, units))


def first_contact(session: Session, first: date, end: date, *, unit_ids: Iterable[int],
                  channels: Iterable[str] | None = None) -> tuple[int, int]:
    """:func:`kefu.analytics.service.first_contact` of the local days [first, end), from the summary:
    (resolved at first contact, contacts of a known customer)."""
    got = figures_by(session, first, end, by=(), unit_ids=unit_ids, now=datetime.now(UTC), channels=channels).get(())
    return got.fcr if got is not None else (0, 0)
