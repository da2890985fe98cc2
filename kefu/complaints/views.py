"""Complaints in the console.

    GET  /console/complaints/surges                 supervisors: complaint surges of their units (nav entry)
    POST /console/complaints/surges/{id}/ack        acknowledge one
    (ticket page box)                               what the classifier said, confirm or correct in one click
    POST /console/complaints/tickets/{id}/review    the agent's verdict (back to the ticket page)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.complaints import service, surges
from kefu.complaints.labels import CATEGORIES, CATEGORY_NAMES, TYPE_NAMES, TYPES
from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden
from kefu.org import service as org
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale

# The main menu's entry (kefu.web.render.nav_entries): key, href, permission, place.
NAV = (("complaints", "/console/complaints/surges", "complaints.surges", 55),)
router = APIRouter(include_in_schema=False)
BASE = "/console/complaints"


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


OFFER_NAMES = {"bill_credit": ("话费减免", "Bill credit"), "refund": ("退费", "Refund"),
               "data_pack": ("流量包", "Data pack"), "minutes": ("通话分钟", "Minutes"),
               "free_trial": ("业务体验", "Free trial"), "gift_points": ("积分", "Gift points")}
COMPENSATION_STATUS = {"granted": ("已发放", "Granted"), "pending_approval": ("待审批", "Awaiting approval"),
                       "rejected": ("已驳回", "Rejected")}


def names() -> dict[str, Any]:
    return {"type_names": TYPE_NAMES, "category_names": CATEGORY_NAMES, "types": TYPES, "categories": CATEGORIES}


def ticket_panel(session: Session, principal: Principal, ticket: Any) -> tuple[str, dict[str, Any]] | None:
    """The classifier's box on the ticket page (nothing before the ticket is classified)."""
    if not principal.can("complaints.read"):
        return None
    from kefu.complaints import compensation

    c = service.for_ticket(session, ticket.id)
    paid = compensation.for_ticket(session, ticket.id)
    if c is None and not paid:
        return None
    return "complaints/_ticket_panel.html", {"c": c, "can_review": principal.can("complaints.review"),
                                             "compensations": paid, "offer_names": OFFER_NAMES,
                                             "compensation_status": COMPENSATION_STATUS, **names()}


@router.post(f"{BASE}/tickets/{{ticket_id}}/review", dependencies=[CsrfProtect])
def review(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal,
           type: Annotated[str, Form(max_length=16)] = "", category: Annotated[str, Form(max_length=16)] = "",
           escalation: Annotated[str, Form(max_length=8)] = "") -> Response:
    _allowed(request, principal, "complaints.review")
    service.review(session, principal, ticket_id, type=type, category=category, escalation=escalation == "1")
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


@router.get(f"{BASE}/surges")
def surge_page(request: Request, session: DbSession, principal: PagePrincipal, status: str = "") -> HTMLResponse:
    _allowed(request, principal, "complaints.surges")
    found = surges.list_visible(session, principal, status=status if status in ("open", "acknowledged") else None,
                                limit=200, offset=0)
    units = {u.id: u for u in org.list_units(session, principal)}
    return render(request, "complaints/surges.html",
                  {"surges": found.items, "total": found.total, "units": units, "status": status,
                   "config": surges.CONFIG, **names()}, active="complaints")


@router.post(f"{BASE}/surges/{{surge_id}}/ack", dependencies=[CsrfProtect])
def surge_ack(request: Request, surge_id: Id, session: DbSession, principal: PagePrincipal) -> Response:
    _allowed(request, principal, "complaints.surges")
    surges.acknowledge(session, principal, surge_id)
    return RedirectResponse(f"{BASE}/surges", status_code=303)
