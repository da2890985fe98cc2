"""`kefu bench sla` runs and prints its figures (small n)."""

from __future__ import annotations

from typer.testing import CliRunner

from kefu.cli import app


def test_bench_sla_prints_ratios() -> None:
    r = CliRunner().invoke(app, ["bench", "sla", "--n", "20"])
    assert r.exit_code == 0, r.output
    assert "add working time" in r.output
    assert "ratio" in r.output
