"""Complaints in the console.

    (ticket page box)                               what the classifier said, confirm or correct in one click
    POST /console/complaints/tickets/{id}/review    the agent's verdict (back to the ticket page)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.complaints import service
from kefu.complaints.labels import CATEGORIES, CATEGORY_NAMES, TYPE_NAMES, TYPES
from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, request_locale

router = APIRouter(include_in_schema=False)
BASE = "/console/complaints"


def _allowed(request: Request, principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": permission})


def names() -> dict[str, Any]:
    return {"type_names": TYPE_NAMES, "category_names": CATEGORY_NAMES, "types": TYPES, "categories": CATEGORIES}


def ticket_panel(session: Session, principal: Principal, ticket: Any) -> tuple[str, dict[str, Any]] | None:
    """The classifier's box on the ticket page (nothing before the ticket is classified)."""
    if not principal.can("complaints.read"):
        return None
    c = service.for_ticket(session, ticket.id)
    if c is None:
        return None
    return "complaints/_ticket_panel.html", {"c": c, "can_review": principal.can("complaints.review"),
                                             **names()}


@router.post(f"{BASE}/tickets/{{ticket_id}}/review", dependencies=[CsrfProtect])
def review(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal,
           type: Annotated[str, Form(max_length=16)] = "", category: Annotated[str, Form(max_length=16)] = "",
           escalation: Annotated[str, Form(max_length=8)] = "") -> Response:
    _allowed(request, principal, "complaints.review")
    service.review(session, principal, ticket_id, type=type, category=category, escalation=escalation == "1")
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)
