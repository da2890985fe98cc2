"""Networked vs linear handling (pure): time to resolution of tickets resolved with consults (the owner pulled
support in at once, 会商) against tickets handed on step by step (reassigned or transferred, no consult).

A resolved ticket is `networked` when at least one consult was asked on it before it was resolved; `linear`
when it had no consult and was handed on at least once (a reassignment from one person to another, or a
transfer to a queue); `direct` otherwise (one handler, nothing asked: the reference of simple cases). Times are
calendar hours from opening to resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

GROUPS = ("networked", "linear", "direct")


@dataclass(frozen=True)
class Handled:
    ticket_id: int
    hours: float
    consults: int
    handovers: int


def group_of(h: Handled) -> str:
    if h.consults > 0:
        return "networked"
    return "linear" if h.handovers > 0 else "direct"


def _quantile(sorted_values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation between closest ranks."""
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True)
class GroupStats:
    group: str
    tickets: int
    median_hours: float | None
    mean_hours: float | None
    p90_hours: float | None
    mean_handovers: float | None
    mean_consults: float | None


@dataclass(frozen=True)
class Comparison:
    groups: tuple[GroupStats, ...]
    # median time to resolution of networked tickets over that of linear ones (< 1: networked is faster)
    median_ratio: float | None


def compare(rows: Iterable[Handled]) -> Comparison:
    by: dict[str, list[Handled]] = {g: [] for g in GROUPS}
    for h in rows:
        by[group_of(h)].append(h)
    stats = []
    for g in GROUPS:
        hs = by[g]
        times = sorted(h.hours for h in hs)
        n = len(hs)
        stats.append(GroupStats(
            group=g, tickets=n, median_hours=round(_quantile(times, 0.5), 2) if n else None,
            mean_hours=round(sum(times) / n, 2) if n else None,
            p90_hours=round(_quantile(times, 0.9), 2) if n else None,
            mean_handovers=round(sum(h.handovers for h in hs) / n, 2) if n else None,
            mean_consults=round(sum(h.consults for h in hs) / n, 2) if n else None))
    net, lin = stats[0].median_hours, stats[1].median_hours
    ratio = round(net / lin, 3) if net is not None and lin else None
    return Comparison(tuple(stats), ratio)
