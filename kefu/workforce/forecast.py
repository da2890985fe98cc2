"""Interval volume forecasts with weekday and intraday seasonality, a seasonal-naive baseline, WAPE.

Model (multiplicative, per weekday):
    forecast(day d, interval i) = level(weekday(d)) x profile(weekday(d), i)
    level   = mean daily total over the last ``level_weeks`` same-weekday days before the origin
    profile = share of interval i in the summed counts of the last ``profile_weeks`` same-weekday days
Pooling counts over several weeks before taking shares keeps the thin night intervals from being noise.
Baseline (seasonal naive): the same interval on the latest same-weekday day of the history (one week
earlier for a one-week horizon). WAPE = sum |forecast - actual| / sum actual.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from kefu.workforce.errors import WorkforceInputError

History = Mapping[date, Sequence[int]]
Forecast = dict[date, list[float]]


def _same_weekday_days(history: History, day: date, origin: date, weeks: int) -> list[date]:
    """The last ``weeks`` history days before ``origin`` on the weekday of ``day``, newest first."""
    days = sorted((d for d in history if d < origin and d.weekday() == day.weekday()), reverse=True)
    return days[:weeks]


def _width(history: History) -> int:
    widths = {len(v) for v in history.values()}
    if len(widths) != 1:
        raise WorkforceInputError("history days must all have the same number of intervals")
    return widths.pop()


def seasonal_forecast(
    history: History,
    days: Sequence[date],
    *,
    level_weeks: int = 4,
    profile_weeks: int = 8,
) -> Forecast:
    """Level x intraday profile per weekday, from history strictly before the first forecast day."""
    if not history or not days:
        raise WorkforceInputError("need a non-empty history and at least one day to forecast")
    width = _width(history)
    origin = min(days)
    out: Forecast = {}
    for day in days:
        level_days = _same_weekday_days(history, day, origin, level_weeks)
        profile_days = _same_weekday_days(history, day, origin, profile_weeks)
        if not level_days:
            out[day] = [0.0] * width  # the weekday never had calls: closed
            continue
        level = sum(sum(history[d]) for d in level_days) / len(level_days)
        pooled = [sum(history[d][i] for d in profile_days) for i in range(width)]
        total = sum(pooled)
        out[day] = [level * p / total if total else 0.0 for p in pooled]
    return out


def seasonal_naive(history: History, days: Sequence[date]) -> Forecast:
    """Same interval on the latest same-weekday history day before the first forecast day."""
    if not history or not days:
        raise WorkforceInputError("need a non-empty history and at least one day to forecast")
    width = _width(history)
    origin = min(days)
    out: Forecast = {}
    for day in days:
        previous = _same_weekday_days(history, day, origin, 1)
        out[day] = [float(v) for v in history[previous[0]]] if previous else [0.0] * width
    return out


def wape(forecast: Mapping[date, Sequence[float]], actual: Mapping[date, Sequence[int]]) -> float:
    """Weighted absolute percentage error over the days of ``actual``: sum|F - A| / sum A."""
    error = 0.0
    total = 0
    for day, values in actual.items():
        predicted = forecast[day]
        if len(predicted) != len(values):
            raise WorkforceInputError(f"forecast and actual differ in length on {day}")
        error += math.fsum(abs(f - a) for f, a in zip(predicted, values, strict=True))
        total += sum(values)
    if total == 0:
        raise WorkforceInputError("no actual calls: WAPE undefined")
    return error / total


@dataclass(frozen=True, slots=True)
class HoldoutScore:
    days: int
    model_wape: float
    naive_wape: float


def evaluate_holdout(history: History, holdout_days: int, **model_options: int) -> HoldoutScore:
    """Hold out the last ``holdout_days`` history days, forecast them from the rest, score both methods."""
    ordered = sorted(history)
    if not 0 < holdout_days < len(ordered):
        raise WorkforceInputError(f"holdout_days must lie in 1..{len(ordered) - 1}, got {holdout_days}")
    train = {d: history[d] for d in ordered[:-holdout_days]}
    test = {d: history[d] for d in ordered[-holdout_days:]}
    model = seasonal_forecast(train, list(test), **model_options)
    naive = seasonal_naive(train, list(test))
    return HoldoutScore(len(test), wape(model, test), wape(naive, test))


def evaluate_rolling(history: History, holdout_days: int, step_days: int = 7,
                     **model_options: int) -> HoldoutScore:
    """As :func:`evaluate_holdout`, re-forecasting each block of ``step_days`` held-out days from all
    history before the block, so the seasonal naive is exactly "same interval one week earlier" for
    weekly steps.
    """
    ordered = sorted(history)
    if not 0 < holdout_days < len(ordered) or step_days < 1:
        raise WorkforceInputError(f"holdout_days must lie in 1..{len(ordered) - 1} and step_days >= 1")
    test_days = ordered[-holdout_days:]
    model: Forecast = {}
    naive: Forecast = {}
    block_start = test_days[0]
    while block_start <= test_days[-1]:
        block = [d for d in test_days if 0 <= (d - block_start).days < step_days]
        train = {d: history[d] for d in ordered if d < block_start}
        if block:
            model.update(seasonal_forecast(train, block, **model_options))
            naive.update(seasonal_naive(train, block))
        block_start += timedelta(days=step_days)
    test = {d: history[d] for d in test_days}
    return HoldoutScore(len(test), wape(model, test), wape(naive, test))
