"""Linked addresses on the console (kefu/customers/linking.py).

    GET  /console/customers/{id}/identities                      the customer's addresses and open suggestions
    POST /console/customers/{id}/identities                      link an address (kind chooser, value)
    POST /console/customers/{id}/identities/{iid}/unlink         remove an address linked by mistake
    POST /console/customers/{id}/suggestions/{sid}/{decision}    accept or dismiss a suggestion
Every change is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden, KefuError
from kefu.customers import linking, service
from kefu.customers.models import IDENTITY_KINDS, Customer
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale

router = APIRouter(include_in_schema=False)
BASE = "/console/customers/{customer_id}"


def _allowed(request: Request, principal: Principal) -> None:
    if not principal.can("customers.link"):
        raise Forbidden(translator(request_locale(request, principal))("error.forbidden"),
                        details={"permission": "customers.link"})


def _context(session: Any, c: Customer, **extra: Any) -> dict[str, Any]:
    return {"customer": c, "kinds": [k for k in IDENTITY_KINDS if k != "phone"],
            "suggestions": linking.suggestions(session, service.customer_ids_of(session, c.id)), **extra}


def _page(request: Request, session: Any, c: Customer, *, status: int = 200, **extra: Any) -> HTMLResponse:
    return render(request, "customers/identities.html", _context(session, c, **extra), status_code=status,
                  active="customers")


@router.get(f"{BASE}/identities")
def identities(request: Request, customer_id: Id, session: DbSession, principal: PagePrincipal) -> HTMLResponse:
    _allowed(request, principal)
    return _page(request, session, service.get_visible(session, principal, customer_id))


@router.post(f"{BASE}/identities", dependencies=[CsrfProtect])
def link(request: Request, customer_id: Id, session: DbSession, principal: PagePrincipal,
         kind: Annotated[str, Form(max_length=20)] = "", value: Annotated[str, Form(max_length=255)] = "") -> Response:
    _allowed(request, principal)
    c = service.get_visible(session, principal, customer_id)
    try:
        linking.link_by_agent(session, c, kind=kind, value=value, actor_id=principal.user_id)
    except KefuError as exc:
        session.rollback()
        c = service.get_visible(session, principal, customer_id)
        return _page(request, session, c, status=exc.status, error=exc.message)
    return RedirectResponse(f"/console/customers/{customer_id}/identities", status_code=303)


@router.post(f"{BASE}/identities/{{identity_id}}/unlink", dependencies=[CsrfProtect])
def unlink(request: Request, customer_id: Id, identity_id: Id, session: DbSession,
           principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    c = service.get_visible(session, principal, customer_id)
    linking.unlink_by_agent(session, c, identity_id, actor_id=principal.user_id)
    return RedirectResponse(f"/console/customers/{customer_id}/identities", status_code=303)


@router.post(f"{BASE}/suggestions/{{suggestion_id}}/{{decision}}", dependencies=[CsrfProtect])
def decide(request: Request, customer_id: Id, suggestion_id: Id, decision: str, session: DbSession,
           principal: PagePrincipal) -> Response:
    _allowed(request, principal)
    if decision not in ("accept", "dismiss"):
        raise linking.SuggestionNotFound(f"no decision '{decision}'")
    c = service.get_visible(session, principal, customer_id)
    linking.decide_suggestion(session, suggestion_id, accept=decision == "accept", actor_id=principal.user_id,
                              customer_ids=service.customer_ids_of(session, c.id))
    return RedirectResponse(f"/console/customers/{customer_id}/identities", status_code=303)
