"""Erlang B / C / A against published cases (published_cases.md C1-C4, C6) and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from kefu.workforce.erlang import (
    AbandonPolicy,
    WorkforceInputError,
    cobham_waits,
    erlang_a,
    erlang_a_asa,
    erlang_b,
    erlang_c,
    log_erlang_b,
    log_erlang_c,
    service_level_from_counts,
)

C1_RATE = 100 / 1800  # 100 calls per 30 min
C1_AHT = 180.0


# ---------------------------------------------------------------- C1: Call Centre Helper Erlang C example


def test_c1_eleven_agents_match_call_centre_helper() -> None:
    m = erlang_c(11, C1_RATE, C1_AHT, 20)
    assert m.p_wait == pytest.approx(0.6821, abs=5e-5)
    assert m.service_level == pytest.approx(0.3896, abs=5e-5)
    assert m.asa == pytest.approx(122.8, abs=0.05)
    assert m.occupancy == pytest.approx(0.9091, abs=5e-5)


def test_c1_thirteen_agents_service_level() -> None:
    assert erlang_c(13, C1_RATE, C1_AHT, 20).service_level == pytest.approx(0.7956, abs=5e-5)


def test_c1_fourteen_agents_match_call_centre_helper() -> None:
    m = erlang_c(14, C1_RATE, C1_AHT, 20)
    assert m.p_wait == pytest.approx(0.1741, abs=5e-5)
    assert m.service_level == pytest.approx(0.8884, abs=5e-5)
    assert m.asa == pytest.approx(7.84, abs=0.005)
    assert m.occupancy == pytest.approx(0.7143, abs=5e-5)


# ---------------------------------------------------------------- C2: Mitan walk-through


def test_c2_mitan_55_agents_at_48_erlangs() -> None:
    m = erlang_c(55, 360 / 1800, 240, 15)
    assert m.occupancy == pytest.approx(0.8727, abs=5e-5)
    assert m.p_wait == pytest.approx(0.2387, abs=5e-5)
    assert m.asa == pytest.approx(8.18, abs=0.005)
    assert m.service_level == pytest.approx(0.8459, abs=5e-5)


# ---------------------------------------------------------------- C3: Erlang B grade-of-service table

C3_TABLE = [(10, 0.01, 4.461), (10, 0.02, 5.084), (20, 0.01, 12.031), (30, 0.01, 20.337),
            (50, 0.01, 37.901), (100, 0.01, 84.064), (100, 0.001, 75.242)]


@pytest.mark.parametrize(("trunks", "blocking", "load"), C3_TABLE)
def test_c3_erlang_b_table_load_for_blocking(trunks: int, blocking: float, load: float) -> None:
    found = brentq(lambda a: erlang_b(trunks, a) - blocking, 0.01, 10 * trunks, xtol=1e-9)
    assert found == pytest.approx(load, abs=5e-4)


# ---------------------------------------------------------------- C4: Erlang A (pyworkforce)

C4 = {
    13: (0.225797, 0.024963, 0.858178, 0.124817, 0.750028),
    14: (0.145260, 0.013984, 0.916792, 0.069919, 0.704297),
}


@pytest.mark.parametrize("agents", [13, 14])
def test_c4_erlang_a_matches_pyworkforce(agents: int) -> None:
    p_wait, p_abandon, level, wait_min, occupancy = C4[agents]
    m = erlang_a(agents, C1_RATE, C1_AHT, 300, 20)
    assert m.p_wait == pytest.approx(p_wait, abs=5e-7)
    assert m.p_abandon == pytest.approx(p_abandon, abs=5e-7)
    assert m.service_level == pytest.approx(level, abs=5e-7)
    assert m.mean_wait / 60 == pytest.approx(wait_min, abs=5e-7)
    assert m.occupancy == pytest.approx(occupancy, abs=5e-7)


# ---------------------------------------------------------------- C6: service-level variants


def test_c6_service_level_variants_over_counts() -> None:
    assert service_level_from_counts(70, 10, 20, AbandonPolicy.IGNORED) == pytest.approx(0.7778, abs=5e-5)
    assert service_level_from_counts(70, 10, 20, AbandonPolicy.AGAINST) == 0.70
    assert service_level_from_counts(70, 10, 20, AbandonPolicy.FOR) == 0.80


def test_short_abandons_leave_the_denominator() -> None:
    level = service_level_from_counts(70, 10, 20, AbandonPolicy.SHORT_EXCLUDED, short_abandoned=4)
    assert level == 70 / 96


def test_short_abandons_cannot_exceed_abandons() -> None:
    with pytest.raises(WorkforceInputError, match="short_abandoned"):
        service_level_from_counts(70, 1, 20, AbandonPolicy.SHORT_EXCLUDED, short_abandoned=2)


def test_erlang_a_service_level_policies_are_ordered() -> None:
    args = (13, C1_RATE, C1_AHT, 300.0, 20.0)
    against = erlang_a(*args, policy=AbandonPolicy.AGAINST).service_level
    ignored = erlang_a(*args, policy=AbandonPolicy.IGNORED).service_level
    counted_for = erlang_a(*args, policy=AbandonPolicy.FOR).service_level
    short = erlang_a(*args, policy=AbandonPolicy.SHORT_EXCLUDED, short_abandon_time=5).service_level
    assert against < short < ignored < counted_for


# ---------------------------------------------------------------- numerical range


@pytest.mark.parametrize("agents", [1, 2, 100, 5_000, 20_000, 50_000])
def test_erlang_b_is_a_probability_at_any_scale(agents: int) -> None:
    for load in (0.5, agents * 0.5, agents * 0.99, agents * 1.5):
        value = log_erlang_b(agents, load)
        assert math.isfinite(value)
        assert value <= 0


def test_log_erlang_b_does_not_underflow_for_huge_spare_capacity() -> None:
    # B(20000, 1) = e^-1 / 20000! ; log 20000! = lgamma(20001)
    assert log_erlang_b(20_000, 1.0) == pytest.approx(-1 - math.lgamma(20_001), rel=1e-12)


def test_erlang_b_far_below_the_load_uses_the_recursion() -> None:
    # B(1, a) = a / (1 + a)
    assert erlang_b(1, 1e5) == pytest.approx(1e5 / (1 + 1e5), rel=1e-12)
    assert erlang_b(10_000, 20_000) == pytest.approx(0.5, abs=1e-3)  # overloaded: B ~ 1 - n/a


def test_erlang_c_at_twenty_thousand_erlangs() -> None:
    m = erlang_c(20_100, 20_000 / 180, 180, 20)
    assert 0 < m.p_wait < 1
    assert m.service_level > 0.99
    assert log_erlang_c(40_000, 20_000) < -1000


def test_erlang_a_at_twenty_thousand_erlangs() -> None:
    m = erlang_a(20_000, 20_000 / 180, 180, 300, 20)
    assert 0 < m.p_abandon < m.p_wait < 1
    assert 0 < m.service_level < 1


def test_erlang_a_overloaded_abandons_the_excess() -> None:
    # 5000 agents for 20000 Erlangs: about 3/4 of the calls must abandon
    m = erlang_a(5_000, 20_000 / 180, 180, 60, 20)
    assert m.p_abandon == pytest.approx(0.75, abs=1e-3)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_c(10, -1.0, 180, 20), "arrival_rate"),
        (lambda: erlang_c(10, 0.0, 180, 20), "arrival_rate"),
        (lambda: erlang_c(10, 0.1, 0, 20), "aht"),
        (lambda: erlang_c(0, 0.1, 180, 20), "agents"),
        (lambda: erlang_c(10, 0.1, 180, -1), "target_time"),
        (lambda: erlang_a(10, 0.1, 180, 0, 20), "patience"),
        (lambda: erlang_b(5, math.nan), "load"),
        (lambda: service_level_from_counts(0, 0, 0), "no calls"),
        (lambda: service_level_from_counts(-1, 0, 0), "answered_within"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkforceInputError, match=message):
        call()


def test_workforce_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="arrival_rate"):
        erlang_c(10, -1.0, 180, 20)


# ---------------------------------------------------------------- properties

loads = st.floats(min_value=0.1, max_value=2_000)
ahts = st.floats(min_value=10, max_value=900)
targets = st.floats(min_value=0, max_value=120)


@settings(max_examples=150, deadline=None)
@given(load=loads, aht=ahts, target=targets, extra=st.integers(min_value=1, max_value=40))
def test_erlang_c_service_level_rises_with_agents(load: float, aht: float, target: float, extra: int) -> None:
    n = math.floor(load) + extra
    low = erlang_c(n, load / aht, aht, target)
    high = erlang_c(n + 1, load / aht, aht, target)
    assert high.service_level >= low.service_level - 1e-12
    assert high.asa <= low.asa + 1e-12


@settings(max_examples=150, deadline=None)
@given(load=loads, aht=ahts, target=targets, patience=st.floats(min_value=5, max_value=3_600),
       n=st.integers(min_value=1, max_value=2_500))
def test_erlang_a_service_level_rises_with_agents(load: float, aht: float, target: float, patience: float,
                                                  n: int) -> None:
    low = erlang_a(n, load / aht, aht, patience, target)
    high = erlang_a(n + 1, load / aht, aht, patience, target)
    assert high.service_level >= low.service_level - 1e-9
    assert high.p_abandon <= low.p_abandon + 1e-12
    assert 0 <= high.p_abandon <= high.p_wait <= 1


@settings(max_examples=100, deadline=None)
@given(load=st.floats(min_value=0.5, max_value=500), aht=ahts, target=targets,
       extra=st.integers(min_value=1, max_value=30))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(load: float, aht: float, target: float,
                                                      extra: int) -> None:
    n = math.ceil(load + math.sqrt(load)) + extra
    c = erlang_c(n, load / aht, aht, target)
    gaps = [abs(erlang_a(n, load / aht, aht, aht * f, target).p_wait - c.p_wait) for f in (1, 10, 100, 1e4)]
    assert gaps == sorted(gaps, reverse=True)
    close = erlang_a(n, load / aht, aht, aht * 1e4, target)
    assert close.p_wait == pytest.approx(c.p_wait, abs=1e-3)
    assert close.service_level == pytest.approx(c.service_level, abs=1e-3)
    assert close.p_abandon < 1e-3


def _birth_death(n: int, rate: float, aht: float, patience: float) -> tuple[float, float]:
    """P(W>0) and P(Ab) of M/M/n+M by summing the truncated stationary distribution in log space."""
    log_pi = [k * math.log(rate * aht) - math.lgamma(k + 1) for k in range(n + 1)]
    j = 0
    while j < 200_000:
        j += 1
        log_pi.append(log_pi[-1] + math.log(rate / (n / aht + j / patience)))
        if log_pi[-1] < max(log_pi) - 50:
            break
    top = max(log_pi)
    weights = [math.exp(v - top) for v in log_pi]
    total = math.fsum(weights)
    p_wait = math.fsum(weights[n:]) / total
    mean_queue = math.fsum(k * w for k, w in enumerate(weights[n:])) / total
    return p_wait, mean_queue / patience / rate


@settings(max_examples=60, deadline=None)
@given(load=st.floats(min_value=0.2, max_value=200), aht=ahts,
       patience=st.floats(min_value=5, max_value=5_000),
       n=st.integers(min_value=1, max_value=300))
def test_erlang_a_agrees_with_the_birth_death_chain(load: float, aht: float, patience: float, n: int) -> None:
    p_wait, p_abandon = _birth_death(n, load / aht, aht, patience)
    m = erlang_a(n, load / aht, aht, patience, 0)
    assert m.p_wait == pytest.approx(p_wait, abs=1e-8)
    assert m.p_abandon == pytest.approx(p_abandon, abs=1e-8)


# ---------------------------------------------------------------- Erlang A speed of answer


def test_erlang_a_asa_tends_to_erlang_c_asa() -> None:
    assert erlang_a_asa(14, C1_RATE, C1_AHT, 1e9) == pytest.approx(erlang_c(14, C1_RATE, C1_AHT, 0).asa,
                                                                   rel=1e-5)


def test_erlang_a_asa_is_below_the_wait_of_those_who_wait() -> None:
    m = erlang_a(13, C1_RATE, C1_AHT, 300, 20, with_asa=True)
    assert m.asa is not None
    assert 0 < m.asa < erlang_c(13, C1_RATE, C1_AHT, 0).asa
    assert m.asa == erlang_a_asa(13, C1_RATE, C1_AHT, 300)
    assert erlang_a(13, C1_RATE, C1_AHT, 300, 20).asa is None


# ---------------------------------------------------------------- Cobham: non-preemptive priority classes

# Hillier & Lieberman, "Introduction to Operations Research", the County Hospital emergency room with
# nonpreemptive priorities: 2 patients an hour, 20 min of a doctor each, 10 % critical, 30 % serious,
# 60 % stable. Published W_k - 1/mu, hours, for s = 1 and s = 2 doctors (three decimals).
HOUR = 3600.0
COUNTY_HOSPITAL = {1: (0.238, 0.325, 0.909), 2: (0.029, 0.033, 0.048)}


@pytest.mark.parametrize("doctors", [1, 2])
def test_cobham_waits_match_the_county_hospital_example(doctors: int) -> None:
    rates = [share * 2 / HOUR for share in (0.1, 0.3, 0.6)]
    waits = cobham_waits(doctors, rates, 20 * 60)
    assert [round(w / HOUR, 3) for w in waits] == list(COUNTY_HOSPITAL[doctors])


def test_cobham_on_one_server_is_the_closed_form() -> None:
    # M/M/1, two classes of 0.25 load each: W0 = rho/mu, W1 = W0/0.75, W2 = W0/(0.75 x 0.5)
    mu = 1 / 100.0
    waits = cobham_waits(1, [0.25 * mu, 0.25 * mu], 100.0)
    assert waits == pytest.approx([50.0 / 0.75, 50.0 / 0.375], rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(agents=st.integers(min_value=1, max_value=200), utilisation=st.floats(min_value=0.01, max_value=0.99),
       shares=st.lists(st.floats(min_value=0.01, max_value=1), min_size=1, max_size=5), aht=ahts)
def test_cobham_conserves_the_erlang_c_mean_wait(agents: int, utilisation: float, shares: list[float],
                                                 aht: float) -> None:
    total = utilisation * agents / aht
    rates = [total * s / sum(shares) for s in shares]
    waits = cobham_waits(agents, rates, aht)
    fifo = erlang_c(agents, total, aht, 0).asa
    assert math.fsum(r * w for r, w in zip(rates, waits, strict=True)) / total == pytest.approx(fifo, rel=1e-9)
    assert waits == sorted(waits)  # a higher class never waits longer
    assert cobham_waits(agents, [total], aht)[0] == pytest.approx(fifo, rel=1e-12)


def test_cobham_keeps_the_high_classes_finite_when_the_low_ones_overload() -> None:
    waits = cobham_waits(2, [0.5 / 100, 2.0 / 100], 100.0)
    assert waits == [pytest.approx(50.0 / 0.75), math.inf]


@pytest.mark.parametrize(("agents", "rates", "aht", "message"), [
    (0, [0.1], 100.0, "agents"),
    (2, [], 100.0, "at least one"),
    (2, [-0.1], 100.0, "arrival rates"),
    (2, [0.1], 0.0, "aht"),
])
def test_cobham_refuses_bad_input(agents: int, rates: list[float], aht: float, message: str) -> None:
    with pytest.raises(WorkforceInputError, match=message):
        cobham_waits(agents, rates, aht)
