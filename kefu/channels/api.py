"""Inbound channel endpoints (thin: parse, check permission, call the service).

The body is parsed here rather than by FastAPI so that a refused payload (malformed, missing a
field, too large, from an invalid sender, for an unknown channel) is recorded for inspection in a
transaction of its own before the error is answered.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from kefu.channels import inbound
from kefu.channels.schemas import InboundAccepted, RejectionPage, RejectionRead
from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.deps import AppSettings, DbSession, Paging, require
from kefu.core.errors import InvalidInput, NotFound, PayloadTooLarge

router = APIRouter(tags=["channels"])

# Refused before parsing: a body this much larger than the text limit cannot hold an acceptable message.
_ENVELOPE_BYTES = 64 * 1024


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


@router.post("/inbound/{channel}", response_model=InboundAccepted, status_code=201,
             responses={200: {"model": InboundAccepted, "description": "the same message, received before"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": inbound.InboundMessage.model_json_schema()}}}})
def post_inbound(channel: str, request: Request, response: Response, raw: RawBody, session: DbSession,
                 settings: AppSettings, principal: Principal = require("inbound.post")) -> InboundAccepted:
    """Receive one message from a channel gateway: 201 when stored, 200 when it was stored before."""
    try:
        inbound.check_channel(channel)
        if len(raw) > settings.max_message_bytes * 4 + _ENVELOPE_BYTES:
            raise inbound.MessageTooLarge(f"payload is {len(raw)} bytes; the message limit is "
                                          f"{settings.max_message_bytes}", details={"bytes": len(raw)})
        msg = _parse(raw)
        result = inbound.receive_retrying(session, settings, channel, msg)
    except (NotFound, PayloadTooLarge, InvalidInput) as exc:
        _reject(request, session, settings, channel, exc.status, f"{exc.code}: {exc.message}", raw)
        raise
    except RequestValidationError as exc:
        _reject(request, session, settings, channel, 422, _validation_reason(exc), raw)
        raise
    if result.duplicate:
        response.status_code = 200
    return InboundAccepted(customer_id=result.customer_id, interaction_id=result.interaction_id,
                           message_id=result.message_id, ticket_id=result.ticket_id)


@router.get("/inbound/rejections", response_model=RejectionPage)
def list_rejections(session: DbSession, page: Paging, channel: str | None = None,
                    principal: Principal = require("org.admin")) -> RejectionPage:
    rows, total = inbound.list_rejections(session, channel=channel, limit=page.limit, offset=page.offset)
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


def _reject(request: Request, session: DbSession, settings: Settings, channel: str, status: int, reason: str,
            raw: bytes) -> None:
    """Keep the refused payload, committed on its own: the request's transaction is rolled back."""
    session.rollback()
    db: Database = request.app.state.db
    with db.unit_of_work() as s:
        inbound.record_rejection(s, channel, status_code=status, reason=reason, payload=raw)
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()

