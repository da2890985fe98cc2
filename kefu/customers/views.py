"""Console pages of the customers domain: search by number, the customer's profile (tier, identities,
tickets, timeline). Mounted by kefu/web/views.py.

    GET  /console/customers?phone=  search by full number or last four digits
    GET  /console/customers/{id}    profile, tier, identities, tickets, timeline, and the boxes other domains add
                                    through their views' `customer_panel(session, principal, customer)`
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from kefu.core import domains
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id
from kefu.core.errors import KefuError
from kefu.customers.ages import BAND_NAMES, age_band, local_year
from kefu.org import audit
from kefu.web.i18n import translator
from kefu.web.render import PagePrincipal, is_htmx, render, request_locale
from kefu.web.views import TIMELINE_LIMIT, friendly

router = APIRouter(include_in_schema=False)

def _include_linking() -> None:
    """The linked-addresses pages (kefu/customers/linking_views.py) are part of the customers' console."""
    from kefu.customers import linking_views

    router.include_router(linking_views.router)




# ---- customers ------------------------------------------------------------------------------


@router.get("/console/customers")
def customer_search(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    phone: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    from kefu.customers import service as customers

    t = translator(request_locale(request, principal))
    results: list[Any] = []
    total = 0
    error = None
    searched = bool(phone.strip())
    if searched:
        try:
            results, total = customers.search(session, principal, phone=phone.strip(), limit=50)
            audit.customers_listed(session, principal, [c.id for c in results], total, phone=phone.strip())
        except KefuError as exc:
            session.rollback()
            error = friendly(t, exc)
    ctx = {"phone_q": phone, "results": results, "total": total, "error": error, "searched": searched}
    if is_htmx(request) and request.headers.get("HX-Target") == "customer-results":
        return render(request, "partials/customer_results.html", ctx)
    return render(request, "customers.html", ctx, active="customers")


@router.get("/console/customers/{customer_id}")
def customer_page(
    request: Request, customer_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    from kefu.customers import service as customers
    from kefu.interactions.timeline import customer_timeline
    from kefu.tickets import service as tickets

    customer = customers.get_visible(session, principal, customer_id)
    audit.personal_data_read(session, principal, "customer.viewed", object_id=customer.id,
                             org_unit_id=customer.org_unit_id)
    timeline = customer_timeline(session, principal, customer_id, limit=TIMELINE_LIMIT)
    ids = customers.customer_ids_of(session, customer_id)
    visible = set(_visible_unit_ids(session, principal))
    ticket_rows = [tk for tk in tickets.list_for_customer(session, ids) if tk.org_unit_id in visible][:50]
    # the age band for everyone, the birth year itself only for readers with `pii`
    age = BAND_NAMES[age_band(customer.birth_year, local_year(utcnow()))][
        0 if request_locale(request, principal).lower().startswith("zh") else 1]
    if customer.birth_year is not None and principal.can("pii"):
        age = f"{age} ({customer.birth_year})"
    return render(
        request,
        "customer.html",
        {"customer": customer, "timeline": timeline, "tickets": ticket_rows, "age": age,
         "panels": domains.panels("customer_panel", session, principal, customer)},
        active="customers",
    )


def _visible_unit_ids(session: Session, principal: Principal) -> list[int]:
    from kefu.org import service as org

    return org.visible_unit_ids(session, principal)


_include_linking()
