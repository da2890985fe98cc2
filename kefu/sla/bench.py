"""`kefu bench sla`: the cost of business-time arithmetic, against plain `datetime + timedelta` in the same run.

What a scan pays per clock: a due time (add N working hours across holidays) and the used time (working
seconds between two instants). Inputs are random instants over 2025-2026 on the office calendar with China's
statutory days; the reference is calendar-time arithmetic on the same instants.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from kefu.sla import holidays_cn
from kefu.sla.calendar import office_calendar


def run(n: int, seed: int, echo: Callable[[str], None]) -> dict[str, float]:
    cal = office_calendar({d: k for d, (k, _) in holidays_cn.statutory_days().items()})
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    starts = [base + timedelta(seconds=rng.randrange(0, 700 * 86400)) for _ in range(n)]
    targets = [rng.choice((4, 8, 24, 15 * 8)) * 3600.0 for _ in range(n)]
    ends = [s + timedelta(days=rng.randrange(0, 20)) for s in starts]

    def timed(fn: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) / n * 1e6

    ref_add = timed(lambda: [s + timedelta(seconds=t) for s, t in zip(starts, targets, strict=True)])
    add = timed(lambda: [cal.add_working(s, t) for s, t in zip(starts, targets, strict=True)])
    ref_between = timed(lambda: [(e - s).total_seconds() for s, e in zip(starts, ends, strict=True)])
    between = timed(lambda: [cal.working_seconds(s, e) for s, e in zip(starts, ends, strict=True)])
    out = {"add_us": add, "add_ref_us": ref_add, "between_us": between, "between_ref_us": ref_between}
    echo(f"sla calendar arithmetic, {n} random clocks (targets 4 h to 15 working days, spans 0-19 days)")
    echo(f"  add working time : {add:8.1f} us/op   plain timedelta {ref_add:6.2f} us/op   ratio {add / ref_add:6.0f}x")
    echo(f"  working between  : {between:8.1f} us/op   plain timedelta {ref_between:6.2f} us/op   "
         f"ratio {between / ref_between:6.0f}x")
    echo(f"  10,000 clocks due in one scan: about {10_000 * (add + between) / 1e6:.2f} s of arithmetic")
    return out
