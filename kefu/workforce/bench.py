"""`kefu bench forecast`: the forecaster against the baselines on call-log months it was not tuned on.

The log's days before ``split`` are the training part: the model (its level and profile windows, mean or
median, special days (holidays, their eves and the days after) or not, profile smoothing) is chosen there
by weekly rolling-origin backtests and nothing after ``split`` is looked at. The days from ``split`` on
are then forecast a week at a time, each week from all days before it (as a planner would), by the
chosen model, the 8-week same-weekday mean (the baseline to beat), the 1-week seasonal naive and the
first-pass seasonal model; WAPE of each and its ratio to the baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kefu.workforce import forecast, history

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "callcenter-anonymous-bank"


@dataclass(frozen=True)
class ForecastBench:
    model: forecast.ModelConfig
    train_days: int
    test_days: int
    train_backtest: float  # chosen model's WAPE in the training backtests
    train_baseline: float  # the 8-week mean's, on the same days
    wape: dict[str, float]  # method -> WAPE on the held-out days
    holidays: dict[date, str]
    seconds: float


def run(data_dir: Path, *, split: date, country: str = "IL", interval_minutes: int = 30,
        quick: bool = True) -> ForecastBench:
    started = time.perf_counter()
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
    special = forecast.special_kinds(holidays)
    candidates = forecast.CANDIDATES if not quick else tuple(c for c in forecast.CANDIDATES if not c.pooled_profile)
    model, backtest, baseline = forecast.choose_model(train, special, candidates=candidates)
    scores = forecast.rolling_scores(
        counts,
        test,
        {
            "model": forecast.configured(model, special),
            "mean_8_weeks": forecast.same_weekday_mean,
            "seasonal_naive": forecast.seasonal_naive,
            "first_pass": forecast.seasonal_forecast,
        },
    )
    return ForecastBench(model, len(train), len(test), backtest, baseline, scores, holidays,
                         time.perf_counter() - started)


def report(b: ForecastBench) -> str:
    base = b.wape["mean_8_weeks"]
    naive = b.wape["seasonal_naive"]
    lines = [
        f"training days {b.train_days}, held-out days {b.test_days}; chosen on training backtests: "
        f"{b.model.describe()} (backtest WAPE {b.train_backtest:.4f} vs 8-week mean {b.train_baseline:.4f})",
        f"{'method':<16}{'WAPE':>9}{'/ 8-wk mean':>13}{'/ naive':>10}",
    ]
    for name, w in b.wape.items():
        lines.append(f"{name:<16}{w:>9.4f}{w / base:>13.3f}{w / naive:>10.3f}")
    lines.append(f"model vs 8-week mean: {100 * (1 - b.wape['model'] / base):+.1f} % lower WAPE; {b.seconds:.1f} s")
    return "\n".join(lines)
