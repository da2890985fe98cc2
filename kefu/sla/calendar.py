"""Working calendars and business-time arithmetic. Pure: no database, no clock (time comes in).

A `WorkCalendar` has working hours per weekday (minutes of the local day, end may be 1440 = midnight), the
days off that fall on working weekdays (statutory holidays, local days off) and the weekend days that are
worked (调休 make-up days, worked with `makeup_hours`, by default Monday's). Every instant given or returned
is timezone-aware (stored in UTC); the local day is the calendar's zone (Asia/Shanghai has no daylight
saving, but the arithmetic works day by day in local time so any zone is right).

- `working_seconds(a, b)`: the working time between two instants (0 when b <= a).
- `add_working(start, seconds)`: the instant at which `seconds` of working time have passed since `start`
  (a start outside hours waits for the next opening): `working_seconds(start, add_working(start, s)) == s`.
- `add_working_days(start, n)`: the end of the n-th working day after the day of `start` (the day of start
  does not count: "within 5 working days" of a Friday-evening appeal ends on Thursday night).
- `next_open(t)`: `t` if it is within hours, else the next opening (None if the calendar never opens).

`CONTINUOUS` is calendar time (7×24, no holidays): the same arithmetic gives plain timedelta results.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Window = tuple[int, int]  # [start, end) minutes of the local day
DayHours = tuple[Window, ...]
SHANGHAI = "Asia/Shanghai"
# How far a search walks before it decides the calendar never opens (ten years of days).
MAX_DAYS = 3660


class CalendarError(ValueError):
    """A calendar that cannot be used: overlapping or out-of-range hours, or one that never opens."""


def _check_hours(hours: DayHours, what: str) -> None:
    last = 0
    for start, end in hours:
        if not (0 <= start < end <= 1440):
            raise CalendarError(f"{what}: hours {start}-{end} are not within a day")
        if start < last:
            raise CalendarError(f"{what}: hours overlap or are out of order")
        last = end


@dataclass(frozen=True)
class WorkCalendar:
    weekly: tuple[DayHours, ...]  # Monday .. Sunday
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # make-up working days (调休上班)
    makeup_hours: DayHours | None = None
    zone: str = SHANGHAI
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise CalendarError("a week has 7 days of hours (Monday first)")
        for i, h in enumerate(self.weekly):
            _check_hours(h, f"weekday {i}")
        if self.makeup_hours is not None:
            _check_hours(self.makeup_hours, "make-up days")
        try:
            object.__setattr__(self, "_tz", ZoneInfo(self.zone))
        except (KeyError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {self.zone!r}") from exc

    # ---- days -------------------------------------------------------------------------------

    def hours_on(self, day: date) -> DayHours:
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.makeup_hours if self.makeup_hours is not None else self.weekly[0]
        return self.weekly[day.weekday()]

    def is_working_day(self, day: date) -> bool:
        return bool(self.hours_on(day))

    def local_day(self, t: datetime) -> date:
        return _aware(t).astimezone(self._tz).date()

    def _instant(self, day: date, minute: int) -> datetime:
        # The wall-clock minute of that local day, localised (a daylight-saving day keeps its wall times).
        wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
        return wall.replace(tzinfo=self._tz).astimezone(UTC)

    def windows(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The working windows of a local day as UTC instants."""
        for start, end in self.hours_on(day):
            yield self._instant(day, start), self._instant(day, end)

    # ---- arithmetic -------------------------------------------------------------------------

    def working_seconds(self, a: datetime, b: datetime) -> float:
        a, b = _aware(a), _aware(b)
        if b <= a:
            return 0.0
        total = 0.0
        day, last = self.local_day(a), self.local_day(b)
        while day <= last:
            for ws, we in self.windows(day):
                lo, hi = max(ws, a), min(we, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add_working(self, start: datetime, seconds: float) -> datetime:
        start = _aware(start)
        if seconds < 0:
            raise CalendarError("working time to add cannot be negative")
        if seconds == 0:
            return start
        remaining = seconds
        day = self.local_day(start)
        for _ in range(MAX_DAYS):
            for ws, we in self.windows(day):
                lo = max(ws, start)
                if we <= lo:
                    continue
                span = (we - lo).total_seconds()
                if remaining <= span:
                    return lo + timedelta(seconds=remaining)
                remaining -= span
            day += timedelta(days=1)
        raise CalendarError("the calendar has no working time within ten years")

    def next_open(self, t: datetime) -> datetime | None:
        t = _aware(t)
        day = self.local_day(t)
        for _ in range(MAX_DAYS):
            for ws, we in self.windows(day):
                if we > t:
                    return max(ws, t)
            day += timedelta(days=1)
        return None

    def is_open(self, t: datetime) -> bool:
        return self.next_open(t) == _aware(t)

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The end (next local midnight) of the n-th working day after start's local day; n=0: end of that day."""
        if n < 0:
            raise CalendarError("working days to add cannot be negative")
        day = self.local_day(start)
        counted = 0
        for _ in range(MAX_DAYS):
            if counted == n:
                return self._instant(day, 1440)
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        raise CalendarError("the calendar has no working days within ten years")

    def working_days_between(self, first: date, last: date) -> int:
        """Working days in [first, last]."""
        n, day = 0, first
        while day <= last:
            n += self.is_working_day(day)
            day += timedelta(days=1)
        return n


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise CalendarError("times must be timezone-aware (kefu stores UTC)")
    return t


def hours(*spans: str) -> DayHours:
    """`hours("09:00-12:00", "13:30-18:00")` -> ((540, 720), (810, 1080)); "00:00-24:00" is the whole day."""
    out = []
    for span in spans:
        out.append(parse_window(span))
    return tuple(out)


def parse_window(span: str) -> Window:
    try:
        a, b = span.strip().split("-")
        start, end = _minute(a), _minute(b)
    except ValueError as exc:
        raise CalendarError(f"hours {span!r} are not HH:MM-HH:MM") from exc
    if not start < end:
        raise CalendarError(f"hours {span!r} end before they start")
    return start, end


def _minute(hhmm: str) -> int:
    h, m = hhmm.strip().split(":")
    hh, mm = int(h), int(m)
    if not (0 <= hh <= 24 and 0 <= mm < 60) or (hh == 24 and mm):
        raise ValueError(hhmm)
    return hh * 60 + mm


def format_hours(day: DayHours) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in day)


ALL_DAY: DayHours = ((0, 1440),)
CONTINUOUS = WorkCalendar(weekly=(ALL_DAY,) * 7)


def with_days(base: WorkCalendar, days: Mapping[date, str]) -> WorkCalendar:
    """`base` with special days applied: kind "holiday" (off) or "workday" (worked, make-up hours)."""
    holidays = {d for d, k in days.items() if k == "holiday"}
    workdays = {d for d, k in days.items() if k == "workday"}
    return WorkCalendar(weekly=base.weekly, holidays=frozenset(holidays), workdays=frozenset(workdays),
                        makeup_hours=base.makeup_hours, zone=base.zone)


def office_calendar(days: Mapping[date, str] | None = None, *,
                    day_hours: DayHours = ((540, 720), (810, 1080)), zone: str = SHANGHAI) -> WorkCalendar:
    """Monday to Friday within `day_hours` (9:00-12:00, 13:30-18:00 by default) with the special days."""
    base = WorkCalendar(weekly=(day_hours,) * 5 + ((), ()), makeup_hours=day_hours, zone=zone)
    return with_days(base, days or {})
