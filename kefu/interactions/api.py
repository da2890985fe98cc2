"""HTTP endpoints of the interactions domain (thin: parse, check permission, call the service)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from kefu.core.auth import Principal
from kefu.core.deps import DbSession, Id, OptionalId, Paging, require
from kefu.interactions import service, timeline
from kefu.interactions.models import IDENTITY_KIND, Interaction, Message
from kefu.interactions.schemas import (
    CloseRequest,
    InteractionDetail,
    InteractionPage,
    InteractionRead,
    MessageRead,
    ReplyCreate,
    TimelineEntryRead,
    TimelinePage,
)

router = APIRouter(tags=["interactions"])

def message_read(m: Message, principal: Principal) -> MessageRead:
    """A message; the sender's number or e-mail address masked for roles without `pii`."""
    out = MessageRead.model_validate(m)
    if out.sender and not principal.can("pii"):
        from kefu.customers.pii import mask_identity

        out.sender = mask_identity(IDENTITY_KIND[m.channel], out.sender)
    return out


def interaction_detail(it: Interaction, principal: Principal) -> InteractionDetail:
    base = InteractionRead.model_validate(it).model_dump()
    return InteractionDetail(**base, messages=[message_read(m, principal) for m in it.messages])


@router.get("/interactions", response_model=InteractionPage)
def list_interactions(session: DbSession, page: Paging, channel: str | None = None,
                      status: str | None = None, outcome: str | None = None, org_unit_id: OptionalId = None,
                      customer_id: OptionalId = None, ticket_id: OptionalId = None,
                      principal: Principal = require("interactions.read")) -> InteractionPage:
    """The unified inbox across channels, latest activity first."""
    filters = service.InteractionFilters(channel=channel, status=status, outcome=outcome,
                                         org_unit_id=org_unit_id, customer_id=customer_id,
                                         ticket_id=ticket_id)
    rows, total = service.list_interactions(session, principal, filters, limit=page.limit, offset=page.offset)
    last = service.last_messages(session, (r.id for r in rows))
    items = []
    for r in rows:
        item = InteractionRead.model_validate(r)
        item.last_message = timeline.snippet(last[r.id].body) if r.id in last else None
        items.append(item)
    return InteractionPage(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/interactions/{interaction_id}", response_model=InteractionDetail)
def get_interaction(interaction_id: Id, session: DbSession,
                    principal: Principal = require("interactions.read")) -> InteractionDetail:
    return interaction_detail(service.get_visible(session, principal, interaction_id), principal)


@router.post("/interactions/{interaction_id}/messages", response_model=MessageRead, status_code=201)
def reply(interaction_id: Id, body: ReplyCreate, session: DbSession,
          principal: Principal = require("interactions.write")) -> MessageRead:
    """The agent's reply, sent on the interaction's own channel."""
    return message_read(service.reply(session, interaction_id, body=body.body, actor=principal), principal)


@router.post("/interactions/{interaction_id}/close", response_model=InteractionRead)
def close(interaction_id: Id, body: CloseRequest, session: DbSession,
          principal: Principal = require("interactions.write")) -> InteractionRead:
    it = service.get_visible(session, principal, interaction_id, with_messages=False)
    return InteractionRead.model_validate(
        service.close(session, it.id, outcome=body.outcome, actor_id=principal.user_id))


@router.get("/customers/{customer_id}/timeline", response_model=TimelinePage)
def customer_timeline(customer_id: Id, session: DbSession, page: Paging, before: datetime | None = None,
                      principal: Principal = require("interactions.read")) -> TimelinePage:
    """The customer's interactions and tickets on every channel, newest first."""
    entries = timeline.customer_timeline(session, principal, customer_id, limit=page.limit,
                                         offset=page.offset, before=before)
    return TimelinePage(customer_id=customer_id, items=[TimelineEntryRead.model_validate(e) for e in entries],
                        limit=page.limit, offset=page.offset)
