"""kefu's clock: the machine's time plus an offset set by KEFU_CLOCK_OFFSET or shift()."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.core import clock
from tests.conftest import midnight_offset


def test_shift_moves_the_clock_and_zero_puts_it_back() -> None:
    before = clock.offset()
    try:
        clock.shift(timedelta(hours=3))
        ahead = clock.utcnow() - datetime.now(UTC)
        assert timedelta(hours=3) - timedelta(seconds=1) < ahead <= timedelta(hours=3)
        clock.shift(timedelta(0))
        assert abs(clock.utcnow() - datetime.now(UTC)) < timedelta(seconds=1)
    finally:
        clock.shift(before)


def _offset_in_child(value: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from kefu.core import clock; print(clock.offset().total_seconds())"],
        env={"KEFU_CLOCK_OFFSET": value, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_offset_comes_from_the_environment_and_nonsense_is_refused() -> None:
    assert _offset_in_child("-1800.5").stdout.strip() == "-1800.5"
    assert _offset_in_child("").stdout.strip() == "0.0"
    bad = _offset_in_child("an hour")
    assert bad.returncode != 0
    assert "KEFU_CLOCK_OFFSET must be a number of seconds, not 'an hour'" in bad.stderr


@pytest.mark.parametrize(
    ("local", "added"),
    [("00:05", 1), ("00:29", 1), ("00:30", 0), ("12:00", 0), ("23:29", 0), ("23:30", 1), ("23:59", 1)],
)
def test_away_from_midnight_moves_only_near_midnight(local: str, added: int) -> None:
    """The rule of the fixture the 'today' tests use: an hour ahead within 30 minutes of midnight."""
    hour, minute = map(int, local.split(":"))
    assert midnight_offset(datetime(2026, 12, 7, hour, minute, 59, tzinfo=ZoneInfo("Asia/Shanghai"))) == timedelta(
        hours=added
    )
