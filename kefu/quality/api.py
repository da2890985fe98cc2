"""Quality inspection and certification over HTTP.

    POST /quality/sample                                  draw the contacts to inspect (my subtree)
    GET  /quality/inspections?status=...                  an inspector's work list (quality.inspect)
    GET  /quality/inspections/mine                        my scored contacts (quality.own)
    GET  /quality/inspections/{inspection_id}             one inspection (its agent, or an inspector of its branch)
    POST /quality/inspections/{inspection_id}/score|appeal|decide
    GET  /quality/inspections/{inspection_id}/prechecks   forbidden words, missing greeting, long silences, 口径
    GET  /quality/calibration?days=30                     calibration across inspectors
    GET  /certification/courses, POST /certification/courses, PUT /certification/courses/{course_id}
    POST /certification/courses/{course_id}/attempts      sit the exam; a pass issues the certificate
    GET  /certification/mine                              my certificates and attempts
    GET  /certification/certificates                      my subtree's certificates (cert.admin)
    POST /certification/certificates/{certificate_id}/revoke
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id, Paging, current_principal, require
from kefu.org import service as org
from kefu.quality import certification as cert
from kefu.quality import service
from kefu.quality.models import INSPECTION_STATES, CertCourse, Certificate, QualityInspection
from kefu.quality.schemas import (
    AnswersIn,
    AppealIn,
    AttemptRead,
    CalibrationRowRead,
    CertificateRead,
    CourseIn,
    CourseRead,
    DecideIn,
    FindingRead,
    InspectionList,
    InspectionRead,
    QuestionRead,
    SampleIn,
    ScoreIn,
)

router = APIRouter(tags=["quality"])


@router.post("/quality/sample", response_model=list[InspectionRead], status_code=201)
def sample(body: SampleIn, session: DbSession,
           principal: Principal = require("quality.inspect")) -> list[QualityInspection]:
    """Every complaint and unsatisfied-survey ticket resolved in the last `days` of my subtree, and a random
    share of each agent's others, not inspected yet."""
    now = utcnow()
    return service.sample_resolved(session, since=now - timedelta(days=body.days), until=now, share=body.share,
                                   seed=body.seed if body.seed is not None else int(now.timestamp()),
                                   unit_ids=org.visible_unit_ids(session, principal))


@router.get("/quality/inspections", response_model=InspectionList)
def inspections(session: DbSession, page: Paging,
                status: list[str] = Query(["pending", "appealed"], description=", ".join(INSPECTION_STATES)),
                principal: Principal = require("quality.inspect")) -> InspectionList:
    """The inspections of my subtree in these states (appeals first)."""
    bad = [s for s in status if s not in INSPECTION_STATES]
    if bad:
        raise service.InvalidScore(f"unknown states: {', '.join(bad)}", details={"field": "status"})
    rows, total = service.inspections(session, principal, statuses=tuple(status), limit=page.limit, offset=page.offset)
    return InspectionList(items=[InspectionRead.model_validate(r) for r in rows], total=total, limit=page.limit,
                          offset=page.offset)


@router.get("/quality/inspections/mine", response_model=list[InspectionRead])
def my_inspections(session: DbSession, principal: Principal = require("quality.own")) -> list[QualityInspection]:
    """My scored contacts, newest first (to read and, once, to appeal)."""
    return service.for_agent(session, principal.user_id)


@router.get("/quality/inspections/{inspection_id}", response_model=InspectionRead)
def get_inspection(inspection_id: Id, session: DbSession,
                   principal: Principal = Depends(current_principal)) -> QualityInspection:
    """One inspection: its agent (quality.own) or an inspector of its branch sees it; anyone else gets 404."""
    return service.visible(session, principal, inspection_id)


@router.get("/quality/inspections/{inspection_id}/prechecks", response_model=list[FindingRead])
def prechecks(inspection_id: Id, session: DbSession,
              principal: Principal = require("quality.inspect")) -> list[FindingRead]:
    """Automatic pre-checks of the contact's text conversation: forbidden words, a missing greeting, long
    silences in chat."""
    row = service.visible(session, principal, inspection_id)
    return [FindingRead(kind=f.kind, detail=f.detail, at=f.at) for f in service.prechecks(session, row.ticket_id)]


@router.post("/quality/inspections/{inspection_id}/score", response_model=InspectionRead)
def score(inspection_id: Id, body: ScoreIn, session: DbSession,
          principal: Principal = require("quality.inspect")) -> QualityInspection:
    """Mark every item of the scorecard; a critical item marked 0 fails the contact."""
    row = service.visible(session, principal, inspection_id)
    return service.score(session, row.id, inspector_id=principal.user_id, marks=body.marks, comment=body.comment)


@router.post("/quality/inspections/{inspection_id}/appeal", response_model=InspectionRead)
def appeal(inspection_id: Id, body: AppealIn, session: DbSession,
           principal: Principal = require("quality.own")) -> QualityInspection:
    """The agent appeals a score once, saying why."""
    row = service.visible(session, principal, inspection_id)
    return service.appeal(session, row.id, agent_id=principal.user_id, reason=body.reason)


@router.post("/quality/inspections/{inspection_id}/decide", response_model=InspectionRead)
def decide(inspection_id: Id, body: DecideIn, session: DbSession,
           principal: Principal = require("quality.inspect")) -> QualityInspection:
    """A third person upholds (no marks) or revises (marks) an appealed score; it is final."""
    row = service.visible(session, principal, inspection_id)
    return service.decide(session, row.id, actor_id=principal.user_id, marks=body.marks)


@router.get("/quality/calibration", response_model=list[CalibrationRowRead])
def calibration(session: DbSession, days: int = Query(30, ge=1, le=366),
                principal: Principal = require("quality.inspect")) -> list[CalibrationRowRead]:
    """Per inspector over the last `days` in my subtree: contacts scored, mean total, deviation from the mean
    of all inspectors, appeals and revisions."""
    now = utcnow()
    return [CalibrationRowRead.model_validate(r, from_attributes=True)
            for r in service.calibration(session, principal, since=now - timedelta(days=days), until=now)]


# ---- certification ---------------------------------------------------------------------------------------

def course_read(c: CertCourse) -> CourseRead:
    return CourseRead.model_validate(c).model_copy(update={"questions": [
        QuestionRead(article_id=q.article_id, text=q.text, options=list(q.options)) for q in cert.questions_of(c)]})


def cert_read(c: Certificate) -> CertificateRead:
    return CertificateRead.model_validate(c).model_copy(update={"valid": cert.is_valid(c, utcnow())})


def _spec(body: CourseIn) -> cert.CourseSpec:
    return cert.CourseSpec(key=body.key, name=body.name, skill=body.skill, org_unit_id=body.org_unit_id,
                           article_ids=tuple(body.article_ids),
                           questions=tuple(cert.Question(q.article_id, q.text, tuple(q.options), q.answer)
                                           for q in body.questions),
                           pass_percent=body.pass_percent, valid_days=body.valid_days, active=body.active)


@router.get("/certification/courses", response_model=list[CourseRead])
def courses(session: DbSession, principal: Principal = require("cert.take")) -> list[CourseRead]:
    """The courses open to me (my unit's and those above it), with their exams (without the answers)."""
    return [course_read(c) for c in cert.courses(session, principal)]


@router.post("/certification/courses", response_model=CourseRead, status_code=201)
def create_course(body: CourseIn, session: DbSession, principal: Principal = require("cert.admin")) -> CourseRead:
    """A course for a skill: its articles and an exam whose questions each cite one of them."""
    return course_read(cert.save_course(session, principal, _spec(body)))


@router.put("/certification/courses/{course_id}", response_model=CourseRead)
def update_course(course_id: Id, body: CourseIn, session: DbSession,
                  principal: Principal = require("cert.admin")) -> CourseRead:
    return course_read(cert.save_course(session, principal, _spec(body), course_id=course_id))


@router.post("/certification/courses/{course_id}/attempts", response_model=AttemptRead, status_code=201)
def take(course_id: Id, body: AnswersIn, session: DbSession,
         principal: Principal = require("cert.take")) -> AttemptRead:
    """Sit the exam: one option index per question. At or above the pass mark, a certificate for the course's
    skill is issued, valid for the course's days."""
    attempt, issued = cert.take(session, principal, course_id, body.answers)
    return AttemptRead.model_validate(attempt).model_copy(update={
        "certificate": cert_read(issued) if issued is not None else None})


@router.get("/certification/mine", response_model=list[CertificateRead])
def my_certificates(session: DbSession, principal: Principal = require("cert.take")) -> list[CertificateRead]:
    """My certificates (valid or not), by skill, latest expiry first."""
    return [cert_read(c) for c in cert.certificates_of(session, [principal.user_id])]


@router.get("/certification/certificates", response_model=list[CertificateRead])
def team_certificates(session: DbSession, principal: Principal = require("cert.admin")) -> list[CertificateRead]:
    """The certificates held in my subtree, soonest expiry first."""
    return [cert_read(c) for c in cert.team_certificates(session, principal)]


@router.post("/certification/certificates/{certificate_id}/revoke", response_model=CertificateRead)
def revoke(certificate_id: Id, session: DbSession, principal: Principal = require("cert.admin")) -> CertificateRead:
    return cert_read(cert.revoke(session, principal, certificate_id))
