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
from collections.abc import Callable, Mapping, Sequence
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


def _start(history: History, days: Sequence[date]) -> tuple[int, date]:
    """Intervals a day and the forecast origin (first day), once the inputs are checked."""
    if not history or not days:
        raise WorkforceInputError("need a non-empty history and at least one day to forecast")
    return _width(history), min(days)


def seasonal_forecast(
    history: History,
    days: Sequence[date],
    *,
    level_weeks: int = 4,
    profile_weeks: int = 8,
) -> Forecast:
    """Level x intraday profile per weekday, from history strictly before the first forecast day."""
    width, origin = _start(history, days)
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
    width, origin = _start(history, days)
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


# ---- special days, the 8-week baseline, and a model chosen by backtests on history only ------------

SpecialDays = Mapping[date, str]
#: Kinds of special day an administrator enters (beside public holidays, their eves and the days after):
#: a local holiday learns with the public ones; campaigns and outages each learn from their own kind only.
ENTERED_KINDS = ("campaign", "outage")
BASELINE_WEEKS = 8


def same_weekday_mean(history: History, days: Sequence[date], *, weeks: int = BASELINE_WEEKS) -> Forecast:
    """The baseline to beat: per interval, the mean of the last ``weeks`` same-weekday history days."""
    width, origin = _start(history, days)
    out: Forecast = {}
    for day in days:
        past = _same_weekday_days(history, day, origin, weeks)
        out[day] = [sum(history[d][i] for d in past) / len(past) for i in range(width)] if past else [0.0] * width
    return out


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """One candidate forecaster: level over ``level_weeks`` same-weekday days (mean or median of the daily
    totals), intraday profile pooled over ``profile_weeks``; special days left out of both and forecast as
    a normal day times the ratio such days had to their forecasts in the history."""

    level_weeks: int = 4
    profile_weeks: int = 8
    level: str = "mean"  # mean | median
    specials: bool = True
    #: Pool the intraday profile over every day of the same kind (the weekdays whose mean profiles in the
    #: history are closest), not only the same weekday: more days, less noise in thin intervals.
    pooled_profile: bool = False
    #: Weight of each neighbouring interval when smoothing the pooled profile (0: none): a call's half-hour
    #: is partly chance, so a thin interval borrows from the two beside it.
    smooth: float = 0.0
    #: The first ``month_start`` business days of each month are special days of their own (``bd1``,
    #: ``bd2`` ...: salaries and statements bring calls), each learning its share as holidays do.
    month_start: int = 0
    #: Observances (the calendar's optional days: Purim, Tisha B'Av ...) kept as a kind of their own;
    #: without, they are normal days.
    observances: bool = False
    #: Daily total from a regression instead (0: off): log total on weekday, the part of the month
    #: (``MONTH_PARTS`` days each) and a linear trend, fitted to the normal days of the last ``regression``
    #: weeks, each weighted 0.5 ** (age in weeks / ``REGRESSION_HALF_LIFE``), the month and trend terms
    #: shrunk toward zero (ridge); see :func:`regression_level`.
    regression: int = 0
    #: Intraday shape: ``pooled`` (each interval's share of the summed counts) or ``median`` (each
    #: interval's median share over the days, not renormalised: see :func:`median_profile`).
    profile: str = "pooled"
    #: With ``median`` shares, the weight of the shape shared by all business weekdays (median shares
    #: over every open weekday's days of the same ``profile_weeks``) mixed into the weekday's own: five
    #: times the days, so less noise in each interval, at the cost of what sets a weekday apart.
    shrink: float = 0.0
    #: With the regression, terms for the month's first ``regression_days`` business days (see
    #: :func:`regression_level`).
    regression_days: int = 0

    def describe(self) -> str:
        return (
            f"level {self.level} of {self.level_weeks} wk, profile {self.profile_weeks} wk"
            f"{', special days' if self.specials else ''}{', pooled profile' if self.pooled_profile else ''}"
            f"{f', smoothed {self.smooth:g}' if self.smooth else ''}"
            f"{f', first {self.month_start} business days of the month' if self.month_start else ''}"
            f"{', observances' if self.observances else ''}"
            f"{f', daily total by regression on {self.regression} wk' if self.regression else ''}"
            f"{', median shares' if self.profile == 'median' else ''}"
            f"{f', {self.shrink:g} shape of all business weekdays' if self.shrink else ''}"
            f"{f', first {self.regression_days} business days in the regression' if self.regression_days else ''}"
        )


#: Weeks of history the regression candidates fit (half a year: every weekday and part of the month
#: many times over).
REGRESSION_WEEKS = 26
#: Weight of the business weekdays' shared shape in the candidates that mix it in (see ModelConfig.shrink).
SHRINK = 0.5
#: Month-start terms of the regression candidates that have them (see ModelConfig.regression_days).
REGRESSION_DAYS = 3
CANDIDATES: tuple[ModelConfig, ...] = tuple(
    ModelConfig(lw, pw, lv, sp, pool, sm, ms if sp else 0, ob and sp, rg, prof, sh, rd)
    for lw in (1, 2, 4, 6, 8)
    for pw in (4, 8, 12, 26)
    for lv in ("mean", "median")
    for sp in (True, False)
    for pool in (False, True)
    for sm in (0.0, 0.25)
    for ms in (0, 3, 5)
    for ob in (False, True)
    for rg in (0, REGRESSION_WEEKS)
    for prof in ("pooled", "median")
    for sh in (0.0, SHRINK)
    for rd in (0, REGRESSION_DAYS)
    if not (lw <= 2 and lv == "median") and (sp or (ms == 0 and not ob))
    and not (rg and (lw != 8 or lv != "median"))  # the regression replaces the level: one level setting
    and not (sh and prof != "median") and not (rd and not rg)
)
#: The few the console and API choose among on a unit's own history (a request must stay quick).
QUICK_CANDIDATES: tuple[ModelConfig, ...] = tuple(
    ModelConfig(lw, pw, lv, True, False, sm, ms, True, rg, prof, sh, rd)
    for lw, lv, rg in ((4, "mean", 0), (8, "median", 0), (8, "median", REGRESSION_WEEKS))
    for pw in (8, 12)
    for sm in (0.0, 0.25)
    for ms in (0, 3)
    for prof in ("pooled", "median")
    for sh in (0.0, SHRINK)
    for rd in (0, REGRESSION_DAYS)
    if not (rg and ms)  # the regression's parts of the month stand for the month-start days
    and not (sh and prof != "median") and not (rd and not rg)
)


def _median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


#: Days in each part of the month of the regression (1-5, 6-10, ... 26-31: pay days and statements).
MONTH_PARTS = 5
#: Half-life, in weeks, of a day's weight in the regression.
REGRESSION_HALF_LIFE = 8.0
#: Reweighting steps of the regression's Huber fit (a day with a residual beyond 1.345 robust standard
#: deviations weighs less: an outage's or a burst's day does not move the level of the days around it).
REGRESSION_HUBER_STEPS = 3
#: Ridge penalty on the month-part and trend terms (in units of a day of full weight).
REGRESSION_RIDGE = 4.0
#: Ridge penalty on the terms of the month's first business days (lighter: each is one day a month, and
#: the backtests on the training months preferred 1 to 0.25 and 4); see :func:`regression_level`.
REGRESSION_MONTH_START_RIDGE = 1.0


def _month_part(day: date) -> int:
    return min((day.day - 1) // MONTH_PARTS, 30 // MONTH_PARTS - 1)


def regression_level(history: History, day: date, origin: date, weeks: int, *,
                     half_life: float | None = None, ridge: float | None = None,
                     huber_steps: int | None = None, month_days: Mapping[date, int] | None = None,
                     month_start: int = 0) -> float | None:
    """Expected daily total of ``day`` from a weighted least-squares fit of log daily total on the
    weekday (one intercept each), the part of the month and days since ``origin`` over the history days
    with calls in the ``weeks`` weeks before ``origin``; the month-part and trend terms carry a ridge
    penalty so that little history leaves them near zero, and ``huber_steps`` reweightings make the fit
    a Huber one (robust scale from the median absolute residual). None when no day of ``day``'s weekday
    has calls.

    ``month_start`` > 0 adds one term for each of the month's first ``month_start`` business days,
    ``month_days`` giving a day's business-day index in its month (see :func:`business_day_index`), with
    the lighter ridge ``REGRESSION_MONTH_START_RIDGE``: salaries and statements bring calls on those very
    days, which a 5-day part of the month spreads over days that are not business days."""
    return regression_fit(history, origin, weeks, half_life=half_life, ridge=ridge, huber_steps=huber_steps,
                          month_days=month_days, month_start=month_start)(day)


def regression_fit(history: History, origin: date, weeks: int, *,
                   half_life: float | None = None, ridge: float | None = None,
                   huber_steps: int | None = None, month_days: Mapping[date, int] | None = None,
                   month_start: int = 0) -> Callable[[date], float | None]:
    """The fit of :func:`regression_level` for ``origin``, made once: the expected daily total of any day
    (None for a weekday without calls)."""
    import numpy as np

    half_life = REGRESSION_HALF_LIFE if half_life is None else half_life
    ridge = REGRESSION_RIDGE if ridge is None else ridge
    huber_steps = REGRESSION_HUBER_STEPS if huber_steps is None else huber_steps
    month_days = month_days or {}
    rows = [d for d in history if d < origin and (origin - d).days <= 7 * weeks and sum(history[d]) > 0]
    weekdays = sorted({d.weekday() for d in rows})
    if not rows:
        return lambda day: None
    parts = 30 // MONTH_PARTS
    col = {wd: i for i, wd in enumerate(weekdays)}
    first_day_col = len(weekdays) + parts - 1
    n_cols = first_day_col + month_start + 1

    def features(d: date) -> list[float]:
        x = [0.0] * n_cols
        x[col[d.weekday()]] = 1.0
        if _month_part(d):
            x[len(weekdays) + _month_part(d) - 1] = 1.0
        if 0 < month_days.get(d, 0) <= month_start:
            x[first_day_col + month_days[d] - 1] = 1.0
        x[-1] = (d - origin).days / 7.0  # trend, per week
        return x

    w = np.sqrt([0.5 ** ((origin - d).days / 7.0 / half_life) for d in rows])
    a = np.asarray([features(d) for d in rows]) * w[:, None]
    b = np.log([float(sum(history[d])) for d in rows]) * w
    strength = [ridge] * (parts - 1) + [REGRESSION_MONTH_START_RIDGE] * month_start + [ridge]
    penalty = np.zeros((n_cols - len(weekdays), n_cols))
    penalty[:, len(weekdays):] = np.diag(np.sqrt(strength))
    coef, *_ = np.linalg.lstsq(np.vstack([a, penalty]), np.concatenate([b, np.zeros(len(penalty))]), rcond=None)
    for _ in range(huber_steps):
        r = (b - a @ coef) / w
        scale = 1.4826 * float(np.median(np.abs(r)))
        if scale <= 0:
            break
        hw = np.sqrt(np.minimum(1.0, 1.345 * scale / np.maximum(np.abs(r), 1e-12)))
        coef, *_ = np.linalg.lstsq(np.vstack([a * hw[:, None], penalty]),
                                   np.concatenate([b * hw, np.zeros(len(penalty))]), rcond=None)

    def level(day: date) -> float | None:
        if day.weekday() not in col:
            return None
        return float(math.exp(float(np.dot(features(day), coef))))

    return level


def median_profile(days: Sequence[Sequence[int]], level: float, smooth: float = 0.0, width: int = 0) -> list[float]:
    """``level`` times each interval's median share of its day over ``days`` (days without calls left
    out: with none, ``width`` zeros), each day's counts first smoothed with weight ``smooth`` on the two
    neighbouring intervals.
    Not renormalised: each interval's median is what minimises its absolute error, so the forecast's sum
    may differ from ``level`` (a thin interval's median share lies below its mean)."""
    import numpy as np

    counts = np.asarray(days, dtype=float)
    if counts.size == 0:
        return [0.0] * width
    if smooth:
        beside = np.zeros_like(counts)
        beside[:, 1:] += counts[:, :-1]
        beside[:, :-1] += counts[:, 1:]
        counts = counts + smooth * beside
    totals = counts.sum(axis=1)
    shares = counts[totals > 0] / totals[totals > 0, None]
    if not len(shares):
        return [0.0] * width
    return [level * float(m) for m in np.median(shares, axis=0)]


def _base(
    history: History, day: date, origin: date, config: ModelConfig, width: int,
    kin: Mapping[int, set[int]] | None = None, month_days: Mapping[date, int] | None = None,
    peers: set[int] | None = None, fit: Callable[[date], float | None] | None = None,
) -> list[float]:
    level_days = _same_weekday_days(history, day, origin, config.level_weeks)
    if not level_days:
        return [0.0] * width
    totals = [float(sum(history[d])) for d in level_days]
    level = _median(totals) if config.level == "median" else sum(totals) / len(totals)
    if config.regression:
        fit = fit or regression_fit(history, origin, config.regression, month_days=month_days,
                                    month_start=config.regression_days)
        level = fit(day) or level
    profile_days = _same_weekday_days(history, day, origin, config.profile_weeks)
    if config.pooled_profile:
        kin = kin if kin is not None else _kindred_weekdays(history, origin, width)
        same_kind = kin.get(day.weekday(), {day.weekday()})
        profile_days = [
            d for d in history
            if d < origin and d.weekday() in same_kind and (origin - d).days <= 7 * config.profile_weeks
        ]
    if config.profile == "median":
        own = median_profile([history[d] for d in profile_days], level, config.smooth, width)
        if not (config.shrink and peers and day.weekday() in peers):
            return own
        peer_days = [
            d for d in history if d < origin and d.weekday() in peers and (origin - d).days <= 7 * config.profile_weeks
        ]
        shared = median_profile([history[d] for d in peer_days], level, config.smooth, width)
        return [(1 - config.shrink) * a + config.shrink * b for a, b in zip(own, shared, strict=True)]
    pooled = [float(sum(history[d][i] for d in profile_days)) for i in range(width)]
    if config.smooth:
        w = config.smooth
        pooled = [
            (pooled[i] + w * (pooled[i - 1] if i else 0.0) + w * (pooled[i + 1] if i + 1 < width else 0.0))
            for i in range(width)
        ]
    total = sum(pooled)
    return [level * p / total if total else 0.0 for p in pooled]


def _kindred_weekdays(history: History, origin: date, width: int) -> dict[int, set[int]]:
    """Weekdays grouped by the shape of their day: two weekdays are kin when their mean intraday profiles
    (before ``origin``) differ by less than either differs from its own week-to-week noise."""
    import numpy as np

    by_day: dict[int, list[np.ndarray]] = {}
    for d, v in history.items():
        total = sum(v)
        if d < origin and total:
            by_day.setdefault(d.weekday(), []).append(np.asarray(v, dtype=float) / total)
    means = {wd: np.mean(ps, axis=0) for wd, ps in by_day.items()}
    noise = {
        wd: float(np.mean([np.abs(p - means[wd]).sum() for p in ps])) for wd, ps in by_day.items()
    }
    return {
        a: {b for b in means if float(np.abs(means[a] - means[b]).sum()) < min(noise[a], noise[b])}
        for a in means
    }


def special_kinds(holidays: Mapping[date, str], observances: Mapping[date, str] | None = None) -> dict[date, str]:
    """Public holidays and the days they bend: each holiday is ``holiday``, the day before a run of them
    ``eve`` (customers call early, offices close early), the first day after it ``after`` (what the
    holiday held back; the forecast moves it to the next day the business is open, see
    :func:`after_on_business_days`); ``observances`` (days the calendar marks but that are not days off for
    all) not already one of those are ``observance``. Each kind learns its own share of a normal day."""
    out: dict[date, str] = {d: "holiday" for d in holidays}
    for d in sorted(holidays):
        out.setdefault(d - timedelta(days=1), "eve")
        after = d + timedelta(days=1)
        while after in holidays:
            after += timedelta(days=1)
        out.setdefault(after, "after")
    for d in sorted(observances or ()):
        out.setdefault(d, "observance")
    return out


def after_on_business_days(special: SpecialDays, weekdays: set[int]) -> dict[date, str]:
    """``special`` with each ``after`` day that falls on a day the business is closed (not one of
    ``weekdays``: the bank's Friday after a Thursday holiday, its Saturday after a Friday one) moved to the
    next day of ``weekdays`` that is not a holiday: the calls a holiday held back come when the lines open
    again (the bank's Sunday after Shavuot 1999 had 1.7 times its forecast). A day that is already a
    special day keeps its own kind; unchanged when no weekday is open."""
    if not weekdays:
        return dict(special)
    out = {d: k for d, k in special.items() if not (k == "after" and d.weekday() not in weekdays)}
    for d, k in sorted(special.items()):
        if k == "after" and d.weekday() not in weekdays:
            day = d + timedelta(days=1)
            while day.weekday() not in weekdays or out.get(day) == "holiday":
                day += timedelta(days=1)
            out.setdefault(day, "after")
    return out


def business_weekdays(history: History) -> set[int]:
    """The weekdays a business is open for: those whose median daily total in ``history`` is at least
    half the busiest weekday's (the bank's Friday and Saturday are not; none is when all are quiet)."""
    totals: dict[int, list[float]] = {}
    for d, v in history.items():
        totals.setdefault(d.weekday(), []).append(float(sum(v)))
    medians = {wd: _median(t) for wd, t in totals.items()}
    top = max(medians.values(), default=0.0)
    return {wd for wd, m in medians.items() if top > 0 and m >= top / 2}


def month_start_kinds(
    first: date, last: date, count: int, weekdays: set[int], special: SpecialDays | None = None
) -> dict[date, str]:
    """The first ``count`` business days (a day of ``weekdays`` that is not a holiday in ``special``) of
    each month from ``first`` to ``last``, as kinds ``bd1`` .. ``bd<count>``; a day that is already a
    special day keeps its own kind (it still counts as a business day unless a holiday)."""
    special = special or {}
    index = business_day_index(first, last, weekdays, special)
    return {d: f"bd{i}" for d, i in index.items() if i <= count and d not in special}


def business_day_index(
    first: date, last: date, weekdays: set[int], special: SpecialDays | None = None
) -> dict[date, int]:
    """Each business day from ``first`` to ``last`` (a day of ``weekdays`` that is not a holiday or an
    observance in ``special``) with its place among its month's business days (1 for the first)."""
    special = special or {}
    out: dict[date, int] = {}
    index = 0
    day = first.replace(day=1)  # count from the month's start even when ``first`` is not the 1st
    while day <= last:
        if day.day == 1:
            index = 0
        if day.weekday() in weekdays and special.get(day) not in ("holiday", "observance"):
            index += 1
            if day >= first:
                out[day] = index
        day += timedelta(days=1)
    return out


def special_factor(
    history: History, special: SpecialDays, origin: date, config: ModelConfig, kind: str | None = None, *,
    month_days: Mapping[date, int] | None = None, peers: set[int] | None = None,
) -> float:
    """Median ratio of what special days (of ``kind``, when given and the history has some) before
    ``origin`` really had to their normal-day forecast (a day absent from the history had no calls);
    1.0 when the history has none to learn from. ``month_days`` and ``peers`` as for the forecast (see
    :func:`model_forecast`)."""
    width = _width(history)
    normal = {d: v for d, v in history.items() if d not in special}
    past = [d for d in special if d < origin]
    if kind is not None and any(special[d] == kind for d in past):
        past = [d for d in past if special[d] == kind]
    elif kind in ENTERED_KINDS or kind == "observance" or (kind or "").startswith("bd"):
        return 1.0  # no earlier day of this kind (a campaign, an outage ...): holidays say nothing about it
    ratios = []
    for s in sorted(past):
        base = sum(_base(normal, s, s, config, width, month_days=month_days, peers=peers))
        if base > 0:
            ratios.append(sum(history.get(s, ())) / base)
    return _median(ratios) if ratios else 1.0


def model_forecast(
    history: History,
    days: Sequence[date],
    config: ModelConfig,
    special: SpecialDays | None = None,
    effects: Mapping[date, float] | None = None,
) -> Forecast:
    """The configured forecaster, from history strictly before the first forecast day.

    ``effects`` are the factors an administrator expects on given days (1.3: 30 % more calls); on such a
    day the stated factor replaces the one learnt from earlier days of its kind (the day should also be in
    ``special``, so that history of that day stays out of normal days' levels and profiles)."""
    width, origin = _start(history, days)
    special = special if (special and config.specials) else {}
    if not config.observances:
        special = {d: k for d, k in special.items() if k != "observance"}
    if special:  # the day after a holiday is the first day the business is open again
        special = after_on_business_days(special, business_weekdays({d: v for d, v in history.items()
                                                                     if d not in special}))
    if config.month_start and config.specials:
        first = min(history)
        open_days = business_weekdays({d: v for d, v in history.items() if d not in special})
        special = {**special, **month_start_kinds(first, max(days), config.month_start, open_days, special)}
    effects = effects or {}
    normal = {d: v for d, v in history.items() if d not in special} or history
    open_days = business_weekdays(normal) if config.shrink or config.regression_days else set()
    peers = open_days if config.shrink else None
    month_days = (  # a special day keeps its own kind: its share was learnt without the month-start terms
        {d: i for d, i in business_day_index(min(history), max(days), open_days, special).items() if d not in special}
        if config.regression and config.regression_days else None
    )
    kinds = {special[d] for d in days if d in special and d not in effects}
    factors = {
        kind: special_factor(history, special, origin, config, kind, month_days=month_days, peers=peers)
        for kind in kinds
    }
    kin = _kindred_weekdays(normal, origin, width) if config.pooled_profile else None
    fit = (  # one fit for the origin serves every day
        regression_fit(normal, origin, config.regression, month_days=month_days, month_start=config.regression_days)
        if config.regression else None
    )
    out: Forecast = {}
    for day in days:
        base = _base(normal, day, origin, config, width, kin, month_days, peers, fit)
        if day in effects:
            out[day] = [v * effects[day] for v in base]
        elif day in special:
            out[day] = [v * factors[special[day]] for v in base]
        else:
            out[day] = base
    return out


def rolling_forecast(history: History, test_days: Sequence[date], step_days: int,
                     forecaster: Callable[[History, list[date]], Forecast]) -> Forecast:
    """``forecaster`` re-run at each block of ``step_days`` test days on all history before it (a test day
    with no history before its block is left out)."""
    predicted: Forecast = {}
    block_start = test_days[0]
    while block_start <= test_days[-1]:
        block = [d for d in test_days if 0 <= (d - block_start).days < step_days]
        train = {d: history[d] for d in history if d < block_start}
        if block and train:
            predicted.update(forecaster(train, block))
        block_start += timedelta(days=step_days)
    return predicted


def _rolling(history: History, test_days: Sequence[date], step_days: int,
             forecaster: Callable[[History, list[date]], Forecast]) -> float:
    """WAPE of :func:`rolling_forecast` over the test days it forecast."""
    predicted = rolling_forecast(history, test_days, step_days, forecaster)
    return wape(predicted, {d: history[d] for d in test_days if d in predicted})


def configured(
    config: ModelConfig, special: SpecialDays | None = None, effects: Mapping[date, float] | None = None
) -> Callable[[History, list[date]], Forecast]:
    """``model_forecast`` with its configuration, special days and stated effects bound."""

    def run(history: History, days: list[date]) -> Forecast:
        return model_forecast(history, days, config, special, effects)

    return run


def backtest_candidates(
    history: History,
    special: SpecialDays | None = None,
    effects: Mapping[date, float] | None = None,
    *,
    backtest_weeks: int = 8,
    candidates: Sequence[ModelConfig] = CANDIDATES,
) -> tuple[list[tuple[float, ModelConfig]], float]:
    """Every candidate's rolling-origin WAPE over the last ``backtest_weeks`` weeks of ``history`` (weekly
    origins, history only), best first (ties in candidate order), and the 8-week baseline's WAPE over the
    same days."""
    ordered = sorted(history)
    if len(ordered) < 2:
        raise WorkforceInputError("need at least two history days to choose a forecast model")
    first = max(ordered[0] + timedelta(days=7), ordered[-1] - timedelta(days=7 * backtest_weeks - 1))
    test_days = [d for d in ordered if d >= first] or ordered[-1:]
    scores = sorted(
        (_rolling(history, test_days, 7, configured(c, special, effects)), i, c) for i, c in enumerate(candidates)
    )
    baseline = _rolling(history, test_days, 7, lambda h, b: same_weekday_mean(h, b))
    return [(w, c) for w, _, c in scores], baseline


def choose_model(
    history: History,
    special: SpecialDays | None = None,
    effects: Mapping[date, float] | None = None,
    *,
    backtest_weeks: int = 8,
    candidates: Sequence[ModelConfig] = CANDIDATES,
) -> tuple[ModelConfig, float, float]:
    """Pick the candidate with the lowest rolling-origin WAPE over the last ``backtest_weeks`` weeks of
    ``history`` (weekly origins, history only). Returns (model, its backtest WAPE, the 8-week baseline's
    backtest WAPE over the same days)."""
    scores, baseline = backtest_candidates(
        history, special, effects, backtest_weeks=backtest_weeks, candidates=candidates
    )
    best_wape, best = scores[0]
    return best, best_wape, baseline


#: How many of the best backtested candidates the forecast averages (see :func:`blend_weights`): their
#: errors are partly independent (a level from eight weeks' median and one from a half-year regression
#: miss on different days), so the average misses less than the best alone.
COMBINE_TOP = 10
Blend = tuple[tuple[ModelConfig, float], ...]


def blend_weights(scores: Sequence[tuple[float, ModelConfig]], top: int = COMBINE_TOP) -> Blend:
    """The first ``top`` of ``scores`` (backtest WAPE, model; best first), each weighted by 1 / WAPE,
    weights summing to 1 (a candidate with zero error takes all the weight, shared among such)."""
    chosen = list(scores[:top])
    if not chosen:
        raise WorkforceInputError("no candidate to blend")
    perfect = [c for w, c in chosen if w <= 0]
    if perfect:
        return tuple((c, 1 / len(perfect)) for c in perfect)
    total = sum(1 / w for w, _ in chosen)
    return tuple((c, (1 / w) / total) for w, c in chosen)


def describe_blend(models: Blend) -> str:
    """One line for a blend: how many, their weights' range and the first one."""
    if len(models) == 1:
        return models[0][0].describe()
    weights = [w for _, w in models]
    return (f"mean of the best {len(models)} by backtest (weights {min(weights):.2f}-{max(weights):.2f}), "
            f"first: {models[0][0].describe()}")


def blend(forecasts: Sequence[tuple[Forecast, float]]) -> Forecast:
    """Weighted mean, interval by interval, of forecasts of the same days (weights as given)."""
    if not forecasts:
        raise WorkforceInputError("nothing to blend")
    first = forecasts[0][0]
    return {
        day: [math.fsum(f[day][i] * w for f, w in forecasts) for i in range(len(values))]
        for day, values in first.items()
    }


def blended(
    models: Blend, special: SpecialDays | None = None, effects: Mapping[date, float] | None = None
) -> Callable[[History, list[date]], Forecast]:
    """The weighted mean of the models' forecasts, each with the special days and stated effects."""

    def run(history: History, days: list[date]) -> Forecast:
        return blend([(model_forecast(history, days, c, special, effects), w) for c, w in models])

    return run


def choose_blend(
    history: History,
    special: SpecialDays | None = None,
    effects: Mapping[date, float] | None = None,
    *,
    backtest_weeks: int = 8,
    candidates: Sequence[ModelConfig] = CANDIDATES,
    top: int = COMBINE_TOP,
) -> tuple[Blend, float, float]:
    """The ``top`` candidates of the backtests, weighted by :func:`blend_weights`. Returns (the blend, the
    best single candidate's backtest WAPE, the 8-week baseline's)."""
    scores, baseline = backtest_candidates(
        history, special, effects, backtest_weeks=backtest_weeks, candidates=candidates
    )
    return blend_weights(scores, top), scores[0][0], baseline


def rolling_scores(
    history: History,
    test_days: Sequence[date],
    forecasters: Mapping[str, Callable[[History, list[date]], Forecast]],
    step_days: int = 7,
) -> dict[str, float]:
    """WAPE of each named forecaster over ``test_days``, each block forecast from all history before it."""
    return {name: _rolling(history, test_days, step_days, f) for name, f in forecasters.items()}


def public_holidays(country: str, years: Sequence[int], *, category: str = "public") -> dict[date, str]:
    """Public holidays of ``country`` (ISO code: CN for the operators, IL for the bank log ...) from the
    `holidays` package's calendars; ``category="optional"``: its observances (days marked but not off for
    all: Purim, Tisha B'Av ...), empty when the country's calendar has none."""
    import holidays

    try:
        calendar = holidays.country_holidays(country, years=list(years))
        if category != "public":
            if category not in getattr(calendar, "supported_categories", ()):
                return {}
            calendar = holidays.country_holidays(country, years=list(years), categories=(category,))
    except NotImplementedError:
        raise WorkforceInputError(f"no public-holiday calendar for country '{country}'") from None
    return {d: str(name) for d, name in sorted(calendar.items())}
