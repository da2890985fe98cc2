"""Erlang B, Erlang C and Erlang A (M/M/n+M) queueing formulas in log space; Cobham's priority-class waits.

Units: rates per second, times in seconds. ``load`` a = arrival_rate x aht, in Erlangs.

Erlang B (blocking, M/M/n/n):
    B(n, a) = (a^n / n!) / sum_{k<=n} a^k / k! = pmf_Poisson(n; a) / cdf_Poisson(n; a),
computed as exp(n log a - a - lgamma(n+1) - log Q(n+1, a)) with Q the regularised upper incomplete
gamma, falling back to the recursion 1/B(k) = 1 + (k/a) / B(k-1) where Q underflows (n far below a).

Erlang C (M/M/n, infinite patience):
    C(n, a) = n B / (n - a + a B)                        probability of waiting (1 when n <= a)
    SL(T)   = 1 - C exp(-(n - a) T / aht)                 share answered within T
    ASA     = C aht / (n - a)                             mean wait over all calls
    occupancy = a / n

Erlang A (M/M/n+M, exponential patience with mean 1/theta), after Garnett, Mandelbaum & Reiman (2002),
"Designing a call center with impatient customers", MSOM 4(3), and Mandelbaum & Zeltyn (2004), "The M/M/n+G
queue: summary of performance measures". With x = n mu / theta, y = lambda / theta and
gamma(x, y) the lower incomplete gamma function:
    S = x e^y y^-x gamma(x, y)           (= sum_j prod_{i<=j} lambda / (n mu + i theta), Palm's series)
    P(W > 0) = S B / (1 - B + S B)
    P(Ab)    = P(W > 0) (1 - 1/rho + 1/(rho S)),       rho = lambda / (n mu)
    mean wait of all calls = P(Ab) / theta             (Little's law on the queue, theta E[Q] = lambda P(Ab))
    P(V > t) = P(W > 0) gamma(x, y e^{-theta t}) / gamma(x, y)    (V: wait of a call with infinite patience)
    P(abandon within t) = P(W > 0) [1 - u P(x, yu)/P(x, y) - (x/y)(P(x+1, y) - P(x+1, yu))/P(x, y)],
        u = e^{-theta t}, P the regularised lower incomplete gamma (integral of theta e^{-theta s} P(V > s))
    P(answered within t) = 1 - P(abandon within t) - e^{-theta t} P(V > t)
    occupancy = lambda (1 - P(Ab)) aht / n
    ASA (mean wait of answered calls): a call finding j others queued has V = -log(U)/theta with
    U ~ Beta(x, j+1) and is answered with probability U, so
    E[V; answered | j] = x/(x+j+1) * sum_{k=1}^{j+1} 1/(x+k) / theta; summed over the queue seen on arrival,
    p_j / S with p_j = y^j Gamma(x+1) / Gamma(x+j+1), times P(W > 0), divided by 1 - P(Ab).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy import special

from kefu.workforce.errors import WorkforceInputError

_TINY = 1e-280


class AbandonPolicy(Enum):
    """How abandoned calls enter a service level (Cisco ICM "Service Level Type")."""

    IGNORED = "ignored"  # abandons within T leave numerator and denominator
    AGAINST = "against"  # abandons within T count as calls not answered in time
    FOR = "for"  # abandons within T count as calls answered in time
    SHORT_EXCLUDED = "short_excluded"  # abandons within a short threshold ignored, the others against


@dataclass(frozen=True, slots=True)
class ErlangCMetrics:
    agents: int
    load: float
    p_wait: float
    service_level: float
    asa: float  # mean wait over all calls, seconds (all calls are answered)
    occupancy: float


@dataclass(frozen=True, slots=True)
class ErlangAMetrics:
    agents: int
    load: float
    p_wait: float
    p_abandon: float
    service_level: float  # answered within T over all calls, unless a policy says otherwise
    mean_wait: float  # mean time in queue over all calls (answered and abandoned), seconds
    occupancy: float
    asa: float | None = None  # mean wait of answered calls, seconds; computed when asked (with_asa)


# ---------------------------------------------------------------- input checks


def check_positive(name: str, value: float) -> None:
    """Refuse a value that is not a finite number > 0."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise WorkforceInputError(f"{name} must be a finite number > 0, got {value!r}")


def check_fraction(name: str, value: float) -> None:
    """Refuse a target that is not strictly between 0 and 1."""
    if not (isinstance(value, int | float) and 0 < value < 1):
        raise WorkforceInputError(f"{name} must lie strictly between 0 and 1, got {value!r}")


def _check_agents(agents: int, minimum: int = 1) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < minimum:
        raise WorkforceInputError(f"agents must be an integer >= {minimum}, got {agents!r}")


def _check_time(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise WorkforceInputError(f"{name} must be a finite number >= 0 seconds, got {value!r}")


# ---------------------------------------------------------------- Erlang B


def log_erlang_b(agents: int, load: float) -> float:
    """log B(n, a), stable for n up to and beyond 10^5 and any load > 0."""
    _check_agents(agents, minimum=0)
    check_positive("load", load)
    if agents == 0:
        return 0.0
    q = float(special.gammaincc(agents + 1, load))
    if q > _TINY:
        return agents * math.log(load) - load - math.lgamma(agents + 1) - math.log(q)
    return -math.log(_inverse_erlang_b_recursive(agents, load))


def _inverse_erlang_b_recursive(agents: int, load: float) -> float:
    """1/B(n, a) by 1/B(k) = 1 + (k/a)/B(k-1); bounded by a/(a-n)+1 when n < a, where it is used."""
    inverse = 1.0
    for k in range(1, agents + 1):
        inverse = 1.0 + inverse * k / load
    return inverse


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of an M/M/n/n system with offered load ``load`` Erlangs."""
    return math.exp(log_erlang_b(agents, load))


# ---------------------------------------------------------------- Erlang C


def log_erlang_c(agents: int, load: float) -> float:
    """log C(n, a) = log n + log B - log(n - a + a B); 0 (certain wait) when n <= a."""
    if agents <= load:
        _check_agents(agents)
        return 0.0
    log_b = log_erlang_b(agents, load)
    return math.log(agents) + log_b - math.log(agents - load + load * math.exp(log_b))


def erlang_c(agents: int, arrival_rate: float, aht: float, target_time: float) -> ErlangCMetrics:
    """Erlang C measures for ``agents`` agents; service level within ``target_time`` seconds."""
    check_positive("arrival_rate", arrival_rate)
    check_positive("aht", aht)
    _check_time("target_time", target_time)
    _check_agents(agents)
    load = arrival_rate * aht
    if agents <= load:
        return ErlangCMetrics(agents, load, 1.0, 0.0, math.inf, 1.0)
    log_c = log_erlang_c(agents, load)
    decay = (agents - load) * target_time / aht
    return ErlangCMetrics(
        agents=agents,
        load=load,
        p_wait=math.exp(log_c),
        service_level=-math.expm1(log_c - decay),
        asa=math.exp(log_c) * aht / (agents - load),
        occupancy=load / agents,
    )


# ---------------------------------------------------------------- Erlang A


def _log_reg_lower_gamma(x: float, z: float) -> float:
    """log P(x, z), the regularised lower incomplete gamma, without underflow.

    Where scipy's P underflows (z well below x) use the series
    P(x, z) = z^x e^-z / Gamma(x+1) * sum_j z^j / ((x+1)...(x+j)), whose terms fall by z/(x+j) < 1.
    """
    p = float(special.gammainc(x, z))
    if p > _TINY:
        return math.log(p)
    total, term, j = 1.0, 1.0, 0
    while term > 1e-17 * total:
        j += 1
        term *= z / (x + j)
        total += term
    return x * math.log(z) - z - math.lgamma(x + 1) + math.log(total)


@dataclass(frozen=True, slots=True)
class _PalmTerms:
    """The quantities every Erlang A measure is built from."""

    x: float
    y: float
    theta: float
    log_p_xy: float  # log P(x, y)
    p_wait: float
    p_abandon: float


def _palm_terms(agents: int, arrival_rate: float, aht: float, patience: float) -> _PalmTerms:
    load = arrival_rate * aht
    theta = 1.0 / patience
    x = agents / aht / theta
    y = arrival_rate / theta
    log_p_xy = _log_reg_lower_gamma(x, y)
    log_s = math.log(x) + y - x * math.log(y) + math.lgamma(x) + log_p_xy
    log_b = log_erlang_b(agents, load)
    # P(W>0) = 1 / (1 + (1-B)/(S B)), as exp(-softplus(z)) with z = log(1-B) - log S - log B
    one_minus_b = -math.expm1(log_b)
    if one_minus_b <= 0.0:
        p_wait = 1.0
    else:
        z = math.log(one_minus_b) - log_s - log_b
        softplus = z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))
        p_wait = math.exp(-softplus)
    rho = arrival_rate * aht / agents
    s_minus_one_over_s = -math.expm1(-log_s)  # (S - 1) / S
    p_ab_given_wait = min(1.0, max(0.0, 1.0 - s_minus_one_over_s / rho))
    return _PalmTerms(x, y, theta, log_p_xy, p_wait, p_wait * p_ab_given_wait)


def _ratio(a: float, z: float, log_denominator: float) -> float:
    """P(a, z) / P(x, y) from logs."""
    if z <= 0.0:
        return 0.0
    return math.exp(_log_reg_lower_gamma(a, z) - log_denominator)


def _tail_and_abandon_within(terms: _PalmTerms, t: float) -> tuple[float, float]:
    """(P(V > t), P(abandon within t)) for an arriving call; see the module docstring."""
    if t <= 0.0:
        return terms.p_wait, 0.0
    u = math.exp(-terms.theta * t)
    x, y, log_d = terms.x, terms.y, terms.log_p_xy
    r_x_yu = _ratio(x, y * u, log_d)
    r_x1_y = _ratio(x + 1, y, log_d)
    r_x1_yu = _ratio(x + 1, y * u, log_d)
    p_v_tail = terms.p_wait * r_x_yu
    inner = 1.0 - u * r_x_yu - (x / y) * (r_x1_y - r_x1_yu)
    return p_v_tail, terms.p_wait * min(1.0, max(0.0, inner))


def erlang_a(
    agents: int,
    arrival_rate: float,
    aht: float,
    patience: float,
    target_time: float,
    *,
    policy: AbandonPolicy = AbandonPolicy.AGAINST,
    short_abandon_time: float = 0.0,
    with_asa: bool = False,
) -> ErlangAMetrics:
    """Erlang A (M/M/n+M) measures; ``patience`` is the mean patience in seconds.

    The service level follows ``policy`` (see :func:`service_level_from_counts`); the default counts
    abandons against it: answered within T / all calls, as pyworkforce and the Mandelbaum-Zeltyn summary.
    ``with_asa`` also computes the ASA of answered calls (a sum over queue lengths; see :func:`erlang_a_asa`).
    """
    check_positive("arrival_rate", arrival_rate)
    check_positive("aht", aht)
    check_positive("patience", patience)
    _check_time("target_time", target_time)
    _check_agents(agents)
    terms = _palm_terms(agents, arrival_rate, aht, patience)
    level = _erlang_a_service_level(terms, target_time, policy, short_abandon_time)
    return ErlangAMetrics(
        agents=agents,
        load=arrival_rate * aht,
        p_wait=terms.p_wait,
        p_abandon=terms.p_abandon,
        service_level=level,
        mean_wait=terms.p_abandon * patience,
        occupancy=min(1.0, arrival_rate * (1.0 - terms.p_abandon) * aht / agents),
        asa=_asa(terms) if with_asa else None,
    )


def erlang_a_asa(agents: int, arrival_rate: float, aht: float, patience: float) -> float:
    """Average speed of answer under Erlang A: mean wait of the answered calls, seconds."""
    check_positive("arrival_rate", arrival_rate)
    check_positive("aht", aht)
    check_positive("patience", patience)
    _check_agents(agents)
    return _asa(_palm_terms(agents, arrival_rate, aht, patience))


def _asa(terms: _PalmTerms) -> float:
    if terms.p_wait == 0.0:
        return 0.0
    x, y = terms.x, terms.y
    # queue lengths seen on arrival: the weights p_j peak near max(0, y - x) and fall off like a Gaussian
    last = int(max(0.0, y - x) + 40 * math.sqrt(max(y, 1.0)) + 100)
    j = np.arange(last + 1, dtype=float)
    log_p = j * math.log(y) + math.lgamma(x + 1) - special.gammaln(x + j + 1)
    weights = np.exp(log_p - log_p.max())
    weights /= weights.sum()
    answered = x / (x + j + 1)
    harmonic = np.cumsum(1.0 / (x + j + 1))  # sum_{k=1}^{j+1} 1/(x+k)
    wait_answered = float(np.sum(weights * answered * harmonic)) / terms.theta
    return terms.p_wait * wait_answered / (1.0 - terms.p_abandon)


def _erlang_a_service_level(
    terms: _PalmTerms, target_time: float, policy: AbandonPolicy, short_abandon_time: float
) -> float:
    p_v_tail, abandoned_within = _tail_and_abandon_within(terms, target_time)
    beyond = math.exp(-terms.theta * target_time) * p_v_tail  # P(W > T): neither answered nor gone by T
    answered_within = max(0.0, 1.0 - abandoned_within - beyond)
    if policy is AbandonPolicy.AGAINST:
        return answered_within
    if policy is AbandonPolicy.FOR:
        return answered_within + abandoned_within
    if policy is AbandonPolicy.IGNORED:
        return answered_within / (1.0 - abandoned_within)
    _check_time("short_abandon_time", short_abandon_time)
    short = _tail_and_abandon_within(terms, min(short_abandon_time, target_time))[1]
    return answered_within / (1.0 - short)


def p_wait_at_most(
    agents: int, arrival_rate: float, aht: float, t: float, patience: float | None = None
) -> float:
    """The probability that an offered call waits at most ``t`` seconds in the queue: Erlang C without
    ``patience`` (1 - C exp(-(n - a) t / aht); 0 when n <= a, as the queue grows without end), Erlang A
    with it, where the wait ends when the call is answered or its caller gives up (1 - P(W > t))."""
    check_positive("arrival_rate", arrival_rate)
    check_positive("aht", aht)
    _check_time("t", t)
    _check_agents(agents)
    if patience is None:
        return erlang_c(agents, arrival_rate, aht, t).service_level
    check_positive("patience", patience)
    return _erlang_a_service_level(
        _palm_terms(agents, arrival_rate, aht, patience), t, AbandonPolicy.FOR, 0.0
    )


# ---------------------------------------------------------------- non-preemptive priority classes (Cobham)


def cobham_waits(agents: int, arrival_rates: Sequence[float], aht: float) -> list[float]:
    """Mean wait in queue of each priority class in an M/M/n queue with non-preemptive priorities.

    Cobham (1954), "Priority assignment in waiting line problems", JORSA 2(1), for n servers with one
    exponential service law (mean ``aht``) for all classes; class 0 is served first, FIFO within a
    class. With W0 = P(wait) aht / n (Erlang C: the mean time until some agent frees, for an arrival)
    and sigma_k = sum_{i<=k} lambda_i aht / n,

        W_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)),      sigma_{-1} = 0.

    The arrival-weighted mean of the W_k is Erlang C's ASA (the conservation law). When the total
    load reaches n every agent is always busy (P(wait) = 1); the classes with sigma_k < 1 still have
    finite waits and the others get ``math.inf``.
    """
    _check_agents(agents)
    check_positive("aht", aht)
    if not arrival_rates:
        raise WorkforceInputError("give at least one class's arrival rate")
    for rate in arrival_rates:
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate >= 0):
            raise WorkforceInputError(f"arrival rates must be finite numbers >= 0, got {rate!r}")
    load = math.fsum(arrival_rates) * aht
    if load == 0:
        return [0.0] * len(arrival_rates)
    p_wait = 1.0 if load >= agents else math.exp(log_erlang_c(agents, load))
    w0 = p_wait * aht / agents
    waits: list[float] = []
    below = 0.0  # sigma_{k-1}
    for rate in arrival_rates:
        upto = below + rate * aht / agents
        waits.append(w0 / ((1.0 - below) * (1.0 - upto)) if upto < 1.0 else math.inf)
        below = upto
    return waits


# ---------------------------------------------------------------- service level over counts


def service_level_from_counts(
    answered_within: int,
    abandoned_within: int,
    beyond: int,
    policy: AbandonPolicy = AbandonPolicy.AGAINST,
    *,
    short_abandoned: int = 0,
) -> float:
    """Service level (0..1) of observed calls, Cisco ICM "Service Level Type".

    ``beyond`` counts calls answered or abandoned after T; ``short_abandoned`` (a subset of
    ``abandoned_within``) the abandons under the short-abandon threshold.
        IGNORED        answered_within / (answered_within + beyond)
        AGAINST        answered_within / (answered_within + abandoned_within + beyond)
        FOR            (answered_within + abandoned_within) / (all)
        SHORT_EXCLUDED answered_within / (all - short_abandoned)
    """
    counts = {"answered_within": answered_within, "abandoned_within": abandoned_within, "beyond": beyond,
              "short_abandoned": short_abandoned}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise WorkforceInputError(f"{name} must be an integer >= 0, got {value!r}")
    if short_abandoned > abandoned_within:
        raise WorkforceInputError("short_abandoned cannot exceed abandoned_within")
    total = answered_within + abandoned_within + beyond
    numerator, denominator = {
        AbandonPolicy.IGNORED: (answered_within, total - abandoned_within),
        AbandonPolicy.AGAINST: (answered_within, total),
        AbandonPolicy.FOR: (answered_within + abandoned_within, total),
        AbandonPolicy.SHORT_EXCLUDED: (answered_within, total - short_abandoned),
    }[policy]
    if denominator == 0:
        raise WorkforceInputError("no calls to compute a service level over")
    return numerator / denominator


def arrival_rate_per_second(calls: float, interval_seconds: float) -> float:
    """Calls per interval -> calls per second."""
    check_positive("interval_seconds", interval_seconds)
    if not (math.isfinite(calls) and calls >= 0):
        raise WorkforceInputError(f"calls must be a finite number >= 0, got {calls!r}")
    return calls / interval_seconds
