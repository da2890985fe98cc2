"""Quality's request and response shapes (kefu/quality/api.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body, BodyId
from kefu.customers.pii import FreeText

INT64 = 2**63 - 1


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SampleIn(Body):
    days: int = Field(default=7, ge=1, le=366, description="resolved within the last N days")
    share: float = Field(default=0.1, ge=0, le=1, description="random share of each agent's other contacts")
    seed: int | None = Field(default=None, ge=0, le=INT64, description="for a reproducible draw")


class InspectionRead(Schema):
    id: int
    ticket_id: int
    agent_id: int | None
    org_unit_id: int
    reason: str
    status: str
    inspector_id: int | None
    marks: dict[str, int] | None
    total: float | None
    comment: FreeText | None
    sampled_at: datetime
    scored_at: datetime | None
    appeal_reason: FreeText | None
    appealed_at: datetime | None
    decision: str | None
    decided_at: datetime | None


class InspectionList(BaseModel):
    items: list[InspectionRead]
    total: int
    limit: int
    offset: int


class ScoreIn(Body):
    marks: dict[str, int] = Field(description="item key → marks (0 to the item's maximum)", max_length=50)
    comment: str = Field(default="", max_length=4000)


class AppealIn(Body):
    reason: str = Field(min_length=1, max_length=4000)


class DecideIn(Body):
    marks: dict[str, int] | None = Field(default=None, max_length=50,
                                         description="null upholds the score; marks revise it")


class FindingRead(BaseModel):
    kind: str = Field(description="forbidden_word | no_greeting | long_silence | script_conflict")
    detail: FreeText = Field(description="the phrase, the reply's start, or the seconds waited")
    at: datetime | None


class CalibrationRowRead(BaseModel):
    inspector_id: int
    scored: int
    mean: float
    deviation: float = Field(description="the inspector's mean minus the mean of all inspectors' scores")
    appealed: int
    revised: int


class QuestionIn(Body):
    article_id: int = Field(ge=1, le=INT64, description="the course article the question comes from")
    text: str = Field(min_length=1, max_length=1000)
    options: list[str] = Field(min_length=2, max_length=6)
    answer: int = Field(ge=0, le=5, description="the index of the right option")


class CourseIn(Body):
    key: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    skill: str = Field(min_length=1, max_length=40, description="the skill the certificate is for")
    org_unit_id: int = Field(ge=1, le=INT64, description="its holders of cert.take in this subtree take it")
    article_ids: list[BodyId] = Field(min_length=1, max_length=50)
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)
    pass_percent: int = Field(default=80, ge=1, le=100)
    valid_days: int = Field(default=365, ge=1, le=3 * 366)
    active: bool = True


class QuestionRead(BaseModel):
    article_id: int
    text: str
    options: list[str]


class CourseRead(Schema):
    id: int
    key: str
    name: str
    skill: str
    org_unit_id: int
    article_ids: list[int]
    questions: list[QuestionRead] = Field(description="the exam, without its answers")
    pass_percent: int
    valid_days: int
    active: bool


class AnswersIn(Body):
    answers: list[int] = Field(min_length=1, max_length=100, description="one option index per question, in order")


class CertificateRead(Schema):
    id: int
    user_id: int
    skill: str
    course_id: int
    score: float
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    valid: bool = False


class AttemptRead(Schema):
    id: int
    course_id: int
    user_id: int
    score: float
    passed: bool
    at: datetime
    certificate: CertificateRead | None = None
