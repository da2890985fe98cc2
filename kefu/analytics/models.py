"""Analytics' tables (migration 0701_analytics): reports made on a schedule, kept for download."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, BigId, UTCDateTime


class SavedReport(Base):
    """A report the periodic job made (yesterday's daily, last week's, last month's) for a province or the
    group: its title, its CSV and XLSX, made once per period and unit."""

    __tablename__ = "analytics_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(8))
    first_day: Mapped[date] = mapped_column(Date)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    csv: Mapped[str] = mapped_column(Text)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("period", "first_day", "org_unit_id", name="uq_analytics_reports_period_unit"),
        Index("ix_analytics_reports_unit_made", "org_unit_id", "made_at"),
    )


class WallThreshold(Base):
    """An administrator's threshold for one figure of one channel's or one queue's tile (over the defaults
    of kefu/analytics/wall.py): where it turns amber and where red."""

    __tablename__ = "analytics_thresholds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(8))  # channel | queue
    target: Mapped[str] = mapped_column(String(40))  # the channel, or the queue's key
    metric: Mapped[str] = mapped_column(String(20))
    amber: Mapped[float] = mapped_column(Float)
    red: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("scope", "target", "metric", name="uq_analytics_thresholds_target_metric"),
        CheckConstraint("scope in ('channel','queue')", name="scope"),
    )
