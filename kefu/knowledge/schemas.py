from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body, BodyId
from kefu.customers.pii import FreeText


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ArticleBase(Schema, Body):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1)
    kind: str
    department: str = Field(min_length=1, max_length=100)
    org_unit_id: BodyId | None = None
    tags: list[str] = []
    category_keys: list[str] = []
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str | None = Field(default=None, max_length=500)


class ArticleCreate(ArticleBase):
    pass


class ArticleUpdate(ArticleBase):
    base_version: int = Field(
        ge=1, description="the version this edit started from (must still be the latest)"
    )


class TransitionCreate(Schema, Body):
    to: str
    version: int | None = None
    reason: str | None = Field(default=None, max_length=500)


class VersionRead(Schema):
    number: int
    base_number: int | None
    title: str
    body: str
    kind: str
    department: str
    org_unit_id: int
    tags: list[str]
    category_keys: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    note: str | None
    author_id: int | None
    created_at: datetime
    published_at: datetime | None


class ArticleRead(Schema):
    id: int
    kind: str
    status: str
    title: str
    department: str
    owner_id: int | None
    org_unit_id: int
    latest_version: int
    live_version: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    source_answer_id: int | None
    version: VersionRead | None = None


class HitRead(Schema):
    article_id: int
    version: int
    kind: str
    title: str
    score: float
    lexical: float
    semantic: float
    prior: float
    match: float
    categories: list[str]
    tags: list[str]
    valid_until: datetime | None
    scope_kind: str
    title_html: str
    snippet: str
    snippet_html: str


class SearchRead(Schema):
    search_id: int | None
    query: str
    items: list[HitRead]
    total: int
    limit: int
    offset: int
    gap: bool


class SuggestionsRead(Schema):
    ticket_id: int | None
    category_key: str | None
    articles: list[HitRead]
    script: HitRead | None
    search_id: int | None


class FeedbackCreate(Schema, Body):
    article_id: BodyId
    helpful: bool
    query: str | None = Field(default=None, max_length=1000)
    category_key: str | None = None
    ticket_id: BodyId | None = None
    search_id: BodyId | None = None


class ClickCreate(Schema, Body):
    article_id: BodyId


class TopicRead(Schema):
    label: FreeText
    count: int
    users: int
    examples: list[FreeText]
    last_at: datetime


class PushCreate(Schema, Body):
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=20_000)
    faq_article_id: BodyId | None = None
    plan_article_id: BodyId | None = None
    unit_ids: list[BodyId] = []
    skills: list[str] = []
    queues: list[str] = []


class PushRead(Schema):
    id: int
    title: str
    message: str
    faq_article_id: int | None
    plan_article_id: int | None
    targets: dict[str, list[object]]
    org_unit_id: int
    created_by_id: int | None
    created_at: datetime
    delivered: int | None = None
    acknowledged: int | None = None
    acknowledged_at: datetime | None = None


class ReadStatusRow(Schema):
    user_id: int
    username: str
    display_name: str
    org_unit_id: int
    delivered_at: datetime
    acknowledged_at: datetime | None


class QuestionCreate(Schema, Body):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    category_key: str | None = None
    skill_key: str | None = None


class AnswerCreate(Schema, Body):
    body: str = Field(min_length=1, max_length=20_000)


class AnswerRead(Schema):
    id: int
    question_id: int
    author_id: int
    body: FreeText
    is_expert: bool
    accepted: bool
    helpful_count: int
    article_id: int | None
    created_at: datetime


class QuestionRead(Schema):
    id: int
    title: FreeText
    body: FreeText
    asker_id: int
    org_unit_id: int
    category_key: str | None
    skill_key: str | None
    accepted_answer_id: int | None
    created_at: datetime
    answer_count: int | None = None
    answers: list[AnswerRead] | None = None


class ToArticleCreate(Schema, Body):
    kind: str = "faq"
    department: str | None = None


class LeaderRowRead(Schema):
    rank: int
    user_id: int
    display_name: str
    org_unit_id: int
    points: int


class DuplicatePrecisionIn(Body):
    precision: float = Field(ge=0.5, le=1.0, description="one of the shipped points (0.60, 0.61, ... 0.95)")
