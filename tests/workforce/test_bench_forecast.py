"""`kefu bench forecast` end to end on a generated call log: the model is chosen on the days before the
split, every method is scored on the days after it, and the report prints each WAPE with its ratio."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from kefu.workforce import bench
from tests.workforce.support import make_log


def test_forecast_bench_scores_every_method_on_the_held_out_days(tmp_path: Path) -> None:
    (tmp_path / "01_January.txt").write_text("\n".join(make_log(date(1999, 1, 3), 70)) + "\n", encoding="utf-8")
    result = bench.run(tmp_path, split=date(1999, 2, 28), country="IL")
    assert result.train_days == 56
    assert result.test_days == 14
    assert set(result.wape) == {
        "model", "best_single", "mean_8_weeks", "seasonal_naive", "first_pass", "true_day_total"
    }
    assert all(0 < w < 1 for w in result.wape.values())
    assert list(result.monthly) == ["1999-02", "1999-03"]  # 28 February and the 13 days of March after it
    assert set(result.monthly["1999-03"]) == set(result.wape)
    text = bench.report(result)
    assert "/ 8-wk mean" in text
    assert f"{result.wape['model']:.4f}" in text
    assert "1.000" in text  # the baseline against itself
    march = result.monthly["1999-03"]
    assert f"1999-03: model {march['model']:.4f}, 8-week mean {march['mean_8_weeks']:.4f}" in text


def test_forecast_bench_skips_without_data(tmp_path: Path) -> None:
    from kefu.cli import app

    out = CliRunner().invoke(app, ["bench", "forecast", "--data", str(tmp_path)])
    assert out.exit_code == 0
    assert "skipped: no call logs" in out.output
