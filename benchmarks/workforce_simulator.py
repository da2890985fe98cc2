"""Simulated calls per second of wall time (and per CPU second, steadier on a shared machine).

Run: python benchmarks/workforce_simulator.py
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from kefu.workforce.simulator import (
    CallClass,
    Distribution,
    FifoRouter,
    PriorityRouter,
    RouterFactory,
    ServiceTime,
    Staffing,
    poisson_arrivals,
    replicate,
)

DAY = 8 * 3600.0


def run(label: str, classes: Sequence[CallClass], rates: list[list[float]], staffing: Staffing,
        router: RouterFactory | None, replications: int) -> None:
    width = staffing.interval_seconds
    start, cpu = time.perf_counter(), time.process_time()
    s = replicate(lambda rng: poisson_arrivals(rng, classes, rates, width), staffing, classes,
                  replications=replications, seed=1, router=router)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    calls = sum(d.arrived for d in s.days)
    print(f"{label:<52} {calls:>10,} calls {elapsed:6.2f} s {calls / elapsed:>10,.0f} calls/s wall "
          f"{calls / cpu:>10,.0f} calls/CPU-s  SL {s.service_level.mean:.4f} "
          f"[{s.service_level.low:.4f}, {s.service_level.high:.4f}]")


def main() -> None:
    mmc = [CallClass("calls", ServiceTime(120.0), None)]
    mmcab = [CallClass("calls", ServiceTime(120.0), 60.0)]
    one = Staffing([12], DAY)
    run("MMC (12 agents, 8 h), fast FIFO path", mmc, [[4.2 / 60]], one, None, 1000)
    run("MMC, general engine + FIFO router", mmc, [[4.2 / 60]], one, FifoRouter, 1000)
    run("MMCAb (patience 1 min), fast FIFO path", mmcab, [[4.2 / 60]], one, None, 1000)
    run("MMCAb, general engine + FIFO router", mmcab, [[4.2 / 60]], one, FifoRouter, 1000)
    big = [CallClass("calls", ServiceTime(300.0, Distribution.LOGNORMAL, 0.9), 180.0, ivr_share=0.2)]
    rates = [[0.5 + 0.3 * (k % 8) / 8 for k in range(32)]]
    staffing = Staffing([150 + 10 * (k % 8) for k in range(32)], 900.0)
    run("large: ~150 agents, schedule, lognormal, IVR, fast path", big, rates, staffing, None, 30)
    run("large, general engine + FIFO router", big, rates, staffing, FifoRouter, 30)
    two = [CallClass("gold", ServiceTime(300.0), 180.0, priority=0),
           CallClass("basic", ServiceTime(300.0), 120.0, priority=1)]
    run("large, two classes, strict priority (general engine)", two, [rates[0], rates[0]],
        Staffing([300 + 20 * (k % 8) for k in range(32)], 900.0), PriorityRouter, 30)


if __name__ == "__main__":
    main()
