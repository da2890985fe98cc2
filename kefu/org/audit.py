"""The audit log: who did what, when, from which address, to which object.

Written for logins (succeeded, failed, locked), logouts, API tokens created and revoked, users created
and changed, tier-rule changes, and reads of personal data seen unmasked (a customer profile, a customer
search). Not written for inbound gateway posts.

`record(session, action, ...)` adds one row to the caller's transaction (no flush of its own: it goes out
with the request's commit, one INSERT, and is rolled back with it); in a reading transaction on
SQLite, which may not write, the row is written right after that transaction commits
(kefu.core.db.after_commit). The actor and client address come
from the session: `org.principal_from_request` binds them to the request's session (`bind_request`),
so services record without being handed the request. Actions whose request fails (a refused login)
are written by the caller in a transaction of their own.

Who sees an entry: administrators with `audit.read` whose org unit is at or above the entry's
`org_unit_id` (the object's unit, else the actor's); entries without a unit (a failed login for an
unknown name) only at the group level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.db import after_commit, is_reader
from kefu.org.models import AuditEntry

# Every action written, with the kind of object it concerns.
ACTIONS: dict[str, str | None] = {
    "login.succeeded": "user",
    "login.failed": "user",
    "login.locked": "user",
    "logout": "user",
    "token.created": "api_token",
    "token.revoked": "api_token",
    "user.created": "user",
    "user.updated": "user",
    "tier_rules.changed": "tier_rules",
    "vip_threshold.changed": "tier_rules",
    "customer.viewed": "customer",
    "customer.searched": "customer",
    "customer.identity_linked": "customer",
    "customer.identity_unlinked": "customer",
    "voice.ivr_node_saved": "ivr_node",
    "voice.ivr_node_deleted": "ivr_node",
    "complaint.compensation_requested": "compensation",
    "complaint.compensation_granted": "compensation",
    "complaint.compensation_rejected": "compensation",
}
OBJECT_TYPES = tuple(sorted({v for v in ACTIONS.values() if v}))
# Families of actions a search may ask for at once ("login." is every login.* action).
FAMILIES = tuple(sorted({a.split(".")[0] + "." for a in ACTIONS if "." in a}))
_REQUEST_KEY = "kefu_audit_request"


@dataclass(frozen=True)
class RequestInfo:
    principal: Principal | None
    ip: str | None


def bind_request(session: Session, principal: Principal | None, ip: str | None) -> None:
    """Remember who is acting in this session, and from where, for `record`."""
    session.info[_REQUEST_KEY] = RequestInfo(principal, ip)


def request_info(session: Session) -> RequestInfo:
    info = session.info.get(_REQUEST_KEY)
    return info if isinstance(info, RequestInfo) else RequestInfo(None, None)


def record(
    session: Session,
    action: str,
    *,
    object_type: str | None = None,
    object_id: int | str | None = None,
    org_unit_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    actor: Principal | None = None,
    actor_id: int | None = None,
    actor_name: str | None = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry to the caller's transaction. Actor and address default to the bound request's."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action '{action}'")
    bound = request_info(session)
    actor = actor or bound.principal
    if actor is not None:
        actor_id = actor_id if actor_id is not None else actor.user_id
        actor_name = actor_name or actor.username
        if org_unit_id is None:
            org_unit_id = actor.org_unit_id
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor_id,
        actor_name=actor_name[:64] if actor_name else None,
        action=action,
        object_type=object_type or ACTIONS[action],
        object_id=None if object_id is None else str(object_id)[:64],
        org_unit_id=org_unit_id,
        ip=(ip or bound.ip or None),
        details=dict(details or {}),
    )
    if is_reader(session):  # a read's audit line (SQLite readers may not write): right after commit
        after_commit(session, lambda s: s.add(entry))
    else:
        session.add(entry)
    return entry


def personal_data_read(
    session: Session,
    principal: Principal,
    action: str,
    *,
    object_id: int | str | None = None,
    org_unit_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record a read of personal data, when this principal sees it unmasked (holds `pii`)."""
    if principal.can("pii"):
        record(session, action, object_id=object_id, org_unit_id=org_unit_id, details=details, actor=principal)


def customers_listed(session: Session, principal: Principal, ids: list[int], total: int, *,
                     phone: str | None = None, q: str | None = None) -> None:
    """Record a customer list or search whose answer showed personal data unmasked (not an empty one).
    The log keeps the searched number's last four digits and whether a text query was given, not the text."""
    if ids:
        personal_data_read(session, principal, "customer.searched",
                           details={"phone": masked_query(phone), "text_query": bool(q), "total": total,
                                    "customer_ids": ids[:50]})


def masked_query(value: str | None) -> str | None:
    """A searched phone number as the log keeps it: its last four digits only."""
    if not value:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


# ---- search -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str | None = None  # an action, or a family ending in "." ("login.")
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(session: Session, principal: Principal, visible_unit_ids: list[int], filters: AuditFilters, *,
           limit: int = 50, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Entries this administrator may see, newest first, and how many match."""
    scope: ColumnElement[bool] = AuditEntry.org_unit_id.in_(visible_unit_ids)
    if principal.at_group_level:
        scope = or_(scope, AuditEntry.org_unit_id.is_(None))
    conds: list[Any] = [scope]
    f = filters
    if f.actor_id is not None:
        conds.append(AuditEntry.actor_id == f.actor_id)
    if f.action:
        conds.append(AuditEntry.action.startswith(f.action) if f.action.endswith(".")
                     else AuditEntry.action == f.action)
    if f.object_type:
        conds.append(AuditEntry.object_type == f.object_type)
    if f.object_id:
        conds.append(AuditEntry.object_id == f.object_id)
    if f.since is not None:
        conds.append(AuditEntry.at >= f.since)
    if f.until is not None:
        conds.append(AuditEntry.at < f.until)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0
    rows = session.scalars(select(AuditEntry).where(*conds).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), total
