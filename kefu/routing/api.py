"""Routing over HTTP: an agent's presence and offers; queues, agents and rules for supervisors and admins.

An agent's request that the routing writer answers (going available, accepting an offer) is committed in a
transaction of its own and then waits, briefly, for the writer to process it: the answer says what
happened (an accepted offer and its ticket, or 409 when the offer had already ended). If the writer has
not answered within answers.ANSWER_SECONDS the answer is 202 with `pending: true`; the result follows on the
console's live stream and in GET /routing/me.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kefu.core.auth import Principal
from kefu.core.db import Database
from kefu.core.deps import DbSession, Id, require, require_token
from kefu.routing import answers, service
from kefu.routing import rules as routing_rules
from kefu.routing.models import RoutingItem, RoutingOffer
from kefu.routing.schemas import (
    AgentRow,
    AgentStatusRead,
    AgentUpdate,
    AnswerRead,
    HeldRead,
    OfferRead,
    PresenceIn,
    QueueIn,
    QueueRead,
    QueueStatsRead,
    RuleIO,
)

router = APIRouter(tags=["routing"])
T = TypeVar("T")


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _in_transaction(db: Database, work: Callable[[Session], T]) -> T:
    with db.unit_of_work() as s:
        return work(s)


def offer_read(session: Session, offer: RoutingOffer) -> OfferRead:
    item = session.get(RoutingItem, offer.item_id)
    return OfferRead(id=offer.id, item_id=offer.item_id, agent_id=offer.agent_id, queue_key=offer.queue_key,
                     offered_at=offer.offered_at, expires_at=offer.expires_at, state=offer.state,
                     ticket_id=item.ticket_id if item is not None else None)


def status_read(session: Session, user_id: int) -> AgentStatusRead:
    st = service.agent_status(session, user_id)
    return AgentStatusRead(user_id=st.user_id, presence=st.presence, reason=st.reason, since=st.since,
                           queues=st.queues, offers=[offer_read(session, o) for o in st.offers],
                           held=[HeldRead.model_validate(i) for i in st.held])


# ---- the agent ------------------------------------------------------------------------------------

@router.get("/routing/me", response_model=AgentStatusRead)
def my_status(session: DbSession, principal: Principal = require("routing.work")) -> AgentStatusRead:
    """My presence, the offers waiting for my answer, and the work routing gave me."""
    return status_read(session, principal.user_id)


@router.put("/routing/me/presence", response_model=AgentStatusRead,
            responses={202: {"model": AgentStatusRead, "description": "accepted; the writer has not applied it yet"}})
async def set_my_presence(body: PresenceIn, request: Request,
                          principal: Principal = require_token("routing.work")) -> JSONResponse:
    """Go available (就绪), on a break with a reason, not ready, or offline."""
    db = _db(request)
    row = await run_in_threadpool(_in_transaction, db, lambda s: service.set_presence(
        s, principal, body.presence, body.reason))
    done = await answers.processed(db, row.id)
    status = await run_in_threadpool(_in_read, db, lambda s: status_read(s, principal.user_id))
    return JSONResponse(status.model_dump(mode="json"), status_code=200 if done else 202)


def _in_read(db: Database, work: Callable[[Session], T]) -> T:
    with db.session() as s:
        return work(s)


async def _answer(request: Request, principal: Principal, offer_id: int, accept: bool) -> JSONResponse:
    db = _db(request)
    row = await run_in_threadpool(_in_transaction, db, lambda s: service.answer_offer(
        s, principal, offer_id, accept=accept))
    done = await answers.processed(db, row.id)

    def read(s: Session) -> OfferRead:
        offer = s.get(RoutingOffer, offer_id)
        assert offer is not None
        return offer_read(s, offer)

    offer = await run_in_threadpool(_in_read, db, read)
    if done and offer.state != ("accepted" if accept else "rejected"):
        err = service.OfferNotOpen(f"offer {offer_id} ended ({offer.state.replace('_', ' ')}) before your answer",
                                   details={"state": offer.state})
        return JSONResponse(err.to_dict(), status_code=err.status)
    return JSONResponse(AnswerRead(offer=offer, pending=not done).model_dump(mode="json"),
                        status_code=200 if done else 202)


@router.post("/routing/offers/{offer_id}/accept", response_model=AnswerRead,
             responses={202: {"model": AnswerRead, "description": "sent; the writer has not answered yet"}})
async def accept_offer(offer_id: Id, request: Request,
                       principal: Principal = require_token("routing.work")) -> JSONResponse:
    """Take the offered work: the ticket becomes mine (409 when the offer ended meanwhile)."""
    return await _answer(request, principal, offer_id, True)


@router.post("/routing/offers/{offer_id}/reject", response_model=AnswerRead,
             responses={202: {"model": AnswerRead, "description": "sent; the writer has not answered yet"}})
async def reject_offer(offer_id: Id, request: Request,
                       principal: Principal = require_token("routing.work")) -> JSONResponse:
    """Decline the offered work: it goes to the next agent, and I am not ready until I say so."""
    return await _answer(request, principal, offer_id, False)


# ---- supervisors ----------------------------------------------------------------------------------

@router.get("/routing/queues", response_model=list[QueueStatsRead])
def queue_stats(session: DbSession, principal: Principal = require("routing.supervise")) -> list[QueueStatsRead]:
    """The queues of my branch: waiting, offered and held items, and the oldest waiting one."""
    return [QueueStatsRead(queue=QueueRead.model_validate(q.queue), waiting=q.waiting, offered=q.offered,
                           assigned=q.assigned, oldest_since=q.oldest_since)
            for q in service.queue_stats(session, principal)]


@router.get("/routing/agents", response_model=list[AgentRow])
def agents(session: DbSession, principal: Principal = require("routing.supervise")) -> list[AgentRow]:
    """The agents of my subtree with their presence, queues, limits and what they hold."""
    out = []
    for user, row, held in service.agents_of(session, principal):
        out.append(AgentRow(user_id=user.id, display_name=user.display_name, org_unit_id=user.org_unit_id,
                            presence=row.presence if row else "offline", reason=row.reason if row else None,
                            queues=list(row.queues) if row else [], channels=dict(row.channels) if row else {},
                            capacity=row.capacity if row else routing_rules.CAPACITY, held=held))
    return out


@router.put("/routing/agents/{user_id}/presence", response_model=AgentStatusRead)
def set_agent_presence(user_id: Id, body: PresenceIn, session: DbSession,
                       principal: Principal = require("routing.supervise")) -> AgentStatusRead:
    """A supervisor sets an agent's presence (applied by the routing writer within moments)."""
    service.set_presence(session, principal, body.presence, body.reason, user_id=user_id)
    return status_read(session, user_id)


@router.patch("/routing/agents/{user_id}", response_model=AgentRow)
def move_agent(user_id: Id, body: AgentUpdate, session: DbSession,
               principal: Principal = require("routing.supervise")) -> AgentRow:
    """Move an agent: their queues, items per media or capacity, live."""
    row = service.update_agent(session, principal, user_id, queues=body.queues, channels=body.channels,
                               capacity=body.capacity)
    for user, r, held in service.agents_of(session, principal):
        if user.id == user_id and r is not None:
            return AgentRow(user_id=user.id, display_name=user.display_name, org_unit_id=user.org_unit_id,
                            presence=r.presence, reason=r.reason, queues=list(r.queues), channels=dict(r.channels),
                            capacity=r.capacity, held=held)
    return AgentRow(user_id=row.user_id, display_name="", org_unit_id=0, presence=row.presence, reason=row.reason,
                    queues=list(row.queues), channels=dict(row.channels), capacity=row.capacity, held=0)


# ---- administrators -------------------------------------------------------------------------------

@router.put("/routing/queues/{key}", response_model=QueueRead)
def save_queue(key: str, body: QueueIn, session: DbSession,
               principal: Principal = require("routing.admin")) -> QueueRead:
    """Create or change a queue (checked against the engine's rules before anything is stored)."""
    service.check_queue_key(key)
    row = service.save_queue(session, principal, service.QueueSpec(key=key, **body.model_dump()))
    return QueueRead.model_validate(row)


@router.post("/routing/queues/{key}/open", response_model=QueueRead)
def open_queue(key: str, session: DbSession, principal: Principal = require("routing.supervise")) -> QueueRead:
    return QueueRead.model_validate(service.set_queue_open(session, principal, key, True))


@router.post("/routing/queues/{key}/close", response_model=QueueRead)
def close_queue(key: str, session: DbSession, principal: Principal = require("routing.supervise")) -> QueueRead:
    """Close a queue: its items wait (or overflow, when it has an overflow queue)."""
    return QueueRead.model_validate(service.set_queue_open(session, principal, key, False))


@router.get("/routing/rules", response_model=list[RuleIO])
def get_rules(session: DbSession, principal: Principal = require("routing.supervise")) -> list[RuleIO]:
    """Which queue work goes to: the first rule that holds."""
    return [RuleIO.model_validate(r) for r in service.rules(session)]


@router.put("/routing/rules", response_model=list[RuleIO])
def put_rules(body: list[RuleIO], session: DbSession, principal: Principal = require("routing.admin")) -> list[RuleIO]:
    """Replace the rules, in order."""
    rows = service.set_rules(session, [routing_rules.Rule(r.queue_key, tuple(r.channels), tuple(r.types),
                                                          tuple(r.categories), tuple(r.tiers)) for r in body])
    return [RuleIO.model_validate(r) for r in rows]


@router.post("/routing/defaults", response_model=list[QueueRead])
def make_defaults(session: DbSession, principal: Principal = require("routing.admin")) -> list[QueueRead]:
    """A queue per media, a complaints queue, and their rules, for an installation that has none."""
    return [QueueRead.model_validate(q) for q in service.ensure_defaults(session, principal.org_unit_id)]
