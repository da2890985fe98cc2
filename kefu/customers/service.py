"""Customers: profiles, identities on every channel, merges, tiers and CSV import.

Services flush, never commit; the request (or job) owns the transaction. A merged customer keeps its
row (and its phone) with `merged_into_id` set: tickets and interactions keep pointing at it, `identify`
follows the pointer to the survivor, and `customer_ids_of` finds the whole family.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import IO, Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.db import insert_unless_exists
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.core.text import strip_bidi
from kefu.customers.ages import birth_year_of_id, check_birth_year, local_year
from kefu.customers.models import IDENTITY_KINDS, Customer, CustomerIdentity, CustomerSetting, TierRule
from kefu.customers.phone import InvalidPhone, normalize_phone
from kefu.customers.tiers import MAX_ARPU, TIERS, Rule, compute_tier, is_vip, money, validate_rules
from kefu.org import audit
from kefu.org import service as org

VIP_SETTING = "vip_min_arpu"
DEFAULT_VIP_MIN_ARPU = Decimal("120.00")
# Above this many changed tiers a rules edit records one summary event instead of one per customer.
TIER_EVENTS_LIMIT = 5000
SHARE_FIELDS = ("share_voice", "share_data", "share_sms", "share_vas")
PROFILE_FIELDS = ("name", "plan", "arpu", "tenure_months", *SHARE_FIELDS)
SHARE_SUM_MAX = 1.0001
_MAX_MERGE_DEPTH = 64
_CHUNK = 500
_FETCH = {"synchronize_session": "fetch"}  # bulk UPDATEs refresh the objects this session holds


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerExists(Conflict):
    code = "customer_exists"


class IdentityTaken(Conflict):
    code = "identity_taken"


class CustomerMerged(Conflict):
    code = "customer_merged"


class InvalidMerge(Conflict):
    code = "invalid_merge"


class PiiRequired(Forbidden):
    code = "pii_required"


# identity kinds whose values are shown masked to roles without `pii` (kefu/customers/pii.py mask_identity)
MASKED_KINDS = ("phone", "email")


class InvalidCsv(InvalidInput):
    code = "invalid_csv"


# ---- tier policy ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TierPolicy:
    rules: list[Rule]
    vip_min_arpu: Decimal

    def tier(self, arpu: Decimal, tenure_months: int) -> str:
        return compute_tier(arpu, tenure_months, self.rules)

    def vip(self, arpu: Decimal) -> bool:
        return is_vip(arpu, self.vip_min_arpu)


def get_tier_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(TierRule).order_by(TierRule.position, TierRule.id))
    return [Rule(r.tier, Decimal(r.min_arpu), r.min_tenure_months) for r in rows]


def get_vip_threshold(session: Session) -> Decimal:
    row = session.get(CustomerSetting, VIP_SETTING)
    return money(row.value) if row is not None else DEFAULT_VIP_MIN_ARPU


def tier_policy(session: Session) -> TierPolicy:
    return TierPolicy(get_tier_rules(session), get_vip_threshold(session))


@dataclass(frozen=True)
class TierRecompute:
    total: int
    changed: int
    transitions: dict[str, int]  # "standard->gold": 3
    per_customer_events: bool


def _tier_case(rules: Sequence[Rule]) -> ColumnElement[str]:
    whens = [(and_(Customer.arpu >= literal(r.min_arpu, Numeric(10, 2)),
                   Customer.tenure_months >= r.min_tenure_months), literal(r.tier)) for r in rules]
    return case(*whens, else_=literal("standard"))


def set_tier_rules(session: Session, rules: Sequence[Rule], *, actor_id: int | None = None,
                   at: datetime | None = None) -> TierRecompute:
    """Replace the rules and recompute every customer's tier in one UPDATE ... CASE.

    Invalid rules raise InvalidTierRules before anything is written.
    """
    at = at or utcnow()
    valid = validate_rules(rules)
    old_rules = get_tier_rules(session)
    for old in session.scalars(select(TierRule)):
        session.delete(old)
    session.flush()
    session.add_all([TierRule(position=i, tier=r.tier, min_arpu=r.min_arpu,
                              min_tenure_months=r.min_tenure_months) for i, r in enumerate(valid)])
    session.flush()
    new_tier = _tier_case(valid)
    changed = session.execute(
        select(Customer.id, Customer.org_unit_id, Customer.tier, new_tier.label("new_tier"))
        .where(Customer.tier != new_tier).order_by(Customer.id)
    ).all()
    if changed:
        session.execute(update(Customer).where(Customer.tier != new_tier)
                        .values(tier=new_tier, updated_at=at), execution_options=_FETCH)
    total = session.scalar(select(func.count()).select_from(Customer)) or 0
    transitions = Counter(f"{row.tier}->{row.new_tier}" for row in changed)
    per_customer = len(changed) < TIER_EVENTS_LIMIT
    if per_customer:
        for row in changed:
            events.record(session, "customer.tier_changed",
                          {"from": row.tier, "to": row.new_tier, "reason": "rules_changed"},
                          aggregate_type="customer", aggregate_id=row.id, org_unit_id=row.org_unit_id, at=at)
    report = TierRecompute(total=total, changed=len(changed), transitions=dict(sorted(transitions.items())),
                           per_customer_events=per_customer)
    events.record(session, "customer.tiers_recomputed",
                  {"rules": [_rule_dict(r) for r in valid], "total": total, "changed": len(changed),
                   "transitions": report.transitions, "per_customer_events": per_customer,
                   "actor_id": actor_id},
                  aggregate_type="tier_rules", at=at)
    audit.record(session, "tier_rules.changed", at=at,
                 details={"from": [_rule_dict(r) for r in old_rules], "to": [_rule_dict(r) for r in valid],
                          "changed": len(changed)})
    return report


def _rule_dict(r: Rule) -> dict[str, Any]:
    return {"tier": r.tier, "min_arpu": str(r.min_arpu), "min_tenure_months": r.min_tenure_months}


def set_vip_threshold(session: Session, value: Decimal | int | str, *, actor_id: int | None = None,
                      at: datetime | None = None) -> int:
    """Set the VIP ARPU minimum and re-flag every customer. Returns how many flags changed."""
    at = at or utcnow()
    threshold = money(value)
    if threshold < 0 or threshold > MAX_ARPU:
        raise InvalidInput(f"the VIP threshold must be between 0 and {MAX_ARPU}, got {threshold}",
                           code="invalid_vip_threshold")
    row = session.get(CustomerSetting, VIP_SETTING)
    old = money(row.value) if row is not None else DEFAULT_VIP_MIN_ARPU
    if row is None:
        session.add(CustomerSetting(key=VIP_SETTING, value=str(threshold)))
    else:
        row.value = str(threshold)
    new_vip = Customer.arpu >= literal(threshold, Numeric(10, 2))
    result = session.execute(update(Customer).where(Customer.vip != new_vip)
                             .values(vip=new_vip, updated_at=at), execution_options=_FETCH)
    changed = int(getattr(result, "rowcount", 0) or 0)
    events.record(session, "customer.vip_threshold_changed",
                  {"from": str(old), "to": str(threshold), "changed": changed, "actor_id": actor_id},
                  aggregate_type="tier_rules", at=at)
    audit.record(session, "vip_threshold.changed", at=at,
                 details={"from": str(old), "to": str(threshold), "changed": changed})
    return changed


# ---- identities -----------------------------------------------------------------------------

def normalize_identity(kind: str, value: str) -> str:
    """The stored form of an identity value: E.164 for phones, lower-case e-mail, others trimmed."""
    if kind not in IDENTITY_KINDS:
        raise InvalidInput(f"unknown identity kind '{kind}' (one of {', '.join(IDENTITY_KINDS)})",
                           code="invalid_identity_kind")
    if kind == "phone":
        return normalize_phone(value)
    v = (value or "").strip()
    if not v:
        raise InvalidInput(f"empty {kind}", code="invalid_identity")
    if len(v) > 255:
        raise InvalidInput(f"{kind} longer than 255 characters", code="invalid_identity")
    if kind == "email":
        local, at_sign, domain = v.rpartition("@")
        if not at_sign or not local or "." not in domain or any(ch.isspace() for ch in v):
            raise InvalidInput(f"'{v}' is not an e-mail address", code="invalid_identity")
        v = v.lower()
    return v


def _owner(session: Session, kind: str, value: str) -> Customer | None:
    """The customer holding (kind, value), before following merges."""
    if kind == "phone":
        c = session.scalar(select(Customer).where(Customer.phone == value))
        if c is not None:
            return c
    return session.scalar(select(Customer).join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
                          .where(CustomerIdentity.kind == kind, CustomerIdentity.value == value))


def resolve(session: Session, customer: Customer) -> Customer:
    """The surviving customer after following `merged_into_id` (`survivors` of one)."""
    if customer.merged_into_id is None:
        return customer
    survivor = survivors(session, [customer.id]).get(customer.id, customer.id)
    return customer if survivor == customer.id else session.get(Customer, survivor) or customer


def identify(session: Session, *, kind: str, value: str, org_unit_id: int, name: str | None = None,
             at: datetime | None = None) -> tuple[Customer, bool]:
    """The (surviving) customer owning (kind, value), or a new one; True when created.

    Two transactions identifying the same new address at once: the unique constraint stops the
    second, whose savepoint is rolled back, and it returns the first one's customer.
    """
    at = at or utcnow()
    v = normalize_identity(kind, value)
    found = _owner(session, kind, v)
    if found is not None:
        return _fill_name(session, resolve(session, found), name, at), False
    org.org_unit(session, org_unit_id)
    policy = tier_policy(session)
    c = Customer(phone=v if kind == "phone" else None, name=_text(name, "name"), org_unit_id=org_unit_id,
                 plan=None, arpu=Decimal("0.00"), tenure_months=0, share_voice=0.0, share_data=0.0,
                 share_sms=0.0, share_vas=0.0, tier=policy.tier(Decimal(0), 0), vip=policy.vip(Decimal(0)),
                 created_at=at, updated_at=at)
    if kind != "phone":
        c.identities.append(CustomerIdentity(kind=kind, value=v, created_at=at))
    try:
        with session.begin_nested():
            session.add(c)
    except IntegrityError:
        found = _owner(session, kind, v)
        if found is None:
            raise
        return resolve(session, found), False
    _record_created(session, c, source="identify", at=at, identity_kind=kind)
    return c, True


# ---- the inbound hot path (Core statements; kefu.channels.inbound) -----------------------------

@dataclass(frozen=True)
class Known:
    """A customer as the inbound path needs it, read without loading the ORM object."""

    id: int
    org_unit_id: int
    tier: str
    merged_into_id: int | None
    name: str | None


KNOWN_COLUMNS = (Customer.id, Customer.org_unit_id, Customer.tier, Customer.merged_into_id, Customer.name)


def owner_select(is_phone: bool) -> Any:
    """One SELECT of the customer holding an identity, before following merges, with bind parameters
    `kind` and `value` (normalised): for a phone the primary number first, then a secondary number among
    the identities. At most one row. Built once per shape (constructing it costs more than running it)."""
    return _owner_select(is_phone)


@lru_cache(maxsize=2)
def _owner_select(is_phone: bool) -> Any:
    by_identity = (select(*KNOWN_COLUMNS, literal(1).label("rank"))
                   .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
                   .where(CustomerIdentity.kind == bindparam("kind"), CustomerIdentity.value == bindparam("value")))
    if not is_phone:
        return by_identity.limit(1)
    by_phone = select(*KNOWN_COLUMNS, literal(0).label("rank")).where(Customer.phone == bindparam("value"))
    both = union_all(by_phone, by_identity).subquery()
    return select(*[both.c[c.key] for c in KNOWN_COLUMNS], both.c.rank).order_by(both.c.rank).limit(1)


@lru_cache(maxsize=4)
def _insert_identified(dialect: str, is_phone: bool) -> Any:
    """INSERT of a new customer with the tier and VIP flag of a customer with no ARPU and no tenure,
    computed from the rules in the same statement; for a phone, nothing when the number is taken."""
    entry_tier = func.coalesce(
        select(TierRule.tier).where(TierRule.min_arpu <= 0, TierRule.min_tenure_months <= 0)
        .order_by(TierRule.position, TierRule.id).limit(1).scalar_subquery(), "standard")
    threshold = select(CustomerSetting.value).where(CustomerSetting.key == VIP_SETTING).scalar_subquery()
    entry_vip = func.coalesce(cast(threshold, Numeric(10, 2)), DEFAULT_VIP_MIN_ARPU) <= 0
    stmt = insert_unless_exists(dialect, Customer, "phone") if is_phone else insert(Customer)
    values: dict[str, Any] = {c: bindparam(c) for c in ("phone", "name", "org_unit_id", "created_at", "updated_at")}
    return stmt.values(plan=None, arpu=Decimal("0.00"), tenure_months=0, share_voice=0.0, share_data=0.0,
                       share_sms=0.0, share_vas=0.0, tier=entry_tier, vip=entry_vip, **values
                       ).returning(Customer.id, Customer.tier, Customer.vip)


@lru_cache(maxsize=2)
def _claim_identity(dialect: str) -> Any:
    return insert_unless_exists(dialect, CustomerIdentity, "kind", "value").returning(CustomerIdentity.id)


@lru_cache(maxsize=1)
def _insert_identified_with_identity() -> Any:
    """PostgreSQL: `_insert_identified` of a customer known by an identity and `_claim_identity` of it in one
    statement (data-modifying CTEs). identity_id is NULL when a concurrent transaction holds the value:
    the caller rolls back (the customer inserted with it goes too). Bind parameters: those of
    `_insert_identified`, kind and value."""
    c = _insert_identified("postgresql", False).cte("c")
    claim = (insert_unless_exists("postgresql", CustomerIdentity, "kind", "value")
             .values(customer_id=select(c.c.id).scalar_subquery(), kind=bindparam("kind"), value=bindparam("value"),
                     created_at=bindparam("created_at"))
             .returning(CustomerIdentity.id).cte("claim"))
    return select(c.c.id, c.c.tier, c.c.vip, select(claim.c.id).scalar_subquery().label("identity_id"))


def create_identified(session: Session, *, kind: str, value: str, org_unit_id: int, name: str | None,
                      at: datetime) -> Known | None:
    """`identify`'s creating half for a normalised value nobody holds, in Core statements: the new
    customer and, for other channels than the phone, its identity. None when a concurrent transaction
    took the value first: the caller rolls back and runs again (it will find the owner). Records
    `customer.created` (deferred)."""
    conn = session.connection()
    dialect = conn.dialect.name
    clean_name = _text(name, "name", strict=False)
    params = {"phone": value if kind == "phone" else None, "name": clean_name, "org_unit_id": org_unit_id,
              "created_at": at, "updated_at": at}
    if kind != "phone" and dialect == "postgresql":  # the customer and its identity in one round trip
        row = conn.execute(_insert_identified_with_identity(), {**params, "kind": kind, "value": value}).first()
        if row is None or row.identity_id is None:
            return None
    else:
        row = conn.execute(_insert_identified(dialect, kind == "phone"), params).first()
        if row is None:
            return None
    if kind != "phone" and dialect != "postgresql":
        claimed = conn.execute(_claim_identity(dialect), {"customer_id": row.id, "kind": kind, "value": value,
                                                          "created_at": at}).first()
        if claimed is None:
            return None
    events.defer(session, "customer.created",
                 {"source": "identify", "tier": row.tier, "vip": bool(row.vip), "has_phone": kind == "phone",
                  "identity_kind": kind},
                 aggregate_type="customer", aggregate_id=row.id, org_unit_id=org_unit_id, at=at)
    return Known(row.id, org_unit_id, row.tier, None, clean_name)


def fill_name(session: Session, customer_id: int, name: str, *, at: datetime) -> bool:
    """Give a customer known only by an address the name a channel tells us; never overwrites one.
    True when the name was set (and `customer.updated` recorded)."""
    clean = _text(name, "name", strict=False)
    if not clean:
        return False
    done = session.connection().execute(
        update(Customer).where(Customer.id == customer_id, Customer.name.is_(None))
        .values(name=clean, updated_at=at)).rowcount
    if done:
        unit = session.connection().execute(select(Customer.org_unit_id).where(Customer.id == customer_id)).scalar()
        events.defer(session, "customer.updated", {"fields": ["name"], "actor_id": None},
                     aggregate_type="customer", aggregate_id=customer_id, org_unit_id=unit, at=at)
    return bool(done)


def lock(session: Session, customer_id: int) -> None:
    """Hold the customer's row until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's writers
    hold the database already): for work that must not happen twice at once for one customer."""
    session.connection().execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def _fill_name(session: Session, c: Customer, name: str | None, at: datetime) -> Customer:
    clean = _text(name, "name", strict=False)
    if clean and not c.name:
        c.name = clean
        c.updated_at = at
        session.flush()
        _record_updated(session, c, ["name"], at=at)
    return c


def attach_identity(session: Session, customer: Customer, *, kind: str, value: str,
                    at: datetime | None = None) -> CustomerIdentity:
    """Attach an address to the customer; 409 if it belongs to another customer. Idempotent."""
    at = at or utcnow()
    if customer.merged_into_id is not None:
        raise CustomerMerged(f"customer {customer.id} was merged into customer {customer.merged_into_id}",
                             details={"merged_into_id": customer.merged_into_id})
    v = normalize_identity(kind, value)
    if kind == "phone" and customer.phone == v:
        raise IdentityTaken("this number is the customer's own phone already", code="identity_exists")
    holder = _owner(session, kind, v)
    if holder is not None and resolve(session, holder).id != customer.id:
        raise IdentityTaken(f"{kind} '{v}' belongs to another customer", details={"kind": kind})
    mine = next((i for i in customer.identities if i.kind == kind and i.value == v), None)
    if mine is not None:
        return mine
    ident = CustomerIdentity(kind=kind, value=v, created_at=at)
    try:
        with session.begin_nested():
            customer.identities.append(ident)
    except IntegrityError:
        raise IdentityTaken(f"{kind} '{v}' belongs to another customer", details={"kind": kind}) from None
    customer.updated_at = at
    session.flush()
    events.record(session, "customer.updated", {"fields": ["identities"], "identity_kind": kind},
                  aggregate_type="customer", aggregate_id=customer.id, org_unit_id=customer.org_unit_id,
                  at=at)
    return ident


# ---- profile --------------------------------------------------------------------------------

def _text(value: Any, what: str, *, strict: bool = True) -> str | None:
    if value is None:
        return None
    s = strip_bidi(str(value)).strip()  # names and plans: no bidi controls (kefu/core/text.py)
    if len(s) > 100:
        if not strict:
            return s[:100]
        raise InvalidInput(f"{what} longer than 100 characters", code="invalid_customer")
    return s or None


def _clean(field_name: str, value: Any) -> Any:
    """One profile value, checked and in its stored form."""
    if field_name in ("name", "plan"):
        return _text(value, field_name)
    if value is None:
        raise InvalidInput(f"{field_name} may not be empty", code="invalid_customer")
    if field_name == "arpu":
        amount = money(value)
        if amount < 0:
            raise InvalidInput(f"arpu must not be negative, got {amount}", code="invalid_customer")
        if amount > MAX_ARPU:
            raise InvalidInput(f"arpu above {MAX_ARPU}", code="invalid_customer")
        return amount
    if field_name == "tenure_months":
        if isinstance(value, bool) or int(value) != value or value < 0:
            raise InvalidInput(f"tenure_months must be a whole number of months >= 0, got {value}",
                               code="invalid_customer")
        return int(value)
    share = float(value)
    if not math.isfinite(share) or not 0.0 <= share <= 1.0:
        raise InvalidInput(f"{field_name} must be a share between 0 and 1, got {value}",
                           code="invalid_customer")
    return share


def _check_share_sum(shares: Iterable[float]) -> None:
    total = sum(shares)
    if total > SHARE_SUM_MAX:
        raise InvalidInput(f"the consumption shares add up to {total:.4f}, more than 1",
                           code="invalid_customer")


def _ensure_phone_free(session: Session, e164: str, *, owner_id: int | None = None) -> None:
    holder = _owner(session, "phone", e164)
    if holder is not None and holder.id != owner_id:
        raise CustomerExists(f"a customer with phone {e164} exists already")


def create_customer(session: Session, *, phone: str | None, org_unit_id: int, name: str | None = None,
                    plan: str | None = None, arpu: Decimal | int | str = 0, tenure_months: int = 0,
                    share_voice: float = 0.0, share_data: float = 0.0, share_sms: float = 0.0,
                    share_vas: float = 0.0, birth_year: int | None = None, actor_id: int | None = None,
                    at: datetime | None = None) -> Customer:
    at = at or utcnow()
    born = check_birth_year(birth_year, local_year(at))
    org.org_unit(session, org_unit_id)
    e164 = normalize_phone(phone) if phone is not None else None
    raw = {"name": name, "plan": plan, "arpu": arpu, "tenure_months": tenure_months,
           "share_voice": share_voice, "share_data": share_data, "share_sms": share_sms,
           "share_vas": share_vas}
    values = {k: _clean(k, v) for k, v in raw.items()}
    _check_share_sum(values[s] for s in SHARE_FIELDS)
    if e164 is not None:
        _ensure_phone_free(session, e164)
    policy = tier_policy(session)
    c = Customer(phone=e164, org_unit_id=org_unit_id, **values, birth_year=born,
                 tier=policy.tier(values["arpu"], values["tenure_months"]), vip=policy.vip(values["arpu"]),
                 created_at=at, updated_at=at)
    try:
        with session.begin_nested():
            session.add(c)
    except IntegrityError:
        raise CustomerExists(f"a customer with phone {e164} exists already") from None
    _record_created(session, c, source="api", at=at, actor_id=actor_id)
    return c


def update_customer(session: Session, customer: Customer, changes: dict[str, Any], *,
                    actor_id: int | None = None, at: datetime | None = None) -> Customer:
    """Apply the given fields (phone, org_unit_id and the profile); tier and VIP follow ARPU and tenure."""
    at = at or utcnow()
    if customer.merged_into_id is not None:
        raise CustomerMerged(f"customer {customer.id} was merged into customer {customer.merged_into_id}",
                             details={"merged_into_id": customer.merged_into_id})
    unknown = set(changes) - {"phone", "org_unit_id", "birth_year", *PROFILE_FIELDS}
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}", code="invalid_customer")
    new: dict[str, Any] = {}
    if "phone" in changes:
        new["phone"] = normalize_phone(changes["phone"]) if changes["phone"] is not None else None
        if new["phone"] is None and not customer.identities:
            raise InvalidInput("a customer needs a phone or another identity", code="invalid_customer")
        if new["phone"] is not None:
            _ensure_phone_free(session, new["phone"], owner_id=customer.id)
    if "org_unit_id" in changes:
        if changes["org_unit_id"] is None:
            raise InvalidInput("org_unit_id may not be empty", code="invalid_customer")
        new["org_unit_id"] = org.org_unit(session, int(changes["org_unit_id"])).id
    for k in PROFILE_FIELDS:
        if k in changes:
            new[k] = _clean(k, changes[k])
    if "birth_year" in changes:
        new["birth_year"] = check_birth_year(changes["birth_year"], local_year(at))
    _check_share_sum(new.get(s, getattr(customer, s)) for s in SHARE_FIELDS)
    changed = [k for k, v in new.items() if getattr(customer, k) != v]
    if not changed:
        return customer
    for k in changed:
        setattr(customer, k, new[k])
    customer.updated_at = at
    if {"arpu", "tenure_months"} & set(changed):
        _apply_tier(session, customer, tier_policy(session), at=at)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise CustomerExists(f"a customer with phone {new.get('phone')} exists already") from None
    _record_updated(session, customer, changed, at=at, actor_id=actor_id)
    return customer


def _apply_tier(session: Session, c: Customer, policy: TierPolicy, *, at: datetime) -> None:
    tier, vip = policy.tier(c.arpu, c.tenure_months), policy.vip(c.arpu)
    if tier != c.tier:
        events.record(session, "customer.tier_changed",
                      {"from": c.tier, "to": tier, "reason": "profile_changed"},
                      aggregate_type="customer", aggregate_id=c.id, org_unit_id=c.org_unit_id, at=at)
        c.tier = tier
    c.vip = vip


def _record_created(session: Session, c: Customer, *, source: str, at: datetime, **extra: Any) -> None:
    events.record(session, "customer.created",
                  {"source": source, "tier": c.tier, "vip": c.vip, "has_phone": c.phone is not None, **extra},
                  aggregate_type="customer", aggregate_id=c.id, org_unit_id=c.org_unit_id, at=at)


def _record_updated(session: Session, c: Customer, fields: list[str], *, at: datetime,
                    actor_id: int | None = None) -> None:
    # Field names only: the outbox is no place for personal data.
    events.record(session, "customer.updated", {"fields": sorted(fields), "actor_id": actor_id},
                  aggregate_type="customer", aggregate_id=c.id, org_unit_id=c.org_unit_id, at=at)


# ---- reading --------------------------------------------------------------------------------

def get(session: Session, customer_id: int) -> Customer:
    c = session.get(Customer, customer_id)
    if c is None:
        raise CustomerNotFound(f"customer {customer_id} not found")
    return c


def get_visible(session: Session, principal: Principal, customer_id: int) -> Customer:
    """The customer if its org unit is in the principal's scope; 404 otherwise (existence does not leak)."""
    c = session.get(Customer, customer_id)
    if c is None:
        raise CustomerNotFound(f"customer {customer_id} not found")
    try:
        org.check_visible(session, principal, c.org_unit_id)
    except NotFound:
        raise CustomerNotFound(f"customer {customer_id} not found") from None
    return c


def get_many_visible(session: Session, principal: Principal, ids: Iterable[int]) -> dict[int, Customer]:
    """The customers among ``ids`` that the principal may see, by id, in one query (lists and inboxes)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    scope = org.visible_unit_ids(session, principal)
    rows = session.scalars(select(Customer).where(Customer.id.in_(wanted), Customer.org_unit_id.in_(scope)))
    return {c.id: c for c in rows}


def lineage_ids(session: Session, customer_id: int) -> list[int]:
    """The customer, every customer merged into it, and every customer it was merged into: the
    records whose tickets may be merged with this customer's."""
    ids = customer_ids_of(session, customer_id)
    c = session.get(Customer, customer_id)
    while c is not None and c.merged_into_id is not None and c.merged_into_id not in ids:
        ids.append(c.merged_into_id)
        c = session.get(Customer, c.merged_into_id)
    return ids


def customer_ids_of(session: Session, customer_id: int) -> list[int]:
    """The customer and every customer merged into it (directly or through a chain), customer first."""
    return families(session, [customer_id])[customer_id]


def families(session: Session, customer_ids: Iterable[int]) -> dict[int, list[int]]:
    """`customer_ids_of` for several customers, with one query per level of merges for all of them (one
    query when none has a customer merged into it)."""
    roots = sorted(set(customer_ids))
    found: dict[int, list[int]] = {r: [r] for r in roots}
    frontier = {r: [r] for r in roots}
    while frontier:
        below = {i for ids in frontier.values() for i in ids}
        children: dict[int, list[int]] = {}
        for cid, parent in session.execute(select(Customer.id, Customer.merged_into_id)
                                           .where(Customer.merged_into_id.in_(below)).order_by(Customer.id)):
            children.setdefault(int(parent or 0), []).append(cid)
        nxt = {}
        for root, ids in frontier.items():
            family = found[root]
            if len(family) >= 10_000:
                continue
            new = [i for i in sorted({c for p in ids for c in children.get(p, ())}) if i not in family]
            family.extend(new)
            if new:
                nxt[root] = new
        frontier = nxt
    return found


def survivors(session: Session, customer_ids: Iterable[int]) -> dict[int, int]:
    """The surviving customer of each of these customers (`resolve` for several, with one query per step
    of the merge chains); customers that do not exist are left out."""
    rows: dict[int, int | None] = {r[0]: r[1] for r in session.execute(
        select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(set(customer_ids))))}
    out: dict[int, int] = {}
    chains = {cid: [cid] for cid in rows}
    for _ in range(_MAX_MERGE_DEPTH):
        todo = {c: chain for c, chain in chains.items() if rows.get(chain[-1]) is not None
                and len(chain) < _MAX_MERGE_DEPTH}
        for c, chain in chains.items():
            if c not in todo:
                out[c] = chain[-1]
        missing = {int(rows[chain[-1]] or 0) for chain in todo.values()} - rows.keys()
        if missing:
            rows.update({r[0]: r[1] for r in session.execute(
                select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(missing)))})
        chains = {}
        for c, chain in todo.items():
            nxt = int(rows[chain[-1]] or 0)
            if nxt not in rows or nxt in chain:  # gone, or a cycle: stop where the chain is
                out[c] = chain[-1]
            else:
                chains[c] = [*chain, nxt]
        if not chains:
            break
    for c, chain in chains.items():
        out[c] = chain[-1]
    return out


def search(session: Session, principal: Principal, *, phone: str | None = None, q: str | None = None,
           tier: str | None = None, org_unit_id: int | None = None, include_merged: bool = False,
           limit: int = 50, offset: int = 0) -> tuple[list[Customer], int]:
    """Customers in scope by phone (full number or its last 4 digits), name or identity value.

    Without `pii` there is no search by phone, and `q` does not match the identities shown masked (phone,
    e-mail): a lookup by a guessed value must not confirm what the mask hides.
    """
    units = org.list_units(session, principal)
    if org_unit_id is not None:
        top = org.check_visible(session, principal, org_unit_id)
        units = [u for u in units if u.path.startswith(top.path)]
    stmt = select(Customer).where(Customer.org_unit_id.in_([u.id for u in units]))
    if not include_merged:
        stmt = stmt.where(Customer.merged_into_id.is_(None))
    if tier is not None:
        if tier not in TIERS:
            raise InvalidInput(f"unknown tier '{tier}' (one of {', '.join(TIERS)})")
        stmt = stmt.where(Customer.tier == tier)
    clear = principal.can("pii")
    if phone is not None and phone.strip():
        if not clear:
            # Masked numbers (139****1234) would be recovered by trying the hidden digits (issue 8): a role
            # that may not see numbers may not look them up either, whole or in part.
            raise PiiRequired("searching by phone number needs the 'pii' permission (numbers are masked for "
                              "this role)", details={"permission": "pii"})
        stmt = stmt.where(_phone_filter(phone.strip()))
    if q is not None and q.strip():
        term = q.strip()
        ident = exists().where(CustomerIdentity.customer_id == Customer.id,
                               CustomerIdentity.value.in_(list(dict.fromkeys([term, term.lower()]))),
                               true() if clear else CustomerIdentity.kind.not_in(MASKED_KINDS))
        stmt = stmt.where(or_(Customer.name.icontains(term, autoescape=True), ident))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = list(session.scalars(stmt.order_by(Customer.id).limit(limit).offset(offset)))
    return items, total


def _phone_filter(phone: str) -> ColumnElement[bool]:
    phone_idents = select(CustomerIdentity.id).where(CustomerIdentity.customer_id == Customer.id,
                                                     CustomerIdentity.kind == "phone")
    if phone.isdigit() and len(phone) == 4:
        return or_(Customer.phone.endswith(phone),
                   exists(phone_idents.where(CustomerIdentity.value.endswith(phone))))
    e164 = normalize_phone(phone)
    return or_(Customer.phone == e164, exists(phone_idents.where(CustomerIdentity.value == e164)))


# ---- merge ----------------------------------------------------------------------------------

def merge(session: Session, keep_id: int, merge_id: int, actor_id: int | None = None, *,
          at: datetime | None = None) -> Customer:
    """Fold customer `merge_id` into `keep_id`: identities move, missing profile fields are copied,
    the merged customer keeps its row (and phone) with `merged_into_id` set.

    The merged customer's phone becomes a "phone" identity of the survivor (so searching by it finds
    the survivor), or the survivor's own phone when it had none. Customers merged earlier into the
    merged one are re-pointed to the survivor.
    """
    at = at or utcnow()
    if keep_id == merge_id:
        raise InvalidMerge("a customer cannot be merged into itself")
    # Lock both rows in id order so two opposite merges cannot interleave (PostgreSQL; SQLite serialises).
    rows = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_([keep_id, merge_id]))
                                             .order_by(Customer.id).with_for_update())}
    for cid in (keep_id, merge_id):
        if cid not in rows:
            raise CustomerNotFound(f"customer {cid} not found")
    keep, gone = rows[keep_id], rows[merge_id]
    for c in (keep, gone):
        if c.merged_into_id is not None:
            raise CustomerMerged(f"customer {c.id} was merged into customer {c.merged_into_id} already",
                                 details={"customer_id": c.id, "merged_into_id": c.merged_into_id})
    moved = [i.kind for i in gone.identities]
    for ident in list(gone.identities):
        ident.customer = keep
    copied: list[str] = []
    if gone.phone is not None:
        if keep.phone is None:
            phone, gone.phone = gone.phone, None
            session.flush()  # the unique phone is freed before the survivor takes it
            keep.phone = phone
            copied.append("phone")
        elif session.scalar(select(CustomerIdentity.id).where(CustomerIdentity.kind == "phone",
                                                              CustomerIdentity.value == gone.phone)) is None:
            keep.identities.append(CustomerIdentity(kind="phone", value=gone.phone, created_at=at))
            moved.append("phone")
    for k in ("name", "plan"):
        if getattr(keep, k) is None and getattr(gone, k) is not None:
            setattr(keep, k, getattr(gone, k))
            copied.append(k)
    numeric = ("arpu", "tenure_months", *SHARE_FIELDS)
    if all(not getattr(keep, k) for k in numeric) and any(getattr(gone, k) for k in numeric):
        for k in numeric:
            setattr(keep, k, getattr(gone, k))
        copied.extend(numeric)
        _apply_tier(session, keep, tier_policy(session), at=at)
    session.execute(update(Customer).where(Customer.merged_into_id == gone.id).values(merged_into_id=keep.id),
                    execution_options={"synchronize_session": False})
    gone.merged_into_id = keep.id
    gone.updated_at = keep.updated_at = at
    session.flush()
    events.record(session, "customer.merged",
                  {"keep_id": keep.id, "merged_id": gone.id, "moved_identities": sorted(moved),
                   "copied_fields": copied, "actor_id": actor_id},
                  aggregate_type="customer", aggregate_id=keep.id, org_unit_id=keep.org_unit_id, at=at)
    return keep


# ---- CSV import -----------------------------------------------------------------------------

COLUMNS = ("phone", "name", "city", "plan", "arpu", "tenure_months", *SHARE_FIELDS)
#: Columns a file may add: the birth year, or a 居民身份证号 it is read from (only the year is kept).
OPTIONAL_COLUMNS = ("birth_year", "id_number")


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030 as Excel on Chinese Windows writes."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        if b"\x00" in data:
            raise InvalidCsv("the file is binary, not CSV text")
        encodings = ("utf-8", "gb18030")
    for enc in encodings:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InvalidCsv("the file is neither UTF-8 nor GBK text")


def _read_text(source: str | bytes | IO[str] | IO[bytes]) -> str:
    data = source.read() if hasattr(source, "read") else source
    text = decode_csv(data) if isinstance(data, bytes) else str(data)
    return text.removeprefix("\ufeff")


@dataclass
class _Row:
    line: int
    phone: str
    org_unit_id: int | None
    values: dict[str, Any]  # only the cells that were filled in


def _birth_year(cells: dict[str, str], this_year: int, problems: list[str]) -> int | None:
    """The row's birth year: its `birth_year` cell, else the year of birth in its `id_number` (never kept)."""
    year, number = cells.get("birth_year", ""), cells.get("id_number", "")
    if year:
        if not year.isdigit() or not 1900 <= int(year) <= this_year:
            problems.append(f"birth_year '{year}' is not a year from 1900 to {this_year}")
            return None
        return int(year)
    if number:
        born = birth_year_of_id(number)
        if born is None or born > this_year:
            problems.append("id_number is not a valid 18-digit ID number")  # the number itself is not echoed
        return born
    return None


def _parse_row(cells: dict[str, str], units: dict[str, list[int]], default_unit: int | None,
               this_year: int) -> _Row | str:
    """A row's values, or the reasons it is refused ("; "-joined)."""
    problems: list[str] = []
    phone = ""
    if not cells["phone"]:
        problems.append("phone is empty")
    else:
        try:
            phone = normalize_phone(cells["phone"])
        except InvalidPhone as exc:
            problems.append(exc.message)
    unit_id: int | None = default_unit
    city = cells["city"]
    if city:
        matches = units.get(city) or units.get(city.upper()) or []
        if not matches:
            problems.append(f"unknown city '{city}'")
        elif len(set(matches)) > 1:
            problems.append(f"city '{city}' is ambiguous; use its code")
        else:
            unit_id = matches[0]
    values: dict[str, Any] = {}
    for k in ("name", "plan"):
        if cells[k]:
            if len(cells[k]) > 100:
                problems.append(f"{k} longer than 100 characters")
            values[k] = cells[k]
    if cells["arpu"]:
        try:
            values["arpu"] = money(cells["arpu"])
        except InvalidInput:
            problems.append(f"arpu '{cells['arpu']}' is not a number")
        else:
            if values["arpu"] < 0:
                problems.append(f"arpu must not be negative ({cells['arpu']})")
            elif values["arpu"] > MAX_ARPU:
                problems.append(f"arpu {cells['arpu']} is too large")
    if cells["tenure_months"]:
        t = cells["tenure_months"]
        if not t.isdigit():
            problems.append(f"tenure_months '{t}' is not a whole number of months >= 0")
        else:
            values["tenure_months"] = int(t)
    for k in SHARE_FIELDS:
        if cells[k]:
            try:
                share = float(cells[k])
            except ValueError:
                problems.append(f"{k} '{cells[k]}' is not a number")
                continue
            if not math.isfinite(share) or not 0.0 <= share <= 1.0:
                problems.append(f"{k} {cells[k]} is not between 0 and 1")
            else:
                values[k] = share
    born = _birth_year(cells, this_year, problems)
    if born is not None:
        values["birth_year"] = born
    if problems:
        return "; ".join(problems)
    return _Row(line=0, phone=phone, org_unit_id=unit_id, values=values)


def import_customers_csv(session: Session, source: str | bytes | IO[str] | IO[bytes], *,
                         actor_org_unit_ids: Collection[int], at: datetime | None = None,
                         default_org_unit_id: int | None = None, actor_id: int | None = None) -> ImportReport:
    """Import customers: `phone,name,city,plan,arpu,tenure_months,share_voice,share_data,share_sms,share_vas`,
    and optionally `birth_year` or `id_number` (a 居民身份证号: only its birth year is kept; an invalid one
    refuses the row).

    `city` is the code or name of an org unit among `actor_org_unit_ids` (blank: `default_org_unit_id`).
    A known phone updates that customer (blank cells keep what is stored); a new one creates a customer.
    Every refused row is reported with its line number and reason and nothing of it is written; the good
    rows are written in the caller's transaction. A file that cannot be read at all raises InvalidCsv.
    """
    at = at or utcnow()
    text = _read_text(source)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InvalidCsv(f"line 1: {exc}") from None
    if header is None:
        raise InvalidCsv(f"the file is empty; a header line is needed: {','.join(COLUMNS)}")
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    extra = [h for h in names if h not in (*COLUMNS, *OPTIONAL_COLUMNS)]
    if missing or extra or len(set(names)) != len(names):
        raise InvalidCsv(f"the header must name the columns {','.join(COLUMNS)}"
                         + (f"; missing: {', '.join(missing)}" if missing else "")
                         + (f"; unknown: {', '.join(extra)}" if extra else ""),
                         details={"missing": missing, "unknown": extra})
    allowed = {org.org_unit(session, uid) for uid in set(actor_org_unit_ids)}
    units: dict[str, list[int]] = {}
    for u in allowed:
        units.setdefault(u.code.upper(), []).append(u.id)
        units.setdefault(u.name, []).append(u.id)
    allowed_ids = {u.id for u in allowed}
    if default_org_unit_id is not None and default_org_unit_id not in allowed_ids:
        raise InvalidInput(f"org unit {default_org_unit_id} is outside the units you may import into")

    report = ImportReport()
    good: dict[str, _Row] = {}
    end = 1
    while True:
        line = end + 1
        try:
            cells_list = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = reader.line_num
            report.rejected.append(Rejection(line, f"unreadable row: {exc}"))
            continue
        end = reader.line_num
        if not cells_list:
            continue  # a blank line holds no row
        if len(cells_list) != len(names):
            report.rejected.append(Rejection(line, f"expected {len(names)} columns, found {len(cells_list)}"))
            continue
        cells = {n: c.strip() for n, c in zip(names, cells_list, strict=True)}
        parsed = _parse_row(cells, units, default_org_unit_id, local_year(at))
        if isinstance(parsed, str):
            report.rejected.append(Rejection(line, parsed))
            continue
        if parsed.phone in good:
            report.rejected.append(Rejection(line, f"phone {parsed.phone} appears already on line "
                                                   f"{good[parsed.phone].line}"))
            continue
        parsed.line = line
        good[parsed.phone] = parsed

    _write_rows(session, list(good.values()), report, allowed_ids, at=at)
    report.rejected.sort(key=lambda r: r.line)
    events.record(session, "customer.imported",
                  {"imported": report.imported, "updated": report.updated, "rejected": len(report.rejected),
                   "actor_id": actor_id}, aggregate_type="customer", at=at)
    return report


def _write_rows(session: Session, rows: list[_Row], report: ImportReport, allowed_ids: set[int], *,
                at: datetime) -> None:
    phones = [r.phone for r in rows]
    existing: dict[str, Customer] = {}
    secondary: dict[str, int] = {}
    for i in range(0, len(phones), _CHUNK):
        chunk = phones[i:i + _CHUNK]
        for found in session.scalars(select(Customer).where(Customer.phone.in_(chunk))):
            existing[found.phone or ""] = found
        secondary.update(session.execute(select(CustomerIdentity.value, CustomerIdentity.customer_id)
                                         .where(CustomerIdentity.kind == "phone",
                                                CustomerIdentity.value.in_(chunk))).all())
    policy = tier_policy(session)
    new: list[Customer] = []
    for r in rows:
        c = existing.get(r.phone)
        if c is None and r.phone in secondary:
            report.rejected.append(Rejection(r.line, f"phone {r.phone} is a secondary number of customer "
                                                     f"{secondary[r.phone]}"))
            continue
        if c is not None and c.merged_into_id is not None:
            report.rejected.append(Rejection(r.line, f"phone {r.phone} belongs to customer {c.id}, "
                                                     f"merged into customer {c.merged_into_id}"))
            continue
        if c is not None and c.org_unit_id not in allowed_ids:
            report.rejected.append(Rejection(r.line, f"the customer with phone {r.phone} belongs to an org "
                                                     "unit outside your scope"))
            continue
        if c is None and r.org_unit_id is None:
            report.rejected.append(Rejection(r.line, "city is empty"))
            continue
        merged = {s: r.values.get(s, getattr(c, s) if c is not None else 0.0) for s in SHARE_FIELDS}
        if sum(merged.values()) > SHARE_SUM_MAX:
            report.rejected.append(Rejection(r.line, f"the consumption shares add up to "
                                                     f"{sum(merged.values()):.4f}, more than 1"))
            continue
        if c is None:
            arpu = r.values.get("arpu", Decimal("0.00"))
            tenure = r.values.get("tenure_months", 0)
            new.append(Customer(phone=r.phone, org_unit_id=r.org_unit_id, name=r.values.get("name"),
                                plan=r.values.get("plan"), arpu=arpu, tenure_months=tenure, **merged,
                                birth_year=r.values.get("birth_year"),
                                tier=policy.tier(arpu, tenure), vip=policy.vip(arpu), created_at=at,
                                updated_at=at))
            report.imported += 1
        else:
            for k, v in r.values.items():
                setattr(c, k, v)
            if r.org_unit_id is not None:
                c.org_unit_id = r.org_unit_id
            c.tier, c.vip = policy.tier(c.arpu, c.tenure_months), policy.vip(c.arpu)
            c.updated_at = at
            report.updated += 1
    session.add_all(new)
    session.flush()
