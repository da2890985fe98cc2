"""The forecaster's second-pass pieces: median intraday shares, the daily total by regression on weekday,
part of the month and trend, and the blend of the best backtested candidates."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.forecast import (
    CANDIDATES,
    ModelConfig,
    blend,
    blend_weights,
    blended,
    business_day_index,
    choose_blend,
    median_profile,
    model_forecast,
    regression_level,
)

MONDAY = date(1999, 1, 4)


def test_median_profile_takes_each_intervals_median_share_without_renormalising() -> None:
    days = [[1, 3, 0], [2, 2, 0], [4, 0, 0], [0, 0, 0]]  # shares .25 .75 0 / .5 .5 0 / 1 0 0; the empty day out
    assert median_profile(days, 10.0) == [5.0, 5.0, 0.0]
    assert median_profile([[1, 3], [1, 3], [4, 0]], 8.0) == [2.0, 6.0]
    # not renormalised: the medians' sum may fall short of the level or pass it
    assert median_profile([[4, 0, 0], [0, 4, 0], [0, 0, 4]], 9.0) == [0.0, 0.0, 0.0]
    assert median_profile([[2, 2, 0], [0, 2, 2], [2, 0, 2]], 2.0) == [1.0, 1.0, 1.0]
    assert median_profile([[0, 0]], 5.0, width=2) == [0.0, 0.0]
    assert median_profile([], 5.0, width=3) == [0.0, 0.0, 0.0]


def test_median_profile_smooths_each_day_before_its_shares() -> None:
    # [2, 0, 2] with weight 1 on each neighbour: [2, 4, 2] -> shares 1/4 1/2 1/4
    assert median_profile([[2, 0, 2]], 4.0, smooth=1.0) == [1.0, 2.0, 1.0]
    assert median_profile([[2, 0, 2]], 4.0, smooth=0.5) == pytest.approx([4 / 3, 4 / 3, 4 / 3], abs=1e-12)


def test_regression_level_reproduces_a_steady_weekly_pattern_exactly() -> None:
    hist = {MONDAY + timedelta(days=k): [100 * (1 + k % 7)] for k in range(28)}  # Mon 100 ... Sun 700
    origin = MONDAY + timedelta(days=28)
    for k in range(7):
        assert regression_level(hist, origin + timedelta(days=k), origin, 8) == pytest.approx(100 * (1 + k), rel=1e-9)


def test_regression_level_follows_a_trend_and_the_part_of_the_month_without_ridge() -> None:
    # doubling every week, Mondays twice the other days: log-linear in the days, fitted exactly
    hist = {MONDAY + timedelta(days=k): [(200 if k % 7 == 0 else 100) * 2 ** (k // 7)] for k in range(28)}
    origin = MONDAY + timedelta(days=28)  # 1 February
    assert regression_level(hist, origin, origin, 8, ridge=0.0) == pytest.approx(3200, rel=1e-9)
    assert regression_level(hist, origin + timedelta(days=1), origin, 8, ridge=0.0) == pytest.approx(1600, rel=1e-9)
    # the ridge pulls the trend toward none: next Monday is forecast below 3200 but above last Monday's 1600
    shrunk = regression_level(hist, origin, origin, 8)
    assert shrunk is not None
    assert 1600 < shrunk < 3200
    # days 1-5 of each month twice the rest (January and February 1999 history, no trend)
    first = date(1999, 1, 1)
    hist = {first + timedelta(days=k): [200 if (first + timedelta(days=k)).day <= 5 else 100] for k in range(59)}
    march = date(1999, 3, 1)
    assert regression_level(hist, march, march, 9, ridge=0.0) == pytest.approx(200, rel=1e-9)
    assert regression_level(hist, march + timedelta(days=7), march, 9, ridge=0.0) == pytest.approx(100, rel=1e-9)
    assert regression_level(hist, march + timedelta(days=30), march, 9, ridge=0.0) == pytest.approx(100, rel=1e-9)


def test_regression_level_is_none_for_a_weekday_without_calls_and_ignores_old_days() -> None:
    hist = {MONDAY + timedelta(days=k): [0 if k % 7 == 5 else 50] for k in range(14)}  # Saturdays closed
    origin = MONDAY + timedelta(days=14)
    assert regression_level(hist, origin + timedelta(days=5), origin, 8) is None
    hist[MONDAY - timedelta(days=7 * 20)] = [5000]  # a Monday far outside the window
    assert regression_level(hist, origin, origin, 8) == pytest.approx(50, rel=1e-9)


def test_regression_level_huber_steps_let_an_outlier_day_count_less() -> None:
    hist = {MONDAY + timedelta(days=k): [100] for k in range(28)}
    hist[MONDAY + timedelta(days=16)] = [1000]  # one Wednesday ten times the others
    origin = MONDAY + timedelta(days=28)
    wednesday = origin + timedelta(days=2)
    plain = regression_level(hist, wednesday, origin, 8, huber_steps=0)
    robust = regression_level(hist, wednesday, origin, 8)
    assert plain is not None
    assert robust is not None
    assert plain > 150  # least squares on logs: about 100 * 10 ** (1/4)
    assert 100 < robust < 115
    # an exact fit has no residuals to reweight: the steps change nothing
    flat = {MONDAY + timedelta(days=k): [100] for k in range(28)}
    assert regression_level(flat, wednesday, origin, 8) == pytest.approx(100, rel=1e-9)


def test_business_day_index_counts_each_months_open_days_skipping_holidays_and_observances() -> None:
    # 1999-01-01 is a Friday; open Monday to Friday; 4 January a holiday, 5 January an observance
    special = {date(1999, 1, 4): "holiday", date(1999, 1, 5): "observance", date(1999, 1, 6): "after"}
    index = business_day_index(date(1999, 1, 1), date(1999, 2, 2), {0, 1, 2, 3, 4}, special)
    assert [(d.day, i) for d, i in index.items() if d.month == 1][:4] == [(1, 1), (6, 2), (7, 3), (8, 4)]
    assert index[date(1999, 1, 29)] == 19
    assert date(1999, 1, 30) not in index
    assert (index[date(1999, 2, 1)], index[date(1999, 2, 2)]) == (1, 2)  # each month counts from 1
    # counted from the month's start even when the range begins later
    assert business_day_index(date(1999, 1, 7), date(1999, 1, 7), {0, 1, 2, 3, 4}, special) == {date(1999, 1, 7): 3}


def test_regression_month_start_terms_learn_the_first_business_days(monkeypatch: pytest.MonkeyPatch) -> None:
    import kefu.workforce.forecast as fc

    start = date(1999, 1, 1)
    days = [start + timedelta(days=k) for k in range(120)]  # January to April
    month_days = business_day_index(start, date(1999, 5, 31), {0, 1, 2, 3, 4, 5, 6})
    hist = {d: [200 if month_days[d] == 1 else 100] for d in days}  # every day open, the 1st twice as busy
    origin = start + timedelta(days=120)  # 1 May
    monkeypatch.setattr(fc, "REGRESSION_MONTH_START_RIDGE", 0.0)
    with_terms = regression_level(hist, origin, origin, 26, ridge=0.0, month_days=month_days, month_start=2)
    assert with_terms == pytest.approx(200, rel=1e-9)
    assert regression_level(hist, origin + timedelta(days=1), origin, 26, ridge=0.0, month_days=month_days,
                            month_start=2) == pytest.approx(100, rel=1e-9)
    # without the terms the 1st is spread over its part of the month (days 1-5)
    without = regression_level(hist, origin, origin, 26, ridge=0.0)
    assert without is not None
    assert 100 < without < 200


def test_regression_days_raise_the_months_first_business_days_but_not_a_special_day() -> None:
    start = date(1999, 1, 1)
    days = [start + timedelta(days=k) for k in range(120)]
    month_days = business_day_index(start, date(1999, 5, 31), {0, 1, 2, 3, 4, 5, 6})
    # every day open, the 1st of each month twice as busy, a little noise for the Huber steps' scale
    hist = {d: [(200 if month_days[d] == 1 else 100) + (-10, 0, 10)[k % 3]] for k, d in enumerate(days)}
    first, second = date(1999, 5, 1), date(1999, 5, 2)
    config = ModelConfig(8, 8, "median", False, regression=26, regression_days=2)
    out = model_forecast(hist, [first, second], config)
    plain = model_forecast(hist, [first, second], ModelConfig(8, 8, "median", False, regression=26))
    assert out[first][0] > 1.3 * out[second][0]
    assert plain[first][0] < 1.05 * plain[second][0]
    # a special day keeps its own kind: no month-start term (its share is learnt without them)
    campaign = model_forecast(hist, [first], ModelConfig(8, 8, "median", True, regression=26, regression_days=2),
                              {first: "campaign"})
    assert campaign[first][0] < 1.05 * out[second][0]
    assert "first 2 business days in the regression" in config.describe()


def test_shrink_mixes_the_business_weekdays_shared_shape_into_the_weekdays_own() -> None:
    # Mondays call in the first interval, every other day in the second; all days have 4 calls
    hist = {MONDAY + timedelta(days=k): ([4, 0] if k % 7 == 0 else [0, 4]) for k in range(28)}
    origin = MONDAY + timedelta(days=28)
    config = ModelConfig(4, 4, "mean", False, profile="median", shrink=0.5)
    out = model_forecast(hist, [origin, origin + timedelta(days=1)], config)
    assert out[origin] == [2.0, 2.0]  # half its own [4, 0], half the shared median [0, 4]
    assert out[origin + timedelta(days=1)] == [0.0, 4.0]
    assert model_forecast(hist, [origin], ModelConfig(4, 4, "mean", False, profile="median"))[origin] == [4.0, 0.0]
    assert "0.5 shape of all business weekdays" in config.describe()


def test_regression_config_forecasts_level_times_shape() -> None:
    hist = {MONDAY + timedelta(days=k): [10, 30] for k in range(28)}
    origin = MONDAY + timedelta(days=28)
    out = model_forecast(hist, [origin], ModelConfig(regression=26))
    assert out[origin] == pytest.approx([10.0, 30.0], rel=1e-9)
    assert "daily total by regression on 26 wk" in ModelConfig(regression=26).describe()
    assert "median shares" in ModelConfig(profile="median").describe()


def test_blend_weights_are_inverse_backtest_errors_of_the_best() -> None:
    a, b, c = ModelConfig(1), ModelConfig(2), ModelConfig(4)
    assert blend_weights([(0.2, a), (0.4, b), (0.5, c)], top=2) == (
        (a, pytest.approx(2 / 3, abs=1e-15)), (b, pytest.approx(1 / 3, abs=1e-15)))
    weights = blend_weights([(0.2, a), (0.4, b), (0.5, c)], top=10)
    assert [w for _, w in weights] == pytest.approx([10 / 19, 5 / 19, 4 / 19], abs=1e-15)
    assert blend_weights([(0.0, a), (0.0, b), (0.3, c)]) == ((a, 0.5), (b, 0.5))
    with pytest.raises(WorkforceInputError):
        blend_weights([])


def test_blend_is_the_weighted_mean_interval_by_interval() -> None:
    d = date(2026, 1, 5)
    assert blend([({d: [1.0, 2.0]}, 0.25), ({d: [5.0, 6.0]}, 0.75)]) == {d: [4.0, 5.0]}
    with pytest.raises(WorkforceInputError):
        blend([])


def test_choose_blend_ranks_on_history_and_blends_the_best() -> None:
    # a steady week with one busy Wednesday late on: every candidate nearly right, none exactly
    hist = {MONDAY + timedelta(days=k): [5 + k % 7, 20 - k % 7] for k in range(84)}
    hist[MONDAY + timedelta(days=79)] = [30, 10]
    models, best, baseline = choose_blend(hist, candidates=CANDIDATES[:6], top=3)
    assert len(models) == 3
    assert math.isclose(sum(w for _, w in models), 1.0)
    assert [w for _, w in models] == sorted((w for _, w in models), reverse=True)
    assert 0 < best <= baseline
    origin = MONDAY + timedelta(days=84)
    out = blended(models)(hist, [origin])
    parts = [model_forecast(hist, [origin], c)[origin] for c, _ in models]
    weighted = [sum(w * p[i] for (_, w), p in zip(models, parts, strict=True)) for i in range(2)]
    assert out[origin] == pytest.approx(weighted)
