"""A small call log in the Technion "Anonymous Bank" format, made in the test, deterministic."""

from __future__ import annotations

import random
from datetime import date, timedelta

HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\t"
    "q_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)


def hms(seconds: int) -> str:
    if seconds is None or seconds == 0:
        return "0:00:00"
    seconds %= 86_400
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def row(
    call_id: int,
    day: date,
    vru_entry: int,
    *,
    outcome: str,
    queue: int | None = None,
    service: int = 0,
    server: str = "NO_SERVER",
    line: str = "AA0101",
    vru: int = 6,
) -> str:
    """One consistent row: VRU for ``vru`` s, then (if ``queue`` is not None) ``queue`` s in the queue, then
    ``service`` s with an agent (AGENT) — an answered call's q_time equals service start - queue start."""
    vru_exit = vru_entry + vru
    q_start = q_exit = ser_start = ser_exit = 0
    q_time = 0
    if queue is not None:
        q_start, q_time = vru_exit, queue
        q_exit = q_start + queue
    if outcome == "AGENT":
        ser_start = q_exit if queue is not None else vru_exit
        ser_exit = ser_start + service
    return "\t".join(
        [
            line,
            str(call_id),
            "0",
            "2",
            "PS",
            day.strftime("%y%m%d"),
            hms(vru_entry),
            hms(vru_exit),
            str(vru),
            hms(q_start),
            hms(q_exit),
            str(q_time),
            outcome,
            hms(ser_start),
            hms(ser_exit),
            str(service if outcome == "AGENT" else 0),
            server if outcome == "AGENT" else "NO_SERVER",
        ]
    )


def make_log(
    first: date, days: int, *, per_hour: int = 12, seed: int = 1, open_hours: range = range(8, 18)
) -> list[str]:
    """``days`` days of calls between ``open_hours``: ~70 % answered after a short wait, ~15 % abandoned,
    ~15 % left in the VRU; more calls on Mondays and at 10:00-11:59."""
    rnd = random.Random(seed)
    lines = [HEADER]
    call_id = 10_000
    for k in range(days):
        day = first + timedelta(days=k)
        for hour in open_hours:
            n = per_hour + (6 if hour in (10, 11) else 0) + (4 if day.weekday() == 0 else 0)
            for _ in range(n):
                call_id += 1
                t = hour * 3600 + rnd.randrange(3600 - 400)
                u = rnd.random()
                if u < 0.70:
                    lines.append(
                        row(
                            call_id,
                            day,
                            t,
                            outcome="AGENT",
                            queue=rnd.choice([None, rnd.randint(1, 60)]),
                            service=rnd.randint(60, 400),
                            server=rnd.choice(["MICHAL", "BASCH", "ANAT"]),
                        )
                    )
                elif u < 0.85:
                    lines.append(row(call_id, day, t, outcome="HANG", queue=rnd.randint(5, 200)))
                else:
                    lines.append(row(call_id, day, t, outcome="HANG"))
    return lines
