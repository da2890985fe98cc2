"""The CTI API (thin): the switch posts call events; people read a call."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kefu.core.auth import Principal
from kefu.core.db import retrying
from kefu.core.deps import DbSession, require, require_token
from kefu.core.errors import Forbidden
from kefu.customers.phone import InvalidPhone, mask_phone, normalize_phone
from kefu.voice import service
from kefu.voice.schemas import CallRead, CallResultRead, CtiAccepted, CtiBatch

router = APIRouter(tags=["voice"])


def _lost_race(exc: BaseException) -> bool:
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


@router.post("/cti/events", response_model=CtiAccepted)
async def post_cti_events(batch: CtiBatch, session: DbSession,
                          principal: Principal = require_token("inbound.post")) -> CtiAccepted:
    """Call events from the switch's CTI link (one or a batch of up to 1,000, any order, duplicates
    counted once). The calls belong to the gateway's org unit. A token scoped to channels needs
    `inbound:voice`."""
    if not principal.can_post_inbound("voice"):
        raise Forbidden("this token may not post voice events", code="channel_not_allowed",
                        details={"channel": "voice"})
    events = [e.event() for e in batch.events]

    def work() -> list[service.CallResult]:
        return service.ingest(session, events, org_unit_id=principal.org_unit_id)

    results = await run_in_threadpool(retrying, session, work, lost_race=_lost_race)
    return CtiAccepted(accepted=sum(r.accepted for r in results), duplicates=sum(r.duplicates for r in results),
                       calls=[CallResultRead(call_id=r.call_id, interaction_id=r.interaction_id, accepted=r.accepted,
                                             duplicates=r.duplicates, phase=r.phase) for r in results])


def _masked(ani: str | None) -> str | None:
    if ani is None:
        return None
    try:
        return mask_phone(normalize_phone(ani))
    except InvalidPhone:
        return "***"


@router.get("/voice/calls/{call_id}", response_model=CallRead)
def get_call(call_id: str, session: DbSession, principal: Principal = require("interactions.read")) -> CallRead:
    """A call as its CTI events say: IVR path, queue, talk and hold time, recording."""
    call = CallRead.model_validate(service.get_visible(session, principal, call_id))
    if not principal.can("pii"):
        call.ani = _masked(call.ani)
    return call
