"""`kefu bench forecast`: the forecaster against the baselines on call-log months it was not tuned on.

The log's days before ``split`` are the training part: the candidates (level and profile windows, mean or
median level or a regression for the daily total (with or without terms for the month's first business
days), pooled or median intraday shares (the weekday's own or half the business weekdays' shared shape), special days
(holidays, their eves and the days after) or not, profile smoothing) are ranked there by weekly
rolling-origin backtests and nothing after ``split`` is looked at; the model is the blend of the best
``forecast.COMBINE_TOP`` weighted by 1 / backtest WAPE. The days from ``split`` on are then forecast a
week at a time, each week from all days before it (as a planner would), by the model, the best single
candidate, the 8-week same-weekday mean (the baseline to beat), the 1-week seasonal naive and the
first-pass seasonal model; WAPE of each and its ratio to the baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kefu.workforce import forecast, history

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "callcenter-anonymous-bank"


@dataclass(frozen=True)
class ForecastBench:
    model: forecast.Blend  # the blended candidates with their weights, best first
    train_days: int
    test_days: int
    train_backtest: float  # the best single candidate's WAPE in the training backtests
    train_baseline: float  # the 8-week mean's, on the same days
    wape: dict[str, float]  # method -> WAPE on the held-out days
    monthly: dict[str, dict[str, float]]  # "YYYY-MM" -> method -> WAPE on that month's held-out days
    holidays: dict[date, str]
    seconds: float


def run(data_dir: Path, *, split: date, country: str = "IL", interval_minutes: int = 30,
        quick: bool = True) -> ForecastBench:
    started = time.perf_counter()
    if not any(data_dir.glob("[0-9][0-9]_*.txt")) and (data_dir / DEFAULT_DATA.name).is_dir():
        data_dir = data_dir / DEFAULT_DATA.name  # the shared data folder given: its call-centre log
    files = sorted(data_dir.glob("[0-9][0-9]_*.txt"))
    if not files:
        raise FileNotFoundError(f"no call logs (NN_Month.txt) in {data_dir}")
    counts = history.arrivals_per_interval(history.read_call_log(files).records, interval_minutes)
    train = {d: v for d, v in counts.items() if d < split}
    test = [d for d in counts if d >= split]
    if not train or not test:
        raise ValueError(f"the split {split} leaves no training or no held-out days")
    years = sorted({d.year for d in counts})
    holidays = forecast.public_holidays(country, years)
    special = forecast.special_kinds(holidays, forecast.public_holidays(country, years, category="optional"))
    candidates = forecast.CANDIDATES if not quick else tuple(c for c in forecast.CANDIDATES if not c.pooled_profile)
    model, backtest, baseline = forecast.choose_blend(train, special, candidates=candidates)

    methods = {
        "model": forecast.blended(model, special),
        "best_single": forecast.configured(model[0][0], special),
        "mean_8_weeks": forecast.same_weekday_mean,
        "seasonal_naive": forecast.seasonal_naive,
        "first_pass": forecast.seasonal_forecast,
    }
    predicted = {name: forecast.rolling_forecast(counts, test, 7, f) for name, f in methods.items()}
    # a bound, not a forecaster: the model's intraday shape scaled to each day's real total (what a perfect
    # daily level would leave: the profile's error and the counts' own chance)
    predicted["true_day_total"] = {
        d: [v * sum(counts[d]) / sum(f) if sum(f) else 0.0 for v in f] for d, f in predicted["model"].items()
    }
    scores = {name: forecast.wape(p, {d: counts[d] for d in test}) for name, p in predicted.items()}
    months = sorted({(d.year, d.month) for d in test})
    monthly = {
        f"{y}-{m:02d}": {name: forecast.wape(p, {d: counts[d] for d in test if (d.year, d.month) == (y, m)})
                         for name, p in predicted.items()}
        for y, m in months
    }
    return ForecastBench(model, len(train), len(test), backtest, baseline, scores, monthly, holidays,
                         time.perf_counter() - started)


def report(b: ForecastBench) -> str:
    base = b.wape["mean_8_weeks"]
    naive = b.wape["seasonal_naive"]
    lines = [
        f"training days {b.train_days}, held-out days {b.test_days}; chosen on training backtests: the blend of "
        f"the best {len(b.model)}, first {b.model[0][0].describe()} (backtest WAPE {b.train_backtest:.4f} vs "
        f"8-week mean {b.train_baseline:.4f})",
        f"{'method':<16}{'WAPE':>9}{'/ 8-wk mean':>13}{'/ naive':>10}",
    ]
    for name, w in b.wape.items():
        lines.append(f"{name:<16}{w:>9.4f}{w / base:>13.3f}{w / naive:>10.3f}")
    lines.append(f"model vs 8-week mean: {100 * (1 - b.wape['model'] / base):+.1f} % lower WAPE; {b.seconds:.1f} s")
    for month, per in b.monthly.items():
        lines.append(f"  {month}: model {per['model']:.4f}, 8-week mean {per['mean_8_weeks']:.4f}, "
                     f"{100 * (1 - per['model'] / per['mean_8_weeks']):+.1f} % lower; best single "
                     f"{per['best_single']:.4f}, bound {per['true_day_total']:.4f}")
    lines.append(f"(true_day_total: the model's intraday shape scaled to each day's real total, what a perfect daily "
                 f"level would give: {100 * (1 - b.wape['true_day_total'] / base):+.1f} % below the 8-week mean)")
    return "\n".join(lines)


# ---- `kefu bench replay`: real days replayed with the staffing inferred from the log ---------------------


@dataclass(frozen=True)
class DayError:
    day: date
    offered: int
    agents: int
    agent_hours: float
    log_service_level: float | None
    predicted: float  # the replay's mean service level (answered within T / answered)
    half_width: float  # its 95 % confidence half-width over the replications
    fifo: float  # the same calls and head count as one FIFO pool (no skills, no priority)
    head_start: float = 0.0  # the priority customers' credit the replay gave, seconds
    type_credits: dict[str, float] = field(default_factory=dict)  # each call type's, seconds (inferred)

    @property
    def error_points(self) -> float | None:
        return None if self.log_service_level is None else 100 * (self.predicted - self.log_service_level)


def replay_days(data_dir: Path, *, month: str = "01", days: int = 10, replications: int = 5,
                seed: int = 0, ready_only: bool = True, slot_seconds: int = 1, after_call: bool = True,
                km_patience: bool = True, logged_in: int | None = None,
                head_start: float | None = None, type_credit: bool = True) -> list[DayError]:
    """The first ``days`` days of the month's log (those with offered calls), each replayed through the
    routing engine (kefu.routing.replay: real arrivals, service and abandons' patience; answered calls'
    patience from the day's Kaplan-Meier law; the agents who served, with their skills, not ready after
    each call for a gap drawn from the day's after-call gaps; calls in order of time in queue, priority
    customers credited the seconds the day's service order shows, or ``head_start``), beside what the log
    says the day's service level was. Nothing is fitted to the log's service level.

    ``ready_only`` (the default) staffs each slot of ``slot_seconds`` with the agents the log shows ready
    in it (kefu.workforce.history.ready_agents: serving, or idle with no call of theirs waiting, or in the
    not-ready time after a call that the replay charges to the calls), by the second by default: an
    agent counts in a slot when ready half of it, and an absence that counts begins when a call arrives
    to find the agent not ready, so any longer slot lets the agent take that call more often than not
    (January 1999: 5-minute slots +9.1 points, 10-second +3.0, 1-second -0.2);
    ``logged_in`` (seconds) with those logged in (first to last call, a gap that long a logout); with
    neither, every agent in each half-hour they served in (an upper bound: slot_seconds 1800).
    ``after_call`` and ``km_patience`` off give the earlier replay (for comparison). ``type_credit``: each
    call type credited the waiting the earlier days' service order shows (kefu.routing.replay.
    inferred_type_credits: February-July, NW about -90 s against the other types)."""
    from kefu.routing.replay import offered_on, replay_day

    files = sorted(data_dir.glob(f"{month}_*.txt"))
    if not files:
        raise FileNotFoundError(f"no call log {month}_*.txt in {data_dir}")
    records = history.read_call_log(files).records
    wanted = sorted({r.day for r in records if offered_on([r], r.day)})[:days]
    if not wanted:
        raise FileNotFoundError(f"no offered call in {month}_*.txt")
    # the month before, if present: the history the priority shares of unrecorded callers come from
    before = sorted(data_dir.glob(f"{int(month) - 1:02d}_*.txt")) if month.isdigit() else []
    records = history.read_call_log(before).records + records
    out = []
    for d in wanted:
        rep = replay_day(records, d, replications=replications, seed=seed, slot_seconds=slot_seconds,
                         ready_only=ready_only, after_call=after_call, km_patience=km_patience, logged_in=logged_in,
                         head_start=head_start, type_credit=type_credit)
        sl = rep.total.service_level
        out.append(DayError(d, rep.offered, rep.agents, rep.agent_hours, rep.total.log_service_level, sl.mean,
                            (sl.high - sl.low) / 2, rep.fifo.service_level.mean, rep.head_start, rep.type_credits))
    return out


def replay_report(rows: list[DayError], seconds: float) -> str:
    lines = [f"{'day':<11}{'calls':>7}{'agents':>7}{'agent-h':>8}{'SL log':>8}{'replay':>8}{'±95%':>7}"
             f"{'error pts':>10}{'FIFO pool':>10}{'credit s':>9}  type credits s"]
    errors = []
    for r in rows:
        e = r.error_points
        if e is not None:
            errors.append(e)
        log = "-" if r.log_service_level is None else f"{r.log_service_level:.3f}"
        err = "-" if e is None else f"{e:+.1f}"
        lines.append(f"{r.day.isoformat():<11}{r.offered:>7,}{r.agents:>7}{r.agent_hours:>8.1f}{log:>8}"
                     f"{r.predicted:>8.3f}{r.half_width:>7.3f}{err:>10}{r.fifo:>10.3f}{r.head_start:>9.0f}  "
                     + (" ".join(f"{t}{c:+.0f}" for t, c in sorted(r.type_credits.items()) if c) or "-"))
    if errors:
        mae = sum(abs(e) for e in errors) / len(errors)
        within = sum(1 for e in errors if abs(e) <= 3)
        lines.append(f"{len(errors)} days: mean absolute error {mae:.1f} points, mean error "
                     f"{sum(errors) / len(errors):+.1f}, largest {max(errors, key=abs):+.1f}; within 3 points on "
                     f"{within} of {len(errors)} days; {seconds:.1f} s")
    return "\n".join(lines)
