"""Playbooks in the console.

    GET  /console/playbooks                      runs (active first) and, for duty managers, start one by hand
    GET  /console/playbooks/list                 the runs list (refreshed on `playbooks`)
    POST /console/playbooks/start                activate: playbook, region and category chosen by name
    GET  /console/playbooks/runs/{id}            a run: steps with deadlines, notices, timeline, measures (live)
    POST /console/playbooks/runs/{id}/steps/{step_id}   complete or skip a step
    POST /console/playbooks/runs/{id}/notice     tell the affected customers not yet told of the fault
    POST /console/playbooks/runs/{id}/faq-push   push the playbook's FAQ to the front line
    POST /console/playbooks/runs/{id}/end        deactivate with the review (and tell customers it is restored)
    POST /console/playbooks/tickets/{ticket_id}/link   link the ticket to an active run (the ticket page's box)
    GET  /console/playbooks/admin                administrators: definitions (choosers, no raw ids)
    POST /console/playbooks/admin                save one
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden, KefuError
from kefu.org import service as org
from kefu.playbooks import service
from kefu.playbooks.models import Playbook
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale

NAV = (("playbooks", "/console/playbooks", "playbooks.read", 60),)
router = APIRouter(include_in_schema=False)
BASE = "/console/playbooks"
STEP_ROWS = 8
TRIGGER_NAMES = {"manual": ("手动启动", "By hand"), "surge": ("投诉激增自动启动", "On a complaint surge"),
                 "keyword": ("关键词触发", "On a keyword in new tickets"),
                 "threshold": ("分类×区域阈值触发", "On a category × region threshold")}
RUN_STATES = {"active": ("进行中", "Active"), "ended": ("已结束", "Ended")}
STEP_STATES = {"pending": ("待完成", "Pending"), "done": ("已完成", "Done"), "skipped": ("已跳过", "Skipped")}
LOG_NAMES = {"activated": ("启动预案", "Activated"), "surge": ("再次检测到激增", "Surge detected again"),
             "step_done": ("完成步骤", "Step done"), "step_skipped": ("跳过步骤", "Step skipped"),
             "step_overdue": ("步骤超时", "Step overdue"), "notice": ("通知客户", "Customers told"),
             "ended": ("结束预案", "Ended"), "switch_on": ("打开开关", "Switched on"),
             "switch_off": ("关闭开关", "Switched off"), "role": ("指定角色", "Role named"),
             "ticket_linked": ("关联工单", "Ticket linked"), "faq_pushed": ("推送 FAQ", "FAQ pushed")}
LINK_NAMES = {"auto": ("自动关联", "Linked by itself"), "manual": ("手工关联", "Linked by hand")}
ROLE_NAMES = {"commander": ("总指挥", "Incident commander"), "communications": ("对外沟通", "Communications"),
              "support_lead": ("支撑负责人", "Support lead")}
SWITCH_NAMES = {"ivr": ("IVR 故障播报", "IVR announcement"), "overflow": ("队列溢出", "Queue overflow"),
                "extra": ("开启增援队列", "Open extra queues")}
NOTICE_NAMES = {"fault": ("故障通知", "Fault notice"), "restored": ("恢复通知", "Restoration notice")}


def names() -> dict[str, Any]:
    return {"trigger_names": TRIGGER_NAMES, "run_states": RUN_STATES, "step_states": STEP_STATES,
            "log_names": LOG_NAMES, "step_roles": service.STEP_ROLES, "switch_names": SWITCH_NAMES,
            "role_names": ROLE_NAMES, "link_names": LINK_NAMES, "notice_names": NOTICE_NAMES}


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


def _lookups(session: Session, principal: Principal) -> dict[str, Any]:
    from kefu.tickets import service as tickets

    cats = tickets.categories_by_id(session)
    units = {u.id: u for u in org.list_units(session, principal)}
    return {"categories": cats, "category_tree": tickets.category_tree(session), "units": units}


def _runs_context(session: Session, principal: Principal, **extra: Any) -> dict[str, Any]:
    runs = service.runs(session, principal)
    books = {p.id: p for p in service.playbooks(session, principal)}
    all_units = {u.id: u for u in org.units(session, list({r.org_unit_id for r in runs}))} if runs else {}
    return {"runs": runs, "books": books, "run_units": all_units, **_lookups(session, principal), **names(), **extra}


@router.get(BASE)
def runs_page(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "playbooks.read")
    return render(request, "playbooks/runs.html", _runs_context(session, principal), active="playbooks")


@router.get(f"{BASE}/list")
def runs_list(request: Request, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal, "playbooks.read")
    return render(request, "playbooks/_runs_list.html", _runs_context(session, principal))


def _opt_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@router.post(f"{BASE}/start", dependencies=[CsrfProtect])
def start(request: Request, session: DbSession, principal: PagePrincipal,
          playbook_id: Annotated[str, Form(max_length=19)] = "", org_unit_id: Annotated[str, Form(max_length=19)] = "",
          category_id: Annotated[str, Form(max_length=19)] = "") -> Response:
    _allowed(request, principal, "playbooks.run")
    try:
        pid = _opt_id(playbook_id)
        if pid is None:
            raise service.InvalidPlaybook("choose a playbook", details={"field": "playbook_id"})
        run = service.start(session, principal, pid, org_unit_id=_opt_id(org_unit_id),
                            category_id=_opt_id(category_id))
    except KefuError as exc:
        session.rollback()
        return render(request, "playbooks/runs.html", _runs_context(session, principal, error=exc.message),
                      status_code=exc.status, active="playbooks")
    return RedirectResponse(f"{BASE}/runs/{run.id}", status_code=303)


def _run_context(session: Session, principal: Principal, run_id: int, **extra: Any) -> dict[str, Any]:
    from kefu.tickets import service as tickets

    r = service.run(session, principal, run_id)
    book = session.get(Playbook, r.playbook_id)
    steps = service.run_steps(session, r.id)
    log = service.timeline(session, r.id)
    users = org.users(session, {x for x in [*(s.done_by for s in steps), *(s.owner_user_id for s in steps),
                                            *(e.actor_id for e in log), r.started_by, *(r.roles or {}).values()]
                                if x is not None})
    cats = tickets.categories_by_id(session)
    category = cats.get(r.category_id) if r.category_id else None
    told = service.told(session, r.id)
    return {"run": r, "book": book, "steps": steps, "log": log, "users": users, "category": category,
            "unit": org.org_unit(session, r.org_unit_id), "measures": service.measures(session, r),
            "links": service.linked_tickets(session, r.id),
            "affected": len(service.affected_customers(session, r)),
            "untold": len(service.untold(session, r, "fault")), "told": told,
            "told_counts": {k: sum(1 for x in told if x.state == k) for k in NOTICE_NAMES},
            "notice": service.notice_text(session, r, "fault"),
            "restored_notice": service.notice_text(session, r, "restored"),
            "resources": service.resources(session, principal, book) if book is not None else None,
            "people": org.list_users(session, principal, active_only=True),
            "now": utcnow(), **names(), **extra}


@router.get(f"{BASE}/runs/{{run_id}}")
def run_page(request: Request, run_id: Id, session: DbSession, principal: PagePrincipal,
             part: str = "") -> HTMLResponse:
    _allowed(request, principal, "playbooks.read")
    ctx = _run_context(session, principal, run_id)
    if part == "live":
        return render(request, "playbooks/_run_live.html", ctx)
    return render(request, "playbooks/run.html", ctx, active="playbooks")


def _on_run(request: Request, session: Session, principal: Principal, run_id: int, permission: str,
            work: Callable[[], object]) -> Response:
    """Do one thing to a run and go back to its page; a refusal shows the page with the reason."""
    _allowed(request, principal, permission)
    try:
        work()
    except KefuError as exc:
        session.rollback()
        return render(request, "playbooks/run.html", _run_context(session, principal, run_id, error=exc.message),
                      status_code=exc.status, active="playbooks")
    return RedirectResponse(f"{BASE}/runs/{run_id}", status_code=303)


@router.post(f"{BASE}/runs/{{run_id}}/steps/{{step_id}}", dependencies=[CsrfProtect])
def step(request: Request, run_id: Id, step_id: Id, session: DbSession, principal: PagePrincipal,
         action: Annotated[str, Form(max_length=8)] = "done",
         note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    return _on_run(request, session, principal, run_id, "playbooks.read", lambda: service.complete_step(
        session, principal, run_id, step_id, skip=action == "skip", note=note or None))


@router.post(f"{BASE}/runs/{{run_id}}/notice", dependencies=[CsrfProtect])
def notice(request: Request, run_id: Id, session: DbSession, principal: PagePrincipal,
           body: Annotated[str, Form(max_length=500)] = "") -> Response:
    return _on_run(request, session, principal, run_id, "playbooks.run",
                   lambda: service.notify_customers(session, principal, run_id, body))


@router.post(f"{BASE}/runs/{{run_id}}/switches", dependencies=[CsrfProtect])
def switch(request: Request, run_id: Id, session: DbSession, principal: PagePrincipal,
           switch: Annotated[str, Form(max_length=16)] = "", on: Annotated[str, Form(max_length=1)] = "1") -> Response:
    """One action: an IVR announcement, a queue overflow or the extra queues, on or off."""
    return _on_run(request, session, principal, run_id, "playbooks.run",
                   lambda: service.switch(session, principal, run_id, switch, on=on == "1"))


@router.post(f"{BASE}/runs/{{run_id}}/roles", dependencies=[CsrfProtect])
def role(request: Request, run_id: Id, session: DbSession, principal: PagePrincipal,
         role: Annotated[str, Form(max_length=16)] = "", user_id: Annotated[str, Form(max_length=19)] = "") -> Response:
    """Name (or clear) who holds an incident role on the run."""
    return _on_run(request, session, principal, run_id, "playbooks.run",
                   lambda: service.set_role(session, principal, run_id, role, _opt_id(user_id)))


@router.post(f"{BASE}/runs/{{run_id}}/faq-push", dependencies=[CsrfProtect])
def faq_push(request: Request, run_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    return _on_run(request, session, principal, run_id, "playbooks.run",
                   lambda: service.push_faq(session, principal, run_id))


@router.post(f"{BASE}/runs/{{run_id}}/end", dependencies=[CsrfProtect])
def end(request: Request, run_id: Id, session: DbSession, principal: PagePrincipal,
        review: Annotated[str, Form(max_length=8000)] = "", tell_restored: Annotated[str, Form(max_length=1)] = "",
        restored_body: Annotated[str, Form(max_length=500)] = "") -> Response:
    return _on_run(request, session, principal, run_id, "playbooks.run",
                   lambda: service.end(session, principal, run_id, review=review or None,
                                       tell_restored=tell_restored == "1", restored_body=restored_body or None))


# ---- the ticket page's box -----------------------------------------------------------------------------

def ticket_panel(session: Session, principal: Principal, ticket: Any) -> tuple[str, dict[str, Any]] | None:
    """The 应急预案 box on the ticket page: the runs the ticket is linked to, and the active runs it may be
    linked to; nothing when there is neither."""
    if not principal.can("playbooks.read"):
        return None
    linked = service.runs_of_ticket(session, principal, ticket.id)
    taken = {r.id for r in linked}
    open_runs = [r for r in service.runs(session, principal) if r.state == "active" and r.id not in taken]
    if not linked and not open_runs:
        return None
    books = {p.id: p for p in service.playbooks(session, principal)}
    return "playbooks/_ticket_panel.html", {"ticket": ticket, "linked": linked, "open_runs": open_runs,
                                            "books": books, **names()}


@router.post(f"{BASE}/tickets/{{ticket_id}}/link", dependencies=[CsrfProtect])
def link(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal,
         run_id: Annotated[str, Form(max_length=19)] = "") -> Response:
    """Link the ticket to an active run; a refusal is shown as an error page with the reason."""
    _allowed(request, principal, "playbooks.read")
    rid = _opt_id(run_id)
    if rid is None:
        raise service.InvalidPlaybook("choose a playbook run", details={"field": "run_id"})
    service.link_ticket(session, principal, rid, ticket_id)
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


# ---- administrators ---------------------------------------------------------------------------------

def _articles(session: Session, principal: Principal, kind: str | None = None) -> list[Any]:
    from kefu.knowledge import service as knowledge

    rows, _ = knowledge.list_articles(session, principal, knowledge.ArticleFilters(status="published", kind=kind),
                                      limit=500, offset=0)
    return sorted(rows, key=lambda a: (a.title, a.id))


def _admin_context(session: Session, principal: Principal, edit: int = 0, **extra: Any) -> dict[str, Any]:
    from kefu.routing import service as routing

    books = service.playbooks(session, principal)
    editing = next((p for p in books if p.id == edit), None)
    return {"books": books, "editing": editing, "articles": _articles(session, principal),
            "faqs": _articles(session, principal, "faq"),
            "editing_steps": service.steps_of(session, editing.id) if editing else [],
            "step_rows": STEP_ROWS, "people": org.list_users(session, principal, active_only=True),
            "queues": routing.queues(session, principal),
            **_lookups(session, principal), **names(), **extra}


@router.get(f"{BASE}/admin")
def admin(request: Request, session: DbSession, principal: PagePrincipal, edit: int = 0) -> HTMLResponse:
    _allowed(request, principal, "playbooks.admin")
    return render(request, "playbooks/admin.html", _admin_context(session, principal, edit), active="playbooks")


@router.post(f"{BASE}/admin", dependencies=[CsrfProtect])
async def save(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal, "playbooks.admin")
    form = await request.form()

    def text(name: str, limit: int) -> str:
        return str(form.get(name, "") or "")[:limit]

    steps = []
    for i in range(STEP_ROWS):
        title = text(f"step{i}_title", 200).strip()
        if not title:
            continue
        due = text(f"step{i}_due", 6)
        steps.append(service.StepSpec(title=title, owner_role=text(f"step{i}_role", 16),
                                      due_minutes=int(due) if due.isdigit() else 0,
                                      owner_user_id=_opt_id(text(f"step{i}_user", 19))))
    def ids(name: str) -> tuple[int, ...]:
        return tuple(i for i in (_opt_id(str(v)) for v in form.getlist(name)[:100]) if i is not None)

    pid = _opt_id(text("playbook_id", 19))
    min_count = text("min_count", 7)
    budget = text("budget_yuan", 10).strip()
    window = text("window_minutes", 6)
    try:
        unit = _opt_id(text("org_unit_id", 19))
        if unit is None:
            raise service.InvalidPlaybook("choose the unit", details={"field": "org_unit_id"})
        spec = service.PlaybookSpec(
            key=text("key", 40).strip(), name=text("name", 100), name_en=text("name_en", 100) or None,
            description=text("description", 4000) or None, trigger=text("trigger", 16), org_unit_id=unit,
            category_id=_opt_id(text("category_id", 19)), min_count=int(min_count) if min_count.isdigit() else 0,
            notice_template=text("notice_template", 2000) or None, active=form.get("active") is not None,
            ivr_text=text("ivr_text", 500) or None, overflow_from=text("overflow_from", 40) or None,
            overflow_to=text("overflow_to", 40) or None,
            keywords=tuple(k for k in re.split(r"[\n,，、]", text("keywords", 1000)) if k.strip()),
            window_minutes=60 if not window.strip() else int(window) if window.isdigit() else 0,
            staff_ids=ids("staff_ids"), script_article_ids=ids("script_article_ids"),
            faq_article_id=_opt_id(text("faq_article_id", 19)),
            budget_yuan=None if not budget else int(budget) if budget.isdigit() else -1,
            extra_queues=tuple(str(k)[:40] for k in form.getlist("extra_queues")[:20] if k),
            restore_template=text("restore_template", 2000) or None,
            steps=tuple(steps))
        service.save_playbook(session, principal, spec, playbook_id=pid)
    except KefuError as exc:
        session.rollback()
        return render(request, "playbooks/admin.html", _admin_context(session, principal, pid or 0, error=exc.message),
                      status_code=exc.status, active="playbooks")
    return RedirectResponse(f"{BASE}/admin", status_code=303)
