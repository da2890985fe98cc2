"""SLA rules over the database: calendars, policies, and the clocks of tickets.

- A ticket gets its clocks when it is created (`start_for_ticket`, from the `ticket.created` event): the
  first active policy by position whose types / tiers / channels / categories all hold (empty = any) gives a
  first-response and a resolution target, in business time on its calendar (the default: China's office
  hours with the statutory holidays and 调休 days) or in calendar time.
- Tickets' moves drive them (`on_transition`): waiting on the customer pauses every running clock, leaving
  that status resumes them; resolving or closing stops them (an answer too); a reopen restarts the
  resolution clock with the time it had used.
- The first agent reply stops the first-response clock; `scan` (a periodic job) notices it, records
  `sla.warning` once when a clock has used its policy's warning share and `sla.breached` once when it is past
  due, and escalates a breach as the policy says (raise the ticket's priority, hand it to a supervisor).
- The legal reply deadline of complaints and appeals (tickets' `reply_due_at`, 15 / 30 calendar days) caps the
  first-response due time and keeps counting while paused: no policy can loosen it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.clock import ensure_aware, utcnow
from kefu.core.db import among
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.sla import clock as clocks
from kefu.sla import holidays_cn
from kefu.sla.calendar import CONTINUOUS, CalendarError, WorkCalendar, format_hours, parse_window, with_days
from kefu.sla.models import DAY_KINDS, ON_BREACH, SlaCalendar, SlaCalendarDay, SlaClock, SlaPolicy
from kefu.tickets import lifecycle
from kefu.tickets import service as tickets

OFFICE_WEEK = [["09:00-12:00", "13:30-18:00"]] * 5 + [[], []]
LEGAL_TYPES = ("complaint", "appeal")
STOPPING = (lifecycle.RESOLVED, lifecycle.CLOSED, lifecycle.MERGED)


class CalendarNotFound(NotFound):
    code = "sla_calendar_not_found"


class PolicyNotFound(NotFound):
    code = "sla_policy_not_found"


class InvalidCalendar(InvalidInput):
    code = "sla_invalid_calendar"


class InvalidPolicy(InvalidInput):
    code = "sla_invalid_policy"


# ---- calendars -------------------------------------------------------------------------------------

def statutory_days() -> dict[date, str]:
    return {d: kind for d, (kind, _) in holidays_cn.statutory_days().items()}


def default_calendar() -> WorkCalendar:
    return _build(OFFICE_WEEK, "Asia/Shanghai", True, {})


def _build(weekly: list[list[str]], zone: str, statutory: bool, own: dict[date, str]) -> WorkCalendar:
    try:
        week = tuple(tuple(parse_window(s) for s in day) for day in weekly)
        base = WorkCalendar(weekly=week, makeup_hours=next((d for d in week[:5] if d), None), zone=zone)
    except CalendarError as exc:
        raise InvalidCalendar(str(exc)) from None
    days = {**(statutory_days() if statutory else {}), **own}
    return with_days(base, days)


def work_calendar(session: Session, calendar_id: int | None, *, business_time: bool = True) -> WorkCalendar:
    """The arithmetic calendar of a clock or policy: CONTINUOUS for calendar time."""
    if not business_time:
        return CONTINUOUS
    if calendar_id is None:
        return default_calendar()
    cal = session.get(SlaCalendar, calendar_id)
    if cal is None:
        return default_calendar()
    own = {d.day: d.kind for d in session.scalars(select(SlaCalendarDay).where(SlaCalendarDay.calendar_id == cal.id))}
    return _build(cal.weekly, cal.zone, cal.statutory, own)


def list_calendars(session: Session) -> list[SlaCalendar]:
    return list(session.scalars(select(SlaCalendar).order_by(SlaCalendar.name)))


def get_calendar(session: Session, calendar_id: int) -> SlaCalendar:
    cal = session.get(SlaCalendar, calendar_id)
    if cal is None:
        raise CalendarNotFound(f"calendar {calendar_id} does not exist")
    return cal


def calendar_days(session: Session, calendar_id: int) -> list[SlaCalendarDay]:
    return list(session.scalars(select(SlaCalendarDay).where(SlaCalendarDay.calendar_id == calendar_id)
                                .order_by(SlaCalendarDay.day)))


def parse_week(texts: list[str]) -> list[list[str]]:
    """Seven texts like "09:00-12:00, 13:30-18:00" (empty = closed) -> normalised weekly hours."""
    if len(texts) != 7:
        raise InvalidCalendar("a week has 7 days of hours (Monday first)")
    week = []
    for i, text in enumerate(texts):
        parts = [p for p in text.replace("，", ",").replace(" ", "").split(",") if p]
        try:
            windows = tuple(parse_window(p) for p in parts)
            WorkCalendar(weekly=(windows,) * 7)
        except CalendarError as exc:
            raise InvalidCalendar(f"day {i + 1}: {exc}", details={"day": i}) from None
        week.append(format_hours(windows).split(", ") if windows else [])
    return week


def save_calendar(session: Session, *, calendar_id: int | None, name: str, weekly: list[list[str]], zone: str,
                  statutory: bool, org_unit_id: int, at: datetime | None = None) -> SlaCalendar:
    at = at or utcnow()
    name = name.strip()
    if not name:
        raise InvalidCalendar("a calendar needs a name", details={"field": "name"})
    _build(weekly, zone, statutory, {})  # refuses bad hours and unknown zones
    clash = session.scalar(select(SlaCalendar).where(SlaCalendar.name == name))
    if clash is not None and clash.id != calendar_id:
        raise Conflict(f"a calendar named {name!r} exists", code="sla_calendar_exists")
    cal = get_calendar(session, calendar_id) if calendar_id is not None else None
    if cal is None:
        cal = SlaCalendar(name=name, created_at=at)
        session.add(cal)
    cal.name, cal.weekly, cal.zone, cal.statutory, cal.org_unit_id, cal.updated_at = (
        name, weekly, zone, statutory, org_unit_id, at)
    session.flush()
    return cal


def set_day(session: Session, calendar_id: int, day: date, kind: str | None, name: str = "") -> None:
    """Mark a local special day ("holiday" / "workday"), or clear it (kind None)."""
    get_calendar(session, calendar_id)
    row = session.scalar(select(SlaCalendarDay).where(SlaCalendarDay.calendar_id == calendar_id,
                                                      SlaCalendarDay.day == day))
    if kind is None:
        if row is not None:
            session.delete(row)
        session.flush()
        return
    if kind not in DAY_KINDS:
        raise InvalidCalendar(f"a special day is one of {', '.join(DAY_KINDS)}", details={"field": "kind"})
    if row is None:
        row = SlaCalendarDay(calendar_id=calendar_id, day=day)
        session.add(row)
    row.kind, row.name = kind, name.strip()[:100]
    session.flush()


# ---- policies ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TicketFacts:
    type: str
    tier: str | None
    channel: str | None
    category: str | None


def matches(policy: SlaPolicy, facts: TicketFacts) -> bool:
    cat_ok = not policy.categories or (facts.category is not None and (
        facts.category in policy.categories or facts.category.split(".")[0] in policy.categories))
    return (policy.active and (not policy.types or facts.type in policy.types)
            and (not policy.tiers or facts.tier in policy.tiers)
            and (not policy.channels or facts.channel in policy.channels) and cat_ok)


def list_policies(session: Session) -> list[SlaPolicy]:
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))


def get_policy(session: Session, policy_id: int) -> SlaPolicy:
    p = session.get(SlaPolicy, policy_id)
    if p is None:
        raise PolicyNotFound(f"SLA policy {policy_id} does not exist")
    return p


def policy_for(session: Session, facts: TicketFacts) -> SlaPolicy | None:
    policies = session.info.get(_HELD_POLICIES)
    return next((p for p in (policies if policies is not None else list_policies(session)) if matches(p, facts)),
                None)


# The policies and categories read once for a batch of ticket events (`hold_for_batch`): a session that
# only starts and syncs clocks changes neither.
_HELD_POLICIES = "kefu_sla_policies"
_HELD_CATEGORIES = "kefu_sla_categories"


def hold_for_batch(session: Session) -> None:
    """Read the policies and the categories once for the rest of this session (the event consumer's batch
    of tickets to start clocks for), instead of once per ticket. Not for a session that edits them."""
    session.info[_HELD_POLICIES] = list_policies(session)
    session.info[_HELD_CATEGORIES] = tickets.categories_by_id(session)


def tickets_with_clocks(session: Session, ticket_ids: set[int]) -> set[int]:
    """Which of these tickets have clocks (one statement); held for the session, like the policies, so
    that starting their clocks needs no look first (a ticket given clocks meanwhile is looked up again)."""
    found = set(session.scalars(select(SlaClock.ticket_id).where(among(session, SlaClock.ticket_id, sorted(ticket_ids)))
                                .distinct())) if ticket_ids else set()
    session.info[_HELD_CLOCKED] = set(found)
    session.info[_HELD_CHECKED] = set(ticket_ids)
    return found


_HELD_CLOCKED = "kefu_sla_clocked"
_HELD_CHECKED = "kefu_sla_checked"


def _has_clocks(session: Session, ticket_id: int) -> bool:
    if ticket_id in session.info.get(_HELD_CHECKED, ()):
        return ticket_id in session.info[_HELD_CLOCKED]
    return bool(clocks_of(session, ticket_id))


def save_policy(session: Session, *, policy_id: int | None, name: str, position: int, types: list[str],
                tiers: list[str], channels: list[str], categories: list[str],
                first_response_minutes: int | None, resolution_minutes: int | None, business_time: bool,
                calendar_id: int | None, warn_percent: int, on_breach: str, active: bool,
                next_response_minutes: int | None = None, breach_assignee_id: int | None = None,
                breach_queue_key: str | None = None, at: datetime | None = None) -> SlaPolicy:
    from kefu.interactions.models import CHANNELS
    from kefu.tickets.models import TICKET_TYPES

    at = at or utcnow()
    name = name.strip()
    if not name:
        raise InvalidPolicy("a policy needs a name", details={"field": "name"})
    for field, values, allowed in (("types", types, TICKET_TYPES), ("tiers", tiers, tickets.TIERS),
                                   ("channels", channels, CHANNELS), ("on_breach", [on_breach], ON_BREACH)):
        bad = [v for v in values if v not in allowed]
        if bad:
            raise InvalidPolicy(f"unknown {field}: {', '.join(bad)}", details={"field": field})
    unknown = set(categories) - tickets.known_category_keys(session, categories)
    if unknown:
        raise InvalidPolicy(f"unknown categories: {', '.join(sorted(unknown))}", details={"field": "categories"})
    if first_response_minutes is None and resolution_minutes is None and next_response_minutes is None:
        raise InvalidPolicy("a policy sets a first-response, next-response or resolution target",
                            details={"field": "first_response_minutes"})
    for field, v in (("first_response_minutes", first_response_minutes), ("resolution_minutes", resolution_minutes),
                     ("next_response_minutes", next_response_minutes)):
        if v is not None and not 0 < v <= 366 * 24 * 60:
            raise InvalidPolicy(f"{field} is between 1 minute and a year", details={"field": field})
    if not 1 <= warn_percent <= 100:
        raise InvalidPolicy("the warning share is 1 to 100 %", details={"field": "warn_percent"})
    if calendar_id is not None:
        get_calendar(session, calendar_id)
    if breach_assignee_id is not None:
        from kefu.org import service as org

        user = org.user(session, breach_assignee_id)
        if user is None or not user.active or user.role not in tickets.ASSIGNING_ROLES:
            raise InvalidPolicy("the escalation assignee is an active person who can take tickets",
                                details={"field": "breach_assignee_id"})
    breach_queue_key = breach_queue_key or None
    if breach_queue_key is not None:
        from kefu.routing import service as routing

        if breach_assignee_id is not None:
            raise InvalidPolicy("on breach the ticket goes to a person or to a queue, not both",
                                details={"field": "breach_queue_key"})
        if breach_queue_key not in {q.key for q in routing.queues(session)}:
            raise InvalidPolicy("the escalation queue is an active routing queue",
                                details={"field": "breach_queue_key"})
    p = get_policy(session, policy_id) if policy_id is not None else None
    if p is None:
        p = SlaPolicy(created_at=at)
        session.add(p)
    (p.name, p.position, p.types, p.tiers, p.channels, p.categories, p.first_response_minutes,
     p.resolution_minutes, p.business_time, p.calendar_id, p.warn_percent, p.on_breach, p.active,
     p.updated_at) = (name, position, types, tiers, channels, categories, first_response_minutes,
                      resolution_minutes, business_time, calendar_id, warn_percent, on_breach, active, at)
    p.next_response_minutes, p.breach_assignee_id = next_response_minutes, breach_assignee_id
    p.breach_queue_key = breach_queue_key
    session.flush()
    return p


# ---- clocks ----------------------------------------------------------------------------------------------

def _core(row: SlaClock) -> clocks.Clock:
    return clocks.Clock(target=row.target_seconds, started_at=ensure_aware(row.started_at), used=row.used_seconds,
                        running_since=ensure_aware(row.running_since) if row.running_since else None,
                        stopped_at=ensure_aware(row.stopped_at) if row.stopped_at else None)


def _store(row: SlaClock, k: clocks.Clock, cal: WorkCalendar) -> None:
    row.used_seconds, row.running_since, row.stopped_at = k.used, k.running_since, k.stopped_at
    legal = ensure_aware(row.legal_due_at) if row.legal_due_at else None
    if k.phase == clocks.STOPPED:
        row.due_at = row.warn_at = None
        return
    row.due_at = clocks.effective_due(clocks.due_at(k, cal), legal)
    warn_used = row.warn_percent / 100 * k.target
    warn = None
    if k.running_since is not None:
        warn = k.running_since if k.used >= warn_used else cal.add_working(k.running_since, warn_used - k.used)
    if legal is not None:
        legal_warn = legal - (legal - k.started_at) / 5
        warn = legal_warn if warn is None else min(warn, legal_warn)
    row.warn_at = warn


def clocks_of(session: Session, ticket_id: int) -> list[SlaClock]:
    return list(session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id).order_by(SlaClock.id)))


def _facts(session: Session, ticket: Any) -> TicketFacts:
    category = None
    if ticket.category_id is not None:
        held = session.info.get(_HELD_CATEGORIES)
        cat = (held if held is not None else tickets.categories_by_id(session)).get(ticket.category_id)
        category = cat.key if cat is not None else None
    return TicketFacts(type=ticket.type, tier=ticket.customer_tier, channel=ticket.channel, category=category)


def start_for_ticket(session: Session, ticket_id: int, *, at: datetime | None = None) -> list[SlaClock]:
    """Start the clocks of a new ticket from the policy that matches it (idempotent: existing clocks stay)."""
    ticket = tickets.get(session, ticket_id)
    if ticket is None or _has_clocks(session, ticket_id):
        return []
    policy = policy_for(session, _facts(session, ticket))
    if policy is None:
        return []
    start = ensure_aware(ticket.opened_at)
    cal = work_calendar(session, policy.calendar_id, business_time=policy.business_time)
    made = []
    for metric, minutes in (("first_response", policy.first_response_minutes),
                            ("resolution", policy.resolution_minutes)):
        if minutes is None:
            continue
        legal = ticket.reply_due_at if metric == "first_response" and ticket.type in LEGAL_TYPES else None
        row = SlaClock(ticket_id=ticket.id, policy_id=policy.id, metric=metric, org_unit_id=ticket.org_unit_id,
                       target_seconds=minutes * 60.0, business_time=policy.business_time,
                       calendar_id=policy.calendar_id, warn_percent=policy.warn_percent, started_at=start,
                       legal_due_at=legal)
        k = clocks.start(row.target_seconds, start)
        if ticket.status == lifecycle.WAITING_CUSTOMER:
            k = clocks.pause(k, at or start, cal)
        _store(row, k, cal)
        session.add(row)
        made.append(row)
    session.flush()
    if made:  # asked again, the database answers (these rows may yet be rolled back with a savepoint)
        session.info.get(_HELD_CHECKED, set()).discard(ticket_id)
    if ticket.first_reply_at is not None or ticket.status in STOPPING:
        sync_ticket(session, ticket_id, at=at)
    return made


def sync_ticket(session: Session, ticket_id: int, *, at: datetime | None = None) -> None:
    """Bring a ticket's clocks in line with the ticket as it is now (status, first reply)."""
    ticket = tickets.get(session, ticket_id)
    if ticket is None:
        return
    at = at or utcnow()
    for row in clocks_of(session, ticket_id):
        cal = work_calendar(session, row.calendar_id, business_time=row.business_time)
        k = _core(row)
        if row.metric == "first_response" and ticket.first_reply_at is not None:
            k = clocks.stop(k, max(ensure_aware(ticket.first_reply_at), k.started_at), cal)
        elif ticket.status in STOPPING:
            k = clocks.stop(k, at, cal)
        elif k.phase == clocks.STOPPED and row.metric == "resolution":
            k = clocks.Clock(target=k.target, started_at=k.started_at, used=k.used, running_since=at)  # reopened
        k = clocks.pause(k, at, cal) if ticket.status == lifecycle.WAITING_CUSTOMER else clocks.resume(k, at)
        _store(row, k, cal)
    session.flush()


def on_customer_message(session: Session, ticket_id: int, *, at: datetime) -> SlaClock | None:
    """A customer wrote on a ticket that had its first reply: its policy's next-response clock starts afresh
    (unless one runs already: the wait counts from the first unanswered message). Returns the clock."""
    ticket = tickets.get(session, ticket_id)
    if ticket is None or ticket.first_reply_at is None or ticket.status in STOPPING:
        return None
    row = session.scalar(select(SlaClock).where(SlaClock.ticket_id == ticket_id,
                                                SlaClock.metric == "next_response"))
    if row is not None and row.stopped_at is None:
        return row
    if row is not None and row.policy_id is not None:
        policy = session.get(SlaPolicy, row.policy_id)
    else:
        policy = policy_for(session, _facts(session, ticket))
    if policy is None or policy.next_response_minutes is None:
        return None
    cal = work_calendar(session, policy.calendar_id, business_time=policy.business_time)
    if row is None:
        row = SlaClock(ticket_id=ticket_id, metric="next_response", org_unit_id=ticket.org_unit_id)
        session.add(row)
    row.policy_id, row.target_seconds, row.business_time = policy.id, policy.next_response_minutes * 60.0, \
        policy.business_time
    row.calendar_id, row.warn_percent, row.started_at, row.legal_due_at = (policy.calendar_id, policy.warn_percent,
                                                                           at, None)
    row.warned_at = row.breached_at = None
    k = clocks.start(row.target_seconds, at)
    if ticket.status == lifecycle.WAITING_CUSTOMER:
        k = clocks.pause(k, at, cal)
    _store(row, k, cal)
    session.flush()
    return row


def on_agent_message(session: Session, ticket_id: int, *, at: datetime) -> None:
    """An agent replied on the ticket: a running next-response clock stops (met or late)."""
    row = session.scalar(select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.metric == "next_response",
                                                SlaClock.stopped_at.is_(None)))
    if row is None:
        return
    cal = work_calendar(session, row.calendar_id, business_time=row.business_time)
    _store(row, clocks.stop(_core(row), max(at, ensure_aware(row.started_at)), cal), cal)
    session.flush()


@dataclass(frozen=True)
class ClockView:
    row: SlaClock
    state: clocks.ClockState
    policy: SlaPolicy | None


def ticket_clocks(session: Session, ticket_id: int, *, at: datetime | None = None) -> list[ClockView]:
    at = at or utcnow()
    out = []
    for row in clocks_of(session, ticket_id):
        cal = work_calendar(session, row.calendar_id, business_time=row.business_time)
        st = clocks.state(_core(row), at, cal, warn_ratio=row.warn_percent / 100,
                          legal_due=ensure_aware(row.legal_due_at) if row.legal_due_at else None)
        out.append(ClockView(row, st, session.get(SlaPolicy, row.policy_id) if row.policy_id else None))
    return out


def scan(session: Session, *, at: datetime | None = None, limit: int = 500) -> tuple[int, int]:
    """Record warnings and breaches that came due; escalate breaches. Returns (warnings, breaches)."""
    at = at or utcnow()
    # First replies stop first-response clocks (on_agent_reply records no event of its own).
    from kefu.tickets.models import Ticket

    replied = session.scalars(select(SlaClock.ticket_id).join(Ticket, Ticket.id == SlaClock.ticket_id).where(
        SlaClock.metric == "first_response", SlaClock.stopped_at.is_(None), Ticket.first_reply_at.is_not(None))
        .limit(limit)).all()
    for ticket_id in set(replied):
        sync_ticket(session, ticket_id, at=at)
    due = session.scalars(select(SlaClock).where(SlaClock.stopped_at.is_(None), or_(
        and_(SlaClock.breached_at.is_(None), SlaClock.due_at <= at),
        and_(SlaClock.warned_at.is_(None), SlaClock.breached_at.is_(None), SlaClock.warn_at <= at)))
        .order_by(SlaClock.id).limit(limit)).all()
    warned = breached = 0
    calendars: dict[tuple[int | None, bool], WorkCalendar] = {}
    for row in due:
        key = (row.calendar_id, row.business_time)
        if key not in calendars:
            calendars[key] = work_calendar(session, row.calendar_id, business_time=row.business_time)
        cal = calendars[key]
        st = clocks.state(_core(row), at, cal, warn_ratio=row.warn_percent / 100,
                          legal_due=ensure_aware(row.legal_due_at) if row.legal_due_at else None)
        payload = {"ticket_id": row.ticket_id, "metric": row.metric, "policy_id": row.policy_id,
                   "due_at": row.due_at.isoformat() if row.due_at else None}
        if st.breached and row.breached_at is None:
            row.breached_at = at
            breached += 1
            events.record(session, "sla.breached", payload, aggregate_type="ticket", aggregate_id=row.ticket_id,
                          org_unit_id=row.org_unit_id, at=at)
            _escalate(session, row, at)
        elif st.warning and row.warned_at is None:
            row.warned_at = at
            warned += 1
            events.record(session, "sla.warning", payload, aggregate_type="ticket", aggregate_id=row.ticket_id,
                          org_unit_id=row.org_unit_id, at=at)
    session.flush()
    return warned, breached


PRIORITY_UP = {"low": "normal", "normal": "high", "high": "urgent"}


def _escalate(session: Session, row: SlaClock, at: datetime) -> None:
    """As the policy says: raise the ticket's priority one step (`raise_priority`) and/or hand it to the
    policy's escalation assignee (a supervisor) or send it to the policy's routing queue (转派 to a queue:
    routing's `escalate_to_queue`, the ticket loses its owner and waits there). A hand-over the ticket's
    rules refuse (the person left the ticket's branch, the queue is not of the ticket's branch, the ticket
    is closed) is recorded as `sla.escalation_failed` instead."""
    from kefu.routing import service as routing

    policy = session.get(SlaPolicy, row.policy_id) if row.policy_id else None
    ticket = tickets.get(session, row.ticket_id)
    if policy is None or ticket is None:
        return
    if policy.on_breach == "raise_priority" and ticket.priority in PRIORITY_UP:
        tickets.update(session, ticket.id, actor_id=None, priority=PRIORITY_UP[ticket.priority], at=at)
    reason = f"SLA breach ({row.metric})"
    target: dict[str, Any] = {}
    try:
        if policy.breach_assignee_id is not None and ticket.assignee_id != policy.breach_assignee_id:
            target = {"assignee_id": policy.breach_assignee_id}
            tickets.assign(session, ticket.id, assignee_id=policy.breach_assignee_id, actor_id=None, at=at,
                           reason=reason)
        elif policy.breach_queue_key is not None:
            target = {"queue_key": policy.breach_queue_key}
            routing.escalate_to_queue(session, ticket.id, policy.breach_queue_key, reason=reason, at=at)
    except (InvalidInput, Conflict, NotFound) as exc:
        events.record(session, "sla.escalation_failed",
                      {"ticket_id": ticket.id, "metric": row.metric, "policy_id": policy.id, **target,
                       "error": exc.code},
                      aggregate_type="ticket", aggregate_id=ticket.id, org_unit_id=ticket.org_unit_id, at=at)


# ---- service hours and 7×24 coverage -------------------------------------------------------------------

def queue_open_at(session: Session, calendar_id: int | None, at: datetime, *, manual_open: bool = True) -> bool:
    """Whether a queue with this service-hours calendar is open at `at` (no calendar: as opened by hand)."""
    if calendar_id is None:
        return manual_open
    return work_calendar(session, calendar_id).is_open(at)


def set_queue_calendar(session: Session, principal: Any, queue_key: str, calendar_id: int | None) -> None:
    from kefu.routing import service as routing

    if calendar_id is not None:
        get_calendar(session, calendar_id)
    routing.set_queue_calendar(session, principal, queue_key, calendar_id)


def coverage_report(session: Session, principal: Any, monday: date) -> list[tuple[str, list[str], Any]]:
    """Per channel (media): the queues serving it and their union's coverage over the week of `monday`.
    A queue without a calendar counts as 7×24 while it is open and not at all while it is closed."""
    from kefu.routing import service as routing
    from kefu.sla import coverage as cov

    served: dict[str, list[WorkCalendar]] = {}
    names: dict[str, list[str]] = {}
    for q in routing.queues(session, principal):
        if q.calendar_id is not None:
            cal = work_calendar(session, q.calendar_id)
        elif q.open:
            cal = CONTINUOUS
        else:
            cal = None
        served.setdefault(q.channel, [])
        names.setdefault(q.channel, []).append(q.name)
        if cal is not None:
            served[q.channel].append(cal)
    rows = cov.coverage(served, monday)
    return [(r.key, names[r.key], r) for r in rows]
