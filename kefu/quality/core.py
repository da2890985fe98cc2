"""Quality inspection's pure core: scoring a contact on a scorecard, and choosing the contacts to inspect.

Scoring: each item has a weight (the weights need not sum to 100; the total is scaled to 0-100) and marks from
0 to its `max_marks`; a `critical` item marked 0 (an identity check skipped, a forbidden promise) fails the
whole contact: total 0. Sampling: every complaint, every unsatisfied survey answer, and a random `share` of the
remaining contacts of each agent (at least one per agent who had any), reproducible from a seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


class ScoringError(ValueError):
    pass


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    weight: float
    max_marks: int = 5
    critical: bool = False


DEFAULT_ITEMS: tuple[Item, ...] = (
    Item("greeting", "规范问候", 10),
    Item("identity", "身份核实", 15, critical=True),
    Item("script", "口径正确", 25, critical=True),
    Item("solution", "问题解决", 30),
    Item("empathy", "服务态度与共情", 10),
    Item("closing", "规范结束语", 10),
)


def check_items(items: Sequence[Item]) -> None:
    if not items:
        raise ScoringError("a scorecard has at least one item")
    keys = [i.key for i in items]
    if len(set(keys)) != len(keys):
        raise ScoringError("item keys repeat")
    for i in items:
        if i.weight <= 0 or i.max_marks < 1:
            raise ScoringError(f"item {i.key}: the weight and the maximum marks are positive")


def score(items: Sequence[Item], marks: Mapping[str, int]) -> float:
    """The weighted total, 0-100 (rounded to 0.1); every item must be marked within its range."""
    check_items(items)
    unknown = set(marks) - {i.key for i in items}
    if unknown:
        raise ScoringError(f"unknown items: {', '.join(sorted(unknown))}")
    total_weight = sum(i.weight for i in items)
    total = 0.0
    for i in items:
        if i.key not in marks:
            raise ScoringError(f"item {i.key} is not marked")
        m = marks[i.key]
        if not 0 <= m <= i.max_marks:
            raise ScoringError(f"item {i.key}: marks are 0 to {i.max_marks}")
        if i.critical and m == 0:
            return 0.0
        total += i.weight * m / i.max_marks
    return round(100 * total / total_weight, 1)


@dataclass(frozen=True)
class Contact:
    id: int
    agent_id: int | None
    complaint: bool = False
    unsatisfied: bool = False


def sample(contacts: Iterable[Contact], *, share: float, seed: int) -> dict[int, str]:
    """Contact id -> why it is inspected ("complaint", "low_csat", "random")."""
    if not 0 <= share <= 1:
        raise ScoringError("the sampling share is 0 to 1")
    chosen: dict[int, str] = {}
    rest: dict[int | None, list[int]] = {}
    for c in sorted(contacts, key=lambda c: c.id):
        if c.complaint:
            chosen[c.id] = "complaint"
        elif c.unsatisfied:
            chosen[c.id] = "low_csat"
        else:
            rest.setdefault(c.agent_id, []).append(c.id)
    rng = random.Random(seed)
    for agent in sorted(rest, key=lambda a: (a is None, a or 0)):
        ids = rest[agent]
        n = min(len(ids), math.ceil(share * len(ids))) if share > 0 else 0
        for cid in rng.sample(ids, n):
            chosen[cid] = "random"
    return chosen


@dataclass(frozen=True)
class Calibration:
    inspector_id: int
    scored: int
    mean: float
    deviation: float  # this inspector's mean minus the mean over every scored contact
    appealed: int
    revised: int


def calibration(scores: Iterable[tuple[int, float, bool, bool]]) -> list[Calibration]:
    """Calibration across inspectors from (inspector id, total, appealed, revised on appeal) per scored contact:
    how many each scored, their mean, how far it is from everyone's mean, and how often an appeal changed it."""
    rows = list(scores)
    if not rows:
        return []
    overall = sum(r[1] for r in rows) / len(rows)
    by: dict[int, list[tuple[int, float, bool, bool]]] = {}
    for r in rows:
        by.setdefault(r[0], []).append(r)
    out = []
    for inspector, mine in sorted(by.items()):
        mean = sum(r[1] for r in mine) / len(mine)
        out.append(Calibration(inspector, len(mine), round(mean, 1), round(mean - overall, 1),
                               sum(1 for r in mine if r[2]), sum(1 for r in mine if r[3])))
    return out
