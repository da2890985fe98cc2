"""Seasonal forecast, seasonal-naive baseline, WAPE."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.forecast import (
    evaluate_holdout,
    evaluate_rolling,
    seasonal_forecast,
    seasonal_naive,
    wape,
)

START = date(2026, 1, 5)  # a Monday


def _history(weeks: int, noise: bool = False) -> dict[date, list[int]]:
    shape = [0, 0, 1, 3, 5, 3, 2, 1]  # 8 intervals a day
    out: dict[date, list[int]] = {}
    for d in range(weeks * 7):
        day = START + timedelta(days=d)
        level = 10 * (day.weekday() + 1)
        jitter = (d % 3 - 1) if noise else 0
        out[day] = [max(0, level * s + (jitter if s else 0)) for s in shape]
    return out


def test_perfectly_seasonal_history_is_forecast_exactly() -> None:
    history = _history(10)
    days = [START + timedelta(days=70 + k) for k in range(14)]
    forecast = seasonal_forecast(history, days)
    expected = _history(12)
    for day in days:
        assert forecast[day] == pytest.approx(expected[day])


def test_seasonal_naive_repeats_last_same_weekday() -> None:
    history = _history(3)
    day = START + timedelta(days=21)
    assert seasonal_naive(history, [day])[day] == history[START + timedelta(days=14)]


def test_wape_by_hand() -> None:
    day = START
    assert wape({day: [1.0, 3.0]}, {day: [2, 2]}) == 0.5


def test_holdout_scores_both_methods() -> None:
    score = evaluate_holdout(_history(12, noise=True), 14)
    assert score.days == 14
    assert 0 <= score.model_wape < score.naive_wape


def test_wape_without_calls_is_refused() -> None:
    with pytest.raises(WorkforceInputError, match="WAPE undefined"):
        wape({START: [0.0]}, {START: [0]})


def test_ragged_history_is_refused() -> None:
    with pytest.raises(WorkforceInputError, match="same number of intervals"):
        seasonal_forecast({START: [1, 2], START + timedelta(days=1): [1]}, [START + timedelta(days=7)])


def test_rolling_evaluation_forecasts_each_week_from_the_weeks_before() -> None:
    history = _history(12, noise=True)
    rolling = evaluate_rolling(history, 21)
    assert rolling.days == 21
    assert 0 <= rolling.model_wape < rolling.naive_wape
    exact = evaluate_rolling(_history(12), 21)
    assert (exact.model_wape, exact.naive_wape) == (0.0, 0.0)
