"""HTTP endpoints of the tickets domain (thin: parse, check permission, call the service)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.core.db import retrying
from kefu.core.deps import ID_TEXT, DbSession, Id, OptionalId, Paging, require
from kefu.customers import service as customers
from kefu.org import service as org
from kefu.tickets import service
from kefu.tickets.models import Category, Ticket
from kefu.tickets.schemas import (
    AssignIn,
    CategoryNode,
    CategoryRef,
    MergeIn,
    PossibleDuplicateRead,
    ReplyDeadline,
    TicketCreate,
    TicketDetail,
    TicketList,
    TicketRead,
    TicketUpdate,
    TransitionCreate,
    TransitionRead,
)

router = APIRouter(tags=["tickets"])


def ticket_read(t: Ticket, categories: dict[int, Category]) -> dict[str, Any]:
    cat = categories.get(t.category_id) if t.category_id is not None else None
    clock = service.reply_clock(t)
    return {
        "id": t.id, "type": t.type, "status": t.status, "priority": t.priority, "subject": t.subject,
        "channel": t.channel, "category": CategoryRef.model_validate(cat) if cat else None,
        "customer_id": t.customer_id, "customer_tier": t.customer_tier, "org_unit_id": t.org_unit_id,
        "assignee_id": t.assignee_id, "created_by_id": t.created_by_id, "merged_into_id": t.merged_into_id,
        "opened_at": t.opened_at, "updated_at": t.updated_at, "first_reply_at": t.first_reply_at,
        "resolved_at": t.resolved_at, "closed_at": t.closed_at, "version": t.version,
        "reply_deadline": ReplyDeadline(due_at=clock.due_at, at_risk=clock.at_risk, overdue=clock.overdue)
        if clock else None,
    }


def ticket_detail(session: Session, t: Ticket) -> TicketDetail:
    return TicketDetail(**ticket_read(t, service.categories_by_id(session)), description=t.description,
                        transitions=[TransitionRead.model_validate(tr)
                                     for tr in service.transitions_of(session, t.id)])


@router.get("/tickets", response_model=TicketList)
def inbox(
    session: DbSession,
    page: Paging,
    channel: str | None = None,
    type: str | None = None,
    status: Annotated[list[str] | None, Query(description="repeat or comma-separate for several")] = None,
    tier: str | None = None,
    category: str | None = None,
    org_unit_id: OptionalId = None,
    assignee: Annotated[str | None, Query(description="'me', 'unassigned' or a user id",
                                          pattern=f"^(me|unassigned|{ID_TEXT})$")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    at_risk: bool = False,
    order: Annotated[str, Query(description="'updated': latest change first; 'work': priority, then reply "
                                            "deadline", pattern="^(updated|work)$")] = "updated",
    principal: Principal = require("tickets.read"),
) -> TicketList:
    statuses = tuple(s for part in (status or []) for s in part.split(",") if s)
    filters = service.InboxFilters(channel=channel, type=type, status=statuses, tier=tier, category=category,
                                   org_unit_id=org_unit_id, assignee=assignee, q=q or None, at_risk=at_risk,
                                   order=order)
    result = service.list_inbox(session, principal, filters, page)
    cats = service.categories_by_id(session)
    return TicketList(items=[TicketRead(**ticket_read(t, cats)) for t in result.items], total=result.total,
                      limit=page.limit, offset=page.offset, total_capped=result.capped)


@router.post("/tickets", response_model=TicketDetail, status_code=201)
def create(body: TicketCreate, session: DbSession,
           principal: Principal = require("tickets.write")) -> TicketDetail:
    unit_id = body.org_unit_id if body.org_unit_id is not None else principal.org_unit_id
    org.check_visible(session, principal, unit_id)
    if body.customer_id is not None:
        customers.get_visible(session, principal, body.customer_id)
    t = service.create_ticket(session, type=body.type, subject=body.subject, org_unit_id=unit_id,
                              customer_id=body.customer_id, channel=body.channel,
                              description=body.description, category_key=body.category,
                              priority=body.priority, actor_id=principal.user_id)
    return ticket_detail(session, t)


@router.get("/tickets/{ticket_id}", response_model=TicketDetail)
def read(ticket_id: Id, session: DbSession, principal: Principal = require("tickets.read")) -> TicketDetail:
    return ticket_detail(session, service.get_visible(session, principal, ticket_id))


def _unless_versioned(session: Session, expected_version: int | None, change: Callable[[], Ticket]) -> Ticket:
    """A change made without an expected version does not care what it overwrites: when another
    request changed the ticket first it is made again on the fresh ticket. With a version it is 409."""
    if expected_version is not None:
        return change()
    return retrying(session, change, lost_race=service.lost_race)


@router.patch("/tickets/{ticket_id}", response_model=TicketDetail)
def edit(ticket_id: Id, body: TicketUpdate, session: DbSession,
         principal: Principal = require("tickets.write")) -> TicketDetail:
    service.get_visible(session, principal, ticket_id)
    t = _unless_versioned(session, body.expected_version, lambda: service.update(
        session, ticket_id, actor_id=principal.user_id, subject=body.subject, category_key=body.category,
        priority=body.priority, type=body.type, expected_version=body.expected_version))
    return ticket_detail(session, t)


@router.post("/tickets/{ticket_id}/transitions", response_model=TicketDetail)
def transition(ticket_id: Id, body: TransitionCreate, session: DbSession,
               principal: Principal = require("tickets.write")) -> TicketDetail:
    service.get_visible(session, principal, ticket_id)
    t = _unless_versioned(session, body.expected_version, lambda: service.change_status(
        session, ticket_id, body.to, actor_id=principal.user_id, reason=body.reason,
        expected_version=body.expected_version))
    return ticket_detail(session, t)


@router.post("/tickets/{ticket_id}/assign", response_model=TicketDetail)
def assign(ticket_id: Id, body: AssignIn, session: DbSession,
           principal: Principal = require("tickets.write")) -> TicketDetail:
    service.get_visible(session, principal, ticket_id)
    t = _unless_versioned(session, body.expected_version, lambda: service.assign(
        session, ticket_id, assignee_id=body.assignee_id, actor_id=principal.user_id,
        expected_version=body.expected_version))
    return ticket_detail(session, t)


@router.post("/tickets/{ticket_id}/merge", response_model=TicketDetail)
def merge(ticket_id: Id, body: MergeIn, session: DbSession,
          principal: Principal = require("tickets.merge")) -> TicketDetail:
    """Merge this ticket (a duplicate) into `into_id`; returns the ticket that carries on."""
    service.get_visible(session, principal, ticket_id)
    service.get_visible(session, principal, body.into_id)
    target = service.merge(session, ticket_id, body.into_id, actor_id=principal.user_id, reason=body.reason)
    return ticket_detail(session, target)


@router.get("/tickets/{ticket_id}/duplicates", response_model=list[PossibleDuplicateRead])
def duplicates(ticket_id: Id, session: DbSession,
               principal: Principal = require("tickets.read")) -> list[PossibleDuplicateRead]:
    """Open tickets a merge would accept that probably report the same thing, best first, with the pair score."""
    from kefu.tickets.duplicates import possible_duplicates

    t = service.get_visible(session, principal, ticket_id)
    found = possible_duplicates(session, principal, t)
    cats = service.categories_by_id(session)
    return [PossibleDuplicateRead(ticket=TicketRead(**ticket_read(d.ticket, cats)), score=d.score) for d in found]


@router.get("/categories", response_model=list[CategoryNode])
def categories(session: DbSession, principal: Principal = require("tickets.read")) -> list[CategoryNode]:
    return [CategoryNode.model_validate(n) for n in service.category_tree(session)]
