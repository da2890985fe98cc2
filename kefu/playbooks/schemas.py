"""Playbooks' request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body, BodyId
from kefu.customers.pii import FreeText

INT64 = 2**63 - 1


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StepIn(Body):
    title: str = Field(min_length=1, max_length=200)
    owner_role: str = Field(max_length=16, description="agent | support | expert | supervisor | analyst | admin")
    owner_user_id: int | None = Field(default=None, ge=1, le=INT64)
    due_minutes: int = Field(ge=1, le=30 * 24 * 60)


class PlaybookIn(Body):
    key: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=4000)
    trigger: str = Field(description="manual | surge | keyword | threshold", max_length=16)
    category_id: int | None = Field(default=None, ge=1, le=INT64)
    org_unit_id: int = Field(ge=1, le=INT64)
    min_count: int = Field(default=0, ge=0, le=1_000_000)
    notice_template: str | None = Field(default=None, max_length=2000)
    ivr_text: str | None = Field(default=None, max_length=500, description="the IVR announcement (a switch)")
    overflow_from: str | None = Field(default=None, max_length=40, description="the queue the overflow switch "
                                                                              "empties at once ...")
    overflow_to: str | None = Field(default=None, max_length=40, description="... into this queue (same channel)")
    keywords: list[str] = Field(default_factory=list, max_length=20,
                                description="a keyword playbook starts on new tickets in scope holding one")
    window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60,
                                description="a threshold playbook starts when min_count tickets in scope opened "
                                            "within this many minutes")
    staff_ids: list[BodyId] = Field(default_factory=list, max_length=100,
                                 description="resources: the users it calls in (put on the extra queues by that "
                                             "switch)")
    script_article_ids: list[BodyId] = Field(default_factory=list, max_length=20,
                                          description="resources: published knowledge articles agents answer with")
    faq_article_id: int | None = Field(default=None, ge=1, le=INT64,
                                       description="resources: the published FAQ pushed to the front line")
    budget_yuan: int | None = Field(default=None, ge=0, le=100_000_000, description="resources: compensation budget")
    extra_queues: list[str] = Field(default_factory=list, max_length=20,
                                    description="the queues the extra-queues switch opens (with the staff on them)")
    restore_template: str | None = Field(default=None, max_length=2000,
                                         description="the notice that the fault is over, sent when the run ends")
    active: bool = True
    steps: list[StepIn] = Field(min_length=1, max_length=30)


class StepRead(Schema):
    id: int
    position: int
    title: str
    owner_role: str
    owner_user_id: int | None
    due_minutes: int


class PlaybookRead(Schema):
    id: int
    key: str
    name: str
    name_en: str | None
    description: str | None
    trigger: str
    category_id: int | None
    org_unit_id: int
    min_count: int
    notice_template: str | None
    ivr_text: str | None
    overflow_from: str | None
    overflow_to: str | None
    keywords: list[str] | None
    window_minutes: int
    staff_ids: list[int] | None
    script_article_ids: list[int] | None
    faq_article_id: int | None
    budget_yuan: int | None
    extra_queues: list[str] | None
    restore_template: str | None
    active: bool
    steps: list[StepRead] = Field(default_factory=list)


class StartIn(Body):
    org_unit_id: int | None = Field(default=None, ge=1, le=INT64)
    category_id: int | None = Field(default=None, ge=1, le=INT64)


class StepDoneIn(Body):
    skip: bool = False
    note: str | None = Field(default=None, max_length=2000)


class NoticeIn(Body):
    body: str = Field(min_length=1, max_length=500)
    state: str = Field(default="fault", max_length=8,
                       description="fault | restored: each affected customer is told of each state once")


class RoleIn(Body):
    role: str = Field(description="commander | communications | support_lead", max_length=16)
    user_id: int | None = Field(default=None, ge=1, le=INT64, description="null clears the role")


class SwitchIn(Body):
    switch: str = Field(description="ivr | overflow | extra (open the extra queues, the staff on them)",
                        max_length=16)
    on: bool


class EndIn(Body):
    review: str | None = Field(default=None, max_length=8000)
    tell_restored: bool = Field(default=False, description="tell the affected customers the fault is over")
    restored_body: str | None = Field(default=None, max_length=500,
                                      description="that notice's text (default: the playbook's restore template)")


class ToldRead(Schema):
    customer_id: int
    state: str
    channel: str
    ticket_id: int | None
    message_id: int | None
    sent_at: datetime


class PushRead(BaseModel):
    topic_id: int


class RunStepRead(Schema):
    id: int
    position: int
    title: str
    owner_role: str
    owner_user_id: int | None
    due_at: datetime
    state: str
    done_at: datetime | None
    done_by: int | None
    note: FreeText | None
    overdue_at: datetime | None


class LogRead(Schema):
    at: datetime
    kind: str
    actor_id: int | None
    text: FreeText | None
    data: dict[str, Any] | None


class MeasuresRead(Schema):
    tickets: int
    customers: int
    notices: int
    steps_done: int
    steps_late: int
    steps_total: int
    minutes_to_activate: float | None
    minutes_active: float
    peak: int = Field(description="the most of the run's tickets opened in one hour")
    peak_at: datetime | None = Field(description="the start of that hour")
    linked: int = Field(description="tickets linked to the run")
    compensation_yuan: float = Field(description="compensation granted on the linked tickets (against the budget)")


class LinkIn(Body):
    ticket_id: int = Field(ge=1, le=INT64)


class LinkRead(Schema):
    run_id: int
    ticket_id: int
    how: str = Field(description="auto (opened in the run's scope) | manual (linked from the ticket page)")
    linked_by: int | None
    linked_at: datetime


class RunRead(Schema):
    id: int
    playbook_id: int
    state: str
    trigger: str
    org_unit_id: int
    category_id: int | None
    window_start: datetime
    surge: dict[str, Any] | None
    started_by: int | None
    started_at: datetime
    ended_at: datetime | None
    review: FreeText | None
    roles: dict[str, int] | None = Field(default=None, description="incident role → user id")
    switches: dict[str, Any] | None = Field(default=None, description="the switches that are on, with what they "
                                                                      "replaced")
    steps: list[RunStepRead] = Field(default_factory=list)
    tickets: list[LinkRead] = Field(default_factory=list, description="the tickets linked to the run")
    timeline: list[LogRead] = Field(default_factory=list)
    told: list[ToldRead] = Field(default_factory=list, description="the customers told of the fault, of its end")
    measures: MeasuresRead | None = None


class NoticeRead(BaseModel):
    messages: int
