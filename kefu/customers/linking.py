"""One customer across channels: an address (a WeChat openid, an e-mail address, ...) joins the customer of a
number when the evidence says they are the same person, and only then.

Evidence (`EVIDENCE`):
    binding           the operator's platform reports that the address bound this number (a WeChat binding
                      event: the subscriber logged in with the number in the official account)
    sms_code          the address proved it holds the number: a one-time code sent to it by SMS came back
    subscriber_record the operator's subscriber record lists the address for this number
    claimed           the address only said so (a number typed in a chat): never acted on by itself

Decisions (`decide`, pure), for an address A and a number's customer P:
    * A has no customer: A joins P (P is created by the number when it has no customer yet).
    * A's customer is P already: nothing to do.
    * A's customer C has no number of its own: C is a shell the channel made for A, so C is merged into P
      (the issue's case: SMS then WeChat, two customers, one person) ...
    * ... unless C holds a number (another subscriber), or P was merged elsewhere, or the evidence is
      `claimed`: then a suggestion is recorded for an agent, and nothing is merged or moved.
An agent links or unlinks an address from the customer page (`link_by_agent`, `unlink_by_agent`), audited;
a suggestion is decided there too. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.db import xact_lock
from kefu.core.errors import Conflict, InvalidInput, KefuError, NotFound
from kefu.customers import service
from kefu.customers.models import Customer, CustomerIdentity, IdentityLinkCode, IdentityLinkSuggestion
from kefu.customers.phone import normalize_phone

EVIDENCE = ("binding", "sms_code", "subscriber_record", "claimed")
STRONG = frozenset({"binding", "sms_code", "subscriber_record"})
CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5


class InvalidEvidence(InvalidInput):
    code = "invalid_evidence"


class CodeRejected(InvalidInput):
    code = "code_rejected"


class TooManyCodes(KefuError):
    """A number was sent as many codes as it may be for now (`details.retry_after`: seconds to wait)."""

    status = 429
    code = "too_many_codes"


class SuggestionNotFound(NotFound):
    code = "suggestion_not_found"


class IdentityNotFound(NotFound):
    code = "identity_not_found"


class SuggestionDecided(Conflict):
    code = "suggestion_decided"


# ---- the decision (pure) ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Holder:
    """What the decision needs to know of a customer."""

    id: int
    has_phone: bool
    merged: bool


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # "attach" | "none" | "merge" | "suggest"
    reason: str


def decide(*, evidence: str, address_holder: Holder | None, number_holder: Holder | None) -> Decision:
    """What to do with an address and a number's customer, given who holds each (None: nobody yet)."""
    if evidence not in EVIDENCE:
        raise InvalidEvidence(f"evidence must be one of {', '.join(EVIDENCE)}", details={"field": "evidence"})
    if address_holder is not None and number_holder is not None and address_holder.id == number_holder.id:
        return Decision("none", "the address is the customer's already")
    if evidence not in STRONG:
        return Decision("suggest", "the customer only said so; an agent decides")
    if number_holder is not None and number_holder.merged:
        return Decision("suggest", "the number's customer was merged elsewhere")
    if address_holder is None:
        return Decision("attach", f"{evidence}: the address joins the number's customer")
    if address_holder.merged:
        return Decision("suggest", "the address's customer was merged elsewhere")
    if address_holder.has_phone:
        return Decision("suggest", "the address belongs to a customer with another number")
    return Decision("merge", f"{evidence}: the address's customer had no number; it is the same person")


# ---- acting on evidence -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LinkResult:
    customer_id: int  # the customer the address belongs to now (or still, with a suggestion)
    action: str
    reason: str
    suggestion_id: int | None = None


def _holder(c: Customer | None) -> Holder | None:
    return None if c is None else Holder(c.id, c.phone is not None, c.merged_into_id is not None)


def _address_owner(session: Session, kind: str, value: str) -> Customer | None:
    return session.scalar(select(Customer).join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
                          .where(CustomerIdentity.kind == kind, CustomerIdentity.value == value))


def link(session: Session, *, kind: str, value: str, phone: str, evidence: str, org_unit_id: int,
         at: datetime | None = None) -> LinkResult:
    """An address and a number seen together with this evidence (see the module docstring)."""
    at = at or utcnow()
    if kind == "phone":
        raise InvalidInput("link an address of another kind to a number", code="invalid_identity_kind")
    v = service.normalize_identity(kind, value)
    e164 = normalize_phone(phone)
    owner = _address_owner(session, kind, v)
    number_customer = session.scalar(select(Customer).where(Customer.phone == e164)) or _address_owner(
        session, "phone", e164)
    survivor = service.resolve(session, owner) if owner is not None else None
    if survivor is not None and number_customer is not None and \
            service.resolve(session, number_customer).id == survivor.id:
        return LinkResult(survivor.id, "none", "the address is the customer's already")
    d = decide(evidence=evidence, address_holder=_holder(survivor), number_holder=_holder(number_customer))
    if d.action == "suggest":
        target = number_customer or service.identify(session, kind="phone", value=e164, org_unit_id=org_unit_id,
                                                     at=at)[0]
        s = _suggest(session, customer_id=target.id, other_id=survivor.id if survivor is not None else None,
                     kind=kind, value=v, evidence=evidence, reason=d.reason, at=at)
        return LinkResult(survivor.id if survivor is not None else target.id, "suggest", d.reason, s.id)
    if number_customer is None:
        if survivor is not None:  # the address's customer has no number: it takes this one
            service.update_customer(session, survivor, {"phone": e164}, actor_id=None, at=at)
            _linked(session, survivor, kind, v, evidence, at)
            return LinkResult(survivor.id, "attach", f"{evidence}: the address's customer takes the number")
        number_customer, _ = service.identify(session, kind="phone", value=e164, org_unit_id=org_unit_id, at=at)
    if d.action == "merge":
        assert survivor is not None
        keep = service.merge(session, number_customer.id, survivor.id, None, at=at)
        _linked(session, keep, kind, v, evidence, at)
        return LinkResult(keep.id, "merge", d.reason)
    service.attach_identity(session, number_customer, kind=kind, value=v, at=at)
    _linked(session, number_customer, kind, v, evidence, at)
    return LinkResult(number_customer.id, "attach", d.reason)


def _linked(session: Session, c: Customer, kind: str, value: str, evidence: str, at: datetime) -> None:
    events.record(session, "customer.identity_linked", {"kind": kind, "evidence": evidence},
                  aggregate_type="customer", aggregate_id=c.id, org_unit_id=c.org_unit_id, at=at)


def _suggest(session: Session, *, customer_id: int, other_id: int | None, kind: str, value: str, evidence: str,
             reason: str, at: datetime) -> IdentityLinkSuggestion:
    existing = session.scalar(select(IdentityLinkSuggestion).where(
        IdentityLinkSuggestion.customer_id == customer_id, IdentityLinkSuggestion.kind == kind,
        IdentityLinkSuggestion.value == value, IdentityLinkSuggestion.status == "open"))
    if existing is not None:
        return existing
    s = IdentityLinkSuggestion(customer_id=customer_id, other_customer_id=other_id, kind=kind, value=value,
                               evidence=evidence, reason=reason[:200], status="open", created_at=at)
    session.add(s)
    session.flush()
    return s


# ---- a one-time code by SMS ------------------------------------------------------------------------

def _hash(secret: bytes, kind: str, value: str, phone: str, code: str) -> str:
    return hmac.new(secret, f"{kind}\x00{value}\x00{phone}\x00{code}".encode(), hashlib.sha256).hexdigest()


def start_code(session: Session, *, kind: str, value: str, phone: str, secret: bytes,
               at: datetime | None = None, quota: tuple[int, timedelta] | None = None) -> tuple[str, datetime]:
    """A six-digit code for the address to prove it holds the number; the caller sends it to the number
    by SMS. Kept hashed; valid CODE_TTL, CODE_ATTEMPTS tries. ``quota`` (codes per CODE_WINDOW, interval):
    refused first (TooManyCodes, nothing written) when the number had its share lately (check_code_quota)."""
    at = at or utcnow()
    v, e164 = service.normalize_identity(kind, value), normalize_phone(phone)
    if quota is not None:
        check_code_quota(session, e164, at=at, per_window=quota[0], interval=quota[1])
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(IdentityLinkCode(kind=kind, value=v, phone=e164, code_hash=_hash(secret, kind, v, e164, code),
                                 expires_at=at + CODE_TTL, attempts=0, created_at=at))
    session.flush()
    return code, at + CODE_TTL


CODE_WINDOW = timedelta(hours=1)


def code_wait(issued: Sequence[datetime], *, at: datetime, per_window: int, interval: timedelta,
              window: timedelta = CODE_WINDOW) -> float:
    """Seconds until a number that was sent codes at `issued` may be sent another (0: now): at most
    `per_window` in any `window`, and `interval` apart. Pure."""
    recent = sorted(t for t in issued if t > at - window)
    waits = [0.0]
    if recent:
        waits.append((recent[-1] + interval - at).total_seconds())
    if len(recent) >= per_window:
        waits.append((recent[-per_window] + window - at).total_seconds())
    return max(waits)


def check_code_quota(session: Session, phone: str, *, at: datetime, per_window: int, interval: timedelta) -> None:
    """Refuse (TooManyCodes, 429) a code to a number that was sent its share lately, whoever asked: counted
    from the codes stored, so every process agrees. On PostgreSQL the number's requests take turns (an
    advisory lock until the transaction ends); SQLite's writers take turns already."""
    e164 = normalize_phone(phone)
    xact_lock(session, f"link-code:{e164}")
    issued = list(session.scalars(select(IdentityLinkCode.created_at).where(
        IdentityLinkCode.phone == e164, IdentityLinkCode.created_at > at - CODE_WINDOW)))
    wait = code_wait(issued, at=at, per_window=per_window, interval=interval)
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyCodes(f"该号码获取验证码过于频繁，请 {seconds} 秒后再试（too many codes sent to this number; "
                           f"try again in {seconds} s）", details={"retry_after": seconds})


def verify_code(session: Session, *, kind: str, value: str, phone: str, code: str, secret: bytes, org_unit_id: int,
                at: datetime | None = None) -> LinkResult:
    """The code came back from the address: the link is made with evidence `sms_code`. A wrong, used or
    expired code is refused (400 code_rejected) and counts as a try."""
    at = at or utcnow()
    v, e164 = service.normalize_identity(kind, value), normalize_phone(phone)
    row = session.scalar(select(IdentityLinkCode).where(
        IdentityLinkCode.kind == kind, IdentityLinkCode.value == v, IdentityLinkCode.phone == e164,
        IdentityLinkCode.used_at.is_(None)).order_by(IdentityLinkCode.id.desc()).limit(1).with_for_update())
    if row is None or row.expires_at <= at or row.attempts >= CODE_ATTEMPTS:
        raise CodeRejected("no valid code for this address and number; ask for a new one")
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _hash(secret, kind, v, e164, code.strip())):
        session.flush()
        raise CodeRejected("the code is wrong", details={"tries_left": CODE_ATTEMPTS - row.attempts})
    row.used_at = at
    session.flush()
    return link(session, kind=kind, value=v, phone=e164, evidence="sms_code", org_unit_id=org_unit_id, at=at)


# ---- agents ---------------------------------------------------------------------------------------

def link_by_agent(session: Session, customer: Customer, *, kind: str, value: str, actor_id: int,
                  at: datetime | None = None) -> CustomerIdentity:
    """An agent adds an address to the customer (409 when another customer holds it: merge instead)."""
    from kefu.org import audit

    ident = service.attach_identity(session, customer, kind=kind, value=value, at=at)
    audit.record(session, "customer.identity_linked", object_id=customer.id, org_unit_id=customer.org_unit_id,
                 details={"kind": kind, "by": "agent"})
    return ident


def unlink_by_agent(session: Session, customer: Customer, identity_id: int, *, actor_id: int,
                    at: datetime | None = None) -> None:
    """An agent removes an address from the customer (it was linked by mistake): the next message from it
    makes a customer of its own. Audited; `customer.updated`."""
    from kefu.org import audit

    at = at or utcnow()
    ident = next((i for i in customer.identities if i.id == identity_id), None)
    if ident is None:
        raise IdentityNotFound(f"identity {identity_id} not found on customer {customer.id}")
    kind = ident.kind
    customer.identities.remove(ident)
    session.delete(ident)
    customer.updated_at = at
    session.flush()
    audit.record(session, "customer.identity_unlinked", object_id=customer.id, org_unit_id=customer.org_unit_id,
                 details={"kind": kind})
    events.record(session, "customer.updated", {"fields": ["identities"], "identity_kind": kind, "removed": True},
                  aggregate_type="customer", aggregate_id=customer.id, org_unit_id=customer.org_unit_id, at=at)


def suggestions(session: Session, customer_ids: list[int], *, status: str = "open") -> list[IdentityLinkSuggestion]:
    if not customer_ids:
        return []
    return list(session.scalars(select(IdentityLinkSuggestion).where(
        IdentityLinkSuggestion.customer_id.in_(customer_ids), IdentityLinkSuggestion.status == status)
        .order_by(IdentityLinkSuggestion.id)))


def decide_suggestion(session: Session, suggestion_id: int, *, accept: bool, actor_id: int,
                      customer_ids: list[int], at: datetime | None = None) -> IdentityLinkSuggestion:
    """An agent accepts (the address joins the customer: moved from its other customer, or that customer
    merged in when it holds nothing else) or dismisses a suggestion about one of `customer_ids`."""
    from kefu.org import audit

    at = at or utcnow()
    s = session.get(IdentityLinkSuggestion, suggestion_id)
    if s is None or s.customer_id not in customer_ids:
        raise SuggestionNotFound(f"suggestion {suggestion_id} not found")
    if s.status != "open":
        raise SuggestionDecided(f"suggestion {suggestion_id} is {s.status} already")
    if accept:
        target = service.resolve(session, service.get(session, s.customer_id))
        holder = _address_owner(session, s.kind, s.value)
        if holder is not None and service.resolve(session, holder).id != target.id:
            ident = next(i for i in holder.identities if i.kind == s.kind and i.value == s.value)
            holder.identities.remove(ident)
            session.delete(ident)
            session.flush()
        if holder is None or service.resolve(session, holder).id != target.id:
            service.attach_identity(session, target, kind=s.kind, value=s.value, at=at)
        audit.record(session, "customer.identity_linked", object_id=target.id, org_unit_id=target.org_unit_id,
                     details={"kind": s.kind, "by": "agent", "suggestion_id": s.id})
        _linked(session, target, s.kind, s.value, "agent", at)
    s.status, s.decided_by, s.decided_at = ("linked" if accept else "dismissed"), actor_id, at
    session.flush()
    return s
