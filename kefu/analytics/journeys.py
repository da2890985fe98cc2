"""Customer journeys: one customer's contacts across channels over time, and how often customers come
back (the repeat-contact rate, the complement of first-contact resolution; docs/kpis.md).

A step of a journey is one interaction of the customer (or of a customer merged into them), oldest first,
with its channel, outcome, wait, ticket, and whether it is a *repeat*: another contact came within
``days`` (default 7) before it. The channel switches of a period say where customers go next.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.analytics import kpi, service
from kefu.core.db import among
from kefu.interactions.models import Interaction


@dataclass(frozen=True)
class Step:
    interaction_id: int
    channel: str
    direction: str
    offered_at: datetime
    outcome: str | None
    wait: float | None  # seconds from queue start to answer
    ticket_id: int | None
    repeat: bool  # another contact of the customer within `days` before this one
    gap: float | None  # seconds since the previous contact


def steps(interactions: list[Interaction], *, days: int = kpi.FCR_DAYS) -> list[Step]:
    """The journey of these interactions (any order given), oldest first."""
    window = timedelta(days=days)
    out: list[Step] = []
    prev: datetime | None = None
    for it in sorted(interactions, key=lambda i: (i.offered_at, i.id)):
        c = service.contact_of(it)
        wait = c.answered - c.queue_start if c is not None and c.answered is not None else None
        inbound = it.direction == "inbound"
        gap = (it.offered_at - prev).total_seconds() if prev is not None and inbound else None
        out.append(Step(it.id, it.channel, it.direction, it.offered_at, it.outcome, wait, it.ticket_id,
                        gap is not None and gap <= window.total_seconds(), gap))
        if inbound:
            prev = it.offered_at
    return out


def journey(session: Session, customer_id: int, *, days: int = kpi.FCR_DAYS) -> list[Step]:
    """A customer's journey (scope is the caller's: `customers.service.get_visible` first)."""
    from kefu.customers import service as customers
    from kefu.interactions import service as interactions

    return steps(interactions.list_for_customer(session, customers.customer_ids_of(session, customer_id)),
                 days=days)


@dataclass(frozen=True)
class RepeatFigures:
    contacts: int  # inbound contacts with a known customer offered in the period
    repeats: int  # followed by another contact of the same customer within `days`
    switches: dict[tuple[str, str], int]  # (channel, next channel) of those follow-ups

    def rate(self) -> float | None:
        """Repeat-contact rate: contacts followed by another within N days / contacts (1 - FCR)."""
        return self.repeats / self.contacts if self.contacts else None


def repeat_contacts(session: Session, start: datetime, end: datetime, *, unit_ids: list[int],
                    days: int = kpi.FCR_DAYS) -> RepeatFigures:
    """How often the customers of the units contacted again within ``days`` after a contact offered in
    [start, end), and on which channel they came back."""
    i = Interaction
    rows = session.execute(
        select(i.customer_id, i.offered_at, i.channel, i.org_unit_id)
        .where(i.direction == "inbound", i.customer_id.is_not(None), i.offered_at >= start,
               i.offered_at < end + timedelta(days=days))
        .order_by(i.customer_id, i.offered_at, i.id)).all()
    units = set(unit_ids)
    window = timedelta(days=days)
    contacts = repeats = 0
    switches: Counter[tuple[str, str]] = Counter()
    for n, (cust, at, ch, unit) in enumerate(rows):
        if not (start <= at < end and unit in units):
            continue
        contacts += 1
        nxt = rows[n + 1] if n + 1 < len(rows) else None
        if nxt is not None and nxt[0] == cust and nxt[1] - at <= window:
            repeats += 1
            switches[(ch, nxt[2])] += 1
    return RepeatFigures(contacts, repeats, dict(switches))


# ---- a channel recommendation per task type -----------------------------------------------------------------

#: A channel is recommended for a task type only with at least this many contacts of that type in the period.
MIN_CONTACTS = 5


@dataclass(frozen=True)
class ChannelOutcome:
    """How the contacts of one task type went on one channel."""
    channel: str
    contacts: int  # contacts with a known customer
    returns: int  # followed by another contact of the same customer within `days`
    resolved: int  # whose ticket was resolved
    resolve_sum: float  # seconds from the contact to its ticket's resolution, summed over the resolved

    def return_rate(self) -> float | None:
        return self.returns / self.contacts if self.contacts else None

    def mean_resolve(self) -> float | None:
        return self.resolve_sum / self.resolved if self.resolved else None


@dataclass(frozen=True)
class Recommendation:
    task: str  # first-level category key
    channel: str | None  # the recommended channel (None: no channel had MIN_CONTACTS contacts)
    outcomes: list[ChannelOutcome]  # best first


def _rank(o: ChannelOutcome) -> tuple[float, float, str]:
    mean = o.mean_resolve()
    return (o.return_rate() or 0.0, float("inf") if mean is None else mean, o.channel)


def recommend(contacts: Iterable[tuple[str, str, float | None, bool]], *,
              min_contacts: int = MIN_CONTACTS) -> list[Recommendation]:
    """Per task type, the channels ranked by what resolved with the least return contact, then fastest.

    Each contact is (task type, channel, seconds to its resolution or None when unresolved, whether the
    customer came back within the window). The recommended channel is the best ranked with at least
    ``min_contacts`` contacts: least return contact first (a resolution that held), then the shortest mean
    time to resolution (unresolved contacts count in the return rate, not in the time), then the name."""
    sums: dict[tuple[str, str], list[float]] = {}
    for task, channel, seconds, returned in contacts:
        s = sums.setdefault((task, channel), [0, 0, 0, 0.0])
        s[0] += 1
        s[1] += returned
        if seconds is not None:
            s[2] += 1
            s[3] += seconds
    return rank([(task, ChannelOutcome(channel, int(n), int(back), int(done), secs))
                 for (task, channel), (n, back, done, secs) in sums.items()], min_contacts=min_contacts)


def rank(outcomes: Iterable[tuple[str, ChannelOutcome]], *, min_contacts: int = MIN_CONTACTS) -> list[Recommendation]:
    """:func:`recommend` of the sums per (task type, channel) (the summary's, or a count of contacts). Pure."""
    by_task: dict[str, list[ChannelOutcome]] = {}
    for task, outcome in outcomes:
        by_task.setdefault(task, []).append(outcome)
    out = []
    for task in sorted(by_task):
        ranked = sorted(by_task[task], key=_rank)
        best = next((o.channel for o in ranked if o.contacts >= min_contacts), None)
        out.append(Recommendation(task, best, ranked))
    return out


def channel_recommendations(session: Session, start: datetime, end: datetime, *, unit_ids: list[int],
                            days: int = kpi.FCR_DAYS, min_contacts: int = MIN_CONTACTS) -> list[Recommendation]:
    """The recommendation from the inbound contacts offered in [start, end) in the units whose customer is
    known and whose ticket has a category (the task type: its first-level category); a contact came back
    when the same customer contacted again, on any channel, within ``days``; its time to resolution runs
    from the contact to its ticket's resolution (``resolved_at``)."""
    from kefu.tickets.models import Category, Ticket

    i = Interaction
    rows = session.execute(
        select(i.customer_id, i.offered_at, i.channel, i.org_unit_id, Category.key, Ticket.resolved_at)
        .outerjoin(Ticket, Ticket.id == i.ticket_id).outerjoin(Category, Category.id == Ticket.category_id)
        .where(i.direction == "inbound", i.customer_id.is_not(None), i.offered_at >= start,
               i.offered_at < end + timedelta(days=days))).all()
    flags = kpi.first_contact_flags([(r[0], r[1].timestamp()) for r in rows], days=days)
    units = set(unit_ids)
    contacts = []
    for (_, at, channel, unit, category, resolved), first in zip(rows, flags, strict=True):
        if category is None or not (start <= at < end and unit in units):
            continue
        seconds = (resolved - at).total_seconds() if resolved is not None and resolved >= at else None
        contacts.append((category.split(".")[0], channel, seconds, first is False))
    return recommend(contacts, min_contacts=min_contacts)


# ---- journeys before a complaint ----------------------------------------------------------------------------

#: How far back the journey before a complaint looks (days).
BEFORE_DAYS = 14


@dataclass(frozen=True)
class PathBefore:
    """The complaints whose customer took one channel path before complaining."""

    path: tuple[str, ...]  # the channels of the contacts, oldest first, a repeated channel once
    complaints: int
    contacts: int  # contacts before those complaints, in all
    with_handoff: int  # complaints whose customer was handed off (hotline to a digital channel) in the window

    def mean_contacts(self) -> float:
        return self.contacts / self.complaints if self.complaints else 0.0

    def handoff_share(self) -> float | None:
        return self.with_handoff / self.complaints if self.complaints else None


#: A path keeps at most this many channels (the last ones, after "…"): the summary's key has room for them.
PATH_STEPS = 20


def path_of(opened: float, contacts: Sequence[tuple[float, str]], handoffs: Iterable[float], *,
            days: int = BEFORE_DAYS) -> tuple[tuple[str, ...], int, bool]:
    """Pure: the channel path of a complaint opened at ``opened`` from its customer's contacts (time,
    channel) and handoffs (time) in the ``days`` up to it (at or before the opening: the contact it was made
    in included): the channels oldest first, a repeated channel once (the last PATH_STEPS, after "…"), the
    contacts counted, whether a handoff was offered in the window."""
    window = days * kpi.DAY
    before = [ch for at, ch in sorted(contacts) if opened - window <= at <= opened]
    path = tuple(ch for n, ch in enumerate(before) if n == 0 or before[n - 1] != ch)
    if len(path) > PATH_STEPS:
        path = ("…", *path[-(PATH_STEPS - 1):])
    return path, len(before), any(opened - window <= at <= opened for at in handoffs)


def paths_before(complaints: Iterable[tuple[int, float]], contacts: Iterable[tuple[int, float, str]],
                 handoffs: Iterable[tuple[int, float]], *, days: int = BEFORE_DAYS) -> list[PathBefore]:
    """Pure: for each complaint (customer, opened), the customer's contacts (customer, time, channel) and
    handoffs (customer, time) in the ``days`` up to its opening (:func:`path_of`), grouped by channel path;
    most complaints first, then the path."""
    by_customer: dict[int, list[tuple[float, str]]] = {}
    for cust, at, channel in contacts:
        by_customer.setdefault(cust, []).append((at, channel))
    handed: dict[int, list[float]] = {}
    for cust, at in handoffs:
        handed.setdefault(cust, []).append(at)
    sums: dict[tuple[str, ...], list[int]] = {}
    for cust, opened in complaints:
        path, n, off = path_of(opened, by_customer.get(cust, []), handed.get(cust, []), days=days)
        s = sums.setdefault(path, [0, 0, 0])
        s[0] += 1
        s[1] += n
        s[2] += off
    return sorted_paths(PathBefore(p, n, c, h) for p, (n, c, h) in sums.items())


def sorted_paths(rows: Iterable[PathBefore]) -> list[PathBefore]:
    """Most complaints first, then the path."""
    return sorted(rows, key=lambda r: (-r.complaints, r.path))


def next_channels(contacts: Sequence[tuple[int | None, float, int, str]], *,
                  days: int = kpi.FCR_DAYS) -> dict[int, str]:
    """Pure: for each contact (customer, time, id, channel), the channel of the same customer's next contact
    strictly later and within ``days`` (the earliest; of two at one instant the smaller id), '' when none
    (resolved at first contact, as kpi.first_contact_flags says)."""
    import bisect

    window = days * kpi.DAY
    by_customer: dict[int, list[tuple[float, int, str]]] = {}
    out: dict[int, str] = {}
    for cust, at, cid, channel in contacts:
        if cust is None:
            out[cid] = ""  # no customer, no journey
        else:
            by_customer.setdefault(cust, []).append((at, cid, channel))
    for rows in by_customer.values():
        rows.sort()
        times = [r[0] for r in rows]
        for at, cid, _ in rows:
            n = bisect.bisect_right(times, at)
            out[cid] = rows[n][2] if n < len(rows) and rows[n][0] - at <= window else ""
    return out


# ---- the same figures from the summary kept from events (kefu/analytics/quality.py) --------------------------

def _days(q: Any, table: Any, first: date, end: date, unit_ids: Iterable[int],
          channels: Iterable[str] | None) -> Any:
    from kefu.analytics.summary import day_number

    q = q.where(table.day >= day_number(first), table.day < day_number(end), table.org_unit_id.in_(list(unit_ids)))
    return q.where(table.channel.in_(list(channels))) if channels is not None else q


def returns(session: Session, first: date, end: date, *, unit_ids: Iterable[int],
            min_contacts: int = MIN_CONTACTS) -> tuple[RepeatFigures, list[Recommendation]]:
    """:func:`repeat_figures` and :func:`recommendations` from one read of the return summary (a report
    shows both)."""
    from kefu.analytics.models import DayReturnSummary as r

    contacts = repeats = 0
    switches: dict[tuple[str, str], int] = {}
    tasks: dict[tuple[str, str], list[float]] = {}
    for cat, ch, nxt, n, back, done, secs in session.execute(_days(
            select(r.category, r.channel, r.next_channel,
                   *(func.sum(getattr(r, c)) for c in ("contacts", "returned", "resolved", "resolve_sum"))),
            r, first, end, unit_ids, None).group_by(r.category, r.channel, r.next_channel)):
        contacts += int(n or 0)
        repeats += int(back or 0)
        if nxt and back:
            switches[(ch, nxt)] = switches.get((ch, nxt), 0) + int(back)
        if cat and n:
            acc = tasks.setdefault((cat, ch), [0, 0, 0, 0.0])
            for k, v in enumerate((n, back, done, secs)):
                acc[k] += v or 0
    recs = rank([(task, ChannelOutcome(ch, int(n), int(back), int(done), float(secs)))
                 for (task, ch), (n, back, done, secs) in tasks.items()], min_contacts=min_contacts)
    return RepeatFigures(contacts, repeats, switches), recs


def repeat_figures(session: Session, first: date, end: date, *, unit_ids: Iterable[int]) -> RepeatFigures:
    """:func:`repeat_contacts` of the local days [first, end), from the return summary (analytics_daily_returns):
    a few rows per day, unit and channel pair."""
    return returns(session, first, end, unit_ids=unit_ids)[0]


def recommendations(session: Session, first: date, end: date, *, unit_ids: Iterable[int],
                    min_contacts: int = MIN_CONTACTS) -> list[Recommendation]:
    """:func:`channel_recommendations` of the local days [first, end), from the return summary."""
    return returns(session, first, end, unit_ids=unit_ids, min_contacts=min_contacts)[1]


def paths(session: Session, first: date, end: date, *, unit_ids: Iterable[int], channels: Iterable[str] | None = None,
          type: str = "complaint") -> list[PathBefore]:
    """:func:`before_complaints` of the local days [first, end), from the path summary (analytics_daily_paths)."""
    from kefu.analytics.models import DayPathSummary as p

    rows = session.execute(_days(
        select(p.path, func.sum(p.tickets), func.sum(p.contacts), func.sum(p.handed_off)), p, first, end, unit_ids,
        channels).where(p.type == type).group_by(p.path))
    return sorted_paths(PathBefore(tuple(path.split(PATH_SEP)) if path else (), int(n), int(c or 0), int(h or 0))
                        for path, n, c, h in rows if n)


#: The separator of a path's channels in the summary's key.
PATH_SEP = ">"


def before_complaints(session: Session, start: datetime, end: datetime, *, unit_ids: list[int],
                      channels: list[str] | None = None, days: int = BEFORE_DAYS,
                      type: str = "complaint") -> list[PathBefore]:
    """The channel paths of the customers of the complaints (``type`` "appeal": the escalations, 申诉)
    opened in [start, end) in the units (of a known customer, not merged; on ``channels`` when given) over
    the ``days`` before each."""
    from kefu.handoffs.models import Handoff
    from kefu.tickets.models import Ticket

    t = Ticket
    q = select(t.customer_id, t.opened_at).where(
        t.type == type, t.status != "merged", t.customer_id.is_not(None), t.org_unit_id.in_(unit_ids),
        t.opened_at >= start, t.opened_at < end)
    if channels is not None:
        q = q.where(t.channel.in_(channels))
    complaints = [(int(c or 0), o.timestamp()) for c, o in session.execute(q)]
    customers = sorted({c for c, _ in complaints})
    contacts: list[tuple[int, float, str]] = []
    handoffs: list[tuple[int, float]] = []
    i, h = Interaction, Handoff
    since = start - timedelta(days=days)
    for n in range(0, len(customers), 1000):
        part = customers[n:n + 1000]
        contacts += [(int(c or 0), at.timestamp(), ch) for c, at, ch in session.execute(
            select(i.customer_id, i.offered_at, i.channel).where(
                among(session, i.customer_id, part), i.direction == "inbound", i.offered_at >= since,
                i.offered_at <= end))]
        handoffs += [(c, at.timestamp()) for c, at in session.execute(
            select(h.customer_id, h.offered_at).where(among(session, h.customer_id, part), h.offered_at >= since,
                                                      h.offered_at <= end))]
    return paths_before(complaints, contacts, handoffs, days=days)
