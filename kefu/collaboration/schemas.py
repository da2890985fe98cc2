"""Collaboration's request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.collaboration.models import TARGET_KINDS, TEAM_DOMAINS
from kefu.collaboration.service import MAX_DUE_MINUTES, MAX_TARGETS, MIN_DUE_MINUTES
from kefu.core.body import Body, BodyId
from kefu.customers.pii import FreeText

INT64 = 2**63 - 1


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TargetIn(Body):
    kind: str = Field(description=f"one of {', '.join(TARGET_KINDS)}", max_length=8)
    id: int | None = Field(default=None, ge=1, le=INT64, description="the unit, team or user (not for a role)")
    role: str | None = Field(default=None, max_length=16, description="for kind role: support, expert, ...")


class ConsultsIn(Body):
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_TARGETS)
    question: str = Field(min_length=1, max_length=4000)
    due_minutes: int = Field(ge=MIN_DUE_MINUTES, le=MAX_DUE_MINUTES)


class AnswerIn(Body):
    answer: str = Field(min_length=1, max_length=8000)


class ConsultArticleIn(Body):
    kind: str = Field(default="faq", max_length=20, description="the article kind (faq, script, ...)")
    department: str | None = Field(default=None, max_length=100)


class ConsultArticleRead(BaseModel):
    consult_id: int
    article_id: int
    status: str
    title: FreeText


class NoteRead(Schema):
    id: int
    author_id: int
    body: FreeText
    at: datetime


class ConsultRead(Schema):
    id: int
    ticket_id: int
    requester_id: int
    target_kind: str
    target_unit_id: int | None
    target_role: str | None
    target_team_id: int | None
    target_user_id: int | None
    target_name: str = ""
    question: FreeText
    due_at: datetime
    state: str
    overdue: bool = False
    article_id: int | None = Field(default=None, description="the knowledge draft made from its conclusion")
    answer: FreeText | None
    answered_by: int | None
    answered_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    notes: list[NoteRead] = Field(default_factory=list, description="the shared timeline, oldest first")


class NoteIn(Body):
    body: str = Field(min_length=1, max_length=4000)


class ExpertRead(BaseModel):
    user_id: int
    name: str
    unit_id: int
    unit_name: str
    domains: list[str]
    teams: list[str]
    load: int = Field(description="live consults addressed to them or to their teams")
    presence: str = Field(description="available | after_call_work | break | not_ready | offline")


class ConsultList(BaseModel):
    items: list[ConsultRead]
    total: int
    limit: int
    offset: int


class TeamIn(Body):
    key: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    domain: str = Field(description=f"one of {', '.join(TEAM_DOMAINS)}", max_length=16)
    description: str | None = Field(default=None, max_length=2000)
    member_ids: list[BodyId] = Field(default_factory=list, max_length=200)
    lead_ids: list[BodyId] = Field(default_factory=list, max_length=200)
    active: bool = True


class MemberRead(BaseModel):
    user_id: int
    display_name: str
    org_unit_id: int
    lead: bool


class TeamRead(Schema):
    id: int
    key: str
    name: str
    name_en: str | None
    domain: str
    description: str | None
    active: bool
    members: list[MemberRead] = Field(default_factory=list)


class SuggestionIn(Body):
    kind: str = Field(description="problem | suggestion", max_length=12)
    topic: str = Field(description="script | knowledge | process | system | product | other", max_length=12)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=8000)
    owner_unit_id: int = Field(ge=1, le=INT64, description="the department that owns the answer")
    ticket_id: int | None = Field(default=None, ge=1, le=INT64)


class SuggestionStatusIn(Body):
    to: str = Field(description="accepted | rejected | in_progress | done | merged", max_length=12)
    reason: str | None = Field(default=None, max_length=4000)
    merge_into_id: int | None = Field(default=None, ge=1, le=INT64)


class SuggestionChangeRead(Schema):
    from_status: str | None
    to_status: str
    actor_id: int | None
    note: FreeText | None
    at: datetime


class SuggestionRead(Schema):
    id: int
    kind: str
    topic: str
    title: FreeText
    body: FreeText
    submitter_id: int
    org_unit_id: int
    owner_unit_id: int
    ticket_id: int | None
    status: str
    reason: FreeText | None
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    history: list[SuggestionChangeRead] = Field(default_factory=list)


class ConsultMeasuresRead(Schema):
    asked: int
    answered: int
    overdue: int
    tickets: int
    per_ticket: float
    mean_answer_minutes: float | None
    max_answer_minutes: float | None


class GroupStatsRead(Schema):
    group: str = Field(description="networked (consults) | linear (handed on step by step) | direct")
    tickets: int
    median_hours: float | None
    mean_hours: float | None
    p90_hours: float | None
    mean_handovers: float | None
    mean_consults: float | None


class ComparisonRead(Schema):
    groups: list[GroupStatsRead]
    median_ratio: float | None = Field(description="median hours networked / linear (< 1: consults are faster)")


class CustomerNoticeIn(Body):
    state: str = Field(max_length=16, description="consulting | handed_over | concluded")


class ToldRead(Schema):
    id: int
    state: str
    channel: str
    message_id: int | None
    actor_id: int | None
    sent_at: datetime


class CustomerNoticesRead(BaseModel):
    told: list[ToldRead] = Field(description="what the customer was told, oldest first")
    tellable: list[str] = Field(description="the states that may be told now (not the one told last)")


class NoticeTemplateIn(Body):
    body: str | None = Field(default=None, max_length=500, description="{ticket}: the ticket number; empty: the "
                                                                       "built-in text")


class CustomerNoticeRead(BaseModel):
    ticket_id: int
    state: str
    message_id: int
    channel: str
    body: FreeText
