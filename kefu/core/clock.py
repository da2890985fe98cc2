"""Time comes from here so tests and the demo can set it; pure modules take time as an argument.

The clock can run ahead of (or behind) the machine's by a fixed offset: ``KEFU_CLOCK_OFFSET`` (seconds) when
the process starts, or :func:`shift` within a process. Tests use it to keep "today" away from local
midnight, where a figure counted "today" would otherwise depend on the hour the suite runs.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

#: China's time (UTC+8, no daylight saving): the local day and year of budgets, ages and reports.
CHINA = ZoneInfo("Asia/Shanghai")


def _offset_from_env() -> timedelta:
    text = os.environ.get("KEFU_CLOCK_OFFSET", "").strip()
    if not text:
        return timedelta(0)
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        raise ValueError(f"KEFU_CLOCK_OFFSET must be a number of seconds, not {text!r}") from None


_offset = _offset_from_env()


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def offset() -> timedelta:
    return _offset


def shift(by: timedelta) -> None:
    """Set the clock's offset from the machine's (a timedelta(0) puts it back)."""
    global _offset
    _offset = by


def ensure_aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they are stored as UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
