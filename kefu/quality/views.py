"""Quality inspection in the console.

    GET  /console/quality                    inspectors: contacts to score and appeals to decide; agents: their scores
    POST /console/quality/sample             sample the last N days' resolved tickets
    POST /console/quality/scorecard          inspectors: a new version of the scorecard (items, weights, critical)
    GET  /console/quality/{id}               one inspection: the scoring form, the appeal, the decision
    POST /console/quality/{id}/score         inspectors mark each item
    POST /console/quality/{id}/appeal        the agent appeals, saying why
    POST /console/quality/{id}/decide        a third person upholds or revises
    GET  /console/certification              courses to study, their exams, my certificates; a supervisor's team
    POST /console/certification/{course_id}  sit an exam
    POST /console/certification/certificates/{id}/revoke
    POST /console/certification/courses      cert.admin: a new course (articles and exam questions by choosers)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden, KefuError
from kefu.org import service as org
from kefu.quality import service
from kefu.quality.models import QualityInspection, QualityScorecard
from kefu.web.render import CsrfProtect, PagePrincipal, render

NAV = (("quality", "/console/quality", "quality.own", 64),
       ("certification", "/console/certification", "cert.take", 65))
router = APIRouter(include_in_schema=False)
BASE = "/console/quality"
REASON_NAMES = {"complaint": ("投诉必检", "Complaint"), "low_csat": ("不满意回访", "Unsatisfied survey"),
                "random": ("随机抽检", "Random"), "manual": ("指定", "Chosen")}
FINDING_NAMES = {"forbidden_word": ("禁用语", "Forbidden words"), "no_greeting": ("缺少开场问候", "No greeting"),
                 "long_silence": ("长时间未回复", "Long silence"),
                 "script_conflict": ("与现行口径不符", "Contradicts the current script")}
STATUS_NAMES = {"pending": ("待质检", "To score"), "scored": ("已评分", "Scored"), "appealed": ("申诉中", "Appealed"),
                "final": ("已定案", "Final")}


def _need(principal: Principal, *perms: str) -> None:
    if not any(principal.can(p) for p in perms):
        raise Forbidden("you may not do this", details={"permission": perms[0]})


def _visible(session: Session, principal: Principal, inspection_id: int) -> QualityInspection:
    return service.visible(session, principal, inspection_id)


def _names(session: Session, rows: list[QualityInspection]) -> dict[int, Any]:
    return org.users(session, {x for r in rows for x in (r.agent_id, r.inspector_id) if x is not None})


@router.get(BASE)
def index(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _need(principal, "quality.own", "quality.inspect")
    work: list[QualityInspection] = []
    if principal.can("quality.inspect"):
        work = service.inspections(session, principal)[0]
    mine = service.for_agent(session, principal.user_id) if principal.can("quality.own") else []
    return _index(request, session, principal, work, mine)


def _index(request: Request, session: Session, principal: Principal, work: list[QualityInspection],
           mine: list[QualityInspection], *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    can = principal.can("quality.inspect")
    return render(request, "quality/index.html", {"work": work, "mine": mine, "users": _names(session, work + mine),
                                                  "reason_names": REASON_NAMES, "status_names": STATUS_NAMES,
                                                  "can_inspect": can, "error": error, "blank_rows": 3,
                                                  "card": service.active_scorecard(session) if can else None},
                  active="quality", status_code=status_code)


@router.post(f"{BASE}/scorecard", dependencies=[CsrfProtect])
async def save_scorecard(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """Rows item_key_N, item_name_N, item_weight_N, item_max_N, item_critical_N; a row without a key is skipped."""
    from kefu.quality import core

    _need(principal, "quality.inspect")
    form = await request.form()
    items = []
    for n in range(40):
        key = str(form.get(f"item_key_{n}", "") or "").strip()
        if not key:
            continue
        weight, top = str(form.get(f"item_weight_{n}", "") or ""), str(form.get(f"item_max_{n}", "") or "")
        items.append(core.Item(key, str(form.get(f"item_name_{n}", "") or ""),
                               float(weight) if weight.replace(".", "", 1).isdigit() else 0.0,
                               int(top) if top.isdigit() else 0, form.get(f"item_critical_{n}") == "1"))
    try:
        service.save_scorecard(session, name=str(form.get("name", "") or ""), items=items)
    except KefuError as exc:
        session.rollback()
        return _index(request, session, principal, service.inspections(session, principal)[0], [],
                      error=exc.message, status_code=exc.status)
    return RedirectResponse(f"{BASE}#scorecard", status_code=303)


@router.post(f"{BASE}/sample", dependencies=[CsrfProtect])
async def sample(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _need(principal, "quality.inspect")
    form = await request.form()
    days = str(form.get("days", "7") or "7")
    share = str(form.get("share", "10") or "10")
    now = utcnow()
    service.sample_resolved(session, since=now - timedelta(days=int(days) if days.isdigit() else 7), until=now,
                            share=min(100, int(share) if share.isdigit() else 10) / 100, seed=int(now.timestamp()),
                            unit_ids=org.visible_unit_ids(session, principal))
    return RedirectResponse(BASE, status_code=303)


def _page(request: Request, session: Session, principal: Principal, row: QualityInspection, *,
          error: str | None = None, status_code: int = 200) -> HTMLResponse:
    from kefu.tickets import service as tickets

    card = session.get(QualityScorecard, row.scorecard_id)
    assert card is not None
    return render(request, "quality/inspection.html", {
        "row": row, "items": service.items_of(card), "ticket": tickets.get(session, row.ticket_id),
        "users": _names(session, [row]), "reason_names": REASON_NAMES, "status_names": STATUS_NAMES,
        "can_inspect": principal.can("quality.inspect"), "is_agent": row.agent_id == principal.user_id,
        "findings": service.prechecks(session, row.ticket_id) if principal.can("quality.inspect") else [],
        "finding_names": FINDING_NAMES, "error": error}, status_code=status_code, active="quality")


@router.get(f"{BASE}/{{inspection_id}}")
def inspection(request: Request, inspection_id: Id, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    return _page(request, session, principal, _visible(session, principal, inspection_id))


async def _marks(request: Request) -> tuple[dict[str, int], Any]:
    form = await request.form()
    marks = {str(k)[5:]: int(str(v)) for k, v in form.items() if str(k).startswith("mark_") and str(v).isdigit()}
    return marks, form


async def _act(request: Request, session: Session, principal: Principal, inspection_id: int, perm: str,
               action: Any) -> Response:
    """Run one action on a visible inspection; a refused one shows the page again with the reason."""
    _need(principal, perm)
    row = _visible(session, principal, inspection_id)
    marks, form = await _marks(request)
    try:
        action(row, marks, form)
    except KefuError as exc:
        session.rollback()
        return _page(request, session, principal, service.get(session, inspection_id), error=exc.message,
                     status_code=exc.status)
    return RedirectResponse(f"{BASE}/{row.id}", status_code=303)


@router.post(f"{BASE}/{{inspection_id}}/score", dependencies=[CsrfProtect])
async def score(request: Request, inspection_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    return await _act(request, session, principal, inspection_id, "quality.inspect", lambda row, marks, form: (
        service.score(session, row.id, inspector_id=principal.user_id, marks=marks,
                      comment=str(form.get("comment", "") or ""))))


@router.post(f"{BASE}/{{inspection_id}}/appeal", dependencies=[CsrfProtect])
async def appeal(request: Request, inspection_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    return await _act(request, session, principal, inspection_id, "quality.own", lambda row, marks, form: (
        service.appeal(session, row.id, agent_id=principal.user_id, reason=str(form.get("reason", "") or ""))))


@router.post(f"{BASE}/{{inspection_id}}/decide", dependencies=[CsrfProtect])
async def decide(request: Request, inspection_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    return await _act(request, session, principal, inspection_id, "quality.inspect", lambda row, marks, form: (
        service.decide(session, row.id, actor_id=principal.user_id,
                       marks=marks if form.get("decision") == "revise" else None)))


# ---- training and certification ----------------------------------------------------------------------------

CERT_BASE = "/console/certification"


def _cert_page(request: Request, session: Session, principal: Principal, *, result: Any = None,
               error: str | None = None, status_code: int = 200, edit: int | None = None) -> HTMLResponse:
    from kefu.quality import certification as cert

    courses = cert.courses(session, principal) if principal.can("cert.take") else []
    mine = cert.certificates_of(session, [principal.user_id])
    team = cert.team_certificates(session, principal) if principal.can("cert.admin") else []
    titles = cert.article_titles(session, principal, {a for c in courses for a in c.article_ids})
    now = utcnow()
    return render(request, "quality/certification.html", {
        "courses": courses, "questions": {c.id: cert.questions_of(c) for c in courses}, "titles": titles,
        "mine": mine, "team": team, "users": org.users(session, {c.user_id for c in team}),
        "valid": {c.id: cert.is_valid(c, now) for c in [*mine, *team]},
        "warn_mine": cert.expiry_warnings(mine, now), "warn_team": cert.expiry_warnings(team, now),
        "soon": {c.id for c in [*mine, *team] if cert.is_valid(c, now)
                 and c.expires_at <= now + timedelta(days=cert.EXPIRY_WARN_DAYS)},
        "result": result, "error": error,
        **(_course_form(session, principal, edit) if principal.can("cert.admin") else {})},
        status_code=status_code, active="certification")


QUESTION_SLOTS = 5


def _course_form(session: Session, principal: Principal, edit: int | None = None) -> dict[str, Any]:
    """The choosers of the course form: skills, units of my subtree, the published articles I can read; with
    `edit`, the course being changed (its questions fill the slots, one more left empty)."""
    from kefu.knowledge import service as knowledge
    from kefu.quality import certification as cert

    editing = cert.course(session, principal, edit) if edit is not None else None
    articles, _ = knowledge.list_articles(session, principal, knowledge.ArticleFilters(status="published"),
                                          limit=300, offset=0)
    questions = cert.questions_of(editing) if editing is not None else []
    return {"skills": org.skills(session), "units": org.list_units(session, principal),
            "articles": sorted(articles, key=lambda a: (a.kind != "script", a.title)), "editing": editing,
            "edit_questions": questions, "slots": max(QUESTION_SLOTS, len(questions) + 1)}


@router.post(f"{CERT_BASE}/courses", dependencies=[CsrfProtect])
async def save_course(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """Create a course, or change the one named by `course_id` (its name, articles and scripts, exam, pass
    mark, validity; `active` unchecked closes it). Question slot N: q_article_N (one of the chosen articles),
    q_text_N, q_options_N (one option a line), q_answer_N (the right option's number, from 1); a slot
    without text is skipped."""
    from kefu.quality import certification as cert

    _need(principal, "cert.admin")
    form = await request.form()

    def num(name: str, default: int = 0) -> int:
        raw = str(form.get(name, "") or "").strip()
        return int(raw) if raw.isdigit() and len(raw) < 10 else default

    course_id = num("course_id") or None
    questions = []
    for n in range(min(num("slots", QUESTION_SLOTS), cert.MAX_QUESTIONS)):
        text = str(form.get(f"q_text_{n}", "") or "").strip()
        if text:
            options = tuple(o.strip() for o in str(form.get(f"q_options_{n}", "") or "").splitlines() if o.strip())
            questions.append(cert.Question(num(f"q_article_{n}"), text, options, num(f"q_answer_{n}") - 1))
    spec = cert.CourseSpec(key=str(form.get("key", "") or "").strip(), name=str(form.get("name", "") or ""),
                           skill=str(form.get("skill", "") or ""), org_unit_id=num("org_unit_id"),
                           article_ids=tuple(int(str(a)) for a in form.getlist("article_ids") if str(a).isdigit()),
                           questions=tuple(questions), pass_percent=num("pass_percent", 80),
                           valid_days=num("valid_days", 365),
                           active=form.get("active") == "1" if course_id is not None else True)
    try:
        saved = cert.save_course(session, principal, spec, course_id=course_id)
    except KefuError as exc:
        session.rollback()
        return _cert_page(request, session, principal, error=exc.message, status_code=exc.status, edit=course_id)
    return RedirectResponse(f"{CERT_BASE}#course-{saved.id}", status_code=303)


@router.get(CERT_BASE)
def certification(request: Request, session: DbSession, principal: PagePrincipal,
                  edit: int | None = None) -> HTMLResponse:
    """My certificates and courses; for cert.admin also the team's certificates and the course form (`edit`:
    a course of my branch to change)."""
    _need(principal, "cert.take", "cert.admin")
    return _cert_page(request, session, principal, edit=edit if principal.can("cert.admin") else None)


@router.post(f"{CERT_BASE}/{{course_id}}", dependencies=[CsrfProtect])
async def sit_exam(request: Request, course_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    """Sit a course's exam: one chosen option per question (q0, q1, ...)."""
    from kefu.quality import certification as cert

    _need(principal, "cert.take")
    form = await request.form()
    course = cert.course(session, principal, course_id)
    raw = [str(form.get(f"q{i}", "") or "") for i in range(len(course.questions))]
    try:
        if not all(r.isdigit() and len(r) < 3 for r in raw):
            raise cert.InvalidAnswers("answer every question", details={"field": "answers"})
        attempt, issued = cert.take(session, principal, course_id, [int(r) for r in raw])
    except KefuError as exc:
        session.rollback()
        return _cert_page(request, session, principal, error=exc.message, status_code=exc.status)
    return _cert_page(request, session, principal, result={"course": course, "attempt": attempt, "cert": issued},
                      status_code=201)


@router.post(f"{CERT_BASE}/certificates/{{certificate_id}}/revoke", dependencies=[CsrfProtect])
def revoke_certificate(request: Request, certificate_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    from kefu.quality import certification as cert

    _need(principal, "cert.admin")
    cert.revoke(session, principal, certificate_id)
    return RedirectResponse(CERT_BASE, status_code=303)
