"""Summary tables kept from events: the contact KPIs' sums per hour and per day, so the wall and the
reports read a few hundred summary rows instead of scanning the interactions.

Three tables (kefu/analytics/models.py, migration 0703):

- ``analytics_contacts``: one row per contact (an interaction that waits for a person, the pure core's
  rule, :func:`kefu.analytics.service.contact_of`) with the keys it is counted under and its times, as
  the summaries last counted it;
- ``analytics_hourly``: sums per UTC hour × org unit × channel × queue (the wall's today, the daily report);
- ``analytics_daily``: sums per local day (Asia/Shanghai) × org unit × channel × queue × first-level
  category × customer tier × agent (weeks, months, every breakdown).

:func:`observe` brings the summaries up to date with interactions as they are now: for each, it takes the
contact's old contribution (from its fact row) out of the two summary rows it was in and adds the new one
(which may land in other rows: a call answered late, a ticket classified later). A contact that did not
change changes nothing, so an event delivered twice, or two events of one interaction, are harmless. On
PostgreSQL one advisory lock, held to the end of the transaction, lets one dispatcher at a time write the
summaries: two dispatchers' batches add to the same hot rows (this hour, this unit, this channel) in
different orders and deadlocked on them (kefu bench faults: 59 deadlocks in one 6-second phase, the
drain never finished); serialised, they cannot both count a contact either, and nothing locks the
interaction's row against its own domain.
The consumer (kefu/analytics/consumers.py) observes the interaction of every event that can change a
contact. :func:`rebuild` recomputes facts and summaries of a period from the raw tables in SQL (after an
import, a change of the rules, or to check the counters): `kefu analytics rebuild`.

The sums are those of kefu.analytics.kpi with the default parameters (targets 15 and 20 s, short abandons
under 5 s); other parameters are computed from the raw tables (kefu.analytics.service.contact_tallies).
Hours are UTC hours, so any zone whose offset is a whole number of hours (China's) cuts its local days
and hours out of them; days are local days of the report zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, and_, case, cast, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from kefu.analytics import kpi
from kefu.analytics.models import (
    SUMS,
    ContactFact,
    DayAgentSummary,
    DayAgentTopicSummary,
    DayAgeSummary,
    DaySummary,
    DayTierSummary,
    DayTopicSummary,
    DayUnitSummary,
    HourSummary,
)
from kefu.analytics.service import DAY_MINUTES, Grid, _human, _tally_columns, _tally_of, contact_of
from kefu.analytics.sql import epoch, first_segment, ifloor, local_year
from kefu.core.db import among
from kefu.customers.ages import BANDS, age_band
from kefu.interactions.models import Interaction

HOUR = 3600
DAY = 86_400
#: The zone of the daily summary's days (China has one zone, no daylight saving).
DAY_OFFSET = 8 * HOUR
EPOCH_DAY = date(1970, 1, 1)
#: The class of analytics' transaction advisory locks on PostgreSQL (two-int keys: a key space of their own).
LOCK_CLASS = 0x616E61
FACT_KEYS = ("hour", "day", "org_unit_id", "channel", "queue_key", "category", "tier", "age_band", "agent_id")
HOUR_KEYS = ("hour", "org_unit_id", "channel", "queue_key")
DAY_KEYS = ("day", "org_unit_id", "channel", "queue_key", "category", "tier", "agent_id")
#: The daily tables' keys a report can break its figures down by.
DIMENSIONS = ("org_unit_id", "channel", "queue_key", "category", "tier", "agent_id", "age_band")
Table = (type[HourSummary] | type[DaySummary] | type[DayUnitSummary] | type[DayAgentSummary] | type[DayTopicSummary]
         | type[DayAgentTopicSummary] | type[DayTierSummary] | type[DayAgeSummary])
#: Every summary table with its keys; the daily ones smallest first (a reader takes the first that has the
#: keys it needs).
ROLLUPS: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (HourSummary, HOUR_KEYS),
    (DayUnitSummary, ("day", "org_unit_id", "channel", "queue_key")),
    (DayTierSummary, ("day", "org_unit_id", "channel", "tier")),
    (DayAgeSummary, ("day", "org_unit_id", "channel", "age_band")),
    (DayAgentSummary, ("day", "org_unit_id", "channel", "queue_key", "agent_id")),
    (DayTopicSummary, ("day", "org_unit_id", "channel", "queue_key", "category", "tier")),
    (DayAgentTopicSummary, ("day", "org_unit_id", "channel", "agent_id", "category")),
    (DaySummary, DAY_KEYS),
)


def day_number(d: date) -> int:
    return (d - EPOCH_DAY).days


def day_of(number: int) -> date:
    return EPOCH_DAY + timedelta(days=number)


def sums_of(t: kpi.Tally) -> dict[str, Any]:
    """A tally as the summary tables' columns."""
    return {"offered": t.offered, "answered": t.answered, "within_15": t.within.get(15, 0),
            "within_20": t.within.get(20, 0), "abandoned": t.abandoned, "short_abandoned": t.short_abandoned,
            "wait_sum": t.wait_sum, "handled": t.handled, "handle_sum": t.handle_sum, "pending": t.pending}


def _contact(f: dict[str, Any]) -> kpi.Contact:
    return kpi.Contact(f["start"], f["answered"], f["ended"], abandoned=bool(f["abandoned"]))


def _empty(t: kpi.Tally) -> bool:
    return t.offered == 0 and t.pending == 0  # every contact is offered (settled) or pending


# ---- keeping them from events -------------------------------------------------------------------------------

def chunks(ids: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """``ids`` in parts small enough for one IN list."""
    for n in range(0, len(ids), size):
        yield ids[n:n + size]


def issues_of(session: Session, category_ids: Iterable[int | None]) -> dict[int, str | None]:
    """The first-level category (the issue) of each of these categories, in one query."""
    from kefu.tickets.models import Category

    ids = sorted({c for c in category_ids if c is not None})
    out: dict[int, str | None] = {}
    for part in chunks(ids):
        for cid, key in session.execute(select(Category.id, Category.key).where(among(session, Category.id, part))):
            out[cid] = key.split(".")[0] if key else None
    return out


def tiers_and_birth_years_of(session: Session, customer_ids: Iterable[int | None]
                             ) -> dict[int, tuple[str | None, int | None]]:
    """Each of these customers' tier and birth year, in one query."""
    from kefu.customers.models import Customer

    ids = sorted({c for c in customer_ids if c is not None})
    out: dict[int, tuple[str | None, int | None]] = {}
    for part in chunks(ids):
        for cid, tier, born in session.execute(select(Customer.id, Customer.tier, Customer.birth_year)
                                               .where(among(session, Customer.id, part))):
            out[cid] = (tier, born)
    return out


def tiers_of(session: Session, customer_ids: Iterable[int | None]) -> dict[int, str | None]:
    """Each of these customers' tier, in one query."""
    return {cid: tier for cid, (tier, _) in tiers_and_birth_years_of(session, customer_ids).items()}


def entry_queues(session: Session, interaction_ids: Sequence[int]) -> dict[int, str]:
    """The routing queue each contact first entered ('' when its first item had none; absent: no item)."""
    from kefu.routing.models import RoutingItem as item

    out: dict[int, str] = {}
    for part in chunks(interaction_ids, 1000):
        for iid, key in session.execute(select(item.interaction_id, item.entry_queue_key).where(
                among(session, item.interaction_id, part)).order_by(item.id.desc())):
            if iid is not None:
                out[iid] = key or ""  # the first item wins, last
    return out


_NO_TRAITS: tuple[None, None] = (None, None)


def facts_of(session: Session, its: Sequence[Interaction]) -> dict[int, dict[str, Any]]:
    """The fact row each of these interactions makes now (absent: not a contact), with its contact's queue
    (the routing queue it first entered), the first-level category of its ticket, its customer's tier and its
    agent as they are now ('' and 0 when there is none), and its customer's age band in the contact's local
    year: one query a table for all of them."""
    from kefu.tickets.models import Ticket

    contacts = [(it, c) for it in its if (c := contact_of(it)) is not None]
    if not contacts:
        return {}
    categories: dict[int, int | None] = {}
    for part in chunks(sorted({it.ticket_id for it, _ in contacts if it.ticket_id is not None})):
        for tid, cat in session.execute(select(Ticket.id, Ticket.category_id).where(among(session, Ticket.id, part))):
            categories[tid] = cat
    issues = issues_of(session, categories.values())
    traits = tiers_and_birth_years_of(session, [it.customer_id for it, _ in contacts])
    queues = entry_queues(session, [it.id for it, _ in contacts])
    out = {}
    for it, c in contacts:
        offered = it.offered_at.timestamp()
        cat = categories.get(it.ticket_id) if it.ticket_id is not None else None
        out[it.id] = {
            "interaction_id": it.id, "hour": int(offered // HOUR), "day": int((offered + DAY_OFFSET) // DAY),
            "org_unit_id": it.org_unit_id, "channel": it.channel, "queue_key": queues.get(it.id, ""),
            "category": (issues.get(cat) if cat is not None else None) or "",
            "tier": (traits.get(it.customer_id, _NO_TRAITS)[0] if it.customer_id else None) or "",
            "age_band": age_band(traits.get(it.customer_id, _NO_TRAITS)[1] if it.customer_id else None,
                                 datetime.fromtimestamp(offered + DAY_OFFSET, UTC).year),
            "agent_id": it.agent_id or 0,
            "offered": offered, "start": c.queue_start, "answered": c.answered, "ended": c.ended,
            "abandoned": c.abandoned, "pending": c.answered is None and c.ended is None}
    return out


Delta = tuple[Table, dict[str, Any], dict[str, Any]]


def net_change(old: dict[str, Any] | None, old_sums: dict[str, Any] | None, new: dict[str, Any] | None,
               new_sums: dict[str, Any] | None, keys: Sequence[str],
               columns: Sequence[str]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Per summary row key (the ``keys`` of a fact), the net change of each sum when fact ``old`` (counting
    ``old_sums``) is replaced by ``new`` (``new_sums``): one row when both are counted under the same key, none
    for a row whose sums do not change. The summaries' (contacts', quality's) one way of netting. Pure."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for fact, sums, sign in ((old, old_sums, -1), (new, new_sums, 1)):
        if fact is None or sums is None:
            continue
        acc = rows.setdefault(tuple(fact[k] for k in keys), dict.fromkeys(columns, 0))
        for n, v in sums.items():
            acc[n] += sign * v
    return [(dict(zip(keys, key, strict=True)), acc) for key, acc in rows.items() if any(acc.values())]


def _deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Delta]:
    """What replacing contact fact ``old`` by ``new`` changes in the summary tables: per table and row key,
    the net change of each sum (as when a contact is answered in the hour it was offered: one row)."""
    old_sums = sums_of(kpi.tally([_contact(old)])) if old is not None else None
    new_sums = sums_of(kpi.tally([_contact(new)])) if new is not None else None
    return [(table, key, change) for table, keys in ROLLUPS
            for key, change in net_change(old, old_sums, new, new_sums, keys, SUMS)]


def bump(session: Session, table: Any, key: dict[str, Any], sums: dict[str, Any], sign: int,
         columns: Sequence[str], *, extra: dict[str, Any] | None = None) -> None:
    """Add (sign 1) or take out (-1) ``sums`` to the row of ``table`` with this key (made, all ``columns``
    0 and the ``extra`` values, when missing): the summary tables' one way of counting. One statement,
    INSERT ... ON CONFLICT (key) DO UPDATE SET column = column + the change."""
    values = {**key, **(extra or {}), **dict.fromkeys(columns, 0)}
    for n, v in sums.items():
        values[n] = sign * v
    dialect = session.get_bind().dialect.name
    stmt = _upsert(dialect, table, tuple(key), tuple(extra or ()), tuple(columns))
    session.execute(stmt, [values])


def unseen(kinds: dict[str, Iterable[int]], seen: set[tuple[str, int]] | None) -> list[tuple[str, int]]:
    """The (kind, id) of these refs, each kind's sorted, less those in ``seen`` (observed already in this
    transaction), which the others are added to: the work of an observe over two kinds of facts."""
    work = [(kind, i) for kind, ids in kinds.items() for i in sorted(set(ids))]
    if seen is not None:
        work = [w for w in work if w not in seen]
        seen.update(work)
    return work


def writer_lock(session: Session, summary: int) -> None:
    """On PostgreSQL, one writer at a time of this summary (0 contacts, 1 quality, 2 occupancy, 3 surveys,
    4 handoffs) until the transaction ends: its facts are read, netted and written back as one step."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(LOCK_CLASS, summary)))


def net_facts(session: Session, refs: Iterable[Any], olds: dict[Any, dict[str, Any]],
              news: dict[Any, dict[str, Any]], deltas: Any) -> tuple[int, list[Any], list[dict[str, Any]]]:
    """Each fact of ``refs`` going from ``olds[ref]`` to ``news[ref]`` (absent: none) netted into its summary
    rows (``deltas(old, new)``: the (table, key, change) it makes, a change naming every sum column of its
    table, as :func:`net_change` makes it): the summaries' one loop. Returns how many facts changed, the refs
    whose old fact is to be deleted and the new facts to
    insert (the caller's fact table)."""
    changed, gone, added = 0, [], []
    rows: dict[tuple[Any, tuple[tuple[str, Any], ...]], dict[str, Any]] = {}  # (table, key) -> net change
    for ref in refs:
        old, new = olds.get(ref), news.get(ref)
        if old == new:
            continue
        changed += 1
        for table, key, change in deltas(old, new):
            net = rows.setdefault((table, tuple(key.items())), {})
            for n, v in change.items():
                net[n] = net.get(n, 0) + v
        if old is not None:
            gone.append(ref)
        if new is not None:
            added.append(new)
    _bump_rows(session, rows)
    return changed, gone, added


def _bump_rows(session: Session, rows: dict[tuple[Any, tuple[tuple[str, Any], ...]], dict[str, Any]]) -> None:
    """`bump` each (table, key) row by its net change (naming every sum column of its table): one
    executemany per table and shape, rows in key order (the order concurrent writers of other summaries
    meet them in)."""
    dialect = session.get_bind().dialect.name
    shapes: dict[tuple[Any, tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
    for (table, key), change in sorted(rows.items(), key=lambda r: (r[0][0].__name__, repr(r[0][1]))):
        shapes.setdefault((table, tuple(k for k, _ in key), tuple(change)), []).append({**dict(key), **change})
    for (table, names, columns), batch in shapes.items():
        session.execute(_upsert(dialect, table, names, (), columns), batch)


@lru_cache(maxsize=64)
def _upsert(dialect: str, table: Any, keys: tuple[str, ...], extra: tuple[str, ...],
            columns: tuple[str, ...]) -> Any:
    """INSERT of a summary row that adds its ``columns`` to the existing row's on a conflict of ``keys``
    (built once per table and shape: building costs more than running)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    t = table.__table__
    stmt = dialect_insert(t)
    return stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={n: t.c[n] + stmt.excluded[n] for n in columns})


def observe(session: Session, interaction_ids: Iterable[int], *, seen: set[int] | None = None) -> int:
    """Bring facts and summaries up to date with these interactions as they are now; returns how many
    contacts changed. Idempotent: observing an unchanged interaction writes nothing.

    ``seen``: interactions observed already in this transaction, since when nothing they are computed from
    changed (the consumer's batch of events: kefu/analytics/consumers.py); skipped, and those observed now
    added to it."""
    fact_cols = ContactFact.__table__.c
    ids = sorted(set(interaction_ids) - (seen or set()))
    if seen is not None:
        seen.update(ids)
    if not ids:
        return 0
    writer_lock(session, 0)
    its: list[Interaction] = []
    olds: dict[int, dict[str, Any]] = {}
    for part in chunks(ids):
        its += session.scalars(select(Interaction).where(among(session, Interaction.id, part))
                               .execution_options(populate_existing=True))
        for row in session.execute(select(*fact_cols).where(among(session, fact_cols.interaction_id, part))).mappings():
            olds[row["interaction_id"]] = dict(row)
    changed, gone, added = net_facts(session, ids, olds, facts_of(session, its), _deltas)
    for part in chunks(gone):
        session.execute(delete(ContactFact).where(ContactFact.interaction_id.in_(part)))
    if added:
        session.execute(insert(ContactFact), added)
    return changed


# ---- rebuilding from the raw tables ------------------------------------------------------------------------

def rebuild(session: Session, *, start: datetime | None = None, end: datetime | None = None) -> int:
    """Recompute facts and summaries of the contacts offered in [start, end) (whole UTC hours; all when not
    given) from the raw tables, in SQL; returns the contacts counted. The period is widened to whole local
    days so the daily rows are complete."""
    from kefu.customers.models import Customer
    from kefu.routing.models import RoutingItem
    from kefu.tickets.models import Category, Ticket

    lo_day = None if start is None else int((start.timestamp() + DAY_OFFSET) // DAY)
    hi_day = None if end is None else -int(-(end.timestamp() + DAY_OFFSET) // DAY)
    lo = None if lo_day is None else lo_day * DAY - DAY_OFFSET
    hi = None if hi_day is None else hi_day * DAY - DAY_OFFSET

    def within(col: Any, first: int | None, last: int | None) -> list[Any]:
        return [c for c in (None if first is None else col >= first, None if last is None else col < last)
                if c is not None]

    lo_hour = None if lo is None else lo // HOUR
    hi_hour = None if hi is None else hi // HOUR
    session.execute(delete(ContactFact).where(*within(ContactFact.day, lo_day, hi_day)))
    for table, keys in ROLLUPS:
        span = (table.hour, lo_hour, hi_hour) if keys[0] == "hour" else (table.day, lo_day, hi_day)  # type: ignore[union-attr]
        session.execute(delete(table).where(*within(*span)))

    i = Interaction
    offered = epoch(i.offered_at)
    queue = (select(RoutingItem.entry_queue_key).where(RoutingItem.interaction_id == i.id)
             .order_by(RoutingItem.id).limit(1).scalar_subquery())
    first_level = func.coalesce(first_segment(Category.key), "")
    answered = epoch(i.answered_at)
    ended = epoch(i.ended_at)
    rows = (select(i.id, ifloor(offered / float(HOUR)), cast(ifloor((offered + DAY_OFFSET) / float(DAY)), Integer),
                   i.org_unit_id, i.channel, func.coalesce(queue, ""), first_level,
                   func.coalesce(Customer.tier, ""),
                   _age_band_sql(local_year(offered + DAY_OFFSET) - Customer.birth_year),
                   func.coalesce(i.agent_id, 0), offered,
                   epoch(func.coalesce(i.queued_at, i.offered_at)), answered, ended,
                   and_(i.answered_at.is_(None), func.coalesce(i.outcome, "") == "abandoned"),
                   and_(i.answered_at.is_(None), i.ended_at.is_(None)))
            .select_from(i)
            .outerjoin(Ticket, Ticket.id == i.ticket_id).outerjoin(Category, Category.id == Ticket.category_id)
            .outerjoin(Customer, Customer.id == i.customer_id)
            .where(_human(), *_between(i.offered_at, lo, hi)))
    cols = ["interaction_id", *FACT_KEYS, "offered", "start", "answered", "ended", "abandoned", "pending"]
    session.execute(insert(ContactFact).from_select(cols, rows))
    f = ContactFact
    facts = within(f.day, lo_day, hi_day)
    sums = _tally_columns(f.start, f.answered, f.ended, f.abandoned, kpi.SHORT_ABANDON, kpi.TARGETS)
    for table, keys in ROLLUPS:
        key_cols = [getattr(f, k) for k in keys]
        session.execute(insert(table).from_select(
            [*keys, *SUMS], select(*key_cols, *_in_sums_order(sums)).where(*facts).group_by(*key_cols)))
    session.flush()
    return session.scalar(select(func.count()).select_from(f).where(*facts)) or 0


def _age_band_sql(age: Any) -> Any:
    """kefu.customers.ages.age_band in SQL, of the age at the contact (NULL: no birth year)."""
    return case(*((age >= lowest, literal(key)) for key, lowest in reversed(BANDS)), else_=literal(""))


def _in_sums_order(cols: list[Any]) -> list[Any]:
    """_tally_columns' order (offered, answered, abandoned, short, wait, handled, handle, pending, within...)
    as the tables' (SUMS)."""
    offered, answered, abandoned, short, wait, handled, handle, pending, w15, w20 = cols
    return [offered, answered, w15, w20, abandoned, short, wait, handled, handle, pending]


def _between(col: Any, lo: float | None, hi: float | None) -> list[Any]:
    out = []
    if lo is not None:
        out.append(col >= datetime.fromtimestamp(lo, UTC))
    if hi is not None:
        out.append(col < datetime.fromtimestamp(hi, UTC))
    return out


# ---- reading them ---------------------------------------------------------------------------------------------

def usable(grid: Grid, *, short_abandon: float = kpi.SHORT_ABANDON,
           targets: Sequence[int] = kpi.TARGETS) -> bool:
    """Whether the summaries can answer for this grid: whole hours on a zone whose offset is whole hours,
    the default parameters."""
    return (grid.minutes % 60 == 0 and grid.offset % HOUR == 0 and grid.start.timestamp() % HOUR == 0
            and short_abandon == kpi.SHORT_ABANDON and tuple(targets) == tuple(kpi.TARGETS))


def _tally_cols(t: Any) -> list[Any]:
    """SUM of each column of a summary table, in the order _tally_of reads them."""
    return [func.sum(t.offered), func.sum(t.answered), func.sum(t.abandoned), func.sum(t.short_abandoned),
            func.sum(t.wait_sum), func.sum(t.handled), func.sum(t.handle_sum), func.sum(t.pending),
            func.sum(t.within_15), func.sum(t.within_20)]


def contact_tallies(session: Session, grid: Grid, *, unit_ids: Iterable[int] | None = None,
                    channels: Iterable[str] | None = None,
                    whole: bool = False) -> dict[tuple[datetime, str, int], kpi.Tally]:
    """What :func:`kefu.analytics.service.contact_tallies` returns, read from the hourly summary (for a
    grid that :func:`usable` accepts): per (interval start, channel, org unit); ``whole``: per interval only,
    the channels and units added by the database (keys (start, '', 0): a report's rows read tens of tallies,
    not thousands)."""
    offset = grid.offset
    h: Any
    if grid.minutes % DAY_MINUTES == 0 and offset == DAY_OFFSET and (grid.start.timestamp() + offset) % DAY == 0:
        h = DayUnitSummary  # whole local days: the day roll-up
        bucket = ifloor((h.day * DAY) / float(grid.minutes * 60)).label("k")
        span = (h.day >= int((grid.start.timestamp() + offset) // DAY),
                h.day < -int(-(grid.end.timestamp() + offset) // DAY))
    else:
        h = HourSummary
        bucket = ifloor((h.hour * HOUR + literal(offset)) / float(grid.minutes * 60)).label("k")
        span = (h.hour >= int(grid.start.timestamp() // HOUR), h.hour < -int(-grid.end.timestamp() // HOUR))
    parts = (literal(""), literal(0)) if whole else (h.channel, h.org_unit_id)
    q = select(bucket, *parts, *_tally_cols(h)).where(*span).group_by(bucket, *(() if whole else parts))
    if unit_ids is not None:
        q = q.where(h.org_unit_id.in_(list(unit_ids)))
    if channels is not None:
        q = q.where(h.channel.in_(list(channels)))
    out = {}
    starts: dict[int, datetime] = {}  # a few intervals, many rows each
    for k, ch, unit, *rest in session.execute(q):
        t = _tally_of(rest, kpi.TARGETS)
        if not _empty(t):
            at = starts.get(k) or starts.setdefault(k, grid.bucket_start(int(k)))
            out[(at, ch, unit)] = t
    return out


def breakdown(session: Session, first: date, end: date, *, by: Sequence[str], unit_ids: Iterable[int] | None = None,
              channels: Iterable[str] | None = None, table: Table | None = None) -> dict[tuple[Any, ...], kpi.Tally]:
    """Tallies of the local days [first, end) from the daily summary, per the named keys (of DIMENSIONS,
    and "day" for the local date): e.g. by=("agent_id",) for a row per agent. Read from the smallest daily
    roll-up with those keys, or from ``table`` (the benchmark's reference, the tests' check)."""
    for k in by:
        if k not in (*DIMENSIONS, "day"):
            raise ValueError(f"unknown breakdown {k!r} (one of day, {', '.join(DIMENSIONS)})")
    need = {*by, "org_unit_id", "channel"}
    d: Any = table or next(t for t, keys in ROLLUPS if keys[0] == "day" and need <= set(keys))
    keys = [getattr(d, k) for k in by]
    q = (select(*keys, *_tally_cols(d)).where(d.day >= day_number(first), d.day < day_number(end))
         .group_by(*keys))
    if unit_ids is not None:
        q = q.where(d.org_unit_id.in_(list(unit_ids)))
    if channels is not None:
        q = q.where(d.channel.in_(list(channels)))
    out = {}
    for row in session.execute(q):
        key = tuple(day_of(v) if k == "day" else v for k, v in zip(by, row[:len(by)], strict=True))
        t = _tally_of(row[len(by):], kpi.TARGETS)
        if not _empty(t):
            out[key] = t
    return out


def waiting_now(session: Session, unit_ids: Sequence[int], now: datetime,
                lookback: timedelta) -> dict[str, tuple[int, datetime]]:
    """Per channel: contacts waiting for a person now (offered within ``lookback``, neither answered nor
    ended) and the earliest queue start among them, from the facts' index of waiting contacts."""
    f = ContactFact
    t = now.timestamp()
    q = (select(f.channel, func.count(), func.min(f.start))
         .where(f.pending.is_(True), f.org_unit_id.in_(list(unit_ids)), f.offered >= t - lookback.total_seconds(),
                f.offered <= t)
         .group_by(f.channel))
    return {ch: (n, datetime.fromtimestamp(first, UTC)) for ch, n, first in session.execute(q)}

