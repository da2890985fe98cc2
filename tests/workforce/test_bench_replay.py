"""`kefu bench replay`: each day's service level in the log beside the replay's, and the error in points."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kefu.routing.replay import offered_on
from kefu.workforce import bench, history
from tests.workforce.support import make_log


def test_replay_reports_each_days_log_and_replayed_service_level(tmp_path: Path) -> None:
    (tmp_path / "03_March.txt").write_text("\n".join(make_log(date(1999, 3, 1), 2, per_hour=6)) + "\n")
    rows = bench.replay_days(tmp_path, month="03", days=1, replications=2)
    assert [r.day for r in rows] == [date(1999, 3, 1)]
    (r,) = rows
    records = history.read_call_log([tmp_path / "03_March.txt"]).records
    offered = offered_on(records, r.day)
    answered = [c for c in offered if c.answered]
    assert r.offered == len(offered)
    assert r.log_service_level == pytest.approx(sum(1 for c in answered if c.q_time < 20) / len(answered))
    assert r.agents == 3  # the servers of the log
    assert r.error_points == pytest.approx(100 * (r.predicted - r.log_service_level))
    text = bench.replay_report(rows, 1.0)
    assert text.splitlines()[1].startswith("1999-03-01")
    assert "1 days: mean absolute error" in text
    with pytest.raises(FileNotFoundError, match="no call log 04_"):
        bench.replay_days(tmp_path, month="04")


def test_ready_agents_are_on_duty_and_not_idle_while_a_call_of_theirs_waits() -> None:
    from tests.workforce.support import HEADER, row

    day = date(1999, 3, 1)
    lines = [
        HEADER,
        row(1, day, 36_000 - 6, outcome="AGENT", service=300, server="ANAT"),  # serves 10:00-10:05
        row(2, day, 36_600 - 6, outcome="HANG", queue=600),  # waits 10:10-10:20 while ANAT is idle
    ]
    records = history.parse_call_log(lines).records
    ready = history.ready_agents(records, 300)
    assert list(ready) == ["ANAT"]
    on = [k for k, v in enumerate(ready["ANAT"]) if v]
    assert on == [120, 121, 124, 125]  # 10:00-10:10 and 10:20-10:30 of the half-hour she served in
