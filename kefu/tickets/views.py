"""Console pages of the tickets domain: the inbox (open work in work order, 我的工作, a supervisor's person
and queue views) and the ticket page (conversation, reply, status, the work box: claim, transfer, edit,
merge; the history; other domains' boxes through their `ticket_panel`). Mounted by kefu/web/views.py.

Routes (all HTML):
    GET  /console/inbox             tickets or interactions (`view=`), filters, paging; a fragment for htmx
    GET  /console/tickets/{id}      the ticket page
    GET  /console/tickets/{id}/conversation   fragment (live refresh)
    POST /console/tickets/{id}/reply | status | claim | transfer | edit | merge
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu.core import domains
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.deps import DbSession, Id, Offset, OptionalFormId, OptionalFormVersion, is_id_text
from kefu.core.errors import Forbidden, InvalidInput, KefuError, NotFound
from kefu.web.i18n import translator
from kefu.web.render import CsrfProtect, PagePrincipal, is_htmx, render, request_locale
from kefu.web.views import TIMELINE_LIMIT, friendly

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25

# Status buttons offered on the ticket page, in this order (assigning and merging have their own flows).
ACTION_ORDER = ("in_progress", "waiting_customer", "waiting_support", "resolved", "closed")


def org_visible_unit_ids(session: Session, principal: Principal) -> list[int]:
    from kefu.org import service as org

    return org.visible_unit_ids(session, principal)


# ---- the inbox ------------------------------------------------------------------------------


@dataclass
class InboxQuery:
    view: str = "tickets"
    channel: str = ""
    type: str = ""
    status: str = ""
    tier: str = ""
    category: str = ""
    org_unit: str = ""
    assignee: str = ""
    q: str = ""
    at_risk: bool = False
    offset: int = 0
    sort: str = ""
    queue: str = ""

    def params(self, **override: Any) -> str:
        from urllib.parse import urlencode

        values = {**self.__dict__, **override}
        pairs = [
            (k, ("1" if v is True else v))
            for k, v in values.items()
            if v not in ("", None, False, 0) and not (k == "view" and v == "tickets")
        ]
        return urlencode(pairs)


def _opt(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _org_units(session: Session, principal: Principal) -> list[Any]:
    from kefu.org import service as org

    return org.list_units(session, principal)


@router.get("/console/inbox")
def inbox(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    view: str = "tickets",
    channel: str = "",
    type: str = "",
    status: str = "",
    tier: str = "",
    category: str = "",
    org_unit: str = "",
    assignee: str = "",
    q: Annotated[str, Query(max_length=100)] = "",
    at_risk: bool = False,
    offset: Offset = 0,
    sort: Annotated[str, Query(max_length=10)] = "",
    queue: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """The inbox. Tickets default to open work in work order (priority, then reply deadline: see
    tickets.service.list_inbox); `status=all` lists every status, `sort=updated` the latest change first.
    `assignee=me` is 我的工作 (my work); supervisors pick a person or a routing queue (team and queue views)."""
    from kefu.core.deps import Page
    from kefu.interactions import service as interactions
    from kefu.tickets import lifecycle
    from kefu.tickets import service as tickets

    view = "interactions" if view == "interactions" else "tickets"
    query = InboxQuery(view, channel, type, status, tier, category, org_unit, assignee, q, at_risk, offset,
                       sort, queue)
    error: str | None = None
    rows: list[Any] = []
    total, capped = 0, False
    extra: dict[str, Any] = {}
    unit_id = int(org_unit) if is_id_text(org_unit) else None
    try:
        if assignee.isdigit() and not is_id_text(assignee):
            raise InvalidInput(f"no user has the id {assignee}")
        if view == "tickets":
            if status == "all":
                statuses: tuple[str, ...] = ()
            elif status:
                statuses = tuple(s for s in status.split(",") if s)
            else:
                statuses = tuple(sorted(lifecycle.OPEN_STATUSES))
            filters = tickets.InboxFilters(
                channel=_opt(channel),
                type=_opt(type),
                status=statuses,
                tier=_opt(tier),
                category=_opt(category),
                org_unit_id=unit_id,
                assignee=_opt(assignee),
                q=_opt(q),
                at_risk=at_risk,
                order=sort or "work",
                ticket_ids=_queue_tickets(session, principal, queue) if queue else None,
            )
            result = tickets.list_inbox(session, principal, filters, Page(limit=PAGE_SIZE, offset=offset))
            rows, total, capped = result.items, result.total, result.capped
            extra["customers"] = _customers_by_id(session, principal, [t.customer_id for t in rows])
            extra["clocks"] = {t.id: tickets.reply_clock(t) for t in rows}
            extra["cats"] = tickets.categories_by_id(session)
        else:
            ifilters = interactions.InteractionFilters(
                channel=_opt(channel), status=_opt(status), org_unit_id=unit_id
            )
            rows, total = interactions.list_interactions(
                session, principal, ifilters, limit=PAGE_SIZE, offset=offset
            )
            extra["last"] = interactions.last_messages(session, [i.id for i in rows])
            extra["customers"] = _customers_by_id(session, principal, [i.customer_id for i in rows])
    except (InvalidInput, NotFound) as exc:
        session.rollback()
        error = translator(request_locale(request))("filter.invalid", message=exc.message)
    ctx = {
        "query": query,
        "rows": rows,
        "total": total,
        "capped": capped,
        "error": error,
        "page_size": PAGE_SIZE,
        "categories": tickets.category_tree(session),
        "units": _org_units(session, principal),
        **_team_choices(session, principal),
        **extra,
    }
    return _inbox_response(request, ctx)


def _queue_tickets(session: Session, principal: Principal, key: str) -> Any:
    """The ids of the tickets in a routing queue (waiting, offered or held), for the queue view."""
    from kefu.routing import service as routing

    return routing.ticket_ids_in_queue(session, principal, key)


def _team_choices(session: Session, principal: Principal) -> dict[str, Any]:
    """Who and which queues a supervisor may pick in the inbox (names, not ids)."""
    if not principal.can("routing.supervise"):
        return {"people": [], "queues": []}
    from kefu.org import service as org
    from kefu.routing import service as routing
    from kefu.tickets.service import ASSIGNING_ROLES

    people = [u for u in org.list_users(session, principal, active_only=True) if u.role in ASSIGNING_ROLES]
    return {"people": people, "queues": routing.queues(session, principal)}


def _inbox_response(request: Request, ctx: dict[str, Any]) -> HTMLResponse:
    from kefu.interactions.models import CHANNELS
    from kefu.tickets import lifecycle
    from kefu.tickets.models import TICKET_TYPES

    ctx.update(
        channels=CHANNELS,
        types=TICKET_TYPES,
        statuses=lifecycle.STATUSES,
        tiers=("diamond", "gold", "silver", "standard"),
    )
    if is_htmx(request) and request.headers.get("HX-Target") == "inbox-list":
        headers = {}
        if request.headers.get("HX-Trigger") == "filters":  # the filter form: push a clean URL
            qs = ctx["query"].params()
            headers["HX-Push-Url"] = "/console/inbox" + (f"?{qs}" if qs else "")
        return render(request, "partials/inbox_list.html", ctx, headers=headers)
    return render(request, "inbox.html", ctx, active="inbox")


def _customers_by_id(session: Session, principal: Principal, ids: list[int | None]) -> dict[int, Any]:
    """The customers shown in a list, by id; those outside the principal's scope are left out."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    from kefu.customers import service as customers

    return customers.get_many_visible(session, principal, wanted)


# ---- the ticket page ------------------------------------------------------------------------


@dataclass
class Action:
    to: str
    label_key: str
    needs_reason: bool
    style: str


def _actions(ticket: Any) -> list[Action]:
    from kefu.tickets import lifecycle

    closed_at = ticket.closed_at
    targets = lifecycle.allowed_targets(ticket.status, closed_at=closed_at, at=utcnow())
    out = []
    for dst in ACTION_ORDER:
        if dst not in targets:
            continue
        reopen = lifecycle.is_reopen(ticket.status, dst)
        out.append(
            Action(
                dst,
                "action.reopen" if reopen else f"action.{dst}",
                lifecycle.requires_reason(ticket.status, dst),
                "primary" if dst == "resolved" else ("danger" if dst == "closed" else ""),
            )
        )
    return out


def _conversation(session: Session, principal: Principal, ticket_id: int) -> list[Any]:
    """The ticket's interactions (oldest first), each with its messages."""
    from kefu.interactions import service as interactions

    rows, _total = interactions.list_interactions(
        session, principal, interactions.InteractionFilters(ticket_id=ticket_id), limit=200, with_messages=True
    )
    return list(reversed(rows))


def _reply_target(conversation: list[Any]) -> Any | None:
    """The interaction a reply goes out on: the newest open one."""
    open_ = [it for it in conversation if it.status == "open"]
    return open_[-1] if open_ else None


def _ticket_context(
    session: Session, principal: Principal, ticket_id: int, *, page: bool = False
) -> dict[str, Any]:
    """What the ticket page shows. The knowledge suggestions and possible duplicates (each embeds
    text, and a suggestion is logged as a search) only for the whole page (`page=True`), not for
    the fragments htmx swaps in after a reply, a status change or a live update."""
    from kefu.org import service as org
    from kefu.tickets import service as tickets

    ticket = tickets.get_visible(session, principal, ticket_id)
    conversation = _conversation(session, principal, ticket.id)
    cats = tickets.categories_by_id(session)
    category = cats.get(ticket.category_id) if ticket.category_id else None
    parent = cats.get(category.parent_id) if category is not None and category.parent_id else None
    customer: Any = None
    timeline: list[Any] = []
    if ticket.customer_id is not None:
        customer, timeline = _customer_and_timeline(session, principal, ticket.customer_id)
    transitions = tickets.transitions_of(session, ticket.id)
    user_ids = {
        ticket.assignee_id,
        *(tr.actor_id for tr in transitions),
        *(m.author_id for it in conversation for m in it.messages),
    }
    extra: dict[str, Any] = {}
    if page:
        from kefu.tickets.duplicates import possible_duplicates

        if principal.can("knowledge.read"):
            from kefu.knowledge import views as knowledge_views

            extra.update(knowledge_views.suggestions_context(session, principal, ticket.id))
        extra["duplicates"] = possible_duplicates(session, principal, ticket)
        extra["panels"] = ticket_panels(session, principal, ticket)
    if page:
        extra.update(_work_choices(session, principal, ticket))
    history = tickets.history_of(session, ticket.id)
    user_ids |= {h.payload.get(k) for h in history for k in ("actor_id", "assignee_id", "previous_assignee_id")}
    users = org.users(session, (x for x in user_ids if isinstance(x, int)))
    return {
        **extra,
        "ticket": ticket,
        "history": sorted([(tr.at, "transition", tr) for tr in transitions]
                          + [(h.occurred_at, "event", h) for h in history], key=lambda x: (x[0], x[1])),
        "category": category,
        "category_parent": parent,
        "clock": tickets.reply_clock(ticket),
        "conversation": conversation,
        "deliveries": _deliveries(session, conversation),
        "reply_to": _reply_target(conversation),
        "actions": _actions(ticket),
        "transitions": transitions,
        "customer": customer,
        "timeline": timeline,
        "users": users,
        "unit": org.org_unit(session, ticket.org_unit_id),
    }


def _work_choices(session: Session, principal: Principal, ticket: Any) -> dict[str, Any]:
    """The choosers of the ticket page's work box: people and queues to transfer to, types, categories and
    priorities, and the customer's other open tickets to merge into."""
    from kefu.tickets import lifecycle
    from kefu.tickets import service as tickets
    from kefu.tickets.models import PRIORITIES, TICKET_TYPES

    choices = _team_choices(session, principal) if principal.can("routing.supervise") else {}
    if not choices:
        from kefu.org import service as org
        from kefu.routing import service as routing

        people = [u for u in org.list_users(session, principal, active_only=True)
                  if u.role in tickets.ASSIGNING_ROLES]
        choices = {"people": people, "queues": routing.queues(session, principal)}
    merge_into: list[Any] = []
    if ticket.customer_id is not None and lifecycle.is_open(ticket.status):
        from kefu.customers import service as customers

        visible = set(org_visible_unit_ids(session, principal))
        merge_into = [tk for tk in tickets.list_for_customer(session, customers.customer_ids_of(session,
                                                                                                ticket.customer_id))
                      if tk.id != ticket.id and tk.org_unit_id in visible and tk.status not in ("closed", "merged")]
    return {**choices, "merge_into": merge_into, "types": TICKET_TYPES, "priorities": PRIORITIES,
            "category_tree": tickets.category_tree(session)}


def ticket_panels(session: Session, principal: Principal, ticket: Any) -> list[tuple[str, dict[str, Any]]]:
    """The boxes other domains add to the ticket page: each views module's `ticket_panel(session, principal,
    ticket)` gives (template, context) or None; the page includes the template with the context as `p`."""
    panels = []
    for module in domains.modules("views"):
        panel = getattr(module, "ticket_panel", None)
        if callable(panel) and (found := panel(session, principal, ticket)) is not None:
            panels.append(found)
    return panels


def _customer_and_timeline(session: Session, principal: Principal, customer_id: int) -> tuple[Any, list[Any]]:
    try:
        from kefu.customers import service as customers
        from kefu.interactions.timeline import customer_timeline
    except ImportError:
        return None, []
    try:
        customer = customers.get_visible(session, principal, customer_id)
    except NotFound:
        return None, []
    return customer, customer_timeline(session, principal, customer_id, limit=TIMELINE_LIMIT)


@router.get("/console/tickets/{ticket_id}")
def ticket_page(
    request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    ctx = _ticket_context(session, principal, ticket_id, page=True)
    return render(request, "ticket.html", ctx, active="inbox")


@router.get("/console/tickets/{ticket_id}/conversation")
def ticket_conversation(
    request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal
) -> HTMLResponse:
    """The parts of the ticket page that change while it is open (swapped out-of-band by htmx)."""
    ctx = _ticket_context(session, principal, ticket_id)
    ctx["keep_reason"] = True  # a live refresh must not wipe a reason being typed
    return render(request, "partials/ticket_live.html", ctx)


@router.post("/console/tickets/{ticket_id}/reply", dependencies=[CsrfProtect])
def ticket_reply(
    request: Request,
    ticket_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    body: Annotated[str, Form(max_length=20_000)] = "",
    interaction_id: OptionalFormId = None,
) -> Response:
    from kefu.interactions import service as interactions
    from kefu.tickets import service as tickets

    t = translator(request_locale(request, principal))
    ticket = tickets.get_visible(session, principal, ticket_id)
    if not principal.can("interactions.write"):
        raise Forbidden(t("error.forbidden"))
    error: str | None = None
    error_status = 422
    message = None
    if not body.strip():
        error = t("reply.empty")
    else:
        if interaction_id is None:
            target = _reply_target(_conversation(session, principal, ticket.id))
            interaction_id = target.id if target is not None else None
        if interaction_id is None:
            error = t("reply.no_interaction")
        else:
            try:
                it = interactions.get_visible(session, principal, interaction_id, with_messages=False)
                if it.ticket_id != ticket.id:
                    raise NotFound("interaction not on this ticket", code="interaction_not_found")
                message = interactions.reply(session, it.id, body=body, actor=principal)
            except KefuError as exc:
                session.rollback()  # a refused reply leaves nothing behind
                error, error_status = friendly(t, exc), exc.status
    status_code = error_status if error is not None else 200
    if not is_htmx(request):
        if error is not None:
            ctx = _ticket_context(session, principal, ticket_id, page=True)
            ctx.update(reply_error=error, reply_body=body)
            return render(request, "ticket.html", ctx, active="inbox", status_code=status_code)
        return RedirectResponse(
            f"/console/tickets/{ticket_id}#m{message.id if message else ''}", status_code=303
        )
    ctx = _ticket_context(session, principal, ticket_id)
    ctx.update(reply_error=error, reply_body=body if error else "", just_sent=message.id if message else None,
               keep_reason=True)
    return render(request, "partials/ticket_live.html", ctx, status_code=status_code)


def _ticket_work(
    request: Request, session: Session, principal: Principal, ticket_id: int, done_key: str, work: Any
) -> Response:
    """Run one action of the ticket page's work box (claim, transfer, edit, merge): refused, nothing is
    changed and the reason is shown; done, the page is shown again with a note."""
    t = translator(request_locale(request, principal))
    tickets_service = _tickets()
    tickets_service.get_visible(session, principal, ticket_id)
    if not principal.can("tickets.write"):
        raise Forbidden(t("error.forbidden"))
    error, status_code, done = None, 200, None
    try:
        work()
        done = t(done_key)
    except KefuError as exc:
        session.rollback()  # a refused action leaves nothing behind
        error, status_code = friendly(t, exc), exc.status
    if error is None and not is_htmx(request):
        return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)
    ctx = _ticket_context(session, principal, ticket_id, page=True)
    ctx.update(work_error=error, work_done=done)
    return render(request, "ticket.html", ctx, active="inbox", status_code=status_code)


def _tickets() -> Any:
    from kefu.tickets import service as tickets

    return tickets


@router.post("/console/tickets/{ticket_id}/claim", dependencies=[CsrfProtect])
def ticket_claim(
    request: Request, ticket_id: Id, session: DbSession, principal: PagePrincipal, version: OptionalFormVersion = None
) -> Response:
    """领取: take the unowned ticket."""
    return _ticket_work(request, session, principal, ticket_id, "tickets.claimed", lambda: _tickets().claim(
        session, ticket_id, actor_id=principal.user_id, expected_version=version))


@router.post("/console/tickets/{ticket_id}/transfer", dependencies=[CsrfProtect])
def ticket_transfer(
    request: Request,
    ticket_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    to: Annotated[str, Form(max_length=60)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    version: OptionalFormVersion = None,
) -> Response:
    """转派: to a person (`to` = "user:<id>") or a routing queue (`to` = "queue:<key>"), with a reason."""

    def work() -> None:
        tickets = _tickets()
        kind, _, value = to.partition(":")
        if not reason.strip():
            raise tickets.ReasonRequired("a transfer needs a reason", details={"field": "reason"})
        if kind == "user" and is_id_text(value):
            tickets.assign(session, ticket_id, assignee_id=int(value), actor_id=principal.user_id,
                           expected_version=version, reason=reason)
        elif kind == "queue" and value:
            from kefu.routing import service as routing

            routing.transfer_to_queue(session, principal, ticket_id, value, reason=reason, expected_version=version)
        else:
            raise InvalidInput("choose a person or a queue", code="transfer_target_required",
                               details={"field": "to"})

    return _ticket_work(request, session, principal, ticket_id, "tickets.transferred", work)


@router.post("/console/tickets/{ticket_id}/edit", dependencies=[CsrfProtect])
def ticket_edit(
    request: Request,
    ticket_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    type: Annotated[str, Form(max_length=16)] = "",
    category: Annotated[str, Form(max_length=60)] = "",
    priority: Annotated[str, Form(max_length=8)] = "",
    version: OptionalFormVersion = None,
) -> Response:
    """Change type, category and priority (empty: unchanged)."""
    return _ticket_work(request, session, principal, ticket_id, "tickets.edited", lambda: _tickets().update(
        session, ticket_id, actor_id=principal.user_id, type=type or None, category_key=category or None,
        priority=priority or None, expected_version=version))


@router.post("/console/tickets/{ticket_id}/merge", dependencies=[CsrfProtect])
def ticket_merge(
    request: Request,
    ticket_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    into: OptionalFormId = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Merge this ticket into another of the customer's (chosen from a list)."""

    def work() -> None:
        tickets = _tickets()
        if into is None:
            raise InvalidInput("choose the ticket to merge into", code="merge_target_required",
                               details={"field": "into"})
        tickets.get_visible(session, principal, into)
        if not reason.strip():
            raise tickets.ReasonRequired("a merge needs a reason", details={"field": "reason"})
        tickets.merge(session, ticket_id, into, actor_id=principal.user_id, reason=reason)

    return _ticket_work(request, session, principal, ticket_id, "tickets.merged", work)


@router.post("/console/tickets/{ticket_id}/status", dependencies=[CsrfProtect])
def ticket_status(
    request: Request,
    ticket_id: Id,
    session: DbSession,
    principal: PagePrincipal,
    to: Annotated[str, Form(max_length=24)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    version: OptionalFormVersion = None,
) -> Response:
    from kefu.tickets import service as tickets

    t = translator(request_locale(request, principal))
    tickets.get_visible(session, principal, ticket_id)
    if not principal.can("tickets.write"):
        raise Forbidden(t("error.forbidden"))
    error, status_code, moved = None, 200, None
    try:
        tickets.change_status(
            session,
            ticket_id,
            to,
            actor_id=principal.user_id,
            reason=reason or None,
            expected_version=version,
        )
        moved = t("ticket.moved", status=t(f"status.{to}"))
    except KefuError as exc:
        session.rollback()  # a refused change leaves nothing behind
        error, status_code = friendly(t, exc), exc.status
    ctx = _ticket_context(session, principal, ticket_id, page=not is_htmx(request))
    ctx.update(status_error=error, status_done=moved, reason=reason if error else "")
    if is_htmx(request):
        return render(request, "partials/ticket_live.html", ctx, status_code=status_code)
    if error is None:
        return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)
    return render(request, "ticket.html", ctx, active="inbox", status_code=status_code)


def _deliveries(session: Session, conversation: list[Any]) -> dict[int, Any]:
    """The outbound delivery status of each reply shown (kefu/channels/outbound.py)."""
    from kefu.channels import outbound

    return outbound.of_messages(
        session, (m.id for it in conversation for m in it.messages if m.direction == "outbound"))
