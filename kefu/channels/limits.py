"""How much of an inbound channel request is read: the limit, and a body read that stops at it.

Shared by the gateway endpoint (`POST /inbound/{channel}`, kefu/channels/api.py) and the providers'
webhooks (kefu/channels/webhooks.py): both read a body only after authenticating, and never more than
`body_limit` (+1 byte, to know it was exceeded).
"""

from __future__ import annotations

from starlette.requests import Request

from kefu.core.config import Settings

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
