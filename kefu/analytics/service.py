"""KPIs from kefu's own records: interactions (calls, message threads, chat sessions), routing items and
tickets. Read-only: nothing here writes.

The contact KPIs are summed by the database (GROUP BY interval × channel × org unit, or × queue) into the
additive :class:`kefu.analytics.kpi.Tally`; org-unit subtrees, days, weeks and months are sums of those.
The rules that make a record a contact, answered, abandoned, are the pure core's (kefu/analytics/kpi.py);
:func:`contact_of` is the same rule record by record, and the tests hold the SQL to it.

Time zones: intervals and days are aligned on the report's zone (default Asia/Shanghai, UTC+8, no
daylight saving); the zone's offset is taken at the start of the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from kefu.analytics import kpi
from kefu.analytics.sql import epoch, ifloor
from kefu.core.errors import InvalidInput
from kefu.interactions.models import Interaction
from kefu.org.models import OrgUnit
from kefu.routing.models import RoutingItem

if TYPE_CHECKING:
    from kefu.routing.service import MoveSuggestion
from kefu.tickets.models import Category, Ticket

Col = ColumnElement[Any] | Any  # a column or a mapped attribute
ZONE = "Asia/Shanghai"
DAY_MINUTES = 1440


def zone_offset(zone: str, at: datetime) -> float:
    """Seconds east of UTC of ``zone`` at ``at``."""
    from kefu.interactions.calls import zone as find_zone

    off = at.astimezone(find_zone(zone)).utcoffset()
    return off.total_seconds() if off is not None else 0.0


def _from_epoch(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _to_epoch(d: datetime) -> float:
    return d.timestamp()


# ---- contacts (interactions) ----------------------------------------------------------------------

def _human(i: type[Interaction] = Interaction) -> ColumnElement[bool]:
    """An inbound contact that waits for a person: not served by self-service, and a call only once it
    asked for an agent (queued) or was answered."""
    return and_(i.direction == "inbound", or_(i.outcome.is_(None), i.outcome != "self_served"),
                or_(i.channel != "voice", i.queued_at.is_not(None), i.answered_at.is_not(None)))


def contact_of(it: Interaction) -> kpi.Contact | None:
    """The pure core's view of an interaction (None when it is not a contact waiting for a person)."""
    if it.direction != "inbound" or it.outcome == "self_served":
        return None
    if it.channel == "voice" and it.queued_at is None and it.answered_at is None:
        return None
    start = (it.queued_at or it.offered_at).timestamp()
    return kpi.Contact(start, it.answered_at.timestamp() if it.answered_at else None,
                       it.ended_at.timestamp() if it.ended_at else None,
                       abandoned=it.answered_at is None and it.outcome == "abandoned")


def _tally_columns(start: Col, answered: Col, ended: Col, abandoned: Col, short_abandon: float,
                   targets: Sequence[int]) -> list[ColumnElement[Any]]:
    """SUM(CASE ...) columns of a Tally (kpi.tally in SQL) over rows with these start/answer/end times as
    epoch seconds (NULL: not answered, not ended), read from a subquery so each is computed once a row."""
    is_answered = answered.is_not(None)
    wait = answered - start
    unanswered_end = and_(answered.is_(None), ended.is_not(None))
    gave_up = and_(unanswered_end, abandoned)

    def count(cond: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((cond, 1), else_=0))

    return [
        count(or_(is_answered, ended.is_not(None))),
        count(is_answered),
        count(gave_up),
        count(and_(gave_up, ended - start < short_abandon)),
        func.sum(case((is_answered, wait), else_=0.0)),
        count(and_(is_answered, ended.is_not(None))),
        func.sum(case((and_(is_answered, ended.is_not(None)), ended - answered), else_=0.0)),
        count(and_(answered.is_(None), ended.is_(None))),
        *(count(and_(is_answered, wait <= t)) for t in targets),
    ]


def _tally_of(row: Sequence[Any], targets: Sequence[int]) -> kpi.Tally:
    offered, answered, abandoned, short, wait, handled, handle, pending, *within = row
    hits = {t: int(n or 0) for t, n in zip(targets, within, strict=True)}
    return kpi.Tally(int(offered or 0), int(answered or 0), hits,
                     int(abandoned or 0), int(short or 0), float(wait or 0.0), int(handled or 0),
                     float(handle or 0.0), int(pending or 0))


@dataclass(frozen=True)
class Grid:
    """How a period is cut: interval width (minutes; 1440 = a day) aligned on a zone's local time."""

    start: datetime
    end: datetime
    minutes: int = DAY_MINUTES
    zone: str = ZONE

    @cached_property
    def offset(self) -> float:
        return zone_offset(self.zone, self.start)

    def bucket(self, col: Col) -> ColumnElement[Any]:
        return ifloor((epoch(col) + self.offset) / (self.minutes * 60.0))

    def bucket_start(self, k: int) -> datetime:
        return _from_epoch(k * self.minutes * 60.0 - self.offset)


def contact_tallies(session: Session, grid: Grid, *, unit_ids: Iterable[int] | None = None,
                    channels: Iterable[str] | None = None, short_abandon: float = kpi.SHORT_ABANDON,
                    targets: Sequence[int] = kpi.TARGETS) -> dict[tuple[datetime, str, int], kpi.Tally]:
    """Tallies of the contacts offered in ``grid``'s period, per (interval start, channel, org unit)."""
    i = Interaction
    rows = (select(grid.bucket(i.offered_at).label("k"), i.channel.label("ch"), i.org_unit_id.label("unit"),
                   epoch(func.coalesce(i.queued_at, i.offered_at)).label("s"), epoch(i.answered_at).label("a"),
                   epoch(i.ended_at).label("e"), (i.outcome == "abandoned").label("ab"))
            .where(i.offered_at >= grid.start, i.offered_at < grid.end, _human()))
    if unit_ids is not None:
        rows = rows.where(i.org_unit_id.in_(list(unit_ids)))
    if channels is not None:
        rows = rows.where(i.channel.in_(list(channels)))
    r = rows.subquery()
    q = (select(r.c.k, r.c.ch, r.c.unit, *_tally_columns(r.c.s, r.c.a, r.c.e, r.c.ab, short_abandon, targets))
         .group_by(r.c.k, r.c.ch, r.c.unit))
    return {(grid.bucket_start(int(k)), ch, unit): _tally_of(rest, targets)
            for k, ch, unit, *rest in session.execute(q)}


def tallies(session: Session, grid: Grid, *, unit_ids: Iterable[int] | None = None,
            channels: Iterable[str] | None = None) -> dict[tuple[datetime, str, int], kpi.Tally]:
    """:func:`contact_tallies` read from the summary tables kept from events (kefu/analytics/summary.py)
    when they can answer for the grid (whole hours, the default parameters), else from the raw tables."""
    from kefu.analytics import summary

    if summary.usable(grid):
        return summary.contact_tallies(session, grid, unit_ids=unit_ids, channels=channels)
    return contact_tallies(session, grid, unit_ids=unit_ids, channels=channels)


def queue_tallies(session: Session, grid: Grid, *, unit_ids: Iterable[int] | None = None,
                  short_abandon: float = kpi.SHORT_ABANDON,
                  targets: Sequence[int] = kpi.TARGETS) -> dict[tuple[datetime, str], kpi.Tally]:
    """Tallies of routing's work items per (interval start, queue): entered the queue at ``enqueued_at``,
    answered when assigned to an agent (or taken by hand), handled until completed. An item withdrawn for
    another reason (resolved elsewhere, no queue) is settled unanswered; items are never abandoned."""
    r = RoutingItem
    answered = case((r.end_reason == "taken", r.ended_at), else_=r.assigned_at)
    ended = case((r.state.in_(("completed", "withdrawn")), r.ended_at), else_=None)
    rows = (select(grid.bucket(r.enqueued_at).label("k"), r.queue_key.label("key"), epoch(r.enqueued_at).label("s"),
                   epoch(answered).label("a"), epoch(ended).label("e"))
            .where(r.enqueued_at >= grid.start, r.enqueued_at < grid.end))
    if unit_ids is not None:
        rows = rows.where(r.org_unit_id.in_(list(unit_ids)))
    sub = rows.subquery()
    q = (select(sub.c.k, sub.c.key, *_tally_columns(sub.c.s, sub.c.a, sub.c.e, false(), short_abandon, targets))
         .group_by(sub.c.k, sub.c.key))
    return {(grid.bucket_start(int(k)), key): _tally_of(rest, targets) for k, key, *rest in session.execute(q)}


def sum_by(tallies: Mapping[tuple[Any, ...], kpi.Tally], key: Any) -> dict[Any, kpi.Tally]:
    """Re-key and add: ``key(k)`` names the group each tally goes to."""
    out: dict[Any, kpi.Tally] = {}
    for k, t in tallies.items():
        g = key(k)
        out[g] = out[g] + t if g in out else t
    return out


def subtree_totals(session: Session, by_unit: Mapping[int, Any], units: Sequence[OrgUnit]) -> dict[int, Any]:
    """For each of ``units``: the sum of ``by_unit`` over its subtree (additive values: Tally, ReplyTally)."""
    paths = {u.id: u.path for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(list(by_unit))))}
    out: dict[int, Any] = {}
    for u in units:
        parts = [v for uid, v in by_unit.items() if paths.get(uid, "").startswith(u.path)]
        if parts:
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            out[u.id] = total
    return out


# ---- complaints, appeals, first contact -------------------------------------------------------------

@dataclass(frozen=True)
class ComplaintFigures:
    complaints: int
    replies: kpi.ReplyTally
    repeats: int
    appeals: int
    customers: int

    def repeat_rate(self) -> float | None:
        return self.repeats / self.complaints if self.complaints else None

    def escalation_rate(self) -> float | None:
        """Escalations (appeals) per complaint: a queue's or an agent's measure (the MIIT one is per customer)."""
        return self.appeals / self.complaints if self.complaints else None

    def appeals_per_million(self) -> float | None:
        return kpi.per_million(self.appeals, self.customers)

    def complaints_per_ten_thousand(self) -> float | None:
        return kpi.per_ten_thousand(self.complaints, self.customers)


def complaint_figures(session: Session, start: datetime, end: datetime, *, unit_ids: Iterable[int],
                      now: datetime, channels: Iterable[str] | None = None,
                      repeat_days: int = kpi.REPEAT_DAYS) -> ComplaintFigures:
    """Complaints opened in [start, end): replies against their deadline (as of ``now``), repeats (same
    customer, same first-level category, within ``repeat_days`` before, on any channel and in any unit),
    appeals (申诉 tickets: taken above the operator) and the customers of the units (the base of the
    per-million rate). The reports read these from the quality summary (kefu/analytics/quality.py)."""
    units = list(unit_ids)
    t = Ticket
    # a repeat looks back over the customer's complaints on any channel, in any unit
    q = (select(t.opened_at, t.customer_id, Category.key, t.reply_due_at, t.first_reply_at, t.org_unit_id,
                t.channel)
         .outerjoin(Category, Category.id == t.category_id)
         .where(t.type == "complaint", t.status != "merged",
                t.opened_at >= start - timedelta(days=repeat_days), t.opened_at < end)
         .where(or_(t.org_unit_id.in_(units), t.customer_id.is_not(None)))
         .order_by(t.opened_at, t.id))
    found = list(session.execute(q))
    rows = [kpi.Complaint(o.timestamp(), cust, key.split(".")[0] if key else None,
                          due.timestamp() if due else None, rep.timestamp() if rep else None)
            for o, cust, key, due, rep, _, _ in found]
    flags = kpi.repeat_flags(rows, days=repeat_days)
    lo = start.timestamp()
    wanted, mine = (None if channels is None else set(channels)), set(units)
    inside = [(c, f) for c, f, r in zip(rows, flags, found, strict=True)
              if c.opened >= lo and r[5] in mine and (wanted is None or r[6] in wanted)]
    replies = kpi.reply_tally([c for c, _ in inside], now=now.timestamp())
    aq = select(func.count()).select_from(t).where(t.type == "appeal", t.org_unit_id.in_(units),
                                                   t.opened_at >= start, t.opened_at < end)
    if channels is not None:
        aq = aq.where(t.channel.in_(list(channels)))
    appeals = session.scalar(aq) or 0
    return ComplaintFigures(len(inside), replies, sum(f for _, f in inside), appeals,
                            customer_base(session, units))


def customer_base(session: Session, unit_ids: Sequence[int]) -> int:
    """The customers of the units (not merged into another): the base of the per-10,000 and per-million
    rates."""
    from kefu.customers.models import Customer

    return session.scalar(select(func.count()).select_from(Customer).where(
        Customer.org_unit_id.in_(list(unit_ids)), Customer.merged_into_id.is_(None))) or 0


def first_contact(session: Session, start: datetime, end: datetime, *, unit_ids: Iterable[int],
                  channels: Iterable[str] | None = None, days: int = kpi.FCR_DAYS) -> tuple[int, int]:
    """(resolved at first contact, contacts with a known customer) for contacts offered in [start, end):
    resolved when the same customer makes no other contact, on any channel, in the ``days`` after."""
    i = Interaction
    q = (select(i.customer_id, i.offered_at, i.channel, i.org_unit_id)
         .where(i.direction == "inbound", i.customer_id.is_not(None), i.offered_at >= start,
                i.offered_at < end + timedelta(days=days)))
    units = set(unit_ids)
    wanted = set(channels) if channels is not None else None
    rows = [(cust, at.timestamp(), start <= at < end and unit in units and (wanted is None or ch in wanted))
            for cust, at, ch, unit in session.execute(q)]
    flags = kpi.first_contact_flags([(c, t) for c, t, _ in rows], days=days)
    mine = [f for (_, _, counted), f in zip(rows, flags, strict=True) if counted and f is not None]
    return sum(mine), len(mine)


# ---- the supervisor wall ------------------------------------------------------------------------------

WAITING_LOOKBACK = timedelta(hours=24)
AT_RISK = timedelta(days=2)


@dataclass
class ChannelTile:
    channel: str
    media: str
    waiting: int
    longest_wait: float | None  # seconds
    today: kpi.Tally
    agents: dict[str, int]  # presence -> agents serving this channel's media
    levels: dict[str, str]


@dataclass
class QueueTile:
    stats: Any  # kefu.routing.service.QueueStats
    today: kpi.Tally
    longest_wait: float | None
    levels: dict[str, str]


@dataclass
class Wall:
    at: datetime
    channels: list[ChannelTile]
    queues: list[QueueTile]
    agents: dict[str, int]  # presence -> agents of the subtree
    complaints_at_risk: int  # unreplied complaints due within two days (or overdue)
    alerts: list[str]
    moves: list[MoveSuggestion] = field(default_factory=list)  # the routing engine's (kefu.routing.service)
    exclude_short: bool = True  # the variant shown: short abandons out of the service level and abandonment
    occupancy: float | None = None  # today's, of the subtree's agents (kefu/analytics/occupancy.py)


MOVES_WINDOW = timedelta(minutes=30)


def local_midnight(now: datetime, zone: str = ZONE) -> datetime:
    from kefu.interactions.calls import zone as find_zone

    local = now.astimezone(find_zone(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def local_date(now: datetime, zone: str = ZONE) -> date:
    """Today's date in the report zone."""
    from kefu.interactions.calls import zone as find_zone

    return now.astimezone(find_zone(zone)).date()


class InvalidThreshold(InvalidInput):
    code = "invalid_threshold"


def thresholds(session: Session) -> dict[tuple[str, str], dict[str, Any]]:
    """Administrators' overrides: {(scope, target): {metric: Threshold}}."""
    from kefu.analytics import wall as colours
    from kefu.analytics.models import WallThreshold

    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in session.scalars(select(WallThreshold)):
        out.setdefault((row.scope, row.target), {})[row.metric] = colours.Threshold(row.amber, row.red)
    return out


def set_threshold(session: Session, *, scope: str, target: str, metric: str, amber: float | None,
                  red: float | None, at: datetime) -> None:
    """Set (or, with amber and red None, remove) an override; InvalidThreshold (422) when it cannot work."""
    from kefu.analytics import wall as colours
    from kefu.analytics.models import WallThreshold
    from kefu.interactions.models import CHANNELS
    from kefu.routing.models import RoutingQueue

    if scope not in ("channel", "queue"):
        raise InvalidThreshold("scope is channel or queue")
    if scope == "channel" and target not in CHANNELS:
        raise InvalidThreshold(f"unknown channel {target!r}")
    if scope == "queue" and session.scalar(select(RoutingQueue.id).where(RoutingQueue.key == target)) is None:
        raise InvalidThreshold(f"unknown queue {target!r}")
    row = session.scalar(select(WallThreshold).where(WallThreshold.scope == scope, WallThreshold.target == target,
                                                     WallThreshold.metric == metric))
    if amber is None and red is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    if amber is None or red is None:
        raise InvalidThreshold("give both the amber and the red value")
    try:
        colours.check(metric, colours.Threshold(amber, red))
    except ValueError as exc:
        raise InvalidThreshold(str(exc)) from None
    if row is None:
        row = WallThreshold(scope=scope, target=target, metric=metric, amber=amber, red=red, updated_at=at)
        session.add(row)
    else:
        row.amber, row.red, row.updated_at = amber, red, at
    session.flush()


def today_grid(now: datetime, zone: str = ZONE) -> Grid:
    """Today (local midnight up to now) as one interval."""
    return Grid(local_midnight(now, zone), now + timedelta(seconds=1), DAY_MINUTES, zone)


def channel_tiles(session: Session, unit_ids: Sequence[int], *, now: datetime, zone: str = ZONE,
                  exclude_short: bool = True, overrides: Mapping[tuple[str, str], Any] | None = None,
                  agents: Mapping[str, dict[str, int]] | None = None) -> list[ChannelTile]:
    """The wall's tile of each channel of the units (the hotline's always, the others' when they had
    contacts today or have some waiting), coloured by its thresholds; ``agents``: per media, the agents
    by presence (none: empty)."""
    from kefu.analytics import summary
    from kefu.analytics import wall as colours
    from kefu.interactions.models import CHANNELS
    from kefu.routing import rules as routing_rules

    today = sum_by(tallies(session, today_grid(now, zone), unit_ids=unit_ids), lambda k: k[1])
    waiting = summary.waiting_now(session, unit_ids, now, WAITING_LOOKBACK)
    overrides = thresholds(session) if overrides is None else overrides
    tiles = []
    for ch in CHANNELS:
        if ch not in today and ch not in waiting and ch != "voice":
            continue
        media = routing_rules.CHANNEL_MEDIA.get(ch, "message")
        n, first = waiting.get(ch, (0, None))
        longest = max(0.0, (now - first).total_seconds()) if first is not None else None
        t = today.get(ch, kpi.Tally())
        th = colours.thresholds_for(media, overrides.get(("channel", ch)))
        levels = colours.tile_levels(t, longest, media, th, exclude_short=exclude_short)
        tiles.append(ChannelTile(ch, media, n, longest, t, dict((agents or {}).get(media, {})), levels))
    return tiles


def queue_tiles(session: Session, unit_ids: Sequence[int], path: str, *, now: datetime, zone: str = ZONE,
                exclude_short: bool = True, overrides: Mapping[tuple[str, str], Any] | None = None) -> list[QueueTile]:
    """The wall's tile of each routing queue of the branch of the unit at ``path`` (from routing's own queue
    figures: waiting now and the oldest waiting item; today's items of the units ``unit_ids``), coloured by
    the queue's thresholds (the administrators' for this queue over the defaults of its media)."""
    from kefu.analytics import wall as colours
    from kefu.routing import service as routing

    today = sum_by(queue_tallies(session, today_grid(now, zone), unit_ids=unit_ids), lambda k: k[1])
    overrides = thresholds(session) if overrides is None else overrides
    tiles = []
    for s in routing.branch_queue_stats(session, path):
        longest = max(0.0, (now - s.oldest_since).total_seconds()) if s.oldest_since is not None else None
        t = today.get(s.queue.key, kpi.Tally())
        media = s.queue.channel if s.queue.channel in colours.LONGEST_WAIT else "ticket"
        th = colours.thresholds_for(media, overrides.get(("queue", s.queue.key)))
        tiles.append(QueueTile(s, t, longest, colours.tile_levels(t, longest, media, th, exclude_short=exclude_short)))
    return tiles


def wall(session: Session, principal: Any, *, now: datetime, zone: str = ZONE, exclude_short: bool = True) -> Wall:
    """What the supervisor wall shows for the principal's subtree, now: per channel, waiting and the
    longest wait, today's offered / answered / abandoned and service level, the agents by state; per
    routing queue the same (from routing's own queue figures); complaints at risk of their deadline."""
    from kefu.analytics import wall as colours
    from kefu.org import service as org
    from kefu.routing import rules as routing_rules
    from kefu.routing import service as routing
    from kefu.routing.models import PRESENCES
    from kefu.tickets import lifecycle

    unit_ids = org.visible_unit_ids(session, principal)
    grid = today_grid(now, zone)
    overrides = thresholds(session)
    agents = routing.agents_of(session, principal)
    all_agents = dict.fromkeys(PRESENCES, 0)
    by_media: dict[str, dict[str, int]] = {m: dict.fromkeys(PRESENCES, 0) for m in routing_rules.MEDIA}
    for _user, row, _held in agents:
        presence = row.presence if row is not None else "offline"
        all_agents[presence] += 1
        for m in routing_rules.MEDIA:
            limit = row.channels.get(m, routing_rules.MEDIA_LIMIT[m]) if row is not None else 0
            if limit > 0:
                by_media[m][presence] += 1
    tiles = channel_tiles(session, unit_ids, now=now, zone=zone, exclude_short=exclude_short, overrides=overrides,
                          agents=by_media)
    queues = queue_tiles(session, unit_ids, principal.org_path, now=now, zone=zone, exclude_short=exclude_short,
                         overrides=overrides)
    at_risk = session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.type == "complaint", Ticket.first_reply_at.is_(None), Ticket.reply_due_at <= now + AT_RISK,
        Ticket.status.in_(lifecycle.OPEN_STATUSES), Ticket.org_unit_id.in_(unit_ids))) or 0
    alerts = [f"channel:{c.channel}" for c in tiles if c.levels["tile"] == colours.RED]
    alerts += [f"queue:{q.stats.queue.key}" for q in queues if q.levels["tile"] == colours.RED]
    moves = routing.move_suggestions(session, principal, at=now, within=MOVES_WINDOW)
    from kefu.analytics import occupancy

    staffed = occupancy.per_interval(session, grid, unit_ids=unit_ids, now=now) if grid.offset % 3600 == 0 else {}
    return Wall(now, tiles, queues, all_agents, at_risk, alerts, moves, exclude_short,
                kpi.Staffing.total(staffed.values()).occupancy())
