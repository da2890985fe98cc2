"""Surge detection (pure: no database, no clock; times come in as arguments).

Hourly counts of one key (category × region × channel) are compared with a seasonal baseline: the level of
the trailing `history_days` spread over the hour of the week by the shape of that same history, shrunk
towards flat when the history is thin. The last `window_hours` are a surge when their count is
(a) at least `min_count`, (b) at least `min_ratio` times the expected count, and (c) improbable under a
Poisson law with the expected mean (upper tail below `alpha`). After an alert the key stays quiet for
`suppress_hours` (one alert per wave, not one per hour). The constants are product choices written here
once; no data set tuned them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.special import gammainc

HOURS_A_WEEK = 168


@dataclass(frozen=True)
class SurgeConfig:
    window_hours: int = 6
    history_days: int = 28
    min_history_days: int = 7  # a replay raises nothing before it has seen this much
    min_count: int = 10
    min_ratio: float = 3.0
    alpha: float = 1e-4
    suppress_hours: int = 24
    floor_per_hour: float = 0.02  # the least a key is expected to have (a key never seen before)
    shape_prior: float = 2.0  # pseudo-weeks of a flat week mixed into the hour-of-week shape


@dataclass(frozen=True)
class Verdict:
    observed: int
    expected: float
    ratio: float
    p_value: float
    surge: bool


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    return float(gammainc(k, mean))


def expected_window(history: Sequence[int], start_slot: int, window: int, config: SurgeConfig) -> float:
    """Expected count of the `window` hours that follow `history` (hourly counts, oldest first), the first of
    them at hour-of-week `start_slot`; `history` covers the hours just before it."""
    h = np.asarray(history, dtype=np.float64)
    if len(h) == 0:
        return config.floor_per_hour * window
    level = max(float(h.mean()), config.floor_per_hour)
    # hour-of-week of each history hour: the last one is start_slot - 1
    slots = (start_slot - len(h) + np.arange(len(h))) % HOURS_A_WEEK
    per_slot = np.bincount(slots, weights=h, minlength=HOURS_A_WEEK)
    seen = np.bincount(slots, minlength=HOURS_A_WEEK).astype(np.float64)
    mean_rate = float(h.mean())
    # each slot's rate, shrunk towards the flat level by `shape_prior` pseudo-observations
    rate = (per_slot + config.shape_prior * mean_rate) / (seen + config.shape_prior)
    shape = rate / mean_rate if mean_rate > 0 else np.ones(HOURS_A_WEEK)
    want = (start_slot + np.arange(window)) % HOURS_A_WEEK
    return float(level * shape[want].sum())


def judge(history: Sequence[int], window_counts: Sequence[int], start_slot: int,
          config: SurgeConfig = SurgeConfig()) -> Verdict:
    """Is the window (hourly counts) a surge against the history just before it?"""
    observed = int(sum(window_counts))
    expected = expected_window(history, start_slot, len(window_counts), config)
    ratio = observed / expected if expected > 0 else float("inf")
    p = poisson_tail(observed, expected)
    surge = observed >= config.min_count and ratio >= config.min_ratio and p < config.alpha
    return Verdict(observed, expected, ratio, p, surge)


def hour_of_week(at: datetime) -> int:
    """0 = Monday 00:00-01:00 (in the timezone of `at`)."""
    return at.weekday() * 24 + at.hour


@dataclass(frozen=True)
class Alert:
    at: datetime  # the end of the window (the hour the alert is raised)
    verdict: Verdict


def scan(counts: Sequence[int], start: datetime, config: SurgeConfig = SurgeConfig(),
         last_alert_at: datetime | None = None) -> list[Alert]:
    """Replay hourly `counts` (the first hour begins at `start`, on the hour) and return the alerts raised,
    hour by hour, as the live detector would: each hour sees only the past."""
    c = np.asarray(counts, dtype=np.int64)
    hist = config.history_days * 24
    w = config.window_hours
    out: list[Alert] = []
    last = last_alert_at
    quiet = timedelta(hours=config.suppress_hours)
    for end in range(w + config.min_history_days * 24, len(c) + 1):  # the window is c[end - w:end]
        at = start + timedelta(hours=end)
        if last is not None and at - last < quiet:
            continue
        window = c[end - w:end]
        if int(window.sum()) < config.min_count:
            continue  # cheap test first
        history = c[max(0, end - w - hist):end - w]
        v = judge(history.tolist(), window.tolist(), hour_of_week(start + timedelta(hours=end - w)), config)
        if v.surge:
            out.append(Alert(at, v))
            last = at
    return out
