"""Frontline suggestions and problem reports (一线建议): agents report a process that fails customers, a wrong
script, a system fault, or propose an improvement; the owning back-office department reviews it.

Status flow (`NEXT`, pure): submitted → accepted | rejected (with a reason) | merged (into a duplicate);
accepted → in_progress | done | rejected | merged; in_progress → done. Every change is kept as visible
history and recorded as `suggestion.status_changed` (with the submitter's id: their console is told).
Reviewers are holders of `collab.review` whose subtree holds the owner department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from kefu.collaboration.models import Suggestion, SuggestionChange
from kefu.collaboration.service import reach_path
from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.org import service as org
from kefu.org.models import OrgUnit

KINDS = ("problem", "suggestion")
TOPICS = ("script", "knowledge", "process", "system", "product", "other")
STATUSES = ("submitted", "accepted", "rejected", "in_progress", "done", "merged")
OPEN = ("submitted", "accepted", "in_progress")
NEXT: dict[str, tuple[str, ...]] = {
    "submitted": ("accepted", "rejected", "merged"),
    "accepted": ("in_progress", "done", "rejected", "merged"),
    "in_progress": ("done",),
    "rejected": (), "done": (), "merged": (),
}


class SuggestionNotFound(NotFound):
    code = "suggestion_not_found"


class InvalidSuggestion(InvalidInput):
    code = "invalid_suggestion"


class IllegalSuggestionChange(Conflict):
    code = "illegal_suggestion_change"


class NotReviewer(Forbidden):
    code = "not_suggestion_reviewer"


def check_change(src: str, dst: str, *, reason: str | None, merge_into: int | None) -> None:
    """Pure: may a suggestion go from `src` to `dst` with this reason and merge target?"""
    if dst not in STATUSES:
        raise InvalidSuggestion(f"status must be one of {', '.join(STATUSES)}", details={"field": "to"})
    if dst not in NEXT[src]:
        raise IllegalSuggestionChange(f"a {src} suggestion cannot become {dst}", details={"from": src, "to": dst})
    if dst == "rejected" and not (reason or "").strip():
        raise InvalidSuggestion("a rejection needs a reason", details={"field": "reason"})
    if dst == "merged" and merge_into is None:
        raise InvalidSuggestion("name the suggestion it duplicates", details={"field": "merge_into_id"})


def owner_units(session: Session, principal: Principal) -> list[OrgUnit]:
    """The departments a suggestion may be sent to: the submitter's province (or group) and the group."""
    reach = reach_path(principal.org_path)
    top = [int(p) for p in reach.split("/") if p]
    return list(session.scalars(select(OrgUnit).where(or_(OrgUnit.path.startswith(reach), OrgUnit.id.in_(top)))
                                .order_by(OrgUnit.path)))


def submit(session: Session, principal: Principal, *, kind: str, topic: str, title: str, body: str,
           owner_unit_id: int, ticket_id: int | None = None, at: datetime | None = None) -> Suggestion:
    at = at or utcnow()
    if kind not in KINDS:
        raise InvalidSuggestion(f"kind must be one of {', '.join(KINDS)}", details={"field": "kind"})
    if topic not in TOPICS:
        raise InvalidSuggestion(f"topic must be one of {', '.join(TOPICS)}", details={"field": "topic"})
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise InvalidSuggestion("a suggestion needs a title and a text", details={"field": "title" if not title
                                                                                  else "body"})
    if owner_unit_id not in {u.id for u in owner_units(session, principal)}:
        raise InvalidSuggestion(f"org unit {owner_unit_id} cannot own your suggestion",
                                details={"field": "owner_unit_id"})
    if ticket_id is not None:
        from kefu.tickets import service as tickets

        tickets.get_visible(session, principal, ticket_id)
    s = Suggestion(kind=kind, topic=topic, title=title[:200], body=body, submitter_id=principal.user_id,
                   org_unit_id=principal.org_unit_id, owner_unit_id=owner_unit_id, ticket_id=ticket_id,
                   status="submitted", created_at=at, updated_at=at)
    session.add(s)
    session.flush()
    session.add(SuggestionChange(suggestion_id=s.id, from_status=None, to_status="submitted",
                                 actor_id=principal.user_id, note=None, at=at))
    _event(session, s, "suggestion.submitted", at, actor_id=principal.user_id)
    return s


def _event(session: Session, s: Suggestion, name: str, at: datetime, **extra: Any) -> None:
    events.record(session, name, {"suggestion_id": s.id, "submitter_id": s.submitter_id, "status": s.status,
                                  "owner_unit_id": s.owner_unit_id, **extra},
                  aggregate_type="suggestion", aggregate_id=s.id, org_unit_id=s.owner_unit_id, at=at)


def _reviews(session: Session, principal: Principal, s: Suggestion) -> bool:
    return principal.can("collab.review") and principal.sees_path(org.org_unit(session, s.owner_unit_id).path)


def get_visible(session: Session, principal: Principal, suggestion_id: int) -> Suggestion:
    s = session.get(Suggestion, suggestion_id)
    if s is None or not (s.submitter_id == principal.user_id or _reviews(session, principal, s)
                         or principal.sees_path(org.org_unit(session, s.org_unit_id).path)):
        raise SuggestionNotFound(f"suggestion {suggestion_id} not found")
    return s


def change_status(session: Session, principal: Principal, suggestion_id: int, to: str, *,
                  reason: str | None = None, merge_into_id: int | None = None,
                  at: datetime | None = None) -> Suggestion:
    """A reviewer of the owner department moves a suggestion on; the submitter is told (event)."""
    at = at or utcnow()
    s = get_visible(session, principal, suggestion_id)
    if not _reviews(session, principal, s):
        raise NotReviewer("only the owner department's reviewers change a suggestion's status")
    check_change(s.status, to, reason=reason, merge_into=merge_into_id)
    note = (reason or "").strip() or None
    if to == "merged":
        assert merge_into_id is not None
        target = get_visible(session, principal, merge_into_id)
        if target.id == s.id or target.status in ("merged", "rejected"):
            raise InvalidSuggestion("merge into another open suggestion", details={"field": "merge_into_id"})
        s.merged_into_id = target.id
        note = note or f"#{target.id}"
    src = s.status
    s.status, s.updated_at = to, at
    if to == "rejected":
        s.reason = note
    session.add(SuggestionChange(suggestion_id=s.id, from_status=src, to_status=to, actor_id=principal.user_id,
                                 note=note, at=at))
    session.flush()
    _event(session, s, "suggestion.status_changed", at, actor_id=principal.user_id, **{"from": src}, note=note)
    return s


def history(session: Session, suggestion_id: int) -> list[SuggestionChange]:
    return list(session.scalars(select(SuggestionChange).where(SuggestionChange.suggestion_id == suggestion_id)
                                .order_by(SuggestionChange.id)))


def _reviewable(principal: Principal) -> ColumnElement[bool]:
    return Suggestion.owner_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(principal.org_path)))


def mine(session: Session, principal: Principal, *, limit: int = 100) -> list[Suggestion]:
    return list(session.scalars(select(Suggestion).where(Suggestion.submitter_id == principal.user_id)
                                .order_by(Suggestion.id.desc()).limit(limit)))


def to_review(session: Session, principal: Principal, *, open_only: bool = True, limit: int = 200) -> list[Suggestion]:
    """Suggestions owned by the reviewer's departments, oldest first."""
    if not principal.can("collab.review"):
        return []
    q = select(Suggestion).where(_reviewable(principal))
    if open_only:
        q = q.where(Suggestion.status.in_(OPEN))
    return list(session.scalars(q.order_by(Suggestion.created_at, Suggestion.id).limit(limit)))


@dataclass(frozen=True)
class DepartmentCount:
    unit: OrgUnit
    by_status: dict[str, int]
    oldest_open_days: float | None


def counts(session: Session, principal: Principal, *, at: datetime | None = None) -> list[DepartmentCount]:
    """Per owner department in the principal's subtree: suggestions by status and the age of the oldest open."""
    at = at or utcnow()
    rows = session.execute(select(Suggestion.owner_unit_id, Suggestion.status, func.count(), func.min(
        Suggestion.created_at)).where(_reviewable(principal)).group_by(Suggestion.owner_unit_id, Suggestion.status))
    table: dict[int, dict[str, int]] = {}
    oldest: dict[int, datetime] = {}
    for unit_id, status, n, first in rows:
        table.setdefault(unit_id, {})[status] = int(n)
        if status in OPEN and first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=at.tzinfo)
            oldest[unit_id] = min(oldest.get(unit_id, first), first)
    units = {u.id: u for u in org.units(session, list(table))} if table else {}
    return [DepartmentCount(units[u], table[u], round((at - oldest[u]).total_seconds() / 86400, 1)
                            if u in oldest else None) for u in sorted(table, key=lambda i: units[i].path)]
