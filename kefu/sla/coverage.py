"""7×24 coverage: how many of a week's 168 hours a channel × service is staffed or self-served, and the gaps.
Pure: calendars and the week come in.

A key (a channel, or a channel × service) may be served by several calendars (a human queue 8:00-22:00 and
the self-service IVR 7×24): its coverage is the union of their working windows over the local week that
starts on `monday` (a date, in each calendar's zone), and its gaps are the rest of the week.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kefu.sla.calendar import WorkCalendar

WEEK_SECONDS = 7 * 24 * 3600.0

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class CoverageRow:
    key: str
    covered_seconds: float
    gaps: tuple[Span, ...]

    @property
    def ratio(self) -> float:
        return self.covered_seconds / WEEK_SECONDS

    @property
    def full(self) -> bool:
        return not self.gaps


def week_bounds(monday: date, zone: str = "Asia/Shanghai") -> Span:
    tz = ZoneInfo(zone)
    start = datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def union(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def windows_in(cal: WorkCalendar, start: datetime, end: datetime) -> list[Span]:
    spans = []
    day = cal.local_day(start) - timedelta(days=1)
    last = cal.local_day(end)
    while day <= last:
        for ws, we in cal.windows(day):
            lo, hi = max(ws, start), min(we, end)
            if hi > lo:
                spans.append((lo, hi))
        day += timedelta(days=1)
    return spans


def coverage(served: Mapping[str, Iterable[WorkCalendar]], monday: date, *, zone: str = "Asia/Shanghai"
             ) -> list[CoverageRow]:
    start, end = week_bounds(monday, zone)
    rows = []
    for key, cals in served.items():
        covered = union(s for cal in cals for s in windows_in(cal, start, end))
        gaps, at = [], start
        for a, b in covered:
            if a > at:
                gaps.append((at, a))
            at = max(at, b)
        if at < end:
            gaps.append((at, end))
        rows.append(CoverageRow(key, sum((b - a).total_seconds() for a, b in covered), tuple(gaps)))
    return rows
