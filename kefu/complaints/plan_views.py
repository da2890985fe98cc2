"""The plan catalogue and tariff advice in the console (part of kefu/complaints/views.py's router).

    GET  /console/complaints/plans            the operator's plans (nav entry for administrators), a form to
                                              add one or change one (?edit=<key>)
    POST /console/complaints/plans            save a plan
    GET  /console/complaints/tariff-advice    资费推荐: the customer's busiest recent month in, the cheapest plan
                                              that covers it and the saving out (from a ticket: ?ticket_id=)
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kefu.complaints import plans, tariffs
from kefu.complaints.views import _allowed
from kefu.core.deps import DbSession
from kefu.core.errors import InvalidInput
from kefu.web.render import CsrfProtect, PagePrincipal, render

router = APIRouter(include_in_schema=False)
BASE = "/console/complaints"


def _number(text: str, field: str, kind: type[Any]) -> Any:
    """A form number: empty is None (an unlimited allowance, or "not given")."""
    if not text.strip():
        return None
    try:
        value = kind(text.strip())
    except (ValueError, InvalidOperation):
        raise InvalidInput(f"{text!r} is not a number", code="invalid_number", details={"field": field}) from None
    if isinstance(value, Decimal | float) and not Decimal(str(value)).is_finite():
        raise InvalidInput(f"{text!r} is not a number", code="invalid_number", details={"field": field})
    return value


@router.get(f"{BASE}/plans")
def plans_page(request: Request, session: DbSession, principal: PagePrincipal, edit: str = "") -> HTMLResponse:
    _allowed(request, principal, "complaints.plans")
    rows = plans.catalogue(session)
    return render(request, "complaints/plans.html",
                  {"plans": rows, "editing": next((p for p in rows if p.key == edit), None)}, active="plans")


@router.post(f"{BASE}/plans", dependencies=[CsrfProtect])
def plan_save(request: Request, session: DbSession, principal: PagePrincipal,
              key: Annotated[str, Form(max_length=40)], name: Annotated[str, Form(max_length=100)],
              monthly_fee: Annotated[str, Form(max_length=20)], name_en: Annotated[str, Form(max_length=100)] = "",
              data_gb: Annotated[str, Form(max_length=20)] = "", minutes: Annotated[str, Form(max_length=20)] = "",
              sms: Annotated[str, Form(max_length=20)] = "", active: Annotated[str, Form(max_length=4)] = ""
              ) -> Response:
    _allowed(request, principal, "complaints.plans")
    fee = _number(monthly_fee, "monthly_fee", Decimal)
    if fee is None:
        raise InvalidInput("a plan needs a monthly fee", code="invalid_number", details={"field": "monthly_fee"})
    plans.save_plan(session, plans.PlanSpec(key=key.strip(), name=name, name_en=name_en, monthly_fee=fee,
                                            data_gb=_number(data_gb, "data_gb", float),
                                            minutes=_number(minutes, "minutes", int), sms=_number(sms, "sms", int),
                                            active=active == "1"), actor_id=principal.user_id)
    return RedirectResponse(f"{BASE}/plans", status_code=303)


@router.get(f"{BASE}/tariff-advice")
def advice_page(request: Request, session: DbSession, principal: PagePrincipal, ticket_id: int | None = None,
                data_gb: str = "", minutes: str = "", sms: str = "", current_fee: str = "") -> HTMLResponse:
    _allowed(request, principal, "complaints.read")
    customer = plans.customer_of_ticket(session, principal, ticket_id)  # 404 outside the caller's scope
    asked = any(v.strip() for v in (data_gb, minutes, sms))
    result = None
    if asked:
        usage = tariffs.Usage(_number(data_gb, "data_gb", float) or 0.0, _number(minutes, "minutes", int) or 0,
                              _number(sms, "sms", int) or 0)
        result = plans.advise(session, usage, current_fee=_number(current_fee, "current_fee", Decimal),
                              customer=customer)
    return render(request, "complaints/tariff_advice.html",
                  {"ticket_id": ticket_id, "customer": customer, "result": result,
                   "mine": result.current_plan if result is not None else plans.current_plan(session, customer),
                   "form": {"data_gb": data_gb, "minutes": minutes, "sms": sms, "current_fee": current_fee}})
