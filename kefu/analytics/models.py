"""Analytics' tables (migration 0701_analytics): reports made on a schedule, kept for download."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
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
