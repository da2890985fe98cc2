"""Quality inspection over the database: sample resolved tickets, inspectors score them on a scorecard,
agents appeal a score, a supervisor upholds or revises it. Flushes, never commits.

Sampling reads the resolved tickets of a window: complaints and tickets whose survey was answered
unsatisfied always, plus a share of each agent's others (kefu.quality.core.sample); a ticket is inspected
once. Events: `quality.scored`, `quality.appealed`, `quality.decided` (the agent and supervisor see them).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.quality import core
from kefu.quality.models import QualityInspection, QualityScorecard

DEFAULT_SCORECARD = "通用服务质检"


class InspectionNotFound(NotFound):
    code = "quality_inspection_not_found"


class InvalidScore(InvalidInput):
    code = "quality_invalid_score"


class WrongInspectionState(Conflict):
    code = "quality_wrong_state"


def items_of(card: QualityScorecard) -> list[core.Item]:
    return [core.Item(i["key"], i["name"], float(i["weight"]), int(i.get("max_marks", 5)), bool(i.get("critical")))
            for i in card.items]


def ensure_default_scorecard(session: Session, *, at: datetime | None = None) -> QualityScorecard:
    card = session.scalar(select(QualityScorecard).where(QualityScorecard.name == DEFAULT_SCORECARD))
    if card is None:
        card = QualityScorecard(name=DEFAULT_SCORECARD, created_at=at or utcnow(), active=True, items=[
            {"key": i.key, "name": i.name, "weight": i.weight, "max_marks": i.max_marks, "critical": i.critical}
            for i in core.DEFAULT_ITEMS])
        session.add(card)
        session.flush()
    return card


class InvalidScorecard(InvalidInput):
    code = "quality_invalid_scorecard"


ITEM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


def active_scorecard(session: Session, *, at: datetime | None = None) -> QualityScorecard:
    """The scorecard new samples are scored on: the newest active one (the default one at first)."""
    card = session.scalar(select(QualityScorecard).where(QualityScorecard.active.is_(True))
                          .order_by(QualityScorecard.id.desc()).limit(1))
    return card if card is not None else ensure_default_scorecard(session, at=at)


def save_scorecard(session: Session, *, name: str, items: list[core.Item],
                   at: datetime | None = None) -> QualityScorecard:
    """A new version of the scorecard: from now on samples are scored on it; inspections already chosen keep the
    card they were chosen with (their marks stay readable). A name in use gets " v2", " v3" ...."""
    name = " ".join(name.split())[:90]
    if not name:
        raise InvalidScorecard("a scorecard needs a name", details={"field": "name"})
    bad = [i.key for i in items if not ITEM_KEY.match(i.key)]
    if bad:
        raise InvalidScorecard(f"an item key is a lower-case word (a-z, 0-9, _): {', '.join(bad)}",
                               details={"field": "items"})
    if any(not i.name.strip() for i in items):
        raise InvalidScorecard("every item has a name", details={"field": "items"})
    try:
        core.check_items(items)
    except core.ScoringError as exc:
        raise InvalidScorecard(str(exc), details={"field": "items"}) from None
    taken = set(session.scalars(select(QualityScorecard.name)))
    final, n = name, 2
    while final in taken:
        final, n = f"{name} v{n}", n + 1
    for old in session.scalars(select(QualityScorecard).where(QualityScorecard.active.is_(True))):
        old.active = False
    card = QualityScorecard(name=final, active=True, created_at=at or utcnow(), items=[
        {"key": i.key, "name": i.name.strip()[:60], "weight": i.weight, "max_marks": i.max_marks,
         "critical": i.critical} for i in items])
    session.add(card)
    session.flush()
    return card


def sample_resolved(session: Session, *, since: datetime, until: datetime, share: float, seed: int,
                    unit_ids: list[int] | None = None, at: datetime | None = None) -> list[QualityInspection]:
    """Choose the resolved tickets of [since, until) to inspect (of `unit_ids`' units when given: an
    inspector's subtree)."""
    from kefu.sla.models import SlaSurvey
    from kefu.sla.survey_reply import UNSATISFIED  # 1 and 2 of 5 are unsatisfied
    from kefu.tickets.models import Ticket

    at = at or utcnow()
    card = active_scorecard(session, at=at)
    done = select(QualityInspection.ticket_id)
    q = select(Ticket.id, Ticket.assignee_id, Ticket.type, Ticket.org_unit_id).where(
        Ticket.resolved_at >= since, Ticket.resolved_at < until, Ticket.id.not_in(done))
    if unit_ids is not None:
        q = q.where(Ticket.org_unit_id.in_(unit_ids))
    rows = session.execute(q).all()
    unhappy = set(session.scalars(select(SlaSurvey.ticket_id).where(
        SlaSurvey.choice <= UNSATISFIED, SlaSurvey.ticket_id.in_([r.id for r in rows]))))
    try:
        chosen = core.sample([core.Contact(r.id, r.assignee_id, r.type in ("complaint", "appeal"), r.id in unhappy)
                              for r in rows], share=share, seed=seed)
    except core.ScoringError as exc:
        raise InvalidScore(str(exc), details={"field": "share"}) from None
    made = []
    for r in rows:
        if r.id in chosen:
            made.append(QualityInspection(ticket_id=r.id, agent_id=r.assignee_id, org_unit_id=r.org_unit_id,
                                          scorecard_id=card.id, reason=chosen[r.id], status="pending",
                                          sampled_at=at))
    session.add_all(made)
    session.flush()
    return made


def get(session: Session, inspection_id: int) -> QualityInspection:
    row = session.get(QualityInspection, inspection_id)
    if row is None:
        raise InspectionNotFound(f"inspection {inspection_id} does not exist")
    return row


def visible(session: Session, principal: Principal, inspection_id: int) -> QualityInspection:
    """An inspection its agent (quality.own) or an inspector of its unit's branch (quality.inspect) may see;
    404 for anyone else (existence does not leak)."""
    from kefu.org import service as org

    row = session.get(QualityInspection, inspection_id)
    if row is not None and row.agent_id == principal.user_id and principal.can("quality.own"):
        return row
    if row is not None and principal.can("quality.inspect") and row.org_unit_id in set(
            org.visible_unit_ids(session, principal)):
        return row
    raise InspectionNotFound(f"inspection {inspection_id} does not exist")


def inspections(session: Session, principal: Principal, *, statuses: tuple[str, ...] = ("pending", "appealed"),
                limit: int = 200, offset: int = 0) -> tuple[list[QualityInspection], int]:
    """The inspections of an inspector's subtree in these states: appeals first, then by id."""
    from kefu.org import service as org

    cond = (QualityInspection.status.in_(statuses),
            QualityInspection.org_unit_id.in_(org.visible_unit_ids(session, principal)))
    total = session.scalar(select(func.count()).select_from(QualityInspection).where(*cond)) or 0
    rows = session.scalars(select(QualityInspection).where(*cond).order_by(
        QualityInspection.status.desc(), QualityInspection.id).limit(limit).offset(offset))
    return list(rows), int(total)


def _event(session: Session, name: str, row: QualityInspection, at: datetime, **extra: Any) -> None:
    events.record(session, name, {"inspection_id": row.id, "ticket_id": row.ticket_id, "agent_id": row.agent_id,
                                  "total": row.total, **extra},
                  aggregate_type="ticket", aggregate_id=row.ticket_id, org_unit_id=row.org_unit_id, at=at)


def score(session: Session, inspection_id: int, *, inspector_id: int, marks: dict[str, int], comment: str = "",
          at: datetime | None = None) -> QualityInspection:
    at = at or utcnow()
    row = get(session, inspection_id)
    if row.status not in ("pending", "scored"):
        raise WrongInspectionState(f"inspection {row.id} is {row.status}; it is scored before an appeal")
    if inspector_id == row.agent_id:
        raise Forbidden("an agent does not inspect their own contact", code="quality_own_contact")
    card = session.get(QualityScorecard, row.scorecard_id)
    assert card is not None
    try:
        total = core.score(items_of(card), marks)
    except core.ScoringError as exc:
        raise InvalidScore(str(exc), details={"field": "marks"}) from None
    row.marks, row.total, row.comment = dict(marks), total, comment.strip() or None
    row.inspector_id, row.scored_at, row.status = inspector_id, at, "scored"
    session.flush()
    _event(session, "quality.scored", row, at)
    return row


def appeal(session: Session, inspection_id: int, *, agent_id: int, reason: str,
           at: datetime | None = None) -> QualityInspection:
    at = at or utcnow()
    row = get(session, inspection_id)
    if row.agent_id != agent_id:
        raise InspectionNotFound(f"inspection {inspection_id} does not exist")
    if row.status != "scored":
        raise WrongInspectionState(f"inspection {row.id} is {row.status}; only a score can be appealed, once")
    if not reason.strip():
        raise InvalidScore("an appeal says why", details={"field": "reason"})
    row.appeal_reason, row.appealed_at, row.status = reason.strip(), at, "appealed"
    session.flush()
    _event(session, "quality.appealed", row, at)
    return row


def decide(session: Session, inspection_id: int, *, actor_id: int, marks: dict[str, int] | None = None,
           at: datetime | None = None) -> QualityInspection:
    """Uphold the score (marks None) or revise it with new marks; the inspection is final either way."""
    at = at or utcnow()
    row = get(session, inspection_id)
    if row.status != "appealed":
        raise WrongInspectionState(f"inspection {row.id} is {row.status}; there is no appeal to decide")
    if actor_id in (row.agent_id, row.inspector_id):
        raise Forbidden("an appeal is decided by someone other than the agent and the inspector",
                        code="quality_not_impartial")
    if marks is not None:
        card = session.get(QualityScorecard, row.scorecard_id)
        assert card is not None
        try:
            row.total = core.score(items_of(card), marks)
        except core.ScoringError as exc:
            raise InvalidScore(str(exc), details={"field": "marks"}) from None
        row.marks = dict(marks)
    row.decision = "upheld" if marks is None else "revised"
    row.decided_by_id, row.decided_at, row.status = actor_id, at, "final"
    session.flush()
    _event(session, "quality.decided", row, at, decision=row.decision)
    return row


def for_agent(session: Session, agent_id: int) -> list[QualityInspection]:
    return list(session.scalars(select(QualityInspection).where(QualityInspection.agent_id == agent_id,
                                                                QualityInspection.status != "pending")
                                .order_by(QualityInspection.id.desc())))


def calibration(session: Session, principal: Principal, *, since: datetime, until: datetime) -> list[core.Calibration]:
    """Calibration across the inspectors who scored contacts of the principal's subtree in [since, until)."""
    from kefu.org import service as org

    rows = session.execute(select(QualityInspection.inspector_id, QualityInspection.total,
                                  QualityInspection.appealed_at, QualityInspection.decision).where(
        QualityInspection.scored_at >= since, QualityInspection.scored_at < until,
        QualityInspection.inspector_id.is_not(None), QualityInspection.total.is_not(None),
        QualityInspection.org_unit_id.in_(org.visible_unit_ids(session, principal)))).all()
    return core.calibration((r.inspector_id, float(r.total), r.appealed_at is not None, r.decision == "revised")
                            for r in rows)


def prechecks(session: Session, ticket_id: int, *, at: datetime | None = None) -> list[Any]:
    """The automatic pre-checks (kefu.quality.prechecks) on the text conversations of a ticket, and its agents'
    replies against the scripts (口径) of its category as published now (`current_scripts`)."""
    from kefu.interactions.models import Interaction, Message
    from kefu.quality import prechecks as pre

    rows = session.execute(select(Message.created_at, Message.direction, Message.body, Message.author_id,
                                  Message.channel).join(Interaction, Interaction.id == Message.interaction_id)
                           .where(Interaction.ticket_id == ticket_id, Interaction.channel != "voice")
                           .order_by(Message.created_at, Message.id)).all()
    lines = [pre.Line(at=r.created_at, outbound=r.direction == "outbound", text=r.body,
                      by_agent=r.author_id is not None, channel=r.channel) for r in rows]
    return pre.precheck(lines) + pre.script_conflicts(lines, current_scripts(session, ticket_id, at=at))


def current_scripts(session: Session, ticket_id: int, *, at: datetime | None = None) -> list[Any]:
    """The scripts (knowledge articles of kind "script") live now for the ticket: tagged with its category or
    that category's first level, within their validity window, scoped to the ticket's unit or a unit above it.
    A ticket without a category has none."""
    from kefu.core.clock import ensure_aware
    from kefu.knowledge.models import Article, ArticleVersion
    from kefu.org import service as org
    from kefu.quality import prechecks as pre
    from kefu.tickets import service as tickets

    at = at or utcnow()
    ticket = tickets.get(session, ticket_id)
    if ticket is None or ticket.category_id is None:
        return []
    cat = tickets.categories_by_id(session).get(ticket.category_id)
    if cat is None:
        return []
    keys = {cat.key, cat.key.split(".")[0]}
    unit_path = org.org_unit(session, ticket.org_unit_id).path
    rows = session.execute(select(Article.scope_path, ArticleVersion).join(ArticleVersion, and_(
        ArticleVersion.article_id == Article.id, ArticleVersion.number == Article.live_version))
        .where(Article.kind == "script", Article.status == "published").order_by(Article.id)).all()
    return [pre.Script(title=v.title, body=v.body) for scope, v in rows
            if unit_path.startswith(scope) and keys & set(v.category_keys or [])
            and (v.valid_from is None or ensure_aware(v.valid_from) <= at)
            and (v.valid_until is None or ensure_aware(v.valid_until) > at)]
