from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.body import Body, BodyId


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CustomerBase(Schema):
    name: str | None = Field(default=None, max_length=100)
    plan: str | None = Field(default=None, max_length=100)


class CustomerCreate(CustomerBase, Body):
    phone: str = Field(min_length=1, max_length=64)
    org_unit_id: BodyId
    arpu: Decimal = Decimal("0")
    tenure_months: int = 0
    share_voice: float = 0.0
    share_data: float = 0.0
    share_sms: float = 0.0
    share_vas: float = 0.0
    birth_year: int | None = None  # 1900..this year (422 otherwise): the reports' age bands


class CustomerUpdate(CustomerBase, Body):
    """Only the fields sent are changed; `null` clears name, plan or phone."""

    phone: str | None = Field(default=None, max_length=64)
    org_unit_id: BodyId | None = None
    arpu: Decimal | None = None
    tenure_months: int | None = None
    share_voice: float | None = None
    share_data: float | None = None
    share_sms: float | None = None
    share_vas: float | None = None
    birth_year: int | None = None  # `null` clears it


class IdentityCreate(Schema, Body):
    kind: str
    value: str = Field(min_length=1, max_length=255)


class IdentityRead(Schema):
    id: int
    kind: str
    value: str
    created_at: datetime


class MergeIn(Schema, Body):
    merge_id: BodyId


class CustomerRead(CustomerBase):
    id: int
    phone: str | None
    # True when phone, name and identities are masked (the reader's role lacks the `pii` permission).
    masked: bool
    region: str | None  # where the number was issued and its carrier (号码归属地), from phonenumbers
    org_unit_id: int
    arpu: Decimal
    tenure_months: int
    share_voice: float
    share_data: float
    share_sms: float
    share_vas: float
    tier: str
    vip: bool
    # The birth year for readers with `pii`; the age band (kefu.customers.ages.BANDS, '' unknown) for all.
    birth_year: int | None
    age_band: str
    merged_into_id: int | None
    identities: list[IdentityRead]
    created_at: datetime
    updated_at: datetime


class CustomerPage(Schema):
    items: list[CustomerRead]
    total: int
    limit: int
    offset: int


class TierRuleIO(Schema, Body):
    tier: str
    min_arpu: Decimal
    min_tenure_months: int


class TierRulesIn(Schema, Body):
    rules: list[TierRuleIO]


class TierRulesRead(Schema):
    rules: list[TierRuleIO]
    vip_min_arpu: Decimal


class TierRecomputeRead(Schema):
    rules: list[TierRuleIO]
    total: int
    changed: int
    transitions: dict[str, int]


class VipThresholdIO(Schema, Body):
    vip_min_arpu: Decimal


class VipThresholdSet(Schema):
    vip_min_arpu: Decimal
    changed: int


class RejectionRead(Schema):
    line: int
    reason: str


class ImportReportRead(Schema):
    imported: int
    updated: int
    rejected: list[RejectionRead]


class LinkEvidenceIn(Schema, Body):
    """An address and a number seen together (kefu/customers/linking.py says what each evidence allows)."""

    kind: str = Field(min_length=1, max_length=20)
    value: str = Field(min_length=1, max_length=255)
    phone: str = Field(min_length=3, max_length=40)
    evidence: str = Field(min_length=1, max_length=20)


class LinkCodeIn(Schema, Body):
    kind: str = Field(min_length=1, max_length=20)
    value: str = Field(min_length=1, max_length=255)
    phone: str = Field(min_length=3, max_length=40)


class LinkCodeVerifyIn(LinkCodeIn):
    code: str = Field(min_length=4, max_length=10, pattern=r"^\s*[0-9]+\s*$")


class LinkCodeRead(Schema):
    code: str
    expires_at: datetime


class LinkResultRead(Schema):
    customer_id: int
    action: str
    reason: str
    suggestion_id: int | None = None


class SuggestionRead(Schema):
    id: int
    customer_id: int
    other_customer_id: int | None
    kind: str
    value: str
    evidence: str
    reason: str
    status: str
    created_at: datetime


class SuggestionDecisionIn(Schema, Body):
    accept: bool
