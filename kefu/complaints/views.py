"""Complaints in the console.

    GET  /console/complaints/surges                 supervisors: complaint surges of their units (nav entry)
    POST /console/complaints/surges/{id}/ack        acknowledge one
    (ticket page box)                               what the classifier said, confirm or correct in one click;
                                                    the customer's segment, its offer and the grant form
    (customer page box)                             the customer's segment, complaint history and compensations
    POST /console/complaints/tickets/{id}/review    the agent's verdict (back to the ticket page)
    POST /console/complaints/tickets/{id}/compensations   grant, or ask for approval (back to the ticket page)
    GET  /console/complaints/compensations          approvals waiting in the caller's units and the month's
                                                    budgets (nav entry for supervisors)
    POST /console/complaints/compensations/{id}/decision  approve, or reject with a reason
    POST /console/complaints/budgets                set a unit's budget for a month
    GET  /console/complaints/measures               the regulator's measures by province or city, with bars
    /console/complaints/appeals...                  appeals: kefu/complaints/appeal_views.py
    /console/complaints/plans, .../tariff-advice    the plan catalogue, tariff advice: plan_views.py
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.complaints import budgets, compensation, service, surges
from kefu.complaints.labels import CATEGORIES, CATEGORY_NAMES, TYPE_NAMES, TYPES
from kefu.complaints.models import COMPENSATION_KINDS
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id
from kefu.core.errors import Forbidden, InvalidInput
from kefu.org import service as org
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, render, request_locale

# The main menu's entry (kefu.web.render.nav_entries): key, href, permission, place.
NAV = (("complaints", "/console/complaints/surges", "complaints.surges", 55),
       ("compensation", "/console/complaints/compensations", "complaints.budgets", 56),
       ("complaint_measures", "/console/complaints/measures", "complaints.surges", 57),
       ("appeals", "/console/complaints/appeals", "complaints.appeals", 58),
       ("plans", "/console/complaints/plans", "complaints.plans", 59))
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

APPEAL_SOURCES = {"miit_12300": ("工信部 12300", "MIIT 12300"),
                  "provincial_authority": ("省通信管理局", "Provincial authority"),
                  "consumer_12315": ("12315 消费者投诉", "12315 consumer line"),
                  "media": ("媒体曝光", "Media"), "group_hq": ("集团总部", "Group HQ")}
APPEAL_OUTCOMES = {"upheld": ("投诉成立", "Upheld"), "partly_upheld": ("部分成立", "Partly upheld"),
                   "not_upheld": ("投诉不成立", "Not upheld"), "withdrawn": ("用户撤诉", "Withdrawn")}


def names() -> dict[str, Any]:
    return {"type_names": TYPE_NAMES, "category_names": CATEGORY_NAMES, "types": TYPES, "categories": CATEGORIES}


def ticket_panel(session: Session, principal: Principal, ticket: Any) -> tuple[str, dict[str, Any]] | None:
    """The complaints box on the ticket page: the classifier's verdict (once classified), the customer's
    segment with its recommended offer, the ticket's compensations and the form to grant one."""
    if not principal.can("complaints.read"):
        return None
    from kefu.complaints import appeal_views, appeals, compensation, customer_segments

    c = service.for_ticket(session, ticket.id)
    paid = compensation.for_ticket(session, ticket.id)
    seg = customer_segments.of_customer(session, ticket.customer_id)
    can_grant = principal.can("complaints.compensate") and ticket.status not in service.CLOSED
    on = appeal_views.today()
    ticket_appeals = [(a, appeal_views.state_of(a, on)) for a in appeals.for_ticket(session, ticket.id)]
    can_appeal = principal.can("complaints.appeals")
    if c is None and not paid and seg is None and not can_grant and not ticket_appeals and not can_appeal:
        return None
    return "complaints/_ticket_panel.html", {
        "c": c, "can_review": principal.can("complaints.review"), "compensations": paid, "segment": seg,
        "offer": service.offer_for_ticket(session, ticket, c, seg),
        "can_grant": can_grant, "ticket_id": ticket.id, "kinds": COMPENSATION_KINDS,
        "authority": compensation.authority(session, principal, ticket.customer_id) if can_grant else None,
        "offer_names": OFFER_NAMES, "compensation_status": COMPENSATION_STATUS, "appeals": ticket_appeals,
        "can_appeal": can_appeal, "sources": list(APPEAL_SOURCES), "source_names": APPEAL_SOURCES,
        "outcome_names": APPEAL_OUTCOMES, "state_names": appeal_views.STATE_NAMES, "today": on, **names()}


def customer_panel(session: Session, principal: Principal, customer: Any) -> tuple[str, dict[str, Any]] | None:
    """The complaints box on the customer page: the segment (priority, offer, authority multiplier), the
    complaints of the customer and of customers merged into them (tickets of the caller's units: type complaint
    or appeal, or classified) with their category, repeat mark and appeals, and the compensations on them."""
    if not principal.can("complaints.read"):
        return None
    record = service.customer_record(session, principal, customer.id)
    return "complaints/_customer_panel.html", {
        "segment": record.segment, "history": record.history, "verdicts": record.verdicts,
        "appeals": record.appeals, "compensations": record.compensations, "granted": record.granted,
        "offer_names": OFFER_NAMES, "compensation_status": COMPENSATION_STATUS,
        "source_names": APPEAL_SOURCES, "outcome_names": APPEAL_OUTCOMES, **names()}


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


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
        if value.is_finite():
            return value
        raise InvalidOperation
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not an amount", code="invalid_amount", details={"field": "amount"}) from None


@router.post(f"{BASE}/tickets/{{ticket_id}}/compensations", dependencies=[CsrfProtect])
def grant(request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal,
          kind: Annotated[str, Form(max_length=16)], amount: Annotated[str, Form(max_length=20)],
          note: Annotated[str, Form(max_length=500)] = "",
          request_approval: Annotated[str, Form(max_length=4)] = "") -> Response:
    _allowed(request, principal, "complaints.compensate")
    compensation.grant(session, principal, ticket_id, kind=kind, amount=_amount(amount), note=note.strip() or None,
                       request_approval=request_approval == "1")
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


@router.get(f"{BASE}/compensations")
def compensation_page(request: Request, session: DbSession, principal: PagePrincipal, month: str = ""
                      ) -> HTMLResponse:
    _allowed(request, principal, "complaints.compensate")
    m = budgets.parse_month(month) if month else budgets.month_of(utcnow())
    waiting = compensation.pending_visible(session, principal)
    people = org.users(session, {c.requested_by_id for c in waiting if c.requested_by_id is not None})
    can_budget = principal.can("complaints.budgets")
    return render(request, "complaints/compensations.html",
                  {"waiting": waiting, "people": people, "month": f"{m:%Y-%m}",
                   "budgets": budgets.visible(session, principal, m) if can_budget else [],
                   "can_budget": can_budget, "units": org.list_units(session, principal) if can_budget else [],
                   "offer_names": OFFER_NAMES}, active="compensation")


@router.post(f"{BASE}/compensations/{{compensation_id}}/decision", dependencies=[CsrfProtect])
def decide(request: Request, compensation_id: Id, session: DbSession, principal: PagePrincipal,
           decision: Annotated[str, Form(max_length=8)], reason: Annotated[str, Form(max_length=500)] = ""
           ) -> Response:
    _allowed(request, principal, "complaints.compensate")
    compensation.decide(session, principal, compensation_id, approve=decision == "approve", reason=reason)
    return RedirectResponse(f"{BASE}/compensations", status_code=303)


@router.post(f"{BASE}/budgets", dependencies=[CsrfProtect])
def budget_set(request: Request, session: DbSession, principal: PagePrincipal,
               org_unit_id: Annotated[int, Form()], month: Annotated[str, Form(max_length=7)],
               amount: Annotated[str, Form(max_length=20)]) -> Response:
    _allowed(request, principal, "complaints.budgets")
    m = budgets.parse_month(month)
    budgets.set_budget(session, principal, org_unit_id, m, _amount(amount))
    return RedirectResponse(f"{BASE}/compensations?month={m:%Y-%m}", status_code=303)


@router.get(f"{BASE}/measures")
def measures_page(request: Request, session: DbSession, principal: PagePrincipal, start: str = "", end: str = "",
                  period: str = "month", level: str = "province") -> HTMLResponse:
    _allowed(request, principal, "complaints.surges")
    from datetime import timedelta

    from kefu.complaints import measures

    last = budgets.parse_month(end) if end else budgets.month_of(utcnow())
    first = budgets.parse_month(start) if start else (last - timedelta(days=150)).replace(day=1)
    period = period if period in ("month", "quarter") else "month"
    level = level if level in ("province", "city") else "province"
    end_day = (last + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    rows = measures.measures(session, org.visible_unit_ids(session, principal), start=first, end=end_day,
                             period=period, level=level)  # type: ignore[arg-type]
    top = max([m.appeals_per_million or 0.0 for m in rows] + [1.0])
    top10k = max([m.per_10k or 0.0 for m in rows] + [1.0])
    return render(request, "complaints/measures.html",
                  {"rows": rows, "start": f"{first:%Y-%m}", "end": f"{last:%Y-%m}", "period": period,
                   "level": level, "top": top, "top10k": top10k}, active="complaint_measures")


def _include_appeals() -> None:
    from kefu.complaints import appeal_views, plan_views

    router.include_router(appeal_views.router)
    router.include_router(plan_views.router)


_include_appeals()
