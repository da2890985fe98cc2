"""The forecaster's month-start business days and the calendar's observances: kinds of special day that
learn their own share from history, chosen or not by the backtests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kefu.workforce.forecast import (
    ModelConfig,
    business_weekdays,
    model_forecast,
    month_start_kinds,
    public_holidays,
    special_kinds,
)

SHAPE = [0, 2, 6, 8, 4, 0]
WEEKEND = [0, 1, 0, 0, 1, 0]


def test_business_weekdays_are_those_with_at_least_half_the_busiest_median() -> None:
    monday = date(2026, 3, 2)
    hist = {monday + timedelta(days=k): [10 * (k + 1)] for k in range(7)}  # Mon 10 ... Sun 70
    assert business_weekdays(hist) == {3, 4, 5, 6}  # 35 and up: half of 70; Wednesday's 30 is out
    hist[monday + timedelta(days=16)] = [40]  # a second Wednesday: its median (30+40)/2 = 35 is half
    assert business_weekdays(hist) == {2, 3, 4, 5, 6}
    hist[monday + timedelta(days=7)] = [70]  # a second Monday: median 40
    assert business_weekdays(hist) == {0, 2, 3, 4, 5, 6}
    assert business_weekdays({monday: [0, 0]}) == set()
    assert business_weekdays({}) == set()


def test_month_start_counts_business_days_from_the_first_skipping_holidays() -> None:
    special = {date(2026, 5, 1): "holiday", date(2026, 5, 4): "eve"}
    # April 29-30 are April's 20th and 21st business days; 1 May (Fri) a holiday; 4 May an eve keeps its
    # kind but is May's first business day, so 5 May is the second
    assert month_start_kinds(date(2026, 4, 29), date(2026, 5, 6), 2, {0, 1, 2, 3, 4}, special) == {
        date(2026, 5, 5): "bd2",
    }
    assert month_start_kinds(date(2026, 4, 1), date(2026, 4, 6), 3, {0, 1, 2, 3, 4}) == {
        date(2026, 4, 1): "bd1",
        date(2026, 4, 2): "bd2",
        date(2026, 4, 3): "bd3",
    }
    assert month_start_kinds(date(2026, 4, 1), date(2026, 4, 30), 0, {0, 1, 2, 3, 4}) == {}


def test_observances_are_their_own_kind_unless_already_a_holiday_or_beside_one() -> None:
    h = date(2026, 10, 1)
    assert special_kinds({h: "国庆节"}, {h: "x", date(2026, 10, 2): "y", date(2026, 12, 24): "z"}) == {
        date(2026, 9, 30): "eve",
        h: "holiday",
        date(2026, 10, 2): "after",
        date(2026, 12, 24): "observance",
    }
    il = public_holidays("IL", [1999], category="optional")
    assert il[date(1999, 7, 22)] == "Tisha B'Av"
    assert date(1999, 4, 1) not in il  # Pesach itself is a public holiday, not an observance
    assert public_holidays("CN", [2026], category="optional") == {}  # the CN calendar has none


def _two_months() -> dict[date, list[int]]:
    """January and February 2026: weekdays SHAPE, weekends WEEKEND, each month's first two business days
    (1-2 January, 2-3 February) twice a normal day."""
    out = {}
    day = date(2026, 1, 1)
    while day < date(2026, 3, 1):
        if day.weekday() >= 5:
            out[day] = list(WEEKEND)
        else:
            double = day in (date(2026, 1, 1), date(2026, 1, 2), date(2026, 2, 2), date(2026, 2, 3))
            out[day] = [v * (2 if double else 1) for v in SHAPE]
        day += timedelta(days=1)
    return out


def test_month_start_days_learn_their_share_and_stay_out_of_normal_days() -> None:
    hist = _two_months()
    first, second, third = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)
    config = ModelConfig(level_weeks=2, profile_weeks=4, level="mean", specials=True, month_start=2)
    out = model_forecast(hist, [first, second, third], config)
    # bd1's share: 2 February had twice its normal forecast (1 January had no history to compare with)
    assert out[first] == pytest.approx([2.0 * v for v in SHAPE])
    assert out[second] == pytest.approx([2.0 * v for v in SHAPE])
    assert out[third] == pytest.approx([float(v) for v in SHAPE])  # 3rd business day: a normal Wednesday
    plain = model_forecast(hist, [first, third], ModelConfig(2, 4, "mean", True))
    # without: 2 March is the mean of the last two Mondays (23 and 16 February: normal), 4 March likewise
    assert plain[first] == pytest.approx([float(v) for v in SHAPE])
    # the level over 8 weeks takes in 2-3 February's double days unless they are month-start kinds
    wide = model_forecast(hist, [second], ModelConfig(8, 8, "mean", True))[second]
    assert wide == pytest.approx([v * 9 / 8 for v in SHAPE])
    assert model_forecast(hist, [date(2026, 3, 10)], ModelConfig(8, 8, "mean", True, month_start=2))[
        date(2026, 3, 10)] == pytest.approx([float(v) for v in SHAPE])


def test_observances_only_bend_the_forecast_when_the_model_keeps_them() -> None:
    hist = _two_months()
    # two earlier Wednesdays were observances at half a normal day
    for d in (date(2026, 2, 11), date(2026, 2, 18)):
        hist[d] = [v // 2 for v in SHAPE]
    special = special_kinds({}, {date(2026, 2, 11): "a", date(2026, 2, 18): "b", date(2026, 3, 11): "c"})
    day = date(2026, 3, 11)
    with_kind = model_forecast(hist, [day], ModelConfig(2, 4, "mean", True, observances=True), special)[day]
    assert with_kind == pytest.approx([v / 2 for v in SHAPE])
    without = model_forecast(hist, [day], ModelConfig(2, 4, "mean", True), special)[day]
    assert without == pytest.approx([v * 3 / 4 for v in SHAPE])  # 25 Feb normal, 18 Feb half
