"""Training and certification: courses per skill (knowledge articles and scripts to study), an exam whose
questions each cite an article of the course, certificates with an expiry, and the rule routing can read.

- A course belongs to an org unit; the holders of `cert.take` in its subtree take it (others: 404).
- An attempt is graded by `grade` (pure): the share of questions answered right, 0-100; at or above the
  course's pass mark it passes and issues a certificate for the course's skill, valid `valid_days`.
- `needs_certificate(session)`: the skills with an active course — joining a queue that asks for one of them
  needs a valid certificate; `may_serve(session, user_id, skills, at)` and `certified_user_ids(...)` answer it
  for the routing engine (kefu.routing reads them; nothing here changes routing). `next_expiry` and
  `lapsed_holders` tell routing's writer when a certificate ends by time and whose; `revoke` records
  `certificate.revoked` (as `take` records `certificate.issued`) for routing to refresh the holder.
- `warn_expiring` (a daily job) records `certificate.expiring` once per certificate EXPIRY_WARN_DAYS before
  its end, naming the holder and their unit; `expiry_warnings` gives the warnings still standing (not renewed,
  not yet expired), which the console shows the holder and the supervisors of that branch.
Services flush, never commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import ensure_aware, utcnow
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.org import service as org
from kefu.quality.models import CertAttempt, CertCourse, Certificate

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_QUESTIONS = 100
MAX_OPTIONS = 6
EXPIRY_WARN_DAYS = 30
MAX_VALID_DAYS = 3 * 366


class CourseNotFound(NotFound):
    code = "cert_course_not_found"


class InvalidCourse(InvalidInput):
    code = "cert_invalid_course"


class InvalidAnswers(InvalidInput):
    code = "cert_invalid_answers"


class CourseInactive(Conflict):
    code = "cert_course_inactive"


# ---- pure ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    article_id: int
    text: str
    options: tuple[str, ...]
    answer: int


def check_questions(questions: Sequence[Question], article_ids: Iterable[int]) -> None:
    """Raise ValueError unless every question cites a course article, has 2-6 options and a right one."""
    articles = set(article_ids)
    if not questions:
        raise ValueError("an exam has at least one question")
    if len(questions) > MAX_QUESTIONS:
        raise ValueError(f"an exam has at most {MAX_QUESTIONS} questions")
    for i, q in enumerate(questions):
        if q.article_id not in articles:
            raise ValueError(f"question {i + 1} cites article {q.article_id}, which is not in the course")
        if not q.text.strip():
            raise ValueError(f"question {i + 1} has no text")
        if not 2 <= len(q.options) <= MAX_OPTIONS or any(not o.strip() for o in q.options):
            raise ValueError(f"question {i + 1} has 2 to {MAX_OPTIONS} non-empty options")
        if not 0 <= q.answer < len(q.options):
            raise ValueError(f"question {i + 1}: the right answer is one of its options")


def grade(questions: Sequence[Question], answers: Sequence[int]) -> float:
    """The share of questions answered right, 0-100 (rounded to 0.1); one answer per question, in order."""
    if len(answers) != len(questions):
        raise ValueError(f"{len(questions)} answers are expected, {len(answers)} were given")
    right = sum(1 for q, a in zip(questions, answers, strict=True) if a == q.answer)
    return round(100 * right / len(questions), 1)


# ---- courses ---------------------------------------------------------------------------------------------

def questions_of(course: CertCourse) -> list[Question]:
    return [Question(int(q["article_id"]), str(q["text"]), tuple(q["options"]), int(q["answer"]))
            for q in course.questions]


@dataclass(frozen=True)
class CourseSpec:
    key: str
    name: str
    skill: str
    org_unit_id: int
    article_ids: tuple[int, ...]
    questions: tuple[Question, ...]
    pass_percent: int = 80
    valid_days: int = 365
    active: bool = True


def _concerns(session: Session, principal: Principal, unit_id: int) -> bool:
    path = org.org_unit(session, unit_id).path
    return principal.sees_path(path) or principal.org_path.startswith(path)


def courses(session: Session, principal: Principal) -> list[CertCourse]:
    """The courses of the principal's branch: of a unit it sees or of one above it."""
    return [c for c in session.scalars(select(CertCourse).order_by(CertCourse.active.desc(), CertCourse.skill,
                                                                   CertCourse.name, CertCourse.id))
            if _concerns(session, principal, c.org_unit_id)]


def course(session: Session, principal: Principal, course_id: int) -> CertCourse:
    c = session.get(CertCourse, course_id)
    if c is None or not _concerns(session, principal, c.org_unit_id):
        raise CourseNotFound(f"course {course_id} not found")
    return c


def save_course(session: Session, principal: Principal, spec: CourseSpec, *, course_id: int | None = None,
                at: datetime | None = None) -> CertCourse:
    """Create or change a course of a unit of the principal's subtree. Its articles must be ones the
    principal can read (knowledge's scope); its skill one the organisation knows."""
    from kefu.knowledge import service as knowledge

    at = at or utcnow()
    if not KEY_RE.match(spec.key):
        raise InvalidCourse("a key is 1-40 letters, digits, '-' or '_'", details={"field": "key"})
    if not spec.name.strip():
        raise InvalidCourse("a course needs a name", details={"field": "name"})
    if spec.skill not in {s.key for s in org.skills(session)}:
        raise InvalidCourse(f"unknown skill '{spec.skill}'", details={"field": "skill"})
    if not 1 <= spec.pass_percent <= 100:
        raise InvalidCourse("the pass mark is 1 to 100 %", details={"field": "pass_percent"})
    if not 1 <= spec.valid_days <= MAX_VALID_DAYS:
        raise InvalidCourse(f"a certificate holds 1 to {MAX_VALID_DAYS} days", details={"field": "valid_days"})
    if not spec.article_ids:
        raise InvalidCourse("a course has at least one article", details={"field": "article_ids"})
    for article_id in spec.article_ids:
        knowledge.get_article(session, principal, article_id)  # 404 for an article the principal cannot read
    try:
        check_questions(spec.questions, spec.article_ids)
    except ValueError as exc:
        raise InvalidCourse(str(exc), details={"field": "questions"}) from None
    unit = org.check_visible(session, principal, spec.org_unit_id)
    clash = session.scalar(select(CertCourse).where(CertCourse.key == spec.key))
    if clash is not None and clash.id != course_id:
        raise Conflict(f"a course with key {spec.key!r} exists", code="cert_course_exists")
    row = None
    if course_id is not None:
        row = course(session, principal, course_id)
        org.check_visible(session, principal, row.org_unit_id)
    if row is None:
        row = CertCourse(created_at=at, created_by=principal.user_id)
        session.add(row)
    row.key, row.name, row.skill, row.org_unit_id = spec.key, spec.name.strip(), spec.skill, unit.id
    row.article_ids = list(dict.fromkeys(spec.article_ids))
    row.questions = [{"article_id": q.article_id, "text": q.text.strip(), "options": [o.strip() for o in q.options],
                      "answer": q.answer} for q in spec.questions]
    row.pass_percent, row.valid_days, row.active, row.updated_at = (spec.pass_percent, spec.valid_days, spec.active,
                                                                    at)
    session.flush()
    return row


def article_titles(session: Session, principal: Principal, article_ids: Iterable[int]) -> dict[int, str]:
    """The titles of the course articles the principal may read (through knowledge's scope)."""
    from kefu.knowledge import service as knowledge

    out = {}
    for article_id in sorted(set(article_ids)):
        try:
            out[article_id] = knowledge.get_article(session, principal, article_id).title
        except NotFound:
            continue
    return out


# ---- exams and certificates -------------------------------------------------------------------------------

def take(session: Session, principal: Principal, course_id: int, answers: Sequence[int], *,
         at: datetime | None = None) -> tuple[CertAttempt, Certificate | None]:
    """Sit a course's exam: the attempt, graded, and the certificate it earned (None when it failed)."""
    at = at or utcnow()
    c = course(session, principal, course_id)
    if not c.active:
        raise CourseInactive(f"course {c.key!r} is closed")
    try:
        score = grade(questions_of(c), answers)
    except ValueError as exc:
        raise InvalidAnswers(str(exc), details={"field": "answers"}) from None
    passed = score >= c.pass_percent
    attempt = CertAttempt(course_id=c.id, user_id=principal.user_id, answers=list(answers), score=score,
                          passed=passed, at=at)
    session.add(attempt)
    session.flush()
    cert = None
    if passed:
        cert = Certificate(user_id=principal.user_id, skill=c.skill, course_id=c.id, attempt_id=attempt.id,
                           org_unit_id=principal.org_unit_id, score=score, issued_at=at,
                           expires_at=at + timedelta(days=c.valid_days))
        session.add(cert)
        session.flush()
        events.record(session, "certificate.issued", {"certificate_id": cert.id, "user_id": cert.user_id,
                                                      "skill": cert.skill, "expires_at": cert.expires_at.isoformat()},
                      aggregate_type="user", aggregate_id=cert.user_id, org_unit_id=cert.org_unit_id, at=at)
    return attempt, cert


def attempts_of(session: Session, user_id: int) -> list[CertAttempt]:
    return list(session.scalars(select(CertAttempt).where(CertAttempt.user_id == user_id)
                                .order_by(CertAttempt.at.desc(), CertAttempt.id.desc())))


def certificates_of(session: Session, user_ids: Iterable[int]) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(Certificate.user_id.in_(list(user_ids)))
                                .order_by(Certificate.user_id, Certificate.skill, Certificate.expires_at.desc())))


def team_certificates(session: Session, principal: Principal) -> list[Certificate]:
    """The certificates held in the principal's subtree (a supervisor's team), newest expiry first per skill."""
    return list(session.scalars(select(Certificate).where(
        Certificate.org_unit_id.in_(org.visible_unit_ids(session, principal)))
        .order_by(Certificate.expires_at, Certificate.id)))


def is_valid(cert: Certificate, at: datetime) -> bool:
    return cert.revoked_at is None and ensure_aware(cert.expires_at) > at


# ---- what routing reads ----------------------------------------------------------------------------------

def needs_certificate(session: Session) -> set[str]:
    """The skills an agent needs a valid certificate for: those with an active course."""
    return set(session.scalars(select(CertCourse.skill).where(CertCourse.active.is_(True))))


def certified_user_ids(session: Session, skill: str, user_ids: Iterable[int], *,
                       at: datetime | None = None) -> set[int]:
    """Of these users, those holding a valid certificate for the skill (one query)."""
    at = at or utcnow()
    ids = list(user_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Certificate.user_id).where(
        Certificate.user_id.in_(ids), Certificate.skill == skill, Certificate.revoked_at.is_(None),
        Certificate.expires_at > at)))


def next_expiry(session: Session, skills: Iterable[str], *, after: datetime) -> datetime | None:
    """The first moment after `after` at which a certificate (not revoked) for one of these skills ends: when
    routing must look at its holders again (see lapsed_holders)."""
    wanted = sorted(set(skills))
    if not wanted:
        return None
    first = session.scalar(select(Certificate.expires_at).where(
        Certificate.skill.in_(wanted), Certificate.revoked_at.is_(None), Certificate.expires_at > after)
        .order_by(Certificate.expires_at).limit(1))
    return ensure_aware(first) if first is not None else None


def lapsed_holders(session: Session, skills: Iterable[str], *, after: datetime, until: datetime) -> set[int]:
    """The users one of whose certificates (not revoked) for these skills ended in (after, until]."""
    wanted = sorted(set(skills))
    if not wanted:
        return set()
    return set(session.scalars(select(Certificate.user_id).where(
        Certificate.skill.in_(wanted), Certificate.revoked_at.is_(None), Certificate.expires_at > after,
        Certificate.expires_at <= until)))


def may_serve(session: Session, user_id: int, skills: Mapping[str, int] | Iterable[str], *,
              at: datetime | None = None) -> bool:
    """Whether the user may join a queue asking for these skills: each of them that needs a certificate
    (see needs_certificate) is covered by a valid one. For the routing engine (a complaint or VIP queue)."""
    needed = set(skills) & needs_certificate(session)
    return all(user_id in certified_user_ids(session, s, [user_id], at=at) for s in sorted(needed))


def refused_queues(session: Session, user_id: int, queue_skills: Mapping[str, Mapping[str, int] | Iterable[str]], *,
                   at: datetime | None = None) -> list[str]:
    """Of these queues (key -> the skills it asks for), the ones the user may not join for want of a valid
    certificate, sorted. For kefu.routing.service.update_agent (and apply_move, which goes through it): refuse
    the change when this is not empty (one query per certified skill asked for)."""
    needed = needs_certificate(session)
    asked = {k: set(v) & needed for k, v in queue_skills.items()}
    held = {s for s in set().union(*asked.values()) if certified_user_ids(session, s, [user_id], at=at)} \
        if asked else set()
    return sorted(k for k, skills in asked.items() if not skills <= held)


def revoke(session: Session, principal: Principal, certificate_id: int, *, at: datetime | None = None) -> Certificate:
    """Revoke a certificate of the principal's subtree (once: again is a no-op). Records `certificate.revoked`,
    which routing consumes to stop offering its holder the work that needs it."""
    at = at or utcnow()
    cert = session.get(Certificate, certificate_id)
    if cert is None or cert.org_unit_id not in set(org.visible_unit_ids(session, principal)):
        raise NotFound(f"certificate {certificate_id} not found", code="certificate_not_found")
    if cert.revoked_at is None:
        cert.revoked_at = at
        session.flush()
        events.record(session, "certificate.revoked", {"certificate_id": cert.id, "user_id": cert.user_id,
                                                       "skill": cert.skill, "by": principal.user_id},
                      aggregate_type="user", aggregate_id=cert.user_id, org_unit_id=cert.org_unit_id, at=at)
    return cert


# ---- expiry warnings -----------------------------------------------------------------------------------

def warn_expiring(session: Session, *, at: datetime | None = None, days: int = EXPIRY_WARN_DAYS) -> list[int]:
    """Record `certificate.expiring` once for each valid certificate ending within `days` and not renewed
    (its holder has no later valid certificate for the skill). Returns the certificates warned about."""
    at = at or utcnow()
    rows = list(session.scalars(select(Certificate).where(
        Certificate.warned_at.is_(None), Certificate.revoked_at.is_(None), Certificate.expires_at > at,
        Certificate.expires_at <= at + timedelta(days=days)).order_by(Certificate.id)))
    out = []
    for cert in rows:
        later = session.scalar(select(Certificate.id).where(
            Certificate.user_id == cert.user_id, Certificate.skill == cert.skill, Certificate.revoked_at.is_(None),
            Certificate.expires_at > cert.expires_at).limit(1))
        cert.warned_at = at
        if later is not None:
            continue
        payload: dict[str, Any] = {"certificate_id": cert.id, "user_id": cert.user_id, "skill": cert.skill,
                                   "expires_at": ensure_aware(cert.expires_at).isoformat()}
        events.record(session, "certificate.expiring", payload, aggregate_type="user", aggregate_id=cert.user_id,
                      org_unit_id=cert.org_unit_id, at=at)
        out.append(cert.id)
    session.flush()
    return out


def expiry_warnings(certificates: Iterable[Certificate], at: datetime) -> list[Certificate]:
    """Of these certificates, the warnings still standing: warned about (`warn_expiring`), still valid, and
    not renewed by a later certificate of the holder for the skill among them. Soonest first."""
    rows = list(certificates)
    latest: dict[tuple[int, str], datetime] = {}
    for c in rows:
        if c.revoked_at is None:
            key = (c.user_id, c.skill)
            latest[key] = max(latest.get(key, ensure_aware(c.expires_at)), ensure_aware(c.expires_at))
    return sorted((c for c in rows if c.warned_at is not None and is_valid(c, at)
                   and latest[(c.user_id, c.skill)] <= ensure_aware(c.expires_at)),
                  key=lambda c: (ensure_aware(c.expires_at), c.id))
