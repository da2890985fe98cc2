"""How much of an inbound channel request is read: the limit, and a body read that stops at it; and how
many refused anonymous callbacks of one address are kept (`count_refusal`).

Shared by the gateway endpoint (`POST /inbound/{channel}`, kefu/channels/api.py) and the providers'
webhooks (kefu/channels/webhooks.py): both read a body only after authenticating, and never more than
`body_limit` (+1 byte, to know it was exceeded).
"""

from __future__ import annotations

import time

from starlette.requests import Request

from kefu.core.config import Settings
from kefu.core.errors import KefuError
from kefu.core.ratelimit import rate_limiter

# Refused while streaming: a body this much larger than the text limit cannot hold an acceptable message.
_ENVELOPE_BYTES = 64 * 1024


def body_limit(settings: Settings) -> int:
    """The largest inbound request body read: the text limit (4 bytes a character at most) plus the
    JSON envelope around it."""
    return settings.max_message_bytes * 4 + _ENVELOPE_BYTES


async def read_limited(request: Request, limit: int) -> tuple[bytes, int]:
    """The body, or its first `limit` + 1 bytes when it is larger (then the size is what Content-Length
    claimed or what was read before stopping). Stops reading at the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return b"", int(declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            break
    return b"".join(chunks), size


class TooManyRefusals(KefuError):
    status = 429
    code = "too_many_refusals"


def _refusals_key(request: Request) -> str:
    return f"webhook:refused:{request.client.host if request.client else '-'}"


def count_refusal(request: Request) -> None:
    """Count one refused anonymous callback of the request's address; TooManyRefusals (429) once the
    address has sent its minute's `webhook_refusals_per_ip_per_minute`: the caller then keeps nothing.
    Only refusals count, so a provider's good callbacks from the same address (or through the same proxy)
    are never held up by someone else's forged ones."""
    settings: Settings = request.app.state.settings
    limit = settings.webhook_refusals_per_ip_per_minute
    if not rate_limiter(request.app.state, settings).hit(_refusals_key(request), limit, 60, time.time()):
        raise TooManyRefusals(f"more than {limit} refused callbacks from this address in a minute: none is "
                              "kept until the minute is over; check the account's configuration")
