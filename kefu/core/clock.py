"""Time comes from here so tests and the demo can set it; pure modules take time as an argument."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they are stored as UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
