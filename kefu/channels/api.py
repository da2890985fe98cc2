"""Inbound channel endpoints (thin: authenticate, read, call the service).

`POST /inbound/{channel}` is the hot path of every channel gateway, so it is written for it: the
gateway is authenticated before a byte of the body is read (an anonymous client cannot make the
server buffer anything), the body is read with a limit while it streams in (413 as soon as it is
exceeded, whatever Content-Length claimed), and the database work runs in one worker-thread hop
(kefu.core.hop, cheaper than anyio's) with its own transaction, retried whole when a concurrent request
won a race. A refused payload (malformed, missing a field, too large, NUL characters, an invalid sender,
an unknown channel or org unit) is recorded for inspection in a transaction of its own, placed in the
gateway's org unit, before the error is answered. Unauthenticated or unauthorised posts are answered
401/403 and not recorded: they are nobody's messages, and recording them would let anyone fill the table.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from kefu.channels import inbound, outbound
from kefu.channels.limits import body_limit, read_limited
from kefu.channels.schemas import DeliveryRead, InboundAccepted, RejectionPage, RejectionRead
from kefu.core import hop
from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.deps import DbSession, Id, Paging, require, require_token
from kefu.core.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from kefu.interactions.models import CHANNELS

router = APIRouter(tags=["channels"])

PERMISSION = "inbound.post"


@router.post("/inbound/{channel}", response_model=InboundAccepted, status_code=201,
             responses={200: {"model": InboundAccepted, "description": "the same message, received before"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": inbound.InboundMessage.model_json_schema()}}}})
async def post_inbound(channel: str, request: Request,
                       principal: Principal = require_token(PERMISSION)) -> JSONResponse:
    """Receive one message from a channel gateway: 201 when stored, 200 when it was stored before.
    A gateway token scoped to channels (`inbound:sms`) may post on those only (403 channel_not_allowed)."""
    settings: Settings = request.app.state.settings
    if channel in CHANNELS and not principal.can_post_inbound(channel):
        raise Forbidden(f"this token may not post on channel '{channel}'", code="channel_not_allowed",
                        details={"channel": channel})
    limit = body_limit(settings)
    raw, size = await read_limited(request, limit)
    result = await hop.run(_store, request, channel, raw, size, limit, principal)
    body = {"customer_id": result.customer_id, "interaction_id": result.interaction_id,
            "message_id": result.message_id, "ticket_id": result.ticket_id}
    return JSONResponse(body, status_code=200 if result.duplicate else 201)


def _store(request: Request, channel: str, raw: bytes, size: int, limit: int,
           principal: Principal) -> inbound.InboundResult:
    """Check, parse and receive in one transaction (retried after a lost race); on refusal, record it."""
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    try:
        inbound.check_channel(channel)
        if size > limit:
            raise inbound.MessageTooLarge(f"payload is {size} bytes; the message limit is "
                                          f"{settings.max_message_bytes}", details={"bytes": size})
        msg = _parse(raw)
        with db.unit_of_work() as s:
            result = inbound.receive_retrying(s, settings, channel, msg, principal=principal)
    except (NotFound, PayloadTooLarge, InvalidInput) as exc:
        _reject(request, channel, exc.status, f"{exc.code}: {exc.message}", raw, size, principal)
        raise
    except RequestValidationError as exc:
        _reject(request, channel, 422, _validation_reason(exc), raw, size, principal)
        raise
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None and not result.duplicate:
        dispatcher.wake()
    return result


@router.get("/inbound/rejections", response_model=RejectionPage)
def list_rejections(session: DbSession, page: Paging, channel: str | None = None,
                    principal: Principal = require("org.admin")) -> RejectionPage:
    """Refused inbound payloads of the gateways in the caller's org subtree, newest first."""
    rows, total = inbound.list_rejections(session, principal, channel=channel, limit=page.limit,
                                          offset=page.offset)
    return RejectionPage(items=[RejectionRead.model_validate(r) for r in rows], total=total,
                         limit=page.limit, offset=page.offset)


def _parse(raw: bytes) -> inbound.InboundMessage:
    try:
        return inbound.InboundMessage.model_validate_json(raw)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def _validation_reason(exc: RequestValidationError) -> str:
    errs = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errs):
        return "malformed_json: the request body is not valid JSON"
    names = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) or "body" for e in errs)
    return f"validation_error: invalid or missing field(s): {names}"


def _reject(request: Request, channel: str, status: int, reason: str, raw: bytes, size: int,
            principal: Principal) -> None:
    """Keep the refused payload, committed on its own (the message's transaction was rolled back)."""
    db: Database = request.app.state.db
    with db.unit_of_work() as s:
        inbound.record_rejection(s, channel, status_code=status, reason=reason, payload=raw, payload_bytes=size,
                                 org_unit_id=principal.org_unit_id)
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()



@router.get("/interactions/{interaction_id}/deliveries", response_model=list[DeliveryRead])
def list_deliveries(interaction_id: Id, session: DbSession,
                    principal: Principal = require("interactions.read")) -> list[DeliveryRead]:
    """The delivery status of each outbound message of the interaction, in message order."""
    from kefu.interactions import service as interactions

    it = interactions.get_visible(session, principal, interaction_id)
    found = outbound.of_messages(session, (m.id for m in it.messages if m.direction == "outbound"))
    return [DeliveryRead.model_validate(found[m.id]) for m in it.messages if m.id in found]


def _include_webhooks() -> None:
    from kefu.channels import social_api, webchat_api, webhooks

    router.include_router(webhooks.router)
    router.include_router(social_api.router)
    router.include_router(webchat_api.router)


_include_webhooks()
