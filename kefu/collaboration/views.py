"""Collaboration in the console.

    (ticket page)  a 会商 box (ticket_panel): the ticket's consults, live, and a form to ask several at once
    GET  /console/collab/tickets/{id}/consults   the box's list (refreshed on `ticket-<id>`)
    POST /console/collab/tickets/{id}/consults   ask: addressees chosen by name, one question, one due time
    POST /console/collab/consults/{id}/accept|cancel   the owner closes a consult
    POST /console/collab/consults/{id}/article         an accepted conclusion becomes a knowledge draft
    GET  /console/collab                         待支撑: consults addressed to me, open first by due time (live)
    GET  /console/collab/list                    that list (refreshed on `consults`)
    POST /console/collab/consults/{id}/answer    answer one
    POST /console/collab/consults/{id}/note      a note on its shared timeline (会诊)
    GET  /console/collab/teams                   expert teams (administrators: create and change them)
    GET  /console/collab/notices                 the customer notice per state (administrators edit the text)
    POST /console/collab/notices                 save one
    POST /console/collab/teams                   save a team: members chosen by name from every city
    GET  /console/collab/suggestions             一线建议: submit, mine with their status; reviewers: their
                                                 departments' open ones and counts by department and age
    GET  /console/collab/suggestions/{id}        one, with its history; reviewers move it on
    POST /console/collab/suggestions             submit
    POST /console/collab/suggestions/{id}/status accept / reject with reason / start / finish / merge
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.collaboration import directory, service
from kefu.collaboration import suggestions as sugg
from kefu.collaboration.models import TEAM_DOMAINS, Consult
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden, KefuError
from kefu.org import service as org
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, is_htmx, render, request_locale

NAV = (("consults", "/console/collab", "collab.answer", 55),
       ("suggestions", "/console/collab/suggestions", "collab.suggest", 56))
router = APIRouter(include_in_schema=False)
BASE = "/console/collab"
STATE_NAMES = {"open": ("待答复", "Open"), "answered": ("已答复", "Answered"), "accepted": ("已采纳", "Accepted"),
               "cancelled": ("已撤回", "Withdrawn")}
KIND_NAMES = {"role": ("角色", "Roles"), "unit": ("部门", "Departments"), "team": ("专家团队", "Expert teams"),
              "user": ("人员", "People")}
PRESENCE_NAMES = {"available": ("空闲可接", "Available"), "after_call_work": ("话后处理", "After-call work"),
                  "break": ("小休", "On a break"), "not_ready": ("未就绪", "Not ready"), "offline": ("离线", "Offline")}
DOMAIN_NAMES = {"billing": ("计费", "Billing"), "network": ("网络", "Network"), "broadband": ("宽带", "Broadband"),
                "terminal": ("终端", "Terminals"), "roaming": ("漫游", "Roaming"),
                "marketing": ("市场营销", "Marketing"),
                "data": ("流量", "Data"), "other": ("其他", "Other")}
DUE_CHOICES = ((30, ("30分钟", "30 minutes")), (60, ("1小时", "1 hour")), (120, ("2小时", "2 hours")),
               (240, ("4小时", "4 hours")), (480, ("8小时", "8 hours")), (1440, ("1天", "1 day")),
               (2880, ("2天", "2 days")))


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


NOTICE_NAMES = {"consulting": ("已转专业部门协同处理", "Departments are on it"),
                "handed_over": ("已转交专业人员处理", "Handed to the specialists"),
                "concluded": ("已有处理结论", "There is a conclusion")}


def names() -> dict[str, Any]:
    return {"state_names": STATE_NAMES, "kind_names": KIND_NAMES, "domain_names": DOMAIN_NAMES,
            "due_choices": DUE_CHOICES, "notice_names": NOTICE_NAMES}


def _rows(session: Session, consults: list[Consult]) -> list[dict[str, Any]]:
    from kefu.tickets.models import Ticket

    targets = service.target_names(session, consults)
    notes = service.notes(session, [c.id for c in consults])
    users = org.users(session, {u for c in consults for u in (c.requester_id, c.answered_by) if u is not None}
                      | {n.author_id for ns in notes.values() for n in ns})
    ids = list({c.ticket_id for c in consults})
    tickets = {t.id: t for t in session.query(Ticket).filter(Ticket.id.in_(ids))} if ids else {}
    now = utcnow()
    return [{"c": c, "target": targets[c.id], "requester": users.get(c.requester_id),
             "answerer": users.get(c.answered_by) if c.answered_by else None, "ticket": tickets.get(c.ticket_id),
             "overdue": service.is_overdue(c, now),
             "notes": [(n, users.get(n.author_id)) for n in notes[c.id]]} for c in consults]


# ---- the ticket page's box ------------------------------------------------------------------------

def panel_context(session: Session, principal: Principal, ticket: Any, **extra: Any) -> dict[str, Any]:
    consults = list(session.query(Consult).filter(Consult.ticket_id == ticket.id).order_by(Consult.id))
    owners = {ticket.assignee_id}
    ctx: dict[str, Any] = {"ticket": ticket, "rows": _rows(session, consults), "owners": owners,
                           "can_consult": principal.can("collab.consult") and ticket.status not in ("closed", "merged"),
                           "can_close_any": principal.can("tickets.merge"),
                           "can_write_knowledge": principal.can("knowledge.write"),
                           "tellable": service.tellable(session, ticket)
                           if ticket.customer_id is not None and principal.can("collab.consult") else (),
                           "told": service.customer_notices(session, ticket.id), **names(), **extra}
    if ctx["can_consult"]:
        groups: dict[str, list[service.Choice]] = {}
        for ch in service.choices(session, org.org_unit(session, ticket.org_unit_id).path):
            groups.setdefault(ch.kind, []).append(ch)
        ctx["choice_groups"] = groups
    return ctx


def ticket_panel(session: Session, principal: Principal, ticket: Any) -> tuple[str, dict[str, Any]] | None:
    """The 会商 box on the ticket page."""
    if not (principal.can("collab.consult") or principal.can("collab.answer")):
        return None
    return "collaboration/_ticket_panel.html", panel_context(session, principal, ticket)


@router.get(f"{BASE}/tickets/{{ticket_id}}/consults")
def ticket_consults(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    from kefu.tickets import service as tickets

    ticket = tickets.get_visible(session, principal, ticket_id)
    return render(request, "collaboration/_ticket_consults.html", {"p": panel_context(session, principal, ticket)})


@router.post(f"{BASE}/tickets/{{ticket_id}}/consults", dependencies=[CsrfProtect])
async def ask(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    from kefu.tickets import service as tickets

    _allowed(request, principal, "collab.consult")
    form = await request.form()
    raw_due = str(form.get("due_minutes", "") or "")
    try:
        targets = [service.Target.parse(str(v)) for v in form.getlist("target")]
        if not raw_due.isdigit() or len(raw_due) > 6:
            raise service.InvalidConsult("choose a due time", details={"field": "due_minutes"})
        service.request_consults(session, principal, ticket_id, targets=targets,
                                 question=str(form.get("question", "") or "")[:4000], due_minutes=int(raw_due))
    except KefuError as exc:
        session.rollback()
        ticket = tickets.get_visible(session, principal, ticket_id)
        ctx = panel_context(session, principal, ticket, error=exc.message)
        return render(request, "collaboration/_ticket_consults.html", {"p": ctx}, status_code=exc.status)
    if is_htmx(request):
        ticket = tickets.get_visible(session, principal, ticket_id)
        return render(request, "collaboration/_ticket_consults.html", {"p": panel_context(session, principal, ticket)})
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


@router.post(f"{BASE}/tickets/{{ticket_id}}/notice", dependencies=[CsrfProtect])
def tell_customer(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal,
                  state: Annotated[str, Form(max_length=16)] = "") -> Response:
    """The owner tells the customer the state of the coordinated handling (a template per state)."""
    from kefu.tickets import service as tickets

    _allowed(request, principal, "collab.consult")
    try:
        service.tell_customer(session, principal, ticket_id, state)
    except KefuError as exc:
        session.rollback()
        ctx = panel_context(session, principal, tickets.get_visible(session, principal, ticket_id), error=exc.message)
        return render(request, "collaboration/_ticket_consults.html", {"p": ctx}, status_code=exc.status)
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


@router.post(f"{BASE}/consults/{{consult_id}}/{{action}}", dependencies=[CsrfProtect])
def act(request: Request, consult_id: Id, action: str, session: DbSession, principal: PagePrincipal,
        answer: Annotated[str, Form(max_length=8000)] = "", note: Annotated[str, Form(max_length=4000)] = "",
        back: Annotated[str, Form(max_length=8)] = "") -> Response:
    """answer (an addressee), accept or cancel (the owner), article (a knowledge writer drafts an article from an
    accepted conclusion), note (the shared timeline; back to the ticket page or to 待支撑)."""
    if action == "note":
        service.add_note(session, principal, consult_id, note)
        ticket_id = service.get_visible(session, principal, consult_id).ticket_id
        return RedirectResponse(f"/console/tickets/{ticket_id}" if back == "ticket" else BASE, status_code=303)
    if action == "answer":
        _allowed(request, principal, "collab.answer")
        try:
            service.answer(session, principal, consult_id, answer)
        except KefuError as exc:
            session.rollback()
            return _my_page(request, session, principal, error=exc.message, status_code=exc.status)
        return RedirectResponse(BASE, status_code=303)
    if action == "article":
        _allowed(request, principal, "knowledge.write")
        art = service.to_article(session, principal, consult_id)
        return RedirectResponse(f"/console/knowledge/articles/{art.id}/edit", status_code=303)
    if action not in ("accept", "cancel"):
        raise service.InvalidConsult("answer, accept, cancel, note or article")
    _allowed(request, principal, "collab.consult")
    c = (service.accept if action == "accept" else service.cancel)(session, principal, consult_id)
    return RedirectResponse(f"/console/tickets/{c.ticket_id}", status_code=303)


# ---- 待支撑: consults addressed to me ---------------------------------------------------------------

def _my_context(session: Session, principal: Principal, show_all: bool = False) -> dict[str, Any]:
    rows, total = service.mine(session, principal, live_only=not show_all, limit=200)
    return {"rows": _rows(session, rows), "total": total, "show_all": show_all,
            "measures": service.measures(session, principal, since=utcnow() - timedelta(days=30)), **names()}


GROUP_NAMES = {"networked": ("会商协同（并行）", "With consults (in parallel)"),
               "linear": ("逐级转派", "Handed on step by step"), "direct": ("一人处理", "One handler")}


def _my_page(request: Request, session: Session, principal: Principal, *, error: str | None = None,
             status_code: int = 200, show_all: bool = False) -> HTMLResponse:
    ctx = _my_context(session, principal, show_all)
    ctx["error"] = error
    if principal.can("tickets.merge"):  # supervisors: networked vs linear handling of their branch
        now = utcnow()
        ctx["comparison"] = service.handling_comparison(session, principal, since=now - timedelta(days=90), until=now)
        ctx["group_names"] = GROUP_NAMES
    return render(request, "collaboration/mine.html", ctx, status_code=status_code, active="consults")


@router.get(BASE)
def my_consults(request: Request, session: DbSession, principal: PagePrincipal, all: int = 0) -> HTMLResponse:
    _allowed(request, principal, "collab.answer")
    return _my_page(request, session, principal, show_all=bool(all))


@router.get(f"{BASE}/list")
def my_list(request: Request, session: DbSession, principal: PagePrincipal, all: int = 0) -> HTMLResponse:
    _allowed(request, principal, "collab.answer")
    return render(request, "collaboration/_mine_list.html", _my_context(session, principal, bool(all)))


# ---- expert teams -------------------------------------------------------------------------------------

def _teams_context(session: Session, principal: Principal, edit: int = 0, **extra: Any) -> dict[str, Any]:
    teams = service.teams(session)
    candidates = service.team_candidates(session)
    units = {u.id: u for u in org.units(session, list({u.org_unit_id for u in candidates}))} if candidates else {}
    return {"teams": teams, "members": service.members(session, [t.id for t in teams]),
            "experts": directory.experts(session), "presence_names": PRESENCE_NAMES,
            "editing": next((t for t in teams if t.id == edit), None), "candidates": candidates, "units": units,
            "domains": TEAM_DOMAINS, "can_admin": principal.can("collab.admin") and principal.at_group_level,
            **names(), **extra}


@router.get(f"{BASE}/notices")
def notices_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "collab.consult")
    return render(request, "collaboration/notices.html", {"templates": service.notice_templates(session),
                                                          **names()}, active="consults")


@router.post(f"{BASE}/notices", dependencies=[CsrfProtect])
def save_notice(request: Request, session: DbSession, principal: PagePrincipal,
                state: Annotated[str, Form(max_length=16)] = "",
                body: Annotated[str, Form(max_length=500)] = "") -> Response:
    _allowed(request, principal, "collab.admin")
    service.save_notice_template(session, principal, state, body)
    return RedirectResponse(f"{BASE}/notices", status_code=303)


@router.get(f"{BASE}/teams")
def teams_page(request: Request, session: DbSession, principal: PagePrincipal, edit: int = 0) -> HTMLResponse:
    _allowed(request, principal, "collab.consult")
    return render(request, "collaboration/teams.html", _teams_context(session, principal, edit), active="consults")


def _ids(values: list[Any]) -> tuple[int, ...]:
    return tuple(int(str(v)) for v in values if str(v).isdigit() and len(str(v)) < 19)


@router.post(f"{BASE}/teams", dependencies=[CsrfProtect])
async def save_team(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal, "collab.admin")
    if not principal.at_group_level:
        raise Forbidden("group level needed", code="group_level_required")
    form = await request.form()
    raw_id = str(form.get("team_id", "") or "")
    team_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 19 else None
    members = _ids(form.getlist("member"))
    leads = _ids(form.getlist("lead"))
    spec = service.TeamSpec(key=str(form.get("key", "") or "").strip(), name=str(form.get("name", "") or "")[:100],
                            name_en=str(form.get("name_en", "") or "")[:100] or None,
                            domain=str(form.get("domain", "") or ""),
                            description=str(form.get("description", "") or "")[:2000] or None,
                            member_ids=members, lead_ids=leads, active=form.get("active") is not None)
    try:
        service.save_team(session, spec, team_id=team_id)
    except KefuError as exc:
        session.rollback()
        return render(request, "collaboration/teams.html",
                      _teams_context(session, principal, team_id or 0, error=exc.message),
                      status_code=exc.status, active="consults")
    return RedirectResponse(f"{BASE}/teams", status_code=303)


# ---- frontline suggestions ----------------------------------------------------------------------------

SUGGESTION_STATUS = {"submitted": ("已提交", "Submitted"), "accepted": ("已受理", "Accepted"),
                     "rejected": ("不予采纳", "Rejected"), "in_progress": ("处理中", "In progress"),
                     "done": ("已完成", "Done"), "merged": ("已合并", "Merged")}
SUGGESTION_KINDS = {"problem": ("问题反映", "Problem"), "suggestion": ("改进建议", "Suggestion")}
SUGGESTION_TOPICS = {"script": ("口径/话术", "Script"), "knowledge": ("知识库", "Knowledge"),
                     "process": ("流程", "Process"), "system": ("系统故障", "System fault"),
                     "product": ("产品与资费", "Product and pricing"), "other": ("其他", "Other")}


def _suggestion_names() -> dict[str, Any]:
    return {"status_names": SUGGESTION_STATUS, "kind_names_s": SUGGESTION_KINDS, "topic_names": SUGGESTION_TOPICS,
            "next_status": sugg.NEXT}


def _suggestions_context(session: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    mine = sugg.mine(session, principal)
    review = sugg.to_review(session, principal)
    unit_ids = {x.owner_unit_id for x in mine + review} | {x.org_unit_id for x in review}
    users = org.users(session, {x.submitter_id for x in review})
    return {"mine": mine, "review": review, "owner_units": sugg.owner_units(session, principal),
            "units": {u.id: u for u in org.units(session, list(unit_ids))} if unit_ids else {}, "users": users,
            "counts": sugg.counts(session, principal) if principal.can("collab.review") else [],
            **_suggestion_names(), **extra}


@router.get(f"{BASE}/suggestions")
def suggestions_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "collab.suggest")
    return render(request, "collaboration/suggestions.html", _suggestions_context(session, principal),
                  active="suggestions")


@router.get(f"{BASE}/suggestions/list")
def suggestions_list(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "collab.suggest")
    return render(request, "collaboration/_suggestions_lists.html", _suggestions_context(session, principal))


@router.post(f"{BASE}/suggestions", dependencies=[CsrfProtect])
def submit_suggestion(request: Request, session: DbSession, principal: PagePrincipal,
                      kind: Annotated[str, Form(max_length=12)] = "", topic: Annotated[str, Form(max_length=12)] = "",
                      title: Annotated[str, Form(max_length=200)] = "",
                      body: Annotated[str, Form(max_length=8000)] = "",
                      owner_unit_id: Annotated[str, Form(max_length=19)] = "") -> Response:
    _allowed(request, principal, "collab.suggest")
    try:
        if not owner_unit_id.isdigit():
            raise sugg.InvalidSuggestion("choose the department", details={"field": "owner_unit_id"})
        s = sugg.submit(session, principal, kind=kind, topic=topic, title=title, body=body,
                        owner_unit_id=int(owner_unit_id))
    except KefuError as exc:
        session.rollback()
        return render(request, "collaboration/suggestions.html",
                      _suggestions_context(session, principal, error=exc.message), status_code=exc.status,
                      active="suggestions")
    return RedirectResponse(f"{BASE}/suggestions/{s.id}", status_code=303)


def _suggestion_context(session: Session, principal: Principal, suggestion_id: int, **extra: Any) -> dict[str, Any]:
    s = sugg.get_visible(session, principal, suggestion_id)
    changes = sugg.history(session, s.id)
    users = org.users(session, {s.submitter_id, *(c.actor_id for c in changes if c.actor_id)})
    may_review = principal.can("collab.review") and principal.sees_path(org.org_unit(session, s.owner_unit_id).path)
    others = [x for x in sugg.to_review(session, principal) if x.id != s.id] if may_review else []
    return {"s": s, "changes": changes, "users": users, "owner": org.org_unit(session, s.owner_unit_id),
            "may_review": may_review, "others": others, **_suggestion_names(), **extra}


@router.get(f"{BASE}/suggestions/{{suggestion_id}}")
def suggestion_page(request: Request, suggestion_id: Id, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "collab.suggest")
    return render(request, "collaboration/suggestion.html", _suggestion_context(session, principal, suggestion_id),
                  active="suggestions")


@router.post(f"{BASE}/suggestions/{{suggestion_id}}/status", dependencies=[CsrfProtect])
def suggestion_status(request: Request, suggestion_id: Id, session: DbSession, principal: PagePrincipal,
                      to: Annotated[str, Form(max_length=12)] = "", reason: Annotated[str, Form(max_length=4000)] = "",
                      merge_into_id: Annotated[str, Form(max_length=19)] = "") -> Response:
    _allowed(request, principal, "collab.review")
    try:
        sugg.change_status(session, principal, suggestion_id, to, reason=reason or None,
                           merge_into_id=int(merge_into_id) if merge_into_id.isdigit() else None)
    except KefuError as exc:
        session.rollback()
        return render(request, "collaboration/suggestion.html",
                      _suggestion_context(session, principal, suggestion_id, error=exc.message),
                      status_code=exc.status, active="suggestions")
    return RedirectResponse(f"{BASE}/suggestions/{suggestion_id}", status_code=303)
