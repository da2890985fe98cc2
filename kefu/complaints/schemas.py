from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body, BodyId


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClassificationRead(Schema):
    ticket_id: int
    predicted_type: str
    type_confidence: float
    predicted_category: str
    category_confidence: float
    escalation: bool
    escalation_terms: list[str]
    applied_type: str | None
    applied_category: str | None
    status: str = Field(description="applied / suggested / confirmed / corrected")
    final_type: str | None
    final_category: str | None
    final_escalation: bool | None
    reviewed_by_id: int | None
    reviewed_at: datetime | None
    model_version: str
    repeat_of_id: int | None = Field(description="the same customer's ticket of the same category within 30 days")
    created_at: datetime


class ReviewIn(Schema, Body):
    type: str = Field(max_length=16, description="complaint / inquiry / request / suggestion / praise / other")
    category: str = Field(max_length=16, description="a first-level category key, e.g. 'billing'")
    escalation: bool = False


class ClassifyIn(Schema, Body):
    text: str = Field(min_length=1, max_length=20_000)


class Scored(Schema):
    label: str
    confidence: float


class PredictionRead(Schema):
    type: str
    type_confidence: float
    category: str
    category_confidence: float
    escalation: bool
    escalation_terms: list[str]
    apply_type: str | None = Field(description="the ticket type this would set (confident enough)")
    apply_category: str | None
    alternatives: dict[str, list[Scored]]


class SurgeRead(Schema):
    id: int
    category: str
    org_unit_id: int
    channel: str
    window_start: datetime
    window_end: datetime
    observed: int
    expected: float
    p_value: float
    status: str
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    detected_at: datetime


class SurgeList(Schema):
    items: list[SurgeRead]
    total: int
    limit: int
    offset: int


class CompensationIn(Schema, Body):
    kind: str = Field(max_length=16, description="bill_credit / refund / data_pack / minutes / free_trial / "
                                                 "gift_points")
    amount: Decimal = Field(description="value in yuan (a data pack or minutes at their price)")
    note: str | None = Field(default=None, max_length=500)
    request_approval: bool = Field(default=False, description="above your authority: ask for approval")


class DecisionIn(Schema, Body):
    approve: bool
    reason: str | None = Field(default=None, max_length=500)


class CompensationRead(Schema):
    id: int
    ticket_id: int
    customer_id: int | None
    kind: str
    amount: Decimal
    note: str | None
    status: str
    requested_by_id: int | None
    decided_by_id: int | None
    decision_reason: str | None
    created_at: datetime
    decided_at: datetime | None


class CompensationList(Schema):
    items: list[CompensationRead]


class AppealIn(Schema, Body):
    source: str = Field(max_length=24, description="miit_12300 / provincial_authority / consumer_12315 / media / "
                                                   "group_hq")
    received_on: date
    about_charges: bool = Field(default=False, description="charges: a 5-month window; anything else 2 years")
    reference: str | None = Field(default=None, max_length=64)
    accepted_on: date | None = None
    answered_on: date | None = None
    outcome: str | None = Field(default=None, max_length=16)


class AppealUpdate(Schema, Body):
    accepted_on: date | None = None
    answered_on: date | None = None
    outcome: str | None = Field(default=None, max_length=16)


class AppealRead(Schema):
    id: int
    ticket_id: int
    source: str
    about_charges: bool
    reference: str | None
    received_on: date
    acceptance_due: date
    accepted_on: date | None
    answer_due: date | None
    answered_on: date | None
    outcome: str | None
    created_at: datetime


class AppealList(Schema):
    items: list[AppealRead]


class SegmentRead(Schema):
    customer_id: int
    segment: int
    profile: str = Field(description="what sets the segment apart, in Chinese")
    priority: str = Field(description="the priority its tickets take at intake (low / normal / high / urgent)")
    authority_multiplier: Decimal = Field(description="compensation authority = the user's limit × this")
    offer: str = Field(description="the recommended compensation kind")
    model_id: int
    assigned_at: datetime


MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class BudgetIn(Schema, Body):
    month: str = Field(pattern=MONTH, description="YYYY-MM (China time)")
    amount: Decimal = Field(description="yuan, 0 to 100,000,000, in fen")


class BudgetRead(Schema):
    org_unit_id: int
    org_unit_name: str
    month: str
    amount: Decimal
    spent: Decimal = Field(description="granted this month by tickets of the unit and the units below it")
    left: Decimal


class BudgetList(Schema):
    items: list[BudgetRead]


class MeasureRead(Schema):
    period: str = Field(description="YYYY-MM or YYYYQn (China time)")
    org_unit_id: int
    unit: str
    customers: int
    complaints: int
    per_10k: float | None = Field(description="complaints per 10,000 customers")
    classified: int
    repeats: int
    repeat_rate: float | None
    escalated: int
    escalation_rate: float | None = Field(description="complaints with an escalation or appeal on record")
    appeals: int = Field(description="escalations and appeals received in the period")
    appeals_per_million: float | None


class MeasureList(Schema):
    items: list[MeasureRead]


class PlanIn(Schema, Body):
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    monthly_fee: Decimal = Field(description="yuan, in fen")
    data_gb: float | None = Field(default=None, description="GB a month; null: unlimited")
    minutes: int | None = Field(default=None, description="null: unlimited")
    sms: int | None = Field(default=None, description="null: unlimited")
    active: bool = True


class PlanRead(Schema):
    key: str
    name: str
    name_en: str | None
    monthly_fee: Decimal
    data_gb: float | None
    minutes: int | None
    sms: int | None
    active: bool


class PlanList(Schema):
    items: list[PlanRead]


class AdviceIn(Schema, Body):
    data_gb: float = Field(default=0.0, ge=0, description="the busiest recent month, GB")
    minutes: int = Field(default=0, ge=0)
    sms: int = Field(default=0, ge=0)
    current_fee: Decimal | None = Field(default=None, ge=0, description="default: the plan's fee, else ARPU")
    ticket_id: BodyId | None = Field(default=None, description="the customer of this ticket (their plan and ARPU)")


class AdviceRead(Schema):
    current_fee: Decimal
    current_plan: str | None = Field(description="the customer's catalogue plan, by key")
    plan: PlanRead | None = Field(description="the advised plan; null: none covers the usage and saves money")
    monthly_saving: Decimal | None
    yearly_saving: Decimal | None
    covering: int = Field(description="plans on sale that cover the usage")
