"""Staffing a 96-interval day at peak loads of 500 and 20,000 Erlangs: kefu vs pyworkforce.

Run: python benchmarks/workforce_staffing.py
pyworkforce (optional, not a kefu dependency) is compared when importable; it only has Erlang C.
Each disagreement is settled with kefu's exact Erlang C: the right answer is the least n meeting the target.
"""

from __future__ import annotations

import math
import time
from typing import Any

from kefu.workforce.erlang import erlang_c
from kefu.workforce.staffing import StaffingTarget, staff_day

try:
    from pyworkforce.queuing import ErlangC as PyworkforceErlangC
except ImportError:  # pragma: no cover - optional comparison
    PyworkforceErlangC = None

INTERVAL_MIN = 15
AHT = 300.0
PATIENCE = 180.0
TARGETS = [(0.8, 20.0), (0.3, 20.0)]  # (service level, seconds)


def day_profile(peak_erlangs: float) -> list[tuple[float, float]]:
    """96 quarter-hours, load peak x (0.15 + 0.85 sin^2) tilted, as (calls in the interval, aht)."""
    shape = [(0.15 + 0.85 * math.sin(math.pi * k / 96) ** 2) * (0.9 + 0.1 * k / 95) for k in range(96)]
    loads = [peak_erlangs * s / max(shape) for s in shape]  # asymmetric: no two intervals alike
    return [(load * INTERVAL_MIN * 60 / AHT, AHT) for load in loads]


def pyworkforce_day(day: list[tuple[float, float]], level: float, seconds: float) -> list[int]:
    assert PyworkforceErlangC is not None
    out = []
    for calls, aht in day:
        model: Any = PyworkforceErlangC(transactions=calls, aht=aht / 60, asa=seconds / 60,
                                        interval=INTERVAL_MIN)
        out.append(int(model.required_positions(service_level=level)["raw_positions"]))
    return out


def judge(day: list[tuple[float, float]], ours: list[int], theirs: list[int], level: float,
          seconds: float) -> list[str]:
    """Who is right where the two disagree: n is right if SL(n) >= target > SL(n-1) (exact Erlang C)."""
    notes = []
    for k, ((calls, aht), a, b) in enumerate(zip(day, ours, theirs, strict=True)):
        if a == b:
            continue
        rate = calls / (INTERVAL_MIN * 60)

        def sl(n: int, rate: float = rate, aht: float = aht) -> float:
            return erlang_c(n, rate, aht, seconds).service_level if n > rate * aht else 0.0

        def right(n: int) -> bool:
            return sl(n) >= level > sl(n - 1)

        notes.append(f"    interval {k}: load {rate * aht:.2f} Erl, kefu {a} (SL {sl(a):.5f}, "
                     f"right={right(a)}), pyworkforce {b} (SL {sl(b):.5f}, right={right(b)})")
    return notes


def timed(fn: Any, *args: Any, repeat: int = 1, **kwargs: Any) -> tuple[Any, float]:
    """Result and best wall time of ``repeat`` runs."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return result, best


def main() -> None:
    for level, seconds in TARGETS:
        for peak in (500.0, 20_000.0):
            run(peak, level, seconds)


def run(peak: float, level: float, seconds: float) -> None:
    target = StaffingTarget(service_level=level, target_time=seconds)
    day = day_profile(peak)
    width = INTERVAL_MIN * 60
    erlang_c_agents, t_c = timed(staff_day, day, width, target, repeat=5)
    erlang_a_agents, t_a = timed(staff_day, day, width, target, patience=PATIENCE, repeat=5)
    print(f"peak {peak:,.0f} Erlangs, 96 x 15 min, AHT {AHT:.0f} s, target {level:.0%} in {seconds:.0f} s, "
          f"patience {PATIENCE:.0f} s")
    print(f"  kefu Erlang C: peak agents {max(erlang_c_agents)}, agent-intervals {sum(erlang_c_agents)}, "
          f"{t_c * 1000:.1f} ms")
    print(f"  kefu Erlang A: peak agents {max(erlang_a_agents)}, agent-intervals {sum(erlang_a_agents)}, "
          f"{t_a * 1000:.1f} ms")
    if PyworkforceErlangC is None:
        print("  pyworkforce: not installed, column skipped")
        return
    theirs, t_p = timed(pyworkforce_day, day, level, seconds)
    differ = sum(a != b for a, b in zip(erlang_c_agents, theirs, strict=True))
    print(f"  pyworkforce Erlang C: peak agents {max(theirs)}, agent-intervals {sum(theirs)}, "
          f"{t_p * 1000:.1f} ms; kefu Erlang C is {t_p / t_c:.0f}x faster")
    print(f"  intervals where kefu and pyworkforce differ: {differ} of 96")
    for line in judge(day, erlang_c_agents, theirs, level, seconds)[:10]:
        print(line)


if __name__ == "__main__":
    main()
