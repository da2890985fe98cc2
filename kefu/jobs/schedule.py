"""When periodic jobs are due (pure: time comes in as an argument). Cron expressions are read in UTC:
five fields (minute hour day month weekday), or six with seconds last (`* * * * * */5`)."""

from __future__ import annotations

import math

from croniter import croniter

#: A tick missed by more than this (no process was up) is skipped; the next one runs. Procrastinate's
#: periodic deferrer does the same, so both shapes behave alike.
MAX_DELAY = 600.0


def valid(cron: str) -> bool:
    return bool(croniter.is_valid(cron))


def due_ticks(cron: str, since: float | None, until: float, *, max_delay: float = MAX_DELAY) -> list[float]:
    """The ticks of `cron` (epoch seconds) in (since, until]. With no `since` (the runner just started):
    the latest tick at or before `until`, if it is at most `max_delay` old."""
    if since is None:
        last = float(croniter(cron, math.floor(until) + 1).get_prev(float))  # ticks are whole seconds
        return [last] if until - last <= max_delay else []
    it = croniter(cron, since)
    ticks = []
    while (t := float(it.get_next(float))) <= until:
        ticks.append(t)
    return ticks


def next_tick(cron: str, after: float) -> float:
    """The first tick of `cron` strictly after `after` (epoch seconds)."""
    return float(croniter(cron, after).get_next(float))
