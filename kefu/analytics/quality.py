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

A contact's fact also keeps its next contact's channel and the time to its ticket's resolution (the return
summary: repeat contacts, switches, the channel recommendation), a complaint's or appeal's its channel path
over the 14 days before (the path summary: kefu.analytics.journeys.path_of).

A new contact can change the flags of the customer's contacts of the week before, and a complaint those of
the customer's complaints of the month after: the consumer observes them too; a contact or a handoff also
the customer's complaints and appeals of the 14 days after (their path). Whether an unreplied complaint
is overdue depends on the reader's now, so that count is read from the facts (the unreplied ones of the
period, an index). :func:`rebuild` recomputes facts and sums of a period from the raw tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from kefu.analytics import journeys, kpi
from kefu.analytics.models import (
    PATH_SUMS,
    QUALITY_SUMS,
    RETURN_SUMS,
    DayHandlerQualitySummary,
    DayPathSummary,
    DayQualitySummary,
    DayReturnSummary,
    QualityFact,
)
from kefu.analytics.summary import (
    DAY,
    DAY_OFFSET,
    chunks,
    day_number,
    entry_queues,
    issues_of,
    net_change,
    net_facts,
    tiers_of,
    unseen,
    writer_lock,
)
from kefu.core.clock import utcnow
from kefu.core.db import among
from kefu.interactions.models import Interaction
from kefu.tickets.models import Category, Ticket

KEYS = ("day", "org_unit_id", "channel", "category", "tier")
#: The keys of the sums per handler (DayHandlerQualitySummary): the routing queue and the agent.
HANDLER_KEYS = ("day", "org_unit_id", "channel", "queue_key", "agent_id")
#: The keys a report can break the figures down by (besides the day): of one summary or the other.
DIMENSIONS = ("org_unit_id", "channel", "category", "tier", "queue_key", "agent_id")
#: The keys of the return summary (DayReturnSummary: repeat contacts, switches, the channel recommendation) and
#: of the path summary (DayPathSummary: the journeys before a complaint or an appeal).
RETURN_KEYS = ("day", "org_unit_id", "channel", "category", "next_channel")
PATH_KEYS = ("day", "org_unit_id", "channel", "type", "path")
FACT_COLS = ("kind", "ref_id", "type", *KEYS, "opened", "reply_due", "first_reply", "repeat", "queue_key",
             "agent_id", "next_channel", "resolve_seconds", "path", "path_contacts", "handed_off")
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


def return_sums(fact: dict[str, Any] | None) -> dict[str, Any] | None:
    """A contact fact's contribution to the return summary (none for a ticket's)."""
    if fact is None or fact["type"] != "contact":
        return None
    secs = fact["resolve_seconds"]
    return {"contacts": 1, "returned": int(bool(fact["repeat"])), "resolved": int(secs is not None),
            "resolve_sum": secs or 0.0}


def path_sums(fact: dict[str, Any] | None) -> dict[str, Any] | None:
    """A complaint's or appeal's contribution to the path summary (none for a contact's, or a ticket of no
    known customer)."""
    if fact is None or fact["kind"] != "ticket" or fact["path"] is None:
        return None
    return {"tickets": 1, "contacts": fact["path_contacts"], "handed_off": int(bool(fact["handed_off"]))}


Path = tuple[str | None, int, bool]
NO_PATH: Path = (None, 0, False)


def _ticket_fact(t: Ticket, issue: str | None, repeat: bool, tier: str | None,
                 handler: tuple[str, int] = ("", 0), path: Path = NO_PATH) -> dict[str, Any]:
    opened = t.opened_at.timestamp()
    due = t.reply_due_at.timestamp() if t.reply_due_at is not None else opened + kpi.REPLY_DAYS * kpi.DAY
    complaint = t.type == "complaint"
    return {"kind": "ticket", "ref_id": t.id, "type": t.type, "day": _day(opened), "org_unit_id": t.org_unit_id,
            "channel": t.channel or "", "category": issue or "", "tier": tier or "", "opened": opened,
            "reply_due": due if complaint else None,
            "first_reply": t.first_reply_at.timestamp() if complaint and t.first_reply_at is not None else None,
            "repeat": repeat, "queue_key": handler[0], "agent_id": handler[1], "next_channel": "",
            "resolve_seconds": None, "path": path[0], "path_contacts": path[1], "handed_off": path[2]}


def _contact_fact(it: Interaction, returned: bool, issue: str | None, tier: str | None,
                  queue: str | None = None, next_channel: str = "",
                  resolved: datetime | None = None) -> dict[str, Any]:
    opened = it.offered_at.timestamp()
    secs = (resolved - it.offered_at).total_seconds() if resolved is not None and resolved >= it.offered_at else None
    return {"kind": "contact", "ref_id": it.id, "type": "contact", "day": _day(opened),
            "org_unit_id": it.org_unit_id, "channel": it.channel, "category": issue or "", "tier": tier or "",
            "opened": opened, "reply_due": None,
            "first_reply": None, "repeat": returned, "queue_key": queue or "", "agent_id": it.agent_id or 0,
            "next_channel": next_channel, "resolve_seconds": secs, "path": None, "path_contacts": 0,
            "handed_off": False}


def _handlers(session: Session, ticket_ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    """A ticket's queue and agent: those of its first contact (absent when it has none: '' and 0)."""

    i = Interaction
    firsts: dict[int, tuple[int, int]] = {}
    for part in chunks(ticket_ids, 1000):
        for tid, iid, agent in session.execute(select(i.ticket_id, i.id, i.agent_id).where(
                among(session, i.ticket_id, part)).order_by(i.offered_at.desc(), i.id.desc())):
            if tid is not None:
                firsts[tid] = (iid, agent or 0)  # the earliest wins, last
    queues = entry_queues(session, [iid for iid, _ in firsts.values()])
    return {tid: (queues.get(iid, ""), agent) for tid, (iid, agent) in firsts.items()}


def _counted_complaint(t: Any = Ticket) -> Any:
    return and_(t.type == "complaint", t.status != "merged")


def paths_of(session: Session, tickets: Sequence[tuple[int, int, datetime]]) -> dict[int, Path]:
    """The channel path (journeys.path_of, its channels joined by journeys.PATH_SEP) of each ticket (id,
    customer, opened) over the BEFORE_DAYS before it: its customer's inbound contacts and handoffs, one query
    a table per thousand customers."""
    from kefu.analytics import journeys
    from kefu.handoffs.models import Handoff

    if not tickets:
        return {}
    window = timedelta(days=journeys.BEFORE_DAYS)
    lo, hi = min(o for _, _, o in tickets) - window, max(o for _, _, o in tickets)
    contacts: dict[int, list[tuple[float, str]]] = {}
    handoffs: dict[int, list[float]] = {}
    i, h = Interaction, Handoff
    for part in chunks(sorted({c for _, c, _ in tickets}), 1000):
        for cust, at, ch in session.execute(select(i.customer_id, i.offered_at, i.channel).where(
                among(session, i.customer_id, part), i.direction == "inbound", i.offered_at >= lo, i.offered_at <= hi)):
            if cust is not None:
                contacts.setdefault(cust, []).append((at.timestamp(), ch))
        for hcust, hat in session.execute(select(h.customer_id, h.offered_at).where(
                among(session, h.customer_id, part), h.offered_at >= lo, h.offered_at <= hi)):
            handoffs.setdefault(hcust, []).append(hat.timestamp())
    out: dict[int, Path] = {}
    for tid, cust, opened in tickets:
        path, n, off = journeys.path_of(opened.timestamp(), contacts.get(cust, []), handoffs.get(cust, []))
        out[tid] = (journeys.PATH_SEP.join(path), n, off)
    return out


def ticket_facts(session: Session, ticket_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The fact row each of these tickets makes now (absent: not found, or neither a complaint nor an appeal),
    read with one query a table for all of them."""
    ts: list[Ticket] = []
    for part in chunks(ticket_ids):
        ts += session.scalars(select(Ticket).where(among(session, Ticket.id, part))
                              .execution_options(populate_existing=True))
    ts = [t for t in ts if t.type == "appeal" or (t.type == "complaint" and t.status != "merged")]
    if not ts:
        return {}
    # the customers' counted complaints that may come before one of these (kpi.REPEAT_DAYS)
    complaints = [t for t in ts if t.type == "complaint" and t.customer_id is not None]
    earlier: dict[int, list[tuple[int, datetime, int | None]]] = {}
    if complaints:
        lo = min(t.opened_at for t in complaints) - REPEAT_WINDOW
        hi = max(t.opened_at for t in complaints)
        for part in chunks(sorted({t.customer_id for t in complaints if t.customer_id is not None})):
            for tid, cust, opened, cat in session.execute(
                    select(Ticket.id, Ticket.customer_id, Ticket.opened_at, Ticket.category_id).where(
                        _counted_complaint(), among(session, Ticket.customer_id, part), Ticket.opened_at >= lo,
                        Ticket.opened_at <= hi)):
                if cust is not None:
                    earlier.setdefault(cust, []).append((tid, opened, cat))
    issues = issues_of(session, [t.category_id for t in ts]
                     + [cat for rows in earlier.values() for _, _, cat in rows])
    tiers = tiers_of(session, [t.customer_id for t in ts])
    handlers = _handlers(session, [t.id for t in ts])
    # a merged appeal counts as an appeal but not again as a journey (the raw report leaves it out too)
    paths = paths_of(session, [(t.id, t.customer_id, t.opened_at) for t in ts
                               if t.customer_id is not None and t.status != "merged"])
    out = {}
    for t in ts:
        issue = issues.get(t.category_id) if t.category_id is not None else None
        repeat = t.type == "complaint" and t.customer_id is not None and any(
            tid != t.id and opened >= t.opened_at - REPEAT_WINDOW
            and (opened < t.opened_at or (opened == t.opened_at and tid < t.id))
            and (issues.get(cat) if cat is not None else None) == issue
            for tid, opened, cat in earlier.get(t.customer_id, ()))
        out[t.id] = _ticket_fact(t, issue, repeat, tiers.get(t.customer_id) if t.customer_id else None,
                                 handlers.get(t.id, ("", 0)), paths.get(t.id, NO_PATH))
    return out


def contact_facts(session: Session, interaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The fact row each of these interactions makes now (absent: not found, or not an inbound contact of a
    known customer), read with one query a table for all of them."""

    i = Interaction
    its: list[Interaction] = []
    for part in chunks(interaction_ids):
        its += session.scalars(select(i).where(among(session, i.id, part)).execution_options(populate_existing=True))
    its = [it for it in its if it.direction == "inbound" and it.customer_id is not None]
    if not its:
        return {}
    # the customers' inbound contacts that may come after one of these (kpi.FCR_DAYS)
    lo = min(it.offered_at for it in its)
    hi = max(it.offered_at for it in its) + RETURN_WINDOW
    later: dict[int, list[datetime]] = {}
    seq = {it.id: (it.customer_id, it.offered_at.timestamp(), it.id, it.channel) for it in its}
    for part in chunks(sorted({it.customer_id for it in its if it.customer_id is not None})):
        for cust, offered, iid, ch in session.execute(select(i.customer_id, i.offered_at, i.id, i.channel).where(
                i.direction == "inbound", among(session, i.customer_id, part), i.offered_at > lo, i.offered_at <= hi)):
            if cust is not None:
                later.setdefault(cust, []).append(offered)
                seq[iid] = (cust, offered.timestamp(), iid, ch)
    nexts = journeys.next_channels(list(seq.values()))
    categories: dict[int, int | None] = {}
    resolved: dict[int, datetime | None] = {}
    for part in chunks(sorted({it.ticket_id for it in its if it.ticket_id is not None})):
        for tid, cat, done in session.execute(select(Ticket.id, Ticket.category_id, Ticket.resolved_at)
                                              .where(among(session, Ticket.id, part))):
            categories[tid], resolved[tid] = cat, done
    issues = issues_of(session, categories.values())
    tiers = tiers_of(session, [it.customer_id for it in its])
    queues = entry_queues(session, [it.id for it in its])
    out = {}
    for it in its:
        assert it.customer_id is not None
        returned = any(it.offered_at < o <= it.offered_at + RETURN_WINDOW for o in later.get(it.customer_id, ()))
        cat = categories.get(it.ticket_id) if it.ticket_id is not None else None
        out[it.id] = _contact_fact(it, returned, issues.get(cat) if cat is not None else None,
                                   tiers.get(it.customer_id), queues.get(it.id), nexts.get(it.id, ""),
                                   resolved.get(it.ticket_id) if it.ticket_id is not None else None)
    return out


def _deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Any]:
    """What replacing quality fact ``old`` by ``new`` changes in the category and the queue/agent summaries,
    and in the return and path summaries."""
    old_sums = None if old is None else sums_of(old)
    new_sums = None if new is None else sums_of(new)
    return [(table, key, change)
            for table, keys, olds, news, cols in (
                (DayQualitySummary, KEYS, old_sums, new_sums, QUALITY_SUMS),
                (DayHandlerQualitySummary, HANDLER_KEYS, old_sums, new_sums, QUALITY_SUMS),
                (DayReturnSummary, RETURN_KEYS, return_sums(old), return_sums(new), RETURN_SUMS),
                (DayPathSummary, PATH_KEYS, path_sums(old), path_sums(new), PATH_SUMS))
            for key, change in net_change(old, olds, new, news, keys, cols)]


def observe(session: Session, *, tickets: Iterable[int] = (), contacts: Iterable[int] = (),
            seen: set[tuple[str, int]] | None = None) -> int:
    """Bring facts and sums up to date with these tickets and interactions as they are now; returns how many
    facts changed. Idempotent. ``seen``: the ("ticket" | "contact", id) observed already in this transaction
    with nothing they are computed from changed since (summary.observe); skipped, and the others added.
    Reads the old and the new facts of all of them with one query a table."""
    cols = QualityFact.__table__.c
    work = unseen({"ticket": tickets, "contact": contacts}, seen)
    if not work:
        return 0
    writer_lock(session, 1)
    ids = {kind: [ref for k, ref in work if k == kind] for kind in ("ticket", "contact")}
    olds: dict[tuple[str, int], dict[str, Any]] = {}
    for kind, refs in ids.items():
        for part in chunks(refs):
            for row in session.execute(select(*cols).where(cols.kind == kind,
                                                           among(session, cols.ref_id, part))).mappings():
                olds[(kind, row["ref_id"])] = dict(row)
    news = {("ticket", ref): f for ref, f in ticket_facts(session, ids["ticket"]).items()}
    news.update({("contact", ref): f for ref, f in contact_facts(session, ids["contact"]).items()})
    changed, gone_refs, added = net_facts(session, work, olds, news, _deltas)
    gone = {kind: [ref for k, ref in gone_refs if k == kind] for kind in ("ticket", "contact")}
    for kind, refs in gone.items():
        for part in chunks(refs):
            session.execute(delete(QualityFact).where(QualityFact.kind == kind, QualityFact.ref_id.in_(part)))
    if added:
        session.execute(insert(QualityFact), added)
    return changed


def _near(session: Session, table: Any, ids: Iterable[int], kind: Any, before: timedelta,
          after: timedelta) -> list[int]:
    """These rows of ``table`` (tickets or interactions) and, for each with a customer, the customer's rows
    of ``kind`` (a condition) opened from ``before`` before it to ``after`` after it: one query for the rows,
    one for the others."""
    col_id, cust, at = table.id, table.customer_id, (
        table.opened_at if table is Ticket else table.offered_at)
    wanted = sorted(set(ids))
    out = set(wanted)
    rows: list[tuple[int, int | None, datetime]] = []
    for part in chunks(wanted):
        rows += [(r[0], r[1], r[2]) for r in session.execute(
            select(col_id, cust, at).where(among(session, col_id, part), cust.is_not(None)))]
    if not rows:
        return sorted(out)
    lo, hi = min(r[2] for r in rows) - before, max(r[2] for r in rows) + after
    mine: dict[int | None, list[tuple[int, datetime]]] = {}
    for rid, customer, when in rows:
        mine.setdefault(customer, []).append((rid, when))
    for part in chunks(sorted(c for c in mine if c is not None)):
        for oid, customer, when in session.execute(select(col_id, cust, at).where(
                kind, among(session, cust, part), at >= lo, at <= hi)):
            if any(oid != rid and t - before <= when <= t + after for rid, t in mine[customer]):
                out.add(oid)
    return sorted(out)


def neighbours_of_tickets(session: Session, ticket_ids: Iterable[int]) -> list[int]:
    """The tickets and their customers' complaints of the month after each (whose repeat flag it may change),
    of every category: a complaint given another category changes the flags of both its old and its new
    category's later complaints. Whatever the ticket's type now: a complaint re-typed to another type no
    longer makes the later ones repeats (and one re-typed to a complaint does)."""
    return _near(session, Ticket, ticket_ids, Ticket.type == "complaint", timedelta(0), REPEAT_WINDOW)


def neighbours_of_ticket(session: Session, ticket_id: int) -> list[int]:
    """:func:`neighbours_of_tickets` of one ticket."""
    return neighbours_of_tickets(session, [ticket_id])


def tickets_after(session: Session, table: Any, ids: Iterable[int]) -> list[int]:
    """The complaints and appeals of the customers of these rows of ``table`` (interactions or handoffs)
    opened in the BEFORE_DAYS after each (whose channel path it may change)."""
    from kefu.analytics import journeys

    wanted = sorted(set(ids))
    rows: list[tuple[int, datetime]] = []
    for part in chunks(wanted):
        rows += [(c, at) for c, at in session.execute(select(table.customer_id, table.offered_at).where(
            among(session, table.id, part), table.customer_id.is_not(None))) if c is not None]
    if not rows:
        return []
    window = timedelta(days=journeys.BEFORE_DAYS)
    lo, hi = min(at for _, at in rows), max(at for _, at in rows) + window
    mine: dict[int, list[datetime]] = {}
    for c, at in rows:
        mine.setdefault(c, []).append(at)
    t = Ticket
    out: set[int] = set()
    for part in chunks(sorted(mine)):
        for tid, cust, opened in session.execute(select(t.id, t.customer_id, t.opened_at).where(
                t.type.in_(("complaint", "appeal")), among(session, t.customer_id, part), t.opened_at >= lo,
                t.opened_at <= hi)):
            if any(at <= opened <= at + window for at in mine.get(cust or 0, ())):
                out.add(tid)
    return sorted(out)


def neighbours_of_contacts(session: Session, interaction_ids: Iterable[int]) -> list[int]:
    """The interactions and their customers' contacts of the week before each (whose returned flag it may
    change)."""
    return _near(session, Interaction, interaction_ids, Interaction.direction == "inbound", RETURN_WINDOW,
                 timedelta(0))


def neighbours_of_contact(session: Session, interaction_id: int) -> list[int]:
    """:func:`neighbours_of_contacts` of one interaction."""
    return neighbours_of_contacts(session, [interaction_id])


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
    for table in (DayHandlerQualitySummary, DayReturnSummary, DayPathSummary):
        session.execute(delete(table).where(*span(table.day, lo_day, hi_day)))

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

    handlers = _handlers(session, [x.id for (x, _, _) in rows if inside(x.opened_at)] + [x.id for x, _, _ in appeals])
    paths = paths_of(session, [(x.id, x.customer_id, x.opened_at) for x, _, _ in (*rows, *appeals)
                               if x.customer_id is not None and x.status != "merged" and inside(x.opened_at)])
    facts = [_ticket_fact(x, issue, flag, tier, handlers.get(x.id, ("", 0)), paths.get(x.id, NO_PATH))
             for (x, _, tier), issue, flag in zip(rows, issues, flags, strict=True) if inside(x.opened_at)]
    facts += [_ticket_fact(x, key.split(".")[0] if key else None, False, tier, handlers.get(x.id, ("", 0)),
                           paths.get(x.id, NO_PATH))
              for x, key, tier in appeals]
    i = Interaction
    its = list(session.execute(
        select(i, Category.key, Customer.tier, Ticket.resolved_at).outerjoin(Ticket, Ticket.id == i.ticket_id)
        .outerjoin(Category, Category.id == Ticket.category_id).outerjoin(Customer, Customer.id == i.customer_id)
        .where(i.direction == "inbound", i.customer_id.is_not(None),
               *span(i.offered_at, lo, None if hi is None else hi + RETURN_WINDOW))))
    returned = kpi.first_contact_flags([(x.customer_id, x.offered_at.timestamp()) for x, _, _, _ in its])
    nexts = journeys.next_channels([(x.customer_id, x.offered_at.timestamp(), x.id, x.channel) for x, _, _, _ in its])
    queues = entry_queues(session, [x.id for x, _, _, _ in its if inside(x.offered_at)])
    facts += [_contact_fact(x, first is False, key.split(".")[0] if key else None, tier, queues.get(x.id),
                            nexts.get(x.id, ""), done)
              for (x, key, tier, done), first in zip(its, returned, strict=True) if inside(x.offered_at)]
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
    contact = f.type == "contact"
    returns = [count(contact), count(and_(contact, f.repeat)), count(and_(contact, f.resolve_seconds.is_not(None))),
               func.coalesce(func.sum(case((contact, f.resolve_seconds), else_=None)), 0.0)]
    on_path = and_(f.kind == "ticket", f.path.is_not(None))
    path_cols = [func.count(), func.sum(f.path_contacts), count(f.handed_off)]
    tables: list[tuple[Any, tuple[str, ...], list[Any], Any, tuple[str, ...]]] = [
            (DayQualitySummary, KEYS, sums, None, QUALITY_SUMS),
            (DayHandlerQualitySummary, HANDLER_KEYS, sums, None, QUALITY_SUMS),
            (DayReturnSummary, RETURN_KEYS, returns, contact, RETURN_SUMS),
            (DayPathSummary, PATH_KEYS, path_cols, on_path, PATH_SUMS)]
    for table, names, cols, only, columns in tables:
        keys = [getattr(f, k) for k in names]
        q = select(*keys, *cols).where(*span(f.day, lo_day, hi_day))
        session.execute(insert(table).from_select(
            [*names, *columns], (q if only is None else q.where(only)).group_by(*keys)))
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
    got = figures_by(session, first, end, by=(), unit_ids=unit_ids, now=utcnow(), channels=channels).get(())
    return got.fcr if got is not None else (0, 0)
