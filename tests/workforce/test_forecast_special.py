"""The second-pass forecaster: the 8-week baseline, special days (holidays), the model chosen by backtests
on history only, public holidays from the calendar package."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.forecast import (
    ModelConfig,
    choose_model,
    model_forecast,
    public_holidays,
    rolling_scores,
    same_weekday_mean,
    seasonal_naive,
    special_factor,
)

START = date(2026, 1, 4)  # a Sunday
SHAPE = [0, 2, 6, 8, 4, 0]


def _history(weeks: int, holidays: dict[date, str], *, holiday_share: float = 0.25) -> dict[date, list[int]]:
    out = {}
    for k in range(weeks * 7):
        day = START + timedelta(days=k)
        level = 10 + (day.weekday() % 3)
        scale = holiday_share if day in holidays else 1.0
        out[day] = [round(level * s * scale) for s in SHAPE]
    return out


def test_same_weekday_mean_is_the_mean_of_the_last_eight_same_weekdays() -> None:
    hist = {START + timedelta(days=7 * k): [k, 2 * k] for k in range(10)}
    target = START + timedelta(days=70)
    assert same_weekday_mean(hist, [target]) == {target: [5.5, 11.0]}  # weeks 2..9
    assert same_weekday_mean(hist, [target], weeks=2) == {target: [8.5, 17.0]}
    other = target + timedelta(days=1)
    assert same_weekday_mean(hist, [other]) == {other: [0.0, 0.0]}


def test_a_holiday_is_left_out_of_the_history_and_forecast_at_its_learnt_share() -> None:
    holidays = {START + timedelta(days=15): "h1", START + timedelta(days=29): "h2", START + timedelta(days=43): "h3"}
    hist = _history(8, holidays)
    config = ModelConfig(level_weeks=4, profile_weeks=4, level="mean", specials=True)
    assert special_factor(hist, holidays, START + timedelta(days=42), config) == pytest.approx(0.25, abs=0.02)
    day = START + timedelta(days=43)  # the third holiday, forecast from the weeks before it
    past = {d: v for d, v in hist.items() if d < day}
    normal_day = day - timedelta(days=7)
    with_specials = model_forecast(past, [day], config, holidays)[day]
    assert sum(with_specials) == pytest.approx(sum(hist[day]), rel=0.1)
    without = model_forecast(past, [day], ModelConfig(4, 4, "mean", False), holidays)[day]
    assert sum(without) > 2 * sum(hist[day])  # about a normal day: the holiday not known
    # and the holiday before it does not drag the next normal day down
    nxt = day + timedelta(days=7)
    full = {d: v for d, v in hist.items() if d <= day}
    assert model_forecast(full, [nxt], config, holidays)[nxt] == pytest.approx(
        [float(v) for v in hist[normal_day]]
    )


def test_the_model_is_chosen_on_history_and_beats_the_baselines_where_holidays_fall() -> None:
    holidays = {START + timedelta(days=7 * k + 3): f"h{k}" for k in (3, 6, 9, 12)}
    hist = _history(14, holidays)
    train = {d: v for d, v in hist.items() if d < START + timedelta(days=70)}
    chosen, backtest, baseline = choose_model(train, holidays)
    assert chosen.specials
    assert backtest < baseline
    test_days = [d for d in hist if d >= START + timedelta(days=70)]
    scores = rolling_scores(
        hist,
        test_days,
        {
            "model": lambda h, b: model_forecast(h, b, chosen, holidays),
            "mean": same_weekday_mean,
            "naive": seasonal_naive,
        },
    )
    assert scores["model"] < 0.5 * scores["mean"]
    assert scores["model"] < 0.5 * scores["naive"]


def test_public_holidays_come_from_the_calendar_package() -> None:
    cn = public_holidays("CN", [2026])
    assert date(2026, 10, 1) in cn  # 国庆节
    assert date(2026, 1, 1) in cn
    il = public_holidays("IL", [1999])
    assert date(1999, 4, 1) in il  # Pesach
    with pytest.raises(WorkforceInputError):
        public_holidays("XX", [2026])
    with pytest.raises(WorkforceInputError):
        choose_model({START: [1, 2]})


def test_holidays_bend_the_days_beside_them_each_kind_learning_its_own_share() -> None:
    from kefu.workforce.forecast import special_kinds

    h1, h2 = date(2026, 10, 1), date(2026, 10, 2)
    assert special_kinds({h1: "国庆节", h2: "国庆节"}) == {
        date(2026, 9, 30): "eve",
        h1: "holiday",
        h2: "holiday",
        date(2026, 10, 3): "after",
    }
    # eves at half a normal day, the days after at double: one shared factor could learn neither
    hols = {START + timedelta(days=7 * k + 3): f"h{k}" for k in (2, 4, 6)}
    kinds = special_kinds(hols)
    hist = {}
    for k in range(8 * 7):
        day = START + timedelta(days=k)
        share = {"holiday": 0.0, "eve": 0.5, "after": 2.0}.get(kinds.get(day, ""), 1.0)
        hist[day] = [round(10 * s * share) for s in SHAPE]
    config = ModelConfig(level_weeks=2, profile_weeks=4, level="mean", specials=True)
    origin = START + timedelta(days=45)
    assert special_factor(hist, kinds, origin, config, "eve") == pytest.approx(0.5)
    assert special_factor(hist, kinds, origin, config, "after") == pytest.approx(2.0)
    assert special_factor(hist, kinds, origin, config, "holiday") == 0.0
    eve = START + timedelta(days=7 * 6 + 2)
    past = {d: v for d, v in hist.items() if d < eve}
    assert model_forecast(past, [eve], config, kinds)[eve] == pytest.approx([float(v) for v in hist[eve]])


def test_smoothing_lends_each_interval_a_share_of_its_neighbours() -> None:
    hist = {START + timedelta(days=7 * k): [0, 8, 0, 0] for k in range(4)}
    day = START + timedelta(days=28)
    flat = model_forecast(hist, [day], ModelConfig(1, 4, "mean", False))[day]
    smooth = model_forecast(hist, [day], ModelConfig(1, 4, "mean", False, smooth=0.25))[day]
    assert flat == [0.0, 8.0, 0.0, 0.0]
    assert smooth == pytest.approx([4 / 3, 16 / 3, 4 / 3, 0.0])  # same day total, a quarter to each side


def test_the_day_after_a_holiday_is_the_next_day_the_business_is_open() -> None:
    from kefu.workforce.forecast import after_on_business_days, special_kinds

    thursday, friday = START + timedelta(days=4), START + timedelta(days=5)
    kinds = special_kinds({thursday: "h"})
    assert kinds[friday] == "after"
    open_days = {6, 0, 1, 2, 3}  # Sunday to Thursday, as the bank
    moved = after_on_business_days(kinds, open_days)
    assert friday not in moved
    assert moved[START + timedelta(days=7)] == "after"  # the Sunday after
    assert moved[thursday] == "holiday"
    assert moved[thursday - timedelta(days=1)] == "eve"
    assert after_on_business_days(kinds, set()) == kinds  # no open weekday: nothing to move to
    # a holiday on the next open day is skipped; a day already special keeps its kind
    sunday = START + timedelta(days=7)
    assert after_on_business_days({**kinds, sunday: "holiday"}, open_days)[START + timedelta(days=8)] == "after"
    assert after_on_business_days({**kinds, sunday: "campaign"}, open_days)[sunday] == "campaign"


def test_a_holiday_before_the_weekend_doubles_the_next_open_day_not_the_closed_one() -> None:
    from kefu.workforce.forecast import special_kinds

    # Sunday to Thursday open, Friday and Saturday closed; holidays on Thursdays, and the Sundays after
    # them (the days the lines open again) take twice a Sunday's calls: the forecast learns that share
    holidays = {START + timedelta(days=7 * k + 4): f"h{k}" for k in (1, 3, 5, 7)}
    kinds = special_kinds(holidays)
    hist = {}
    for k in range(9 * 7):
        day = START + timedelta(days=k)
        share = 0.0 if day.weekday() in (4, 5) or day in holidays else 1.0
        if day.weekday() == 6 and day - timedelta(days=3) in holidays:
            share = 2.0
        hist[day] = [round(10 * s * share) for s in SHAPE]
    sunday = START + timedelta(days=7 * 8)  # after the holiday of week 7
    past = {d: v for d, v in hist.items() if d < sunday}
    config = ModelConfig(level_weeks=2, profile_weeks=4, level="mean", specials=True)
    assert model_forecast(past, [sunday], config, kinds)[sunday] == pytest.approx([2.0 * v for v in hist[START]])

