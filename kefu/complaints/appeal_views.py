"""Appeals in the console (part of kefu/complaints/views.py's router).

    GET  /console/complaints/appeals                  the appeals of the caller's units, nearest deadline first,
                                                      with their state (nav entry)
    POST /console/complaints/tickets/{id}/appeals     record an escalation or appeal on a ticket (from its page)
    POST /console/complaints/appeals/{id}             record the acceptance, the answer and the outcome
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.complaints import appeal_rules, appeals
from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden, InvalidInput
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale

router = APIRouter(include_in_schema=False)
BASE = "/console/complaints"
STATE_NAMES = {"accepting": ("待受理", "Awaiting acceptance"),
               "accept_overdue": ("受理超期", "Acceptance overdue"),
               "answering": ("处理中", "Being answered"), "answer_overdue": ("答复超期", "Answer overdue"),
               "answered": ("已答复", "Answered")}


def _allowed(request: Request, principal: Principal) -> None:
    if not principal.can("complaints.appeals"):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": "complaints.appeals"})


def today() -> date:
    from kefu.core.clock import CHINA, utcnow

    return utcnow().astimezone(CHINA).date()


def state_of(a: Any, on: date) -> str:
    return appeal_rules.state(a.acceptance_due, a.accepted_on, a.answer_due, a.answered_on, on)


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)", code="invalid_date",
                           details={"field": field}) from None


def _required_day(text: str, field: str) -> date:
    day = _day(text, field)
    if day is None:
        raise InvalidInput(f"{field} is required", code="invalid_date", details={"field": field})
    return day


@router.get(f"{BASE}/appeals")
def appeal_page(request: Request, session: DbSession, principal: PagePrincipal, show: str = "open") -> HTMLResponse:
    from kefu.complaints.views import APPEAL_OUTCOMES, APPEAL_SOURCES

    _allowed(request, principal)
    on = today()
    found = appeals.list_visible(session, principal, open_only=show != "all")
    return render(request, "complaints/appeals.html",
                  {"appeals": [(a, state_of(a, on)) for a in found], "show": "all" if show == "all" else "open",
                   "source_names": APPEAL_SOURCES, "outcome_names": APPEAL_OUTCOMES, "state_names": STATE_NAMES,
                   "outcomes": appeal_rules.OUTCOMES}, active="appeals")


@router.post(f"{BASE}/tickets/{{ticket_id}}/appeals", dependencies=[CsrfProtect])
def appeal_record(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal,
                  source: Annotated[str, Form(max_length=24)], received_on: Annotated[str, Form(max_length=10)],
                  about_charges: Annotated[str, Form(max_length=4)] = "",
                  reference: Annotated[str, Form(max_length=64)] = "") -> Response:
    _allowed(request, principal)
    appeals.record(session, principal, ticket_id, source=source,
                   received_on=_required_day(received_on, "received_on"), about_charges=about_charges == "1",
                   reference=reference.strip() or None)
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


@router.post(f"{BASE}/appeals/{{appeal_id}}", dependencies=[CsrfProtect])
def appeal_update(request: Request, appeal_id: Id, session: DbSession, principal: PagePrincipal,
                  accepted_on: Annotated[str, Form(max_length=10)] = "",
                  answered_on: Annotated[str, Form(max_length=10)] = "",
                  outcome: Annotated[str, Form(max_length=16)] = "") -> Response:
    _allowed(request, principal)
    appeals.update(session, principal, appeal_id, accepted_on=_day(accepted_on, "accepted_on"),
                   answered_on=_day(answered_on, "answered_on"), outcome=outcome or None)
    return RedirectResponse(f"{BASE}/appeals", status_code=303)
