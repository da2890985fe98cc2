"""KPI definitions: pure (no database, no clock; times are float seconds on one origin, "now" is an argument).

The formulas are written out in docs/kpis.md. Contact KPIs are built on :class:`Tally`, a bag of additive
sums (counts and second totals): a tally of a 15-minute interval, a channel, a queue or an org unit adds
to the tally of the day, the week, the province; every ratio is computed from the sums at the end, never
averaged from ratios. The database computes the same sums with GROUP BY (kefu/analytics/service.py); the
tests hold the two to the same values.

A contact here is what waits for a person: a call that asked for an agent (queued), a message thread or
chat session (from its arrival), a routing item (from entering its queue). Its wait starts at
``queue_start``; it is *settled* once answered or ended; a settled contact that was never answered and was
given up by the customer is *abandoned*, and a *short abandon* when that took less than ``short_abandon``
seconds (default 5 s: a misdial or a caller who changed their mind, not a failure of service).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Self

from kefu.sla import survey_reply

#: Service-level targets regulators count: answered within 15 s (3G service spec 2009) and 20 s.
TARGETS = (15, 20)
#: Abandons faster than this (seconds) are short abandons, excluded where the KPI says so.
SHORT_ABANDON = 5.0
#: Complaints must be answered within 15 days (MIIT Order No. 35, 2016).
REPLY_DAYS = 15
#: A complaint is a repeat when the same customer complained on the same issue within this many days.
REPEAT_DAYS = 30
#: A contact is resolved at first contact when the customer does not contact again within this many days.
FCR_DAYS = 7
DAY = 86_400.0
#: Intervals of the interval reports, minutes.
INTERVALS = (15, 30, 60)


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact waiting for a person (times in seconds)."""

    queue_start: float
    answered: float | None = None
    ended: float | None = None
    abandoned: bool = False  # ended without an answer because the customer gave up


@dataclass(slots=True)
class Tally:
    """Additive sums over contacts; every KPI is a ratio of these."""

    offered: int = 0  # settled contacts (answered, or ended without an answer)
    answered: int = 0
    within: dict[int, int] = field(default_factory=lambda: dict.fromkeys(TARGETS, 0))  # answered within T s
    abandoned: int = 0
    short_abandoned: int = 0
    wait_sum: float = 0.0  # seconds from queue start to answer, answered contacts
    handled: int = 0  # answered and ended
    handle_sum: float = 0.0  # seconds from answer to end, handled contacts
    pending: int = 0  # not settled yet: still waiting or being handled without an answer time

    def __add__(self, other: Tally) -> Tally:
        out = Tally()
        for f in fields(Tally):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "within":
                setattr(out, f.name, {t: a.get(t, 0) + b.get(t, 0) for t in sorted(set(a) | set(b))})
            else:
                setattr(out, f.name, a + b)
        return out

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Self:
        out = cls()
        for t in tallies:
            out = out + t  # type: ignore[assignment]
        return out

    # ---- the KPIs ----

    def answer_rate(self) -> float | None:
        """接通率: answered / offered."""
        return _ratio(self.answered, self.offered)

    def service_level(self, target: int, *, exclude_short: bool = True) -> float | None:
        """15/20 秒接通率: answered within ``target`` s / offered (short abandons out of the denominator
        when ``exclude_short``)."""
        if target not in self.within:
            raise ValueError(f"no tally of answers within {target} s (targets {sorted(self.within)})")
        base = self.offered - (self.short_abandoned if exclude_short else 0)
        return _ratio(self.within[target], base)

    def abandonment(self, *, exclude_short: bool = True) -> float | None:
        """放弃率: abandoned / offered, short abandons out of both when ``exclude_short``."""
        short = self.short_abandoned if exclude_short else 0
        return _ratio(self.abandoned - short, self.offered - short)

    def asa(self) -> float | None:
        """ASA (seconds): total wait of answered contacts / answered contacts."""
        return _ratio(self.wait_sum, self.answered)

    def aht(self) -> float | None:
        """AHT (seconds): total handling time (answer to end) / handled contacts."""
        return _ratio(self.handle_sum, self.handled)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def tally(contacts: Iterable[Contact], *, short_abandon: float = SHORT_ABANDON,
          targets: Sequence[int] = TARGETS) -> Tally:
    """The sums of :class:`Tally` over ``contacts``."""
    out = Tally(within=dict.fromkeys(targets, 0))
    for c in contacts:
        if c.answered is not None:
            out.offered += 1
            out.answered += 1
            wait = c.answered - c.queue_start
            out.wait_sum += wait
            for t in targets:
                if wait <= t:
                    out.within[t] += 1
            if c.ended is not None:
                out.handled += 1
                out.handle_sum += c.ended - c.answered
        elif c.ended is not None:
            out.offered += 1
            if c.abandoned:
                out.abandoned += 1
                if c.ended - c.queue_start < short_abandon:
                    out.short_abandoned += 1
        else:
            out.pending += 1
    return out


def bucket_start(t: float, minutes: int, *, offset: float = 0.0) -> float:
    """The start of the ``minutes``-long interval holding ``t``, intervals aligned on local time
    (``offset`` seconds east of UTC)."""
    if minutes <= 0:
        raise ValueError("an interval is at least one minute")
    width = minutes * 60.0
    return ((t + offset) // width) * width - offset


# ---- complaints ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Complaint:
    opened: float
    customer_id: int | None = None
    issue: str | None = None  # the first-level category: "the same issue"
    reply_due: float | None = None
    first_reply: float | None = None


@dataclass(frozen=True, slots=True)
class ReplyTally:
    """Complaint replies against the 15-day deadline."""

    on_time: int = 0  # replied by the deadline
    late: int = 0  # replied after it
    overdue: int = 0  # no reply and the deadline has passed
    open: int = 0  # no reply yet, deadline still ahead

    def on_time_rate(self) -> float | None:
        """投诉15日回复率: replied by the deadline / complaints whose deadline has passed or that were replied."""
        return _ratio(self.on_time, self.on_time + self.late + self.overdue)

    def __add__(self, other: ReplyTally) -> ReplyTally:
        return ReplyTally(self.on_time + other.on_time, self.late + other.late, self.overdue + other.overdue,
                          self.open + other.open)


def reply_tally(complaints: Iterable[Complaint], *, now: float, reply_days: int = REPLY_DAYS) -> ReplyTally:
    on_time = late = overdue = pending = 0
    for c in complaints:
        due = c.reply_due if c.reply_due is not None else c.opened + reply_days * DAY
        if c.first_reply is not None:
            if c.first_reply <= due:
                on_time += 1
            else:
                late += 1
        elif due < now:
            overdue += 1
        else:
            pending += 1
    return ReplyTally(on_time, late, overdue, pending)


def repeat_flags(complaints: Sequence[Complaint], *, days: int = REPEAT_DAYS) -> list[bool]:
    """For each complaint (in the given order): True when the same customer complained on the same issue
    in the ``days`` before it (a complaint without a customer is never a repeat). ``complaints`` may hold
    earlier ones, for the look-back, whose flags the caller ignores."""
    window = days * DAY
    last: dict[tuple[int, str | None], float] = {}
    flags = [False] * len(complaints)
    for i in sorted(range(len(complaints)), key=lambda i: complaints[i].opened):
        c = complaints[i]
        if c.customer_id is None:
            continue
        key = (c.customer_id, c.issue)
        prev = last.get(key)
        flags[i] = prev is not None and c.opened - prev <= window
        last[key] = c.opened
    return flags


def repeat_rate(flags: Sequence[bool]) -> float | None:
    """重复投诉率: repeat complaints / complaints."""
    return _ratio(sum(flags), len(flags))


def per_ten_thousand(count: int, customers: int) -> float | None:
    """投诉率 (每万客户): complaints per 10,000 customers."""
    return _ratio(count * 10_000, customers)


def per_million(count: int, customers: int) -> float | None:
    """越级投诉率 / 申诉率: escalated complaints (appeals) per million customers."""
    return _ratio(count * 1_000_000, customers)


# ---- first-contact resolution, satisfaction ----------------------------------------------------------

def first_contact_flags(contacts: Sequence[tuple[int | None, float]], *, days: int = FCR_DAYS) -> list[bool | None]:
    """For each contact (customer id, start time): True when the same customer makes no other contact in
    the ``days`` after it starts, False when they do, None when unknown (no customer)."""
    window = days * DAY
    by_customer: dict[int, list[float]] = {}
    for customer, start in contacts:
        if customer is not None:
            by_customer.setdefault(customer, []).append(start)
    for starts in by_customer.values():
        starts.sort()
    out: list[bool | None] = []
    for customer, start in contacts:
        if customer is None:
            out.append(None)
            continue
        starts = by_customer[customer]
        nxt = _next_after(starts, start)
        out.append(nxt is None or nxt - start > window)
    return out


def _next_after(sorted_times: list[float], t: float) -> float | None:
    import bisect

    i = bisect.bisect_right(sorted_times, t)
    return sorted_times[i] if i < len(sorted_times) else None


def fcr(flags: Sequence[bool | None]) -> float | None:
    """一次解决率: contacts with no repeat within N days / contacts with a known customer."""
    known = [f for f in flags if f is not None]
    return _ratio(sum(known), len(known))


def csat(scores: Iterable[int]) -> float | None:
    """满意度: satisfied (4 or 5 of 5) / survey answers. Scores outside 1..5 are refused. The definition is the
    surveys' own (kefu.sla.survey_reply.csat, pure), the one kefu.sla's figures count by."""
    return survey_reply.csat(scores)


# ---- occupancy ----------------------------------------------------------------------------------------------

HOUR = 3600


def split_by_hour(start: float, end: float) -> list[tuple[int, float]]:
    """The seconds of [start, end) in each UTC hour it touches: [(hours since the epoch, seconds)]."""
    out = []
    t = start
    while t < end:
        hour = int(t // HOUR)
        nxt = min(end, (hour + 1) * HOUR)
        out.append((hour, nxt - t))
        t = nxt
    return out


@dataclass(slots=True)
class Staffing:
    """Additive seconds of agents' time: available (ready for work, idle or handling), in after-call work,
    and handling contacts (answer to end)."""

    available: float = 0.0
    after_call_work: float = 0.0
    handling: float = 0.0

    def __add__(self, other: Staffing) -> Staffing:
        return Staffing(self.available + other.available, self.after_call_work + other.after_call_work,
                        self.handling + other.handling)

    @classmethod
    def total(cls, parts: Iterable[Staffing]) -> Staffing:
        out = cls()
        for p in parts:
            out = out + p
        return out

    def occupancy(self) -> float | None:
        """占用率: time on work (handling contacts and after-call work) / staffed time (available or in
        after-call work). Handling happens while available, so it is inside the denominator."""
        return _ratio(self.handling + self.after_call_work, self.available + self.after_call_work)
