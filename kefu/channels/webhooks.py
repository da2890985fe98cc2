"""Provider callbacks, each in its provider's own format (thin: read, hand to the adapter, ingest).

The WeChat callback is authenticated by its signature (WeChat presents no token); it is answered
"success" as soon as the message is stored (the 5-second rule) and the agent's reply goes later
through the customer-service API (kefu.channels.outbound).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from kefu.channels import config, sms, wechat
from kefu.channels.adapters import BadPayload, Parsed
from kefu.channels.ingest import Ingested, ingest, reject
from kefu.channels.limits import body_limit, count_refusal, read_limited
from kefu.core.auth import Principal
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.deps import require_token
from kefu.core.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge

router = APIRouter(tags=["channels"])
Q = Annotated[str, Query(max_length=512)]
_XML = {"content": {"application/xml": {"schema": {"type": "string"}}}}


#: What a provider's callback may be refused with (the social callbacks of kefu.channels.social_api too).
REFUSED: dict[int | str, dict[str, str]] = {
    403: {"description": "bad signature"}, 404: {"description": "channel not configured"},
    429: {"description": "refused, and too many refused callbacks from this address in a minute to keep it"}}


@router.get("/channels/wechat", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}, "description": "the echostr"}, **REFUSED})
def wechat_verify(request: Request, signature: Q = "", timestamp: Q = "", nonce: Q = "",
                  echostr: Q = "", org: Annotated[str, Query(max_length=32)] = "") -> PlainTextResponse:
    """WeChat's server URL verification: echostr back when the signature of token/timestamp/nonce holds.
    `org`: the org unit whose account this URL is (its configuration on the console; default the top)."""
    settings = _account(request, org)
    try:
        return PlainTextResponse(wechat.verify_url(settings, signature=signature, timestamp=timestamp,
                                                   nonce=nonce, echostr=echostr))
    except BadPayload as exc:
        count_refusal(request)
        reject(request.app.state.db, settings, wechat.CHANNEL, status=exc.status, reason=f"{exc.code}: {exc.message}",
               payload=str(request.url.query).encode())
        raise


@router.post("/channels/wechat", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {}}, "description": "success"},
                        413: {"description": "payload too large"}, **REFUSED},
             openapi_extra={"requestBody": {"required": True, **_XML}})
async def wechat_callback(request: Request) -> PlainTextResponse:
    """A message or event of a WeChat user (plain or safe mode): stored, answered "success"."""
    query = dict(request.query_params)
    code = query.get("org", "")[:32] or None

    def parse(raw: bytes) -> Parsed:
        parsed = wechat.parse(_account(request, code), query, raw)
        if code is not None:
            parsed.messages = [m if m.org_unit_code else m.model_copy(update={"org_unit_code": code})
                               for m in parsed.messages]
        return parsed

    await accept(request, wechat.CHANNEL, parse)
    return PlainTextResponse("success")


def _account(request: Request, code: str | None) -> Settings:
    """The WeChat settings of the unit named in the callback URL (console configuration over KEFU_*)."""
    db: Database = request.app.state.db
    with db.session() as s:
        return config.settings_for_code(s, request.app.state.settings, wechat.CHANNEL, code or None)


_JSON = {"content": {"application/json": {"schema": {"type": "object"}}}}


@router.post("/channels/sms/mo", status_code=202, openapi_extra={"requestBody": {"required": True, **_JSON}})
async def sms_mo(request: Request, principal: Principal = require_token("inbound.post")) -> dict[str, int]:
    """Messages from handsets (MO) posted by the HTTP SMS gateway; parts of a long SMS are kept until
    all have arrived. Answers how many whole messages were stored."""
    _may_post_sms(principal)
    done = await accept(request, sms.CHANNEL, sms.parse_mo, principal=principal)
    return {"stored": sum(1 for r in done.results if not r.duplicate),
            "duplicates": sum(1 for r in done.results if r.duplicate)}


@router.post("/channels/sms/reports", status_code=202, openapi_extra={"requestBody": {"required": True, **_JSON}})
async def sms_reports(request: Request, principal: Principal = require_token("inbound.post")) -> dict[str, int]:
    """Delivery reports of the HTTP SMS gateway, one per message id it answered a submission with."""
    _may_post_sms(principal)
    done = await accept(request, sms.CHANNEL, sms.parse_reports, principal=principal)
    return {"matched": done.reports}


def _may_post_sms(principal: Principal) -> None:
    if not principal.can_post_inbound(sms.CHANNEL):
        raise Forbidden("this token may not post on channel 'sms'", code="channel_not_allowed",
                        details={"channel": sms.CHANNEL})


async def accept(request: Request, channel: str, parse: Callable[[bytes], Parsed], *,
                 principal: Principal | None = None) -> Ingested:
    """Read the body (bounded), parse it with the adapter and ingest it; a refusal is kept and raised.
    A refused anonymous callback (a provider's: its signature is its authentication) is answered 429 and
    not kept once its address has sent a minute's refused callbacks (kefu.channels.limits)."""
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    limit = body_limit(settings)
    raw, size = await read_limited(request, limit)

    def work() -> Ingested:
        try:
            if size > limit:
                raise PayloadTooLarge(f"payload is {size} bytes; the limit is {limit}", code="message_too_large")
            return ingest(db, settings, channel, parse(raw), principal=principal)
        except (InvalidInput, NotFound, PayloadTooLarge) as exc:
            if principal is None:
                count_refusal(request)
            reject(db, settings, channel, status=exc.status, reason=f"{exc.code}: {exc.message}", payload=raw,
                   principal=principal)
            raise

    done = await run_in_threadpool(work)
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()
    return done
