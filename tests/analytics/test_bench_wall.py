"""`kefu bench wall` through typer's CliRunner on a small generated day."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from kefu.cli import app


def test_bench_wall_prints_latency_against_a_count_of_the_same_rows() -> None:
    result = CliRunner().invoke(app, ["bench", "wall", "--contacts", "1000", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "generated 1,000 contacts of one day" in out
    assert re.search(r"reference: COUNT\(\*\) of the day's rows \(1,000\): \d+\.\d ms", out)
    for label in ("KPI tallies per 15 min x channel x unit", "supervisor wall (all tiles)",
                  "daily report (by hour, complaints, FCR)"):
        assert re.search(rf"{re.escape(label)}: \d+\.\d ms \(\d+\.\d x the COUNT, \d+\.\d x the row scan\)", out)
