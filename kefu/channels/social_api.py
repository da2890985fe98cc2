"""Weibo and QQ callbacks (thin: the signature with the unit's secret, the adapter's parse, ingest, and
public mentions flagged). Authenticated by the providers' signatures, like WeChat's; `?org=<code>` names
the unit whose account the URL is (its configuration on the console; default the top unit)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from kefu.channels import config, qq, weibo
from kefu.channels.adapters import BadPayload, Parsed
from kefu.channels.ingest import Ingested, reject
from kefu.channels.limits import count_refusal
from kefu.channels.webhooks import REFUSED, accept
from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.db import Database
from kefu.tickets import service as tickets

router = APIRouter(tags=["channels"])
Q = Annotated[str, Query(max_length=512)]
Org = Annotated[str, Query(max_length=32)]
_JSON = {"content": {"application/json": {"schema": {"type": "object"}}}}


def _secret(request: Request, channel: str, code: str | None, name: str) -> str | None:
    """The unit's secret `name` of the channel (its console configuration over KEFU_*)."""
    db: Database = request.app.state.db
    with db.session() as s:
        value = getattr(config.settings_for_code(s, request.app.state.settings, channel, code or None), name)
    return value.get_secret_value() if value is not None else None


@router.get("/channels/weibo", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}, "description": "the echostr"}, **REFUSED})
def weibo_verify(request: Request, signature: Q = "", timestamp: Q = "", nonce: Q = "", echostr: Q = "",
                 org: Org = "") -> PlainTextResponse:
    """The fans-service platform's URL check: echostr back when the signature holds."""
    try:
        weibo.check_signature(_secret(request, weibo.CHANNEL, org, "weibo_app_secret"), signature, timestamp,
                              nonce)
    except BadPayload as exc:
        count_refusal(request)
        reject(request.app.state.db, request.app.state.settings, weibo.CHANNEL, status=exc.status,
               reason=f"{exc.code}: {exc.message}", payload=str(request.url.query).encode())
        raise
    return PlainTextResponse(echostr)


@router.post("/channels/weibo", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {}}, "description": "success"},
                        413: {"description": "payload too large"}, **REFUSED},
             openapi_extra={"requestBody": {"required": True, **_JSON}})
async def weibo_push(request: Request, signature: Q = "", timestamp: Q = "", nonce: Q = "",
                     org: Org = "") -> PlainTextResponse:
    """A private message, an event or a public mention of the account: stored, answered "success"."""
    mentions: list[dict[str, Any]] = []

    def parse(raw: bytes) -> Parsed:
        weibo.check_signature(_secret(request, weibo.CHANNEL, org, "weibo_app_secret"), signature, timestamp,
                              nonce)
        parsed, found = weibo.parse(raw)
        mentions.extend(found)
        return _placed(parsed, org)

    done = await accept(request, weibo.CHANNEL, parse)
    await run_in_threadpool(flag_mentions, request.app.state.db, weibo.CHANNEL, done, mentions, raise_priority=True)
    return PlainTextResponse("success")


@router.post("/channels/qq", responses={200: {"description": "the ACK (op 12) or the URL check's answer"},
                                         413: {"description": "payload too large"}, **REFUSED},
             openapi_extra={"requestBody": {"required": True, **_JSON}})
async def qq_callback(request: Request, org: Org = "") -> JSONResponse:
    """A QQ bot callback: the URL check (op 13) or a private / group-mention message (op 0)."""
    signature = request.headers.get("x-signature-ed25519", "")[:256]
    timestamp = request.headers.get("x-signature-timestamp", "")[:64]
    mentions: list[dict[str, Any]] = []
    answer: dict[str, str] = {}

    def parse(raw: bytes) -> Parsed:
        secret = _secret(request, qq.CHANNEL, org, "qq_bot_secret")
        qq.verify(secret, signature, timestamp, raw)
        assert secret is not None
        check = qq.validation_answer(secret, raw)
        if check is not None:
            answer.update(check)
            return Parsed()
        parsed, found = qq.parse(raw)
        mentions.extend(found)
        return _placed(parsed, org)

    done = await accept(request, qq.CHANNEL, parse)
    if answer:
        return JSONResponse(answer)
    await run_in_threadpool(flag_mentions, request.app.state.db, qq.CHANNEL, done, mentions, raise_priority=False)
    return JSONResponse({"op": 12})


def _placed(parsed: Parsed, code: str) -> Parsed:
    if code:
        parsed.messages = [m if m.org_unit_code else m.model_copy(update={"org_unit_code": code})
                           for m in parsed.messages]
    return parsed


def flag_mentions(db: Database, channel: str, done: Ingested, mentions: list[dict[str, Any]], *,
                  raise_priority: bool) -> int:
    """Public mentions: the event `channel.public_mention` on the ticket, and (Weibo: seen by everyone and
    the media) the ticket raised to at least high priority. A repeated push flags nothing again."""
    if not mentions:
        return 0
    from kefu.tickets.models import PRIORITIES

    flagged = 0
    with db.unit_of_work() as s:
        for result, mention in zip(done.results, mentions, strict=False):  # a push carries one message
            if result.duplicate or result.ticket_id is None:
                continue
            t = tickets.get(s, result.ticket_id)
            if t is None:
                continue
            raised = raise_priority and PRIORITIES.index(t.priority) < PRIORITIES.index("high")
            if raised:
                tickets.update(s, t.id, actor_id=None, priority="high", reason="公开提及（舆情）")
            events.record(s, "channel.public_mention", {
                "channel": channel, "ticket_id": t.id, "message_id": result.message_id, "public": raise_priority,
                "media": raise_priority, "subtype": mention["subtype"], "key": mention["key"],
                "raised_priority": raised}, aggregate_type="ticket", aggregate_id=t.id, org_unit_id=t.org_unit_id,
                at=utcnow())
            flagged += 1
    return flagged

