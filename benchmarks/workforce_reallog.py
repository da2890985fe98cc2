"""The workforce core on the real Technion "Anonymous Bank" call log (Jan-Jul 1999).

Run: python benchmarks/workforce_reallog.py
1. Parse the seven months, report unreadable rows.
2. Forecast 30-min offered volumes for the last 4 weeks from the weeks before: WAPE of the seasonal
   model vs the seasonal-naive baseline.
3. Fit handle time (mean, lognormal) and patience (exponential MLE, Kaplan-Meier) on the weeks before.
4. For each held-out day, replay the day's calls (real arrival and service times) with the fitted
   exponential patience (30 replications, FIFO) under two staffing estimates from the log, which bracket
   the truth: "seen" = distinct agents serving in the interval (an upper bound: an agent who took one
   call counts fully) and "busy" = ceil(service seconds in the interval / interval) (a lower bound: the
   fewest agents that could do the work). Compare simulated with actual service level (answered within
   20 s / answered) and abandonment (abandoned / offered). Nothing is tuned to the data.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from kefu.workforce.forecast import evaluate_holdout, evaluate_rolling
from kefu.workforce.history import (
    CallRecord,
    agents_per_interval,
    arrivals_per_interval,
    busy_agents_per_interval,
    handle_time_fit,
    offered_calls,
    patience_fit,
    patience_sample,
    read_call_log,
)
from kefu.workforce.simulator import (
    CallClass,
    Distribution,
    ServiceTime,
    Staffing,
    replay_arrivals,
    replicate,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "callcenter-anonymous-bank"
HOLDOUT_WEEKS = 4
TARGET = 20.0
INTERVAL_MIN = 30


def actual_day(records: list[CallRecord]) -> tuple[float, float, int]:
    """(service level answered within T / answered, abandoned / offered, offered)."""
    offered = [r for r in offered_calls(records) if r.answered or r.abandoned]
    answered = [r for r in offered if r.answered]
    within = sum(1 for r in answered if r.q_time < TARGET)
    abandoned = sum(1 for r in offered if r.abandoned)
    return within / len(answered), abandoned / len(offered), len(offered)


def main() -> None:
    files = sorted(DATA.glob("0[1-7]_*.txt"))
    if not files:
        print(f"real call log not found under {DATA}; nothing to do")
        return
    start = time.perf_counter()
    parsed = read_call_log(files)
    elapsed = time.perf_counter() - start
    print(f"parsed {len(parsed.records):,} calls from {len(files)} files in {elapsed:.1f} s; "
          f"{len(parsed.issues)} rows unreadable")
    for issue in parsed.issues[:5]:
        print(f"  line {issue.line}: {issue.reason}")

    volumes = arrivals_per_interval(parsed.records, INTERVAL_MIN)
    last = max(volumes)
    cut = last - timedelta(days=7 * HOLDOUT_WEEKS - 1)
    holdout = sum(1 for d in volumes if d >= cut)
    score = evaluate_holdout(volumes, holdout)
    print(f"\nforecast of {INTERVAL_MIN}-min offered volumes, {score.days} held-out days ({cut} .. {last}):")
    print(f"  seasonal model (weekday level x weekday intraday profile) WAPE {score.model_wape:.3f}")
    print(f"  seasonal naive (same interval, latest same weekday)       WAPE {score.naive_wape:.3f}")
    rolling = evaluate_rolling(volumes, holdout)
    print("  rolling weekly origins (each held-out week forecast from all weeks before it):")
    print(f"    seasonal model WAPE {rolling.model_wape:.3f}; seasonal naive (one week earlier) WAPE "
          f"{rolling.naive_wape:.3f}")
    daily = {d: sum(v) for d, v in volumes.items() if d >= cut}
    per_day = statistics.mean(daily.values())
    print(f"  held-out offered calls: {sum(daily.values()):,} ({per_day:.0f} per day)")

    train = [r for r in parsed.records if r.day < cut]
    handle = handle_time_fit(train)
    patience = patience_fit(patience_sample(train))
    print(f"\nfitted on {len(train):,} calls before {cut}:")
    print(f"  handle time: mean {handle.mean:.1f} s; lognormal mu {handle.lognormal_mu:.3f} "
          f"sigma {handle.lognormal_sigma:.3f} (mean {handle.lognormal_mean:.1f} s)")
    print(f"  patience: {patience.abandons:,} abandons, {patience.censored:,} censored; exponential mean "
          f"{patience.exponential_mean:.1f} s; Kaplan-Meier S(30 s) {patience.km_at(30):.3f}, "
          f"S(60 s) {patience.km_at(60):.3f}, S(120 s) {patience.km_at(120):.3f}; "
          f"exponential S(60 s) {np.exp(-60 / patience.exponential_mean):.3f}")

    simulate_holdout(parsed.records, cut, handle.mean, handle.lognormal_sigma, patience.exponential_mean)


def simulate_day(rows: list[CallRecord], agents: list[int], classes: list[CallClass], seed: int) -> tuple[
        float, float, float, float]:
    """(SL, SL half-width, abandonment share, abandonment half-width) over 30 replications."""
    s = replicate(lambda rng: replay_arrivals(rng, rows, classes, lambda r: 0, replay_patience=False),
                  Staffing(agents, INTERVAL_MIN * 60.0), classes, replications=30, seed=seed,
                  target_time=TARGET)
    offered = s.served.mean + s.abandoned.mean
    sl_half = (s.service_level.high - s.service_level.low) / 2
    return (s.service_level.mean, sl_half, s.abandoned.mean / offered,
            (s.abandoned.high - s.abandoned.low) / 2 / offered)


def simulate_holdout(records: list[CallRecord], cut: date, mean_service: float, log_sigma: float,
                     mean_patience: float) -> None:
    by_day: dict[date, list[CallRecord]] = defaultdict(list)
    for r in records:
        if r.day >= cut:
            by_day[r.day].append(r)
    seen = agents_per_interval(records, INTERVAL_MIN)
    busy = busy_agents_per_interval(records, INTERVAL_MIN)
    classes = [CallClass("all", ServiceTime(mean_service, Distribution.LOGNORMAL, log_sigma), mean_patience)]
    print(f"\nsimulated vs actual per held-out day (30 replications, FIFO, patience exponential mean "
          f"{mean_patience:.0f} s; +- is the 95 % CI half-width; staffing 'seen' / 'busy', see docstring):")
    print("  day            calls seen-h busy-h | SL act  sim seen      sim busy     | aband act  sim seen"
          "      sim busy")
    totals: dict[str, float] = defaultdict(float)
    for day, rows in sorted(by_day.items()):
        if day not in seen:
            continue
        sl_actual, ab_actual, offered = actual_day(rows)
        hi = simulate_day(rows, seen[day], classes, day.toordinal())
        lo = simulate_day(rows, busy[day], classes, day.toordinal())
        seen_h, busy_h = sum(seen[day]) / 2, sum(busy[day]) / 2
        print(f"  {day} {day.strftime('%a')} {offered:5d} {seen_h:6.1f} {busy_h:6.1f} | "
              f"{sl_actual:.3f}  {hi[0]:.3f}+-{hi[1]:.3f}  {lo[0]:.3f}+-{lo[1]:.3f} | {ab_actual:.3f}      "
              f"{hi[2]:.3f}+-{hi[3]:.3f}  {lo[2]:.3f}+-{lo[3]:.3f}")
        for key, value in (("sl_act", sl_actual), ("sl_hi", hi[0]), ("sl_lo", lo[0]), ("ab_act", ab_actual),
                           ("ab_hi", hi[2]), ("ab_lo", lo[2])):
            totals[key] += value * offered
        totals["n"] += offered
    n = totals["n"]
    print(f"  call-weighted over the held-out days: SL actual {totals['sl_act'] / n:.3f}, simulated "
          f"{totals['sl_hi'] / n:.3f} (seen) / {totals['sl_lo'] / n:.3f} (busy); abandonment actual "
          f"{totals['ab_act'] / n:.3f}, simulated {totals['ab_hi'] / n:.3f} (seen) / "
          f"{totals['ab_lo'] / n:.3f} (busy)")


if __name__ == "__main__":
    main()
