"""`kefu bench routing` through typer's CliRunner, on a small province and a made-up call log."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from kefu.cli import app
from tests.workforce.support import make_log

runner = CliRunner()
SMALL = ["bench", "routing", "--agents", "40", "--waiting", "400", "--decisions", "60", "--scans", "2"]


def test_bench_routing_prints_latency_against_its_references_and_throughput() -> None:
    result = runner.invoke(app, [*SMALL, "--no-replay"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"40 agents \(\d+ holding work, none with room for a waiting item it may take\), 400 waiting "
                     r"items, 24 queues", out)
    for label in ("agent frees up -> next offer", "item arrives (waits in line)", "reference: FIFO heap pop + push",
                  "reference: linear scan of the line"):
        assert re.search(rf"{re.escape(label)}\s+\d+\.\d{{3}}\s+\d+\.\d{{3}}", out), label
    assert re.search(r"assignments per second: [\d,]+ \(\d+ offers accepted", out)
    assert "replay" not in out


def test_bench_routing_replays_a_day_of_a_call_log(tmp_path: Path) -> None:
    (tmp_path / "03_March.txt").write_text("\n".join(make_log(date(1999, 3, 1), 2, per_hour=15)) + "\n")
    result = runner.invoke(app, [*SMALL, "--data", str(tmp_path), "--month", "03", "--day", "1999-03-02",
                                 "--replications", "2"])
    assert result.exit_code == 0, result.output
    assert "replay of 1999-03-02 (03_March.txt)" in result.output
    assert re.search(r"PS/priority\s+\d+ \|", result.output)
    assert "reference in the same run, the same calls and head count as one FIFO pool" in result.output


def test_bench_routing_skips_the_replay_cleanly_without_the_log(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SMALL, "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"replay skipped: no call log 07_*.txt under {tmp_path}" in result.output


def test_bench_routing_refuses_a_malformed_day(tmp_path: Path) -> None:
    result = runner.invoke(app, [*SMALL, "--data", str(tmp_path), "--day", "March 2"])
    assert result.exit_code == 2
    assert "--day must be YYYY-MM-DD" in result.output
