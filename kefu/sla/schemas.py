"""SLA's request and response shapes (kefu/sla/api.py)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body
from kefu.customers.pii import FreeText
from kefu.sla.models import DAY_KINDS, ON_BREACH

INT64 = 2**63 - 1
YEAR_MINUTES = 366 * 24 * 60


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CalendarIn(Body):
    name: str = Field(min_length=1, max_length=100)
    weekly: list[str] = Field(min_length=7, max_length=7, description='Monday first, e.g. "09:00-12:00, 13:30-18:00" '
                                                                       '("" = closed)')
    zone: str = Field(default="Asia/Shanghai", max_length=40)
    statutory: bool = Field(default=True, description="apply China's public holidays and make-up days (调休)")
    org_unit_id: int = Field(ge=1, le=INT64)


class CalendarDayRead(Schema):
    day: date
    kind: str
    name: str


class CalendarRead(Schema):
    id: int
    name: str
    zone: str
    weekly: list[list[str]]
    statutory: bool
    org_unit_id: int
    days: list[CalendarDayRead] = []


class CalendarDayIn(Body):
    kind: str | None = Field(default=None, description=f"one of {', '.join(DAY_KINDS)}; null clears the day",
                             max_length=8)
    name: str = Field(default="", max_length=100)


class PolicyIn(Body):
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(default=0, ge=0, le=10_000)
    types: list[str] = Field(default=[], max_length=20)
    tiers: list[str] = Field(default=[], max_length=20)
    channels: list[str] = Field(default=[], max_length=20)
    categories: list[str] = Field(default=[], max_length=100, description="category keys (a first-level key "
                                                                          "matches its children)")
    first_response_minutes: int | None = Field(default=None, ge=1, le=YEAR_MINUTES)
    next_response_minutes: int | None = Field(default=None, ge=1, le=YEAR_MINUTES,
                                              description="from a customer's message to the agent's next reply")
    resolution_minutes: int | None = Field(default=None, ge=1, le=YEAR_MINUTES)
    business_time: bool = True
    calendar_id: int | None = Field(default=None, ge=1, le=INT64)
    warn_percent: int = Field(default=80, ge=1, le=100)
    on_breach: str = Field(default="notify", description=f"one of {', '.join(ON_BREACH)}", max_length=16)
    breach_assignee_id: int | None = Field(default=None, ge=1, le=INT64,
                                           description="on breach the ticket is handed to this person (a supervisor)")
    breach_queue_key: str | None = Field(default=None, max_length=40,
                                         description="or sent to this routing queue (not both)")
    active: bool = True


class PolicyRead(Schema):
    id: int
    name: str
    position: int
    types: list[str]
    tiers: list[str]
    channels: list[str]
    categories: list[str]
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_time: bool
    calendar_id: int | None
    warn_percent: int
    on_breach: str
    breach_assignee_id: int | None
    breach_queue_key: str | None
    active: bool


class ClockRead(BaseModel):
    metric: str
    policy_id: int | None
    policy_name: str | None
    status: str = Field(description="running | paused | warning | breached | met")
    target_seconds: float
    used_seconds: float
    remaining_seconds: float
    business_time: bool
    started_at: datetime
    due_at: datetime | None
    legal_due_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None


class SurveyRead(Schema):
    id: int
    ticket_id: int
    agent_id: int | None
    channel: str = Field(description="sms | wechat | email, or call (an outbound call task)")
    queue_key: str | None
    status: str
    choice: int | None = Field(description="1 very unsatisfied, 2 unsatisfied, 3 neutral, 4 satisfied, "
                                           "5 very satisfied")
    answer_text: FreeText | None
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    followed_up_at: datetime | None = None
    followed_up_by_id: int | None = None
    follow_up_note: FreeText | None = None


class SurveyPage(Schema):
    items: list[SurveyRead]
    total: int
    limit: int
    offset: int


class FollowUpIn(Body):
    note: str = Field(min_length=1, max_length=500, description="what was done for the customer")


class CallAnswerIn(Body):
    choice: int | None = Field(ge=1, le=5, description="the customer's 1 (very unsatisfied) to 5 (very satisfied);"
                                                       " null: nobody answered or the customer declined")
    note: str = Field(default="", max_length=500)


class CsatRow(BaseModel):
    key: int | str | None
    sent: int
    answered: int
    satisfied: int = Field(description="answers of 4 or 5")
    csat: float | None = Field(description="satisfied / answered")
    average: float | None = Field(description="the answers' mean score, 1–5")
    response_rate: float | None


class CsatReport(BaseModel):
    by: str
    since: datetime
    until: datetime
    rows: list[CsatRow]


class GapRead(BaseModel):
    start: datetime
    end: datetime


class CoverageRead(BaseModel):
    channel: str
    queues: list[str]
    covered_hours: float
    ratio: float
    full: bool
    gaps: list[GapRead]
