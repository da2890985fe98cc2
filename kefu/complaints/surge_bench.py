"""`kefu bench surge`: the surge detector replayed hour by hour on the Comcast complaints of 2015 (the data-cap
wave of late June), against a naive daily rule measured in the same run: lead time before the peak and false
alarms per month."""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kefu.complaints.surge import SurgeConfig, scan

Echo = Callable[[str], None]
FILE = "complaints-comcast/Comcast_telecom_complaints_data.csv"
# An alert from two days before the busiest hour to a week after it belongs to the wave; any other is a
# false alarm (the source names the surge as 23-24 June: earlier rises of a few dozen a day count against us).
WAVE_BEFORE = timedelta(days=2)
WAVE_AFTER = timedelta(days=7)


def parse_when(date: str, clock: str) -> datetime:
    """The `Date` column is dd-mm-yy or yyyy-mm-dd (the ticket numbers confirm year-month-day; the derived
    `Date_month_year` swaps day and month on those rows), `Time` is h:mm:ss AM/PM."""
    parts = date.strip().split("-")
    if len(parts[0]) == 4:
        y, m, d = int(parts[0]), int(parts[1]), int(parts[2])
    else:
        d, m, y = int(parts[0]), int(parts[1]), 2000 + int(parts[2])
    hms, half = clock.strip().split()
    h, mi, sec = (int(x) for x in hms.split(":"))
    h = h % 12 + (12 if half.upper() == "PM" else 0)
    return datetime(y, m, d, h, mi, sec, tzinfo=UTC)


def load(data_dir: Path) -> list[tuple[datetime, str]]:
    with (data_dir / FILE).open(encoding="utf-8") as f:
        return [(parse_when(r["Date"], r["Time"]), r["Received Via"]) for r in csv.DictReader(f)]


def hourly(times: list[datetime]) -> tuple[datetime, list[int]]:
    start = min(times).replace(hour=0, minute=0, second=0)
    end = max(times)
    counts = [0] * (int((end - start).total_seconds() // 3600) + 1)
    for t in times:
        counts[int((t - start).total_seconds() // 3600)] += 1
    return start, counts


@dataclass(frozen=True)
class Outcome:
    first_alert: datetime | None
    lead_hours: float | None
    false_alarms: int
    months: float


def outcome(alerts: list[datetime], peak: datetime, span_days: float) -> Outcome:
    near = [a for a in alerts if peak - WAVE_BEFORE <= a <= peak + WAVE_AFTER]
    first = min(near) if near else None
    return Outcome(first, (peak - first).total_seconds() / 3600 if first else None,
                   len(alerts) - len(near), span_days / 30.44)


def naive_daily(times: list[datetime], ratio: float = 3.0, days: int = 28) -> list[datetime]:
    """The reference: a day is a surge when its count exceeds `ratio` times the mean of the previous `days`
    days (known at midnight, the end of the day)."""
    per_day = Counter(t.date() for t in times)
    first, last = min(per_day), max(per_day)
    out = []
    d = first + timedelta(days=days)
    while d <= last:
        prev = [per_day.get(d - timedelta(days=i), 0) for i in range(1, days + 1)]
        mean = sum(prev) / days
        if per_day.get(d, 0) >= 10 and per_day.get(d, 0) > ratio * max(mean, 0.1):
            out.append(datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1))
        d += timedelta(days=1)
    return out


def run(data_dir: Path | None, echo: Echo, config: SurgeConfig = SurgeConfig()) -> bool:
    from kefu.complaints.training import default_data_dir

    data_dir = data_dir or default_data_dir()
    if data_dir is None or not (data_dir / FILE).is_file():
        echo(f"skipped: no {FILE} under ../shared/data (pass --data)")
        return False
    rows = load(data_dir)
    times = [t for t, _ in rows]
    start, counts = hourly(times)
    span_days = len(counts) / 24
    peak_hour = max(range(len(counts)), key=lambda i: counts[i])
    peak = start + timedelta(hours=peak_hour + 1)
    per_day = Counter(t.date() for t in times)
    echo(f"{len(rows)} complaints, {start.date()} to {max(times).date()}; busiest hour ends {peak:%Y-%m-%d %H:%M} "
         f"({counts[peak_hour]} complaints), busiest day {max(per_day, key=lambda d: per_day[d])} "
         f"({max(per_day.values())})")
    echo(f"detector: window {config.window_hours} h, baseline {config.history_days} days by hour of week, "
         f">= {config.min_count} and >= {config.min_ratio}x expected, Poisson p < {config.alpha}, quiet "
         f"{config.suppress_hours} h after an alert")
    for name, subset in (("all channels", times),
                         *((ch, [t for t, c in rows if c == ch]) for ch in sorted({c for _, c in rows}))):
        s, c = hourly(subset)
        t0 = time.perf_counter()
        alerts = [a.at for a in scan(c, s, config)]
        took = time.perf_counter() - t0
        o = outcome(alerts, peak, span_days)
        ref = outcome(naive_daily(subset), peak, span_days)
        lead = f"{o.lead_hours:.1f} h before the peak (first alert {o.first_alert:%m-%d %H:%M})" if o.first_alert \
            else "missed"
        ref_lead = f"{ref.lead_hours:.1f} h" if ref.lead_hours is not None else "missed"
        echo(f"{name:<20} alerts {len(alerts):>3}: {lead}; false alarms {o.false_alarms} "
             f"({o.false_alarms / o.months:.2f}/month) | naive daily rule: {ref_lead}, false alarms "
             f"{ref.false_alarms} ({ref.false_alarms / ref.months:.2f}/month) | {len(c)} hours in {took:.2f} s")
        echo("  alerts at " + ", ".join(f"{a:%m-%d %H:%M}" for a in alerts))
    return True
