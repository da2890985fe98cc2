"""Fewest agents that meet a service target, under Erlang C or Erlang A; shrinkage; a day of intervals.

Search: start from the square-root staffing estimate n0 = a + beta sqrt(a), with beta from the
Halfin-Whitt approximation P(W>0) ~ [1 + beta Phi(beta)/phi(beta)]^-1 (Erlang C), or the
Garnett-Mandelbaum-Reiman one P(W>0) ~ [1 + h(beta r)/(r h(-beta))]^-1, r = sqrt(patience/aht),
h = phi/(1-Phi) (Erlang A); then evaluate the exact formula, step down while the target still holds,
or gallop up (1, 2, 4, ... agents) and bisect. Every measure is monotone in n, so this finds the least n.
A target that no finite n meets (an ASA of 0, an abandonment cap of 0) is refused before searching,
and the gallop stops at a hard ceiling, so the search always ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from scipy import optimize, special

from kefu.workforce.erlang import (
    AbandonPolicy,
    ErlangAMetrics,
    ErlangCMetrics,
    check_fraction,
    check_positive,
    erlang_a,
    erlang_c,
)
from kefu.workforce.errors import WorkforceInputError

Metrics = ErlangCMetrics | ErlangAMetrics


@dataclass(frozen=True, slots=True)
class StaffingTarget:
    """Combined constraints; every one given must hold. Times in seconds, shares in (0, 1).

    ``max_asa`` bounds the average speed of answer (mean wait of answered calls; under Erlang C all are).
    ``max_abandon`` needs a patience (Erlang A).
    """

    service_level: float | None = None
    target_time: float = 20.0
    max_asa: float | None = None
    max_abandon: float | None = None
    max_occupancy: float | None = None
    policy: AbandonPolicy = AbandonPolicy.AGAINST
    short_abandon_time: float = 0.0

    def validate(self, *, erlang_a_model: bool) -> None:
        """Refuse targets outside their range and targets no finite staffing meets."""
        if all(v is None for v in (self.service_level, self.max_asa, self.max_abandon, self.max_occupancy)):
            raise WorkforceInputError("give at least one target: service_level, max_asa, max_abandon "
                                      "or max_occupancy")
        if self.service_level is not None:
            check_fraction("service_level target", self.service_level)
        if not (math.isfinite(self.target_time) and self.target_time >= 0):
            raise WorkforceInputError(f"target_time must be >= 0 seconds, got {self.target_time!r}")
        if self.max_asa is not None:
            check_positive("max_asa (an ASA of 0 is unreachable: some calls always wait)", self.max_asa)
        if self.max_abandon is not None:
            if not erlang_a_model:
                raise WorkforceInputError("max_abandon needs a patience (Erlang A); Erlang C has no abandons")
            check_fraction("max_abandon (0 is unreachable with finite patience)", self.max_abandon)
        if self.max_occupancy is not None and not (0 < self.max_occupancy <= 1):
            raise WorkforceInputError(f"max_occupancy must lie in (0, 1], got {self.max_occupancy!r}")

    def met_by(self, m: Metrics) -> bool:
        """True when the measures ``m`` satisfy every constraint."""
        if self.service_level is not None and m.service_level < self.service_level:
            return False
        if self.max_asa is not None and (m.asa is None or m.asa > self.max_asa):
            return False
        if self.max_abandon is not None and isinstance(m, ErlangAMetrics) and m.p_abandon > self.max_abandon:
            return False
        return not (self.max_occupancy is not None and m.occupancy > self.max_occupancy)


@dataclass(frozen=True, slots=True)
class StaffingResult:
    agents: int
    metrics: Metrics


def _evaluator(arrival_rate: float, aht: float, target: StaffingTarget,
               patience: float | None) -> Callable[[int], Metrics]:
    if patience is None:
        return lambda n: erlang_c(n, arrival_rate, aht, target.target_time)
    return lambda n: erlang_a(n, arrival_rate, aht, patience, target.target_time,
                              policy=target.policy, short_abandon_time=target.short_abandon_time,
                              with_asa=target.max_asa is not None)


# ---------------------------------------------------------------- square-root estimates


def halfin_whitt_p_wait(beta: float) -> float:
    """Halfin-Whitt: the probability an offered call waits at all in M/M/n staffed n = a + beta sqrt(a),
    [1 + beta Phi(beta)/phi(beta)]^-1 (beta > 0), with Phi/phi as erfcx for stability."""
    if not (math.isfinite(beta) and beta > 0):
        raise WorkforceInputError(f"beta must be > 0 under Erlang C (no patience), got {beta!r}")
    ratio = math.sqrt(math.pi / 2) * float(special.erfcx(-beta / math.sqrt(2)))  # Phi(b)/phi(b)
    return 1.0 / (1.0 + beta * ratio)


def gmr_p_wait(beta: float, r: float) -> float:
    """Garnett-Mandelbaum-Reiman: the probability an offered call waits at all in M/M/n+M staffed
    n = a + beta sqrt(a), [1 + h(beta r) / (r h(-beta))]^-1, h the normal hazard rate and
    r = sqrt(mean patience / AHT) (any real beta: with abandonment a centre may be under-staffed)."""
    if not (math.isfinite(beta) and math.isfinite(r) and r > 0):
        raise WorkforceInputError(f"need a finite beta and r = sqrt(patience / aht) > 0, got {beta!r}, {r!r}")
    def hazard(z: float) -> float:
        return 1.0 / (math.sqrt(math.pi / 2) * float(special.erfcx(z / math.sqrt(2))))
    return 1.0 / (1.0 + hazard(beta * r) / (r * hazard(-beta)))


def square_root_beta(load: float, aht: float, target: StaffingTarget, patience: float | None = None) -> float:
    """The square-root staffing beta of a target: the least beta in the diffusion approximation
    (Halfin-Whitt without patience, Garnett-Mandelbaum-Reiman with it) whose n = a + beta sqrt(a)
    meets the service level, read as 1 - P(W>0) exp(-beta sqrt(a) T / aht) >= SL, and the ASA bound,
    read as P(W>0) aht / (beta sqrt(a)) <= ASA; searched in [lowest, 30]."""
    check_positive("load", load)
    check_positive("aht", aht)
    if patience is not None:
        check_positive("patience", patience)
    root = math.sqrt(load)

    def p_wait(beta: float) -> float:
        if patience is None:
            return halfin_whitt_p_wait(beta)
        return gmr_p_wait(beta, math.sqrt(patience / aht))

    lowest = 1e-9 if patience is None else -10.0
    betas = [lowest]
    if target.service_level is not None:
        need = 1.0 - target.service_level
        time_ratio = target.target_time / aht

        def sl_excess(b: float) -> float:
            return p_wait(b) * math.exp(min(700.0, -b * root * time_ratio)) - need

        betas.append(_solve_beta(sl_excess, lowest))
    if target.max_asa is not None:
        asa = target.max_asa
        betas.append(_solve_beta(lambda b: p_wait(b) * aht / (max(b, 1e-12) * root) - asa, 1e-9))
    return max(betas)


def square_root_estimate(load: float, aht: float, target: StaffingTarget, patience: float | None) -> int:
    """Square-root staffing n0 = a + beta sqrt(a) with :func:`square_root_beta`; an occupancy cap adds
    n >= a / cap. Only a starting point for the exact search."""
    n0 = load + square_root_beta(load, aht, target, patience) * math.sqrt(load)
    if target.max_occupancy is not None:
        n0 = max(n0, load / target.max_occupancy)
    return max(1, math.ceil(n0))


def _solve_beta(excess: Callable[[float], float], low: float) -> float:
    """Least beta in [low, 30] with excess(beta) <= 0 (excess falls with beta)."""
    high = 30.0
    if excess(low) <= 0:
        return low
    if excess(high) > 0:
        return high
    return float(optimize.brentq(excess, low, high, xtol=1e-6))


# ---------------------------------------------------------------- exact search


def required_agents(
    arrival_rate: float,
    aht: float,
    target: StaffingTarget,
    *,
    patience: float | None = None,
    start: int | None = None,
) -> StaffingResult:
    """Fewest agents meeting ``target`` (Erlang C, or Erlang A when ``patience`` is given).

    ``start`` overrides the square-root estimate as the first guess (e.g. the previous interval's answer).
    """
    check_positive("arrival_rate", arrival_rate)
    check_positive("aht", aht)
    if patience is not None:
        check_positive("patience", patience)
    target.validate(erlang_a_model=patience is not None)
    load = arrival_rate * aht
    floor = math.floor(load) + 1 if patience is None else 1  # Erlang C needs n > a
    evaluate = _evaluator(arrival_rate, aht, target, patience)
    n = max(floor, start if start is not None else square_root_estimate(load, aht, target, patience))
    ceiling = _ceiling(load)
    memo: dict[int, Metrics] = {}

    def ok(k: int) -> bool:
        if k not in memo:
            memo[k] = evaluate(k)
        return target.met_by(memo[k])

    if ok(n):
        while n > floor and ok(n - 1):
            n -= 1
        return StaffingResult(n, memo[n])
    low, step = n, 1
    while True:  # gallop: low fails, find a high that meets
        high = min(low + step, ceiling)
        if ok(high):
            break
        if high >= ceiling:
            raise WorkforceInputError(
                f"target not reachable with up to {ceiling} agents at {load:.6g} Erlangs")
        low, step = high, step * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return StaffingResult(high, memo[high])


def _ceiling(load: float) -> int:
    """Hard bound on the search: far above any sensible staffing for the load."""
    return math.ceil(10 * load + 200 * math.sqrt(load) + 10_000)


# ---------------------------------------------------------------- shrinkage


def _exact_fraction(value: Fraction | Decimal | int | float | str) -> Fraction:
    """Exact rational of a share; a float is read through its shortest decimal form (0.3 -> 3/10)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def scheduled_agents(required: int, shrinkage: Fraction | Decimal | int | float | str) -> int:
    """ceil(required / (1 - shrinkage)) in exact arithmetic: 14 agents at 30 % shrinkage give 20."""
    if isinstance(required, bool) or not isinstance(required, int) or required < 0:
        raise WorkforceInputError(f"required agents must be an integer >= 0, got {required!r}")
    s = _exact_fraction(shrinkage)
    if not (0 <= s < 1):
        raise WorkforceInputError(f"shrinkage must lie in [0, 1), got {shrinkage!r}")
    return math.ceil(required / (1 - s))  # Fraction division and Fraction.__ceil__ are exact


# ---------------------------------------------------------------- a day of intervals


def staff_day(
    intervals: Sequence[tuple[float, float]],
    interval_seconds: float,
    target: StaffingTarget,
    *,
    patience: float | None = None,
) -> list[int]:
    """Required agents per interval for ``intervals`` of (arrivals in the interval, aht seconds).

    An interval with no calls needs 0 agents. The previous interval's answer, scaled by the ratio of
    square-root estimates, seeds the next search, and identical intervals are answered from a cache.
    """
    check_positive("interval_seconds", interval_seconds)
    cache: dict[tuple[float, float], int] = {}
    answers: list[int] = []
    previous: tuple[int, int] | None = None  # (estimate, answer) of the previous interval
    for calls, aht in intervals:
        if calls < 0 or not math.isfinite(calls):
            raise WorkforceInputError(f"arrivals must be a finite number >= 0, got {calls!r}")
        if calls == 0:
            answers.append(0)
            continue
        key = (calls, aht)
        if key not in cache:
            rate = calls / interval_seconds
            check_positive("aht", aht)
            estimate = square_root_estimate(rate * aht, aht, target, patience)
            start = estimate if previous is None else estimate + (previous[1] - previous[0])
            cache[key] = required_agents(rate, aht, target, patience=patience, start=max(1, start)).agents
            previous = (estimate, cache[key])
        answers.append(cache[key])
    return answers
