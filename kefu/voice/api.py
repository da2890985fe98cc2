"""The CTI API (thin): the switch posts call events; people read a call."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from kefu.core.auth import Principal
from kefu.core.db import retrying
from kefu.core.deps import DbSession, require, require_token
from kefu.core.errors import Forbidden
from kefu.customers.phone import InvalidPhone, mask_phone, normalize_phone
from kefu.voice import ivr, service
from kefu.voice.schemas import CallRead, CallResultRead, CtiAccepted, CtiBatch, IvrMenu, IvrNodeIn, IvrNodeRead

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
    named = ivr.names_of(session, [step["node"] for step in call.ivr_path])
    call.ivr_path = [{**step, "name": named[step["node"]].name if step["node"] in named else None}
                     for step in call.ivr_path]
    if not principal.can("pii"):
        call.ani = _masked(call.ani)
    return call


# ---- the IVR menu ----------------------------------------------------------------------------------

def _read(t: ivr.TreeNode) -> IvrNodeRead:
    n = t.node
    return IvrNodeRead(key=n.key, name=n.name, name_en=n.name_en, kind=n.kind, digit=n.digit, service=n.service,
                       queue_key=n.queue_key, handoff_channel=n.handoff_channel, position=n.position,
                       children=[_read(c) for c in t.children])


@router.get("/voice/ivr", response_model=IvrMenu)
def get_ivr(session: DbSession, principal: Principal = require("interactions.read")) -> IvrMenu:
    """The hotline's IVR menu as a tree."""
    return IvrMenu(roots=[_read(t) for t in ivr.tree(session)])


@router.put("/voice/ivr/nodes/{key}", response_model=IvrNodeRead)
def put_ivr_node(key: str, body: IvrNodeIn, session: DbSession,
                 principal: Principal = require("voice.admin", group_level=True)) -> IvrNodeRead:
    """Create or change a node of the IVR menu (audited)."""
    from kefu.org import audit

    row = ivr.save_node(session, ivr.NodeSpec(key=key, **body.model_dump()))
    audit.record(session, "voice.ivr_node_saved", object_type="ivr_node", object_id=row.id,
                 details={"key": key, "kind": row.kind})
    return _read(ivr.TreeNode(row, 0))


@router.delete("/voice/ivr/nodes/{key}", status_code=204, response_model=None)
def delete_ivr_node(key: str, session: DbSession,
                    principal: Principal = require("voice.admin", group_level=True)) -> None:
    """Delete a node without nodes under it (409 ivr_node_in_use otherwise; audited)."""
    from kefu.org import audit

    row = ivr.node(session, key)
    audit.record(session, "voice.ivr_node_deleted", object_type="ivr_node", object_id=row.id, details={"key": key})
    ivr.delete_node(session, key)
