"""Q&A community: questions, answers (expert answers marked), acceptance, helpful votes, points.

Points ledger (append-only): an accepted answer earns its author ACCEPTED_POINTS, each helpful vote
HELPFUL_POINTS. Nobody earns points from their own question or their own answer. Leaderboards sum
the ledger over the people of one org unit's subtree (a city, a province, the group). An accepted
answer becomes a draft FAQ article in one step (then reviewed and published as usual).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.knowledge import service
from kefu.knowledge.errors import AnswerNotFound, QAConflict, QuestionNotFound
from kefu.knowledge.models import Answer, AnswerVote, Article, PointsEntry, Question
from kefu.org import service as org
from kefu.org.models import OrgUnit

ACCEPTED_POINTS = 20
HELPFUL_POINTS = 2
EXPERT_SKILL_LEVEL = 4
MAX_TEXT = 20_000


def _text(value: str, field: str, max_len: int) -> str:
    if not value or not value.strip():
        raise InvalidInput(f"{field} must not be empty", code="invalid_qa", details={"field": field})
    if len(value) > max_len:
        raise InvalidInput(
            f"{field} has {len(value)} characters; at most {max_len} are allowed",
            code="invalid_qa",
            details={"field": field},
        )
    return value


def ask(
    session: Session,
    principal: Principal,
    *,
    title: str,
    body: str,
    category_key: str | None = None,
    skill_key: str | None = None,
    at: datetime | None = None,
) -> Question:
    at = at or utcnow()
    title = _text(title, "title", 200).strip()
    body = _text(body, "body", MAX_TEXT)
    if category_key:
        from kefu.tickets import service as tickets

        tickets.category_by_key(session, category_key)
    q = Question(
        title=title,
        body=body,
        asker_id=principal.user_id,
        org_unit_id=principal.org_unit_id,
        category_key=category_key,
        skill_key=skill_key or (category_key.split(".")[0] if category_key else None),
        created_at=at,
        updated_at=at,
    )
    session.add(q)
    session.flush()
    return q


def get_question(session: Session, principal: Principal, question_id: int) -> Question:
    """The community is operator-wide: any agent may read and answer any question (experts sit in
    other cities and provinces)."""
    q = session.get(Question, question_id)
    if q is None:
        raise QuestionNotFound(f"question {question_id} not found")
    return q


def list_questions(
    session: Session, principal: Principal, *, open_only: bool = False, limit: int, offset: int
) -> tuple[list[tuple[Question, int]], int]:
    cond = []
    if open_only:
        cond.append(Question.accepted_answer_id.is_(None))
    base = select(Question).where(*cond)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(Question.created_at.desc(), Question.id.desc()).limit(limit).offset(offset)
    ).all()
    counts = dict(
        session.execute(
            select(Answer.question_id, func.count())
            .where(Answer.question_id.in_([q.id for q in rows]))
            .group_by(Answer.question_id)
        ).all()
    )
    return [(q, int(counts.get(q.id, 0))) for q in rows], total


def answers_of(session: Session, question_id: int) -> list[Answer]:
    return list(
        session.scalars(
            select(Answer)
            .where(Answer.question_id == question_id)
            .order_by(Answer.accepted.desc(), Answer.is_expert.desc(), Answer.helpful_count.desc(), Answer.id)
        )
    )


def is_expert(session: Session, user_id: int, skill_key: str | None) -> bool:
    user = org.user(session, user_id)
    if user is None:
        return False
    if user.role == "expert":
        return True
    return skill_key is not None and any(
        us.skill.key == skill_key and us.level >= EXPERT_SKILL_LEVEL for us in user.skills
    )


def answer(
    session: Session, principal: Principal, question_id: int, *, body: str, at: datetime | None = None
) -> Answer:
    at = at or utcnow()
    q = get_question(session, principal, question_id)
    a = Answer(
        question_id=q.id,
        author_id=principal.user_id,
        body=_text(body, "body", MAX_TEXT),
        is_expert=is_expert(session, principal.user_id, q.skill_key),
        accepted=False,
        helpful_count=0,
        created_at=at,
    )
    session.add(a)
    q.updated_at = at
    session.flush()
    return a


def _answer(session: Session, principal: Principal, answer_id: int) -> tuple[Answer, Question]:
    a = session.get(Answer, answer_id)
    if a is None:
        raise AnswerNotFound(f"answer {answer_id} not found")
    try:
        q = get_question(session, principal, a.question_id)
    except QuestionNotFound:
        raise AnswerNotFound(f"answer {answer_id} not found") from None
    return a, q


def _award(session: Session, user_id: int, points: int, reason: str, answer_id: int, at: datetime) -> None:
    user = org.user(session, user_id)
    assert user is not None
    path = org.org_unit(session, user.org_unit_id).path
    session.add(
        PointsEntry(user_id=user_id, org_path=path, points=points, reason=reason, answer_id=answer_id, at=at)
    )


def accept(session: Session, principal: Principal, answer_id: int, *, at: datetime | None = None) -> Answer:
    at = at or utcnow()
    a, q = _answer(session, principal, answer_id)
    if q.asker_id != principal.user_id:
        raise QAConflict("only the asker can accept an answer", code="not_asker")
    if q.accepted_answer_id is not None:
        raise QAConflict(
            f"answer {q.accepted_answer_id} is already accepted for this question",
            code="already_accepted",
            details={"accepted_answer_id": q.accepted_answer_id},
        )
    a.accepted = True
    q.accepted_answer_id = a.id
    q.updated_at = at
    if a.author_id != q.asker_id:
        _award(session, a.author_id, ACCEPTED_POINTS, "answer_accepted", a.id, at)
    session.flush()
    return a


def vote_helpful(
    session: Session, principal: Principal, answer_id: int, *, at: datetime | None = None
) -> Answer:
    at = at or utcnow()
    a, _ = _answer(session, principal, answer_id)
    if a.author_id == principal.user_id:
        raise QAConflict("you cannot vote for your own answer", code="own_answer")
    if session.get(AnswerVote, (a.id, principal.user_id)) is not None:
        raise QAConflict("you have already marked this answer helpful", code="already_voted")
    try:
        with session.begin_nested():
            session.add(AnswerVote(answer_id=a.id, user_id=principal.user_id, at=at))
    except IntegrityError:
        raise QAConflict("you have already marked this answer helpful", code="already_voted") from None
    a.helpful_count += 1
    _award(session, a.author_id, HELPFUL_POINTS, "answer_helpful", a.id, at)
    session.flush()
    return a


def to_article(
    session: Session,
    principal: Principal,
    answer_id: int,
    *,
    kind: str = "faq",
    department: str | None = None,
    at: datetime | None = None,
) -> Article:
    """Turn an accepted answer into a draft article (question as title, answer as body)."""
    a, q = _answer(session, principal, answer_id)
    if not a.accepted:
        raise QAConflict("only an accepted answer can become an article", code="answer_not_accepted")
    if a.article_id is not None:
        raise QAConflict(
            f"this answer is already article {a.article_id}",
            code="already_article",
            details={"article_id": a.article_id},
        )
    content = service.Content(
        title=q.title[:200],
        body=f"{q.body}\n\n{a.body}" if q.body.strip() != q.title.strip() else a.body,
        kind=kind,
        department=department or "Q&A",
        org_unit_id=principal.org_unit_id,
        category_keys=(q.category_key,) if q.category_key else (),
    )
    art = service.create_article(
        session, principal, content, note=f"from Q&A answer {a.id}", source_answer_id=a.id, at=at
    )
    a.article_id = art.id
    session.flush()
    return art


@dataclass
class LeaderRow:
    rank: int
    user_id: int
    display_name: str
    org_unit_id: int
    points: int


def leaderboard(
    session: Session,
    principal: Principal,
    *,
    level: str = "city",
    unit_id: int | None = None,
    since: datetime | None = None,
    limit: int = 20,
) -> tuple[OrgUnit, list[LeaderRow]]:
    """Points summed over the people of one unit's subtree: the principal's city / province / group,
    or `unit_id` (which the principal must be able to see or sit under)."""
    if unit_id is not None:
        unit = org.org_unit(session, unit_id)
        if not service.can_read_scope(principal, unit.path):
            from kefu.core.errors import NotFound

            raise NotFound(f"org unit {unit_id} not found", code="org_unit_not_found")
    else:
        if level not in ("city", "province", "group"):
            raise InvalidInput(f"unknown level '{level}' (city, province or group)", code="invalid_level")
        unit = org.org_unit(session, principal.org_unit_id)
        for path in reversed(service.ancestor_paths(principal.org_path)):
            candidate = org.unit_by_path(session, path)
            if candidate is not None and candidate.kind == level:
                unit = candidate
                break
    cond = [PointsEntry.org_path.startswith(unit.path)]
    if since is not None:
        cond.append(PointsEntry.at >= since)
    total = func.sum(PointsEntry.points).label("points")
    rows = session.execute(
        select(PointsEntry.user_id, total)
        .where(*cond)
        .group_by(PointsEntry.user_id)
        .order_by(total.desc(), PointsEntry.user_id)
        .limit(limit)
    ).all()
    users = org.users(session, (r[0] for r in rows))
    out = []
    for i, (uid, pts) in enumerate(rows, 1):
        u = users[uid]
        out.append(LeaderRow(i, uid, u.display_name, u.org_unit_id, int(pts)))
    return unit, out
