"""HTTP endpoints of the customers domain (thin: parse, check permission, call the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import AppSettings, DbSession, Id, OptionalId, Paging, require
from kefu.core.errors import PayloadTooLarge
from kefu.customers import linking, service
from kefu.customers.ages import age_band, local_year
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
    LinkCodeIn,
    LinkCodeRead,
    LinkCodeVerifyIn,
    LinkEvidenceIn,
    LinkResultRead,
    MergeIn,
    RejectionRead,
    SuggestionDecisionIn,
    SuggestionRead,
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
        tier=c.tier, vip=c.vip, birth_year=c.birth_year if clear else None,
        age_band=age_band(c.birth_year, local_year(utcnow())), merged_into_id=c.merged_into_id, identities=identities,
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


# ---- one customer across channels (kefu/customers/linking.py) ---------------------------------------

def _secret(settings: AppSettings) -> bytes:
    return settings.secret_key.get_secret_value().encode()


def _link_read(r: linking.LinkResult) -> LinkResultRead:
    return LinkResultRead(customer_id=r.customer_id, action=r.action, reason=r.reason, suggestion_id=r.suggestion_id)


@router.post("/identity-links", response_model=LinkResultRead)
def post_identity_link(body: LinkEvidenceIn, session: DbSession,
                       principal: Principal = require("inbound.post")) -> LinkResultRead:
    """A channel gateway or the subscriber system reports an address seen with a number (a WeChat binding
    event, a subscriber record): the address joins the number's customer when the evidence is strong and
    unambiguous, else a suggestion is recorded for an agent."""
    return _link_read(linking.link(session, kind=body.kind, value=body.value, phone=body.phone,
                                   evidence=body.evidence, org_unit_id=principal.org_unit_id))


@router.post("/identity-links/codes", response_model=LinkCodeRead, status_code=201)
def post_link_code(body: LinkCodeIn, session: DbSession, settings: AppSettings,
                   principal: Principal = require("inbound.post")) -> LinkCodeRead:
    """A one-time code for an address to prove it holds a number; the gateway sends it to the number by SMS."""
    code, expires = linking.start_code(session, kind=body.kind, value=body.value, phone=body.phone,
                                       secret=_secret(settings))
    return LinkCodeRead(code=code, expires_at=expires)


@router.post("/identity-links/codes/verify", response_model=LinkResultRead)
def verify_link_code(body: LinkCodeVerifyIn, session: DbSession, settings: AppSettings,
                     principal: Principal = require("inbound.post")) -> LinkResultRead:
    """The code came back from the address: the link is made (evidence `sms_code`)."""
    try:
        result = linking.verify_code(session, kind=body.kind, value=body.value, phone=body.phone, code=body.code,
                                     secret=_secret(settings), org_unit_id=principal.org_unit_id)
    except linking.CodeRejected:
        session.commit()  # the try counts, though the request fails: five wrong codes and the code is dead
        raise
    return _link_read(result)


@router.delete("/customers/{customer_id}/identities/{identity_id}", status_code=204, response_model=None)
def unlink_identity(customer_id: Id, identity_id: Id, session: DbSession,
                    principal: Principal = require("customers.link")) -> None:
    """Remove an address linked by mistake (audited)."""
    c = service.get_visible(session, principal, customer_id)
    linking.unlink_by_agent(session, c, identity_id, actor_id=principal.user_id)


@router.get("/customers/{customer_id}/link-suggestions", response_model=list[SuggestionRead])
def link_suggestions(customer_id: Id, session: DbSession,
                     principal: Principal = require("customers.read")) -> list[SuggestionRead]:
    """Open suggestions that an address may be this customer's (evidence too weak or ambiguous to act on)."""
    c = service.get_visible(session, principal, customer_id)
    clear = principal.can("pii")
    return [SuggestionRead.model_validate(s).model_copy(
        update={} if clear else {"value": mask_identity(s.kind, s.value)})
        for s in linking.suggestions(session, service.customer_ids_of(session, c.id))]


@router.post("/customers/{customer_id}/link-suggestions/{suggestion_id}", response_model=SuggestionRead)
def decide_link_suggestion(customer_id: Id, suggestion_id: Id, body: SuggestionDecisionIn, session: DbSession,
                           principal: Principal = require("customers.link")) -> SuggestionRead:
    """Accept (the address joins this customer) or dismiss a suggestion (audited)."""
    c = service.get_visible(session, principal, customer_id)
    s = linking.decide_suggestion(session, suggestion_id, accept=body.accept, actor_id=principal.user_id,
                                  customer_ids=service.customer_ids_of(session, c.id))
    return SuggestionRead.model_validate(s)
