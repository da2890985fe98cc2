"""Analytics' tables: reports made on a schedule, kept for download (migration 0701_analytics); the wall's
thresholds (0702); the contact facts and the summary tables kept from events (0703, kefu/analytics/summary.py):
the finest is per hour (HourSummary) and per day with every key (DaySummary); the others are roll-ups of
fewer keys, so a month or a row per agent reads thousands of rows, not millions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
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


class ContactFact(Base):
    """One contact as the summaries last counted it (kefu/analytics/summary.py): its keys and its times.
    When the interaction changes, the summaries lose this contact's old contribution and get its new one,
    so a redelivered or repeated event changes nothing. Times are float seconds since the epoch; ``hour``
    is the UTC hour of ``offered`` (hours since the epoch), ``day`` the local day in the report zone
    (Asia/Shanghai, days since 1970-01-01); ``age_band`` the customer's at the contact's local year
    (kefu/customers/ages.py). Empty keys: '' (queue, category, tier, age band) and 0 (agent)."""

    __tablename__ = "analytics_contacts"

    interaction_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str] = mapped_column(String(8), server_default="")
    agent_id: Mapped[int] = mapped_column(BigId)
    offered: Mapped[float] = mapped_column(Float)
    start: Mapped[float] = mapped_column(Float)
    answered: Mapped[float | None] = mapped_column(Float)
    ended: Mapped[float | None] = mapped_column(Float)
    abandoned: Mapped[bool] = mapped_column(Boolean)
    pending: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_analytics_contacts_waiting", "pending", "org_unit_id", "offered"),
        Index("ix_analytics_contacts_hour", "hour"),
    )


class _Sums:
    """The additive sums of kefu.analytics.kpi.Tally (targets 15 and 20 s, short abandons under 5 s)."""

    offered: Mapped[int] = mapped_column(BigInteger, default=0)
    answered: Mapped[int] = mapped_column(BigInteger, default=0)
    within_15: Mapped[int] = mapped_column(BigInteger, default=0)
    within_20: Mapped[int] = mapped_column(BigInteger, default=0)
    abandoned: Mapped[int] = mapped_column(BigInteger, default=0)
    short_abandoned: Mapped[int] = mapped_column(BigInteger, default=0)
    wait_sum: Mapped[float] = mapped_column(Float, default=0.0)
    handled: Mapped[int] = mapped_column(BigInteger, default=0)
    handle_sum: Mapped[float] = mapped_column(Float, default=0.0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)


SUMS = ("offered", "answered", "within_15", "within_20", "abandoned", "short_abandoned", "wait_sum", "handled",
        "handle_sum", "pending")


class HourSummary(_Sums, Base):
    """Contact sums per UTC hour × org unit × channel × queue: the wall's today and the daily report."""

    __tablename__ = "analytics_hourly"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hour: Mapped[int] = mapped_column(BigInteger)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[str] = mapped_column(String(40))

    __table_args__ = (
        UniqueConstraint("hour", "org_unit_id", "channel", "queue_key", name="uq_analytics_hourly_key"),
    )


class DaySummary(_Sums, Base):
    """Contact sums per local day × org unit × channel × queue × category × customer tier × agent: weeks,
    months and every breakdown of the historical reports."""

    __tablename__ = "analytics_daily"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int] = mapped_column(BigId)

    __table_args__ = (
        UniqueConstraint("day", "org_unit_id", "channel", "queue_key", "category", "tier", "agent_id",
                         name="uq_analytics_daily_key"),
    )


class DayUnitSummary(_Sums, Base):
    """Contact sums per local day × org unit × channel × queue: weekly and monthly reports."""

    __tablename__ = "analytics_daily_units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[str] = mapped_column(String(40))

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "queue_key",
                                       name="uq_analytics_daily_units_key"),)


class DayAgentSummary(_Sums, Base):
    """Contact sums per local day × org unit × channel × queue × agent: rows per agent."""

    __tablename__ = "analytics_daily_agents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[str] = mapped_column(String(40))
    agent_id: Mapped[int] = mapped_column(BigId)

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "queue_key", "agent_id",
                                       name="uq_analytics_daily_agents_key"),)


class DayTopicSummary(_Sums, Base):
    """Contact sums per local day × org unit × channel × queue × category × customer tier."""

    __tablename__ = "analytics_daily_topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "queue_key", "category", "tier",
                                       name="uq_analytics_daily_topics_key"),)


class QualityFact(Base):
    """One complaint or appeal (kind "ticket", ``ref_id`` the ticket) or one inbound contact of a known
    customer (kind "contact", the interaction) as the quality summaries last counted it
    (kefu/analytics/quality.py). Times are float seconds since the epoch; ``day`` is the local day of
    ``opened`` (Asia/Shanghai, days since 1970-01-01). ``repeat``: for a complaint, the same customer
    complained on the same first-level category within 30 days before; for a contact, the customer
    contacted again within 7 days after (not resolved at first contact)."""

    __tablename__ = "analytics_quality_facts"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    ref_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))  # complaint | appeal | contact
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(40), server_default="")  # first-level key ('' none)
    tier: Mapped[str] = mapped_column(String(16), server_default="")  # the customer's ('' none)
    opened: Mapped[float] = mapped_column(Float)
    reply_due: Mapped[float | None] = mapped_column(Float)
    first_reply: Mapped[float | None] = mapped_column(Float)
    repeat: Mapped[bool] = mapped_column(Boolean)
    # who handled it (migration 0710): a contact's routing queue (the first it entered) and agent; a
    # ticket's, those of its first contact ('' and 0 when none)
    queue_key: Mapped[str] = mapped_column(String(40), server_default="")
    agent_id: Mapped[int] = mapped_column(BigId, server_default="0")
    # journeys (migration 0713): a contact's next inbound contact's channel within 7 days ('' none: not
    # returned) and seconds from it to its ticket's resolution (None: unresolved or no ticket); a complaint's
    # or appeal's channel path over the 14 days before it (journeys.path_of; None: no known customer), the
    # contacts on it and whether the customer was handed off in that window
    next_channel: Mapped[str] = mapped_column(String(16), server_default="")
    resolve_seconds: Mapped[float | None] = mapped_column(Float)
    path: Mapped[str | None] = mapped_column(String(200))
    path_contacts: Mapped[int] = mapped_column(Integer, server_default="0")
    handed_off: Mapped[bool] = mapped_column(Boolean, server_default=sa_false())

    __table_args__ = (
        Index("ix_analytics_quality_facts_day", "day"),
        Index("ix_analytics_quality_facts_unreplied", "type", "first_reply", "reply_due"),
    )


QUALITY_SUMS = ("complaints", "complaint_repeats", "replied_on_time", "replied_late", "unreplied", "appeals",
                "contacts", "contacts_returned")


class DayQualitySummary(Base):
    """Complaint, appeal and first-contact sums per local day × org unit × channel (the complaint's
    channel, the contact's) × first-level category (the complaint's, the contact's ticket's) × customer
    tier: the reports' complaint and resolution figures (migration 0708 added the last two keys)."""

    __tablename__ = "analytics_daily_quality"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(40), server_default="")
    tier: Mapped[str] = mapped_column(String(16), server_default="")
    complaints: Mapped[int] = mapped_column(BigInteger, default=0)
    complaint_repeats: Mapped[int] = mapped_column(BigInteger, default=0)
    replied_on_time: Mapped[int] = mapped_column(BigInteger, default=0)
    replied_late: Mapped[int] = mapped_column(BigInteger, default=0)
    unreplied: Mapped[int] = mapped_column(BigInteger, default=0)
    appeals: Mapped[int] = mapped_column(BigInteger, default=0)
    contacts: Mapped[int] = mapped_column(BigInteger, default=0)  # inbound contacts of a known customer
    contacts_returned: Mapped[int] = mapped_column(BigInteger, default=0)  # ... followed by another within 7 days

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "category", "tier",
                                       name="uq_analytics_daily_quality_key"),)


class DayHandlerQualitySummary(Base):
    """The same sums as DayQualitySummary per local day × org unit × channel × routing queue × agent (of
    the contact, or of the complaint's first contact): complaint figures by queue and by agent (migration
    0710)."""

    __tablename__ = "analytics_daily_quality_handlers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    queue_key: Mapped[str] = mapped_column(String(40))
    agent_id: Mapped[int] = mapped_column(BigId)
    complaints: Mapped[int] = mapped_column(BigInteger, default=0)
    complaint_repeats: Mapped[int] = mapped_column(BigInteger, default=0)
    replied_on_time: Mapped[int] = mapped_column(BigInteger, default=0)
    replied_late: Mapped[int] = mapped_column(BigInteger, default=0)
    unreplied: Mapped[int] = mapped_column(BigInteger, default=0)
    appeals: Mapped[int] = mapped_column(BigInteger, default=0)
    contacts: Mapped[int] = mapped_column(BigInteger, default=0)
    contacts_returned: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "queue_key", "agent_id",
                                       name="uq_analytics_daily_quality_handlers_key"),)


class AgentPresenceNow(Base):
    """An agent's presence as the occupancy summary last saw it (kefu/analytics/occupancy.py): since when
    (float seconds since the epoch); the time up to the next change goes to this presence."""

    __tablename__ = "analytics_agent_presence"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    presence: Mapped[str] = mapped_column(String(16))
    since: Mapped[float] = mapped_column(Float)


class AgentHourSummary(Base):
    """Seconds an agent spent in one presence (available, after_call_work, break, not_ready) per UTC hour
    (hours since the epoch), from routing's presence events: the base of occupancy."""

    __tablename__ = "analytics_agent_hours"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hour: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigId)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    presence: Mapped[str] = mapped_column(String(16))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        UniqueConstraint("hour", "user_id", "presence", name="uq_analytics_agent_hours_key"),
        Index("ix_analytics_agent_hours_unit", "org_unit_id", "hour"),
    )


class AgentDaySummary(Base):
    """The agent hours rolled up per local day (Asia/Shanghai, days since the epoch) × org unit × agent ×
    presence: the seconds of the day's hours of analytics_agent_hours, kept from the same events (migration
    0711), so occupancy over weeks and months reads a row per agent and day instead of one per hour."""

    __tablename__ = "analytics_agent_days"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    user_id: Mapped[int] = mapped_column(BigId)
    presence: Mapped[str] = mapped_column(String(16))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        UniqueConstraint("day", "org_unit_id", "user_id", "presence", name="uq_analytics_agent_days_key"),
        Index("ix_analytics_agent_days_unit", "org_unit_id", "day"),
    )


class _SurveyKeys:
    """What a survey is counted under: its local day sent, org unit, channel, agent (0: none) and routing
    queue ('' none)."""

    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int] = mapped_column(BigId)
    queue_key: Mapped[str] = mapped_column(String(40))


class SurveyFact(_SurveyKeys, Base):
    """A satisfaction survey (kefu.sla's SlaSurvey) as the survey summary last counted it
    (kefu/analytics/satisfaction.py): the keys it is counted under and its answer."""

    __tablename__ = "analytics_survey_facts"

    survey_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    answered: Mapped[bool] = mapped_column(Boolean)
    satisfied: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[int] = mapped_column(Integer)


class DaySurveySummary(_SurveyKeys, Base):
    """Satisfaction surveys per local day sent (Asia/Shanghai, days since the epoch) × org unit × channel ×
    agent (0: none) × routing queue ('' none): sent, answered, satisfied (kefu.sla.survey_reply.is_satisfied)
    and the answers' score total (migration 0712)."""

    __tablename__ = "analytics_daily_surveys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    score_total: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("day", "org_unit_id", "channel", "agent_id", "queue_key",
                         name="uq_analytics_daily_surveys_key"),
        Index("ix_analytics_daily_surveys_unit", "org_unit_id", "day"),
    )


class ReportSchedule(Base):
    """A report sent by e-mail on a cadence (kefu/analytics/mailing.py): every day yesterday's daily report,
    every Monday last week's, or on the 1st last month's, of one org unit's subtree (one channel or all,
    optionally broken down), to its recipients."""

    __tablename__ = "analytics_report_schedules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cadence: Mapped[str] = mapped_column(String(8))  # day | week | month (the report's period)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(16))
    breakdown: Mapped[str | None] = mapped_column(String(16))
    recipients: Mapped[str] = mapped_column(Text)  # addresses, one a line
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (CheckConstraint("cadence in ('day','week','month')", name="cadence"),)


MAILING_STATES = ("due", "sending", "sent", "failed")


class ReportMailing(Base):
    """One period's report of a schedule and how its sending goes (kefu/analytics/mailing.py), once per
    schedule and period: ``due`` (to send), ``sending`` (claimed by a run, sent after its commit; a run
    that died leaves it to be tried again at ``next_try_at``), ``sent``, ``failed`` (the last attempt's
    error; tried again at ``next_try_at``, or given up when it is empty). Migration 0709 added the state."""

    __tablename__ = "analytics_report_mailings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(BigId, ForeignKey("analytics_report_schedules.id", ondelete="CASCADE"))
    first_day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), server_default="sent")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("schedule_id", "first_day", name="uq_analytics_report_mailings_period"),
        CheckConstraint("state in ('due','sending','sent','failed')", name="state"),
        Index("ix_analytics_report_mailings_next", "state", "next_try_at"),
    )


class WallAlert(Base):
    """A channel tile of an org unit's subtree that turned red (kefu/analytics/alerts.py): raised when the
    check first finds it red, cleared when it finds it red no more; pushed live to the supervisors who see
    the unit."""

    __tablename__ = "analytics_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(60))  # "channel:voice"
    metrics: Mapped[str] = mapped_column(String(100))  # the red figures, comma-separated
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_analytics_alerts_open", "cleared_at", "org_unit_id"),)


class _DayUnit:
    """A summary row's surrogate id, local day (Asia/Shanghai, days since the epoch) and org unit."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)


class DayReturnSummary(_DayUnit, Base):
    """Contacts of known customers per local day × org unit × channel × first-level category (of the
    contact's ticket, '' none) × the channel of the customer's next contact within 7 days ('' none): the
    contacts, those followed by another (returned), those whose ticket was resolved and the seconds to those
    resolutions: the repeat-contact rate, the channel switches and the channel recommendation per task type
    (kefu/analytics/quality.py, migration 0713)."""

    __tablename__ = "analytics_daily_returns"

    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(40))
    next_channel: Mapped[str] = mapped_column(String(16))
    contacts: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(BigInteger, default=0)
    resolve_sum: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        UniqueConstraint("day", "org_unit_id", "channel", "category", "next_channel",
                         name="uq_analytics_daily_returns_key"),
        Index("ix_analytics_daily_returns_unit", "org_unit_id", "day"),
    )


RETURN_SUMS = ("contacts", "returned", "resolved", "resolve_sum")


class DayPathSummary(_DayUnit, Base):
    """Complaints and appeals of known customers per local day opened × org unit × channel (the ticket's,
    '' none) × type × channel path over the 14 days before (kefu.analytics.journeys.path_of, '' no contact):
    the tickets, the contacts on those paths and the tickets whose customer was handed off in the window
    (the journeys before a complaint and those that ended in an escalation; migration 0713)."""

    __tablename__ = "analytics_daily_paths"

    channel: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(200))
    tickets: Mapped[int] = mapped_column(BigInteger, default=0)
    contacts: Mapped[int] = mapped_column(BigInteger, default=0)
    handed_off: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("day", "org_unit_id", "channel", "type", "path", name="uq_analytics_daily_paths_key"),
        Index("ix_analytics_daily_paths_unit", "org_unit_id", "day"),
    )


PATH_SUMS = ("tickets", "contacts", "handed_off")


class HandoffFact(Base):
    """A handoff (kind "handoff", ``ref_id`` the handoff) or an inbound hotline call (kind "call", the
    interaction: the handoff rate's denominator) as the handoff summary last counted it
    (kefu/analytics/handoffs.py, migration 0713). ``day``: the local day offered."""

    __tablename__ = "analytics_handoff_facts"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    ref_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    from_channel: Mapped[str] = mapped_column(String(16))
    to_channel: Mapped[str] = mapped_column(String(16))  # '' for a call
    status: Mapped[str] = mapped_column(String(10))  # the handoff's; '' for a call
    opened: Mapped[bool] = mapped_column(Boolean)
    saved_seconds: Mapped[float] = mapped_column(Float)  # counted for a completed handoff only

    __table_args__ = (Index("ix_analytics_handoff_facts_day", "day"),)


class DayHandoffSummary(_DayUnit, Base):
    """Per local day × org unit × from channel × to channel: the hotline's inbound calls (rows with to
    channel ''), the handoffs offered, opened, completed, returned (the customer called the hotline within
    ``handoff_return_hours`` instead) and the hotline seconds the completed ones saved (migration 0713)."""

    __tablename__ = "analytics_daily_handoffs"

    from_channel: Mapped[str] = mapped_column(String(16))
    to_channel: Mapped[str] = mapped_column(String(16))
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    offered: Mapped[int] = mapped_column(BigInteger, default=0)
    opened: Mapped[int] = mapped_column(BigInteger, default=0)
    completed: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_seconds: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        UniqueConstraint("day", "org_unit_id", "from_channel", "to_channel", name="uq_analytics_daily_handoffs_key"),
        Index("ix_analytics_daily_handoffs_unit", "org_unit_id", "day"),
    )


HANDOFF_SUMS = ("calls", "offered", "opened", "completed", "returned", "saved_seconds")


class DayAgentTopicSummary(_Sums, Base):
    """Contact sums per local day × org unit × channel × agent × first-level category (no queue, no tier):
    rows per agent × category read a fifth of the full daily table's rows (migration 0714)."""

    __tablename__ = "analytics_daily_agent_topics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int] = mapped_column(BigId)
    category: Mapped[str] = mapped_column(String(40))

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "agent_id", "category",
                                       name="uq_analytics_daily_agent_topics_key"),)


class DayTierSummary(_Sums, Base):
    """Contact sums per local day × org unit × channel × customer tier: channel use by customer tier reads
    thousands of rows, not the topics' hundreds of thousands (migration 0714)."""

    __tablename__ = "analytics_daily_tiers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "tier", name="uq_analytics_daily_tiers_key"),)


class DayAgeSummary(_Sums, Base):
    """Contact sums per local day × org unit × channel × customer age band (kefu/customers/ages.py, '' unknown):
    channel use by age (migration 0715)."""

    __tablename__ = "analytics_daily_ages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str] = mapped_column(String(8))

    __table_args__ = (UniqueConstraint("day", "org_unit_id", "channel", "age_band",
                                       name="uq_analytics_daily_ages_key"),)
