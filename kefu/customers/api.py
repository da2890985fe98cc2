"""HTTP endpoints of the customers domain (thin: parse, check permission, call the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from kefu.core.auth import Principal
from kefu.core.deps import AppSettings, DbSession, Id, OptionalId, Paging, require
from kefu.core.errors import PayloadTooLarge
from kefu.customers import service
from kefu.customers.models import Customer
from kefu.customers.phone import describe_phone, mask_phone
from kefu.customers.pii import mask_identity, mask_name
from kefu.customers.schemas import (
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    IdentityCreate,
    IdentityRead,
    ImportReportRead,
    MergeIn,
    RejectionRead,
    TierRecomputeRead,
    TierRuleIO,
    TierRulesIn,
    TierRulesRead,
    VipThresholdIO,
    VipThresholdSet,
)
from kefu.customers.tiers import Rule
from kefu.org import audit
from kefu.org import service as org

router = APIRouter(tags=["customers"])

def customer_read(c: Customer, principal: Principal) -> CustomerRead:
    """The customer as this principal may see it: phone, name and addresses masked without `pii`."""
    clear = principal.can("pii")
    lang = "zh" if principal.locale.lower().startswith("zh") else "en"
    identities = [IdentityRead(id=i.id, kind=i.kind, created_at=i.created_at,
                               value=i.value if clear else mask_identity(i.kind, i.value))
                  for i in sorted(c.identities, key=lambda i: i.id)]
    return CustomerRead(
        id=c.id, phone=c.phone if clear else mask_phone(c.phone), masked=not clear,
        name=c.name if clear else mask_name(c.name), region=describe_phone(c.phone, lang),
        org_unit_id=c.org_unit_id, plan=c.plan, arpu=c.arpu, tenure_months=c.tenure_months,
        share_voice=c.share_voice, share_data=c.share_data, share_sms=c.share_sms, share_vas=c.share_vas,
        tier=c.tier, vip=c.vip, merged_into_id=c.merged_into_id, identities=identities,
        created_at=c.created_at, updated_at=c.updated_at,
    )


def _rules_io(rules: list[Rule]) -> list[TierRuleIO]:
    return [TierRuleIO(tier=r.tier, min_arpu=r.min_arpu, min_tenure_months=r.min_tenure_months)
            for r in rules]


@router.get("/customers", response_model=CustomerPage)
def list_customers(
    session: DbSession,
    page: Paging,
    phone: Annotated[str | None, Query(max_length=64, description="full number or its last 4 digits; needs the "
                                        "pii permission (403 pii_required without it)")] = None,
    q: Annotated[str | None, Query(max_length=255, description="part of the name, or an identity")] = None,
    tier: str | None = None,
    org_unit_id: OptionalId = None,
    include_merged: bool = False,
    principal: Principal = require("customers.read"),
) -> CustomerPage:
    items, total = service.search(session, principal, phone=phone, q=q, tier=tier, org_unit_id=org_unit_id,
                                  include_merged=include_merged, limit=page.limit, offset=page.offset)
    audit.customers_listed(session, principal, [c.id for c in items], total, phone=phone, q=q)
    return CustomerPage(items=[customer_read(c, principal) for c in items], total=total, limit=page.limit,
                        offset=page.offset)


@router.post("/customers", response_model=CustomerRead, status_code=201)
def create_customer(
    body: CustomerCreate, session: DbSession, principal: Principal = require("customers.write")
) -> CustomerRead:
    org.check_visible(session, principal, body.org_unit_id)
    c = service.create_customer(session, **body.model_dump(), actor_id=principal.user_id)
    return customer_read(c, principal)


@router.get("/customers/{customer_id}", response_model=CustomerRead)
def get_customer(customer_id: Id, session: DbSession,
                 principal: Principal = require("customers.read")) -> CustomerRead:
    c = service.get_visible(session, principal, customer_id)
    audit.personal_data_read(session, principal, "customer.viewed", object_id=c.id, org_unit_id=c.org_unit_id)
    return customer_read(c, principal)


@router.patch("/customers/{customer_id}", response_model=CustomerRead)
def update_customer(
    customer_id: Id, body: CustomerUpdate, session: DbSession,
    principal: Principal = require("customers.write"),
) -> CustomerRead:
    c = service.get_visible(session, principal, customer_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("org_unit_id") is not None:
        org.check_visible(session, principal, changes["org_unit_id"])
    c = service.update_customer(session, c, changes, actor_id=principal.user_id)
    return customer_read(c, principal)


@router.post("/customers/{customer_id}/identities", response_model=CustomerRead, status_code=201)
def attach_identity(
    customer_id: Id, body: IdentityCreate, session: DbSession,
    principal: Principal = require("customers.write"),
) -> CustomerRead:
    c = service.get_visible(session, principal, customer_id)
    service.attach_identity(session, c, kind=body.kind, value=body.value)
    return customer_read(c, principal)


@router.post("/customers/{customer_id}/merge", response_model=CustomerRead)
def merge_customers(
    customer_id: Id, body: MergeIn, session: DbSession, principal: Principal = require("customers.merge")
) -> CustomerRead:
    service.get_visible(session, principal, customer_id)
    service.get_visible(session, principal, body.merge_id)
    keep = service.merge(session, customer_id, body.merge_id, principal.user_id)
    return customer_read(keep, principal)


@router.post("/customers/import", response_model=ImportReportRead)
def import_customers(
    session: DbSession,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="CSV: phone,name,city,plan,arpu,tenure_months,share_*")],
    principal: Principal = require("customers.import"),
) -> ImportReportRead:
    limit = settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes", details={"limit": limit})
    units = org.visible_unit_ids(session, principal)
    report = service.import_customers_csv(session, data, actor_org_unit_ids=units, actor_id=principal.user_id)
    return ImportReportRead(imported=report.imported, updated=report.updated,
                            rejected=[RejectionRead(line=r.line, reason=r.reason) for r in report.rejected])


@router.get("/tier-rules", response_model=TierRulesRead)
def get_tier_rules(session: DbSession, principal: Principal = require("customers.read")) -> TierRulesRead:
    return TierRulesRead(rules=_rules_io(service.get_tier_rules(session)),
                         vip_min_arpu=service.get_vip_threshold(session))


@router.put("/tier-rules", response_model=TierRecomputeRead)
def set_tier_rules(body: TierRulesIn, session: DbSession,
                   principal: Principal = require("tiers.admin", group_level=True)) -> TierRecomputeRead:
    """Replace the group-wide tier rules: only an administrator at the group level (403 below it)."""
    rules = [Rule(r.tier, r.min_arpu, r.min_tenure_months) for r in body.rules]
    result = service.set_tier_rules(session, rules, actor_id=principal.user_id)
    return TierRecomputeRead(rules=_rules_io(service.get_tier_rules(session)), total=result.total,
                             changed=result.changed, transitions=result.transitions)


@router.get("/tier-rules/vip-threshold", response_model=VipThresholdIO)
def get_vip_threshold(session: DbSession, principal: Principal = require("customers.read")) -> VipThresholdIO:
    return VipThresholdIO(vip_min_arpu=service.get_vip_threshold(session))


@router.put("/tier-rules/vip-threshold", response_model=VipThresholdSet)
def set_vip_threshold(body: VipThresholdIO, session: DbSession,
                      principal: Principal = require("tiers.admin", group_level=True)) -> VipThresholdSet:
    """Set the group-wide VIP threshold: only an administrator at the group level (403 below it)."""
    changed = service.set_vip_threshold(session, body.vip_min_arpu, actor_id=principal.user_id)
    return VipThresholdSet(vip_min_arpu=service.get_vip_threshold(session), changed=changed)
