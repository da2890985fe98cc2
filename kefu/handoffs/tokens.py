"""Signed, expiring handoff tokens. Pure: no database, no clock (time comes in).

A token is `<handoff id>.<expiry, Unix seconds>.<signature>`, the signature an HMAC-SHA256 of the first two
parts under the installation's secret key, base64url without padding, cut to 128 bits. Anyone holding the
token may open the handoff until it expires; nobody can make one for another handoff or stretch its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from kefu.core.errors import KefuError, NotFound


class TokenInvalid(NotFound):
    """A token that is not ours (or was tampered with) is answered as a missing page."""

    code = "handoff_not_found"


class TokenExpired(KefuError):
    code = "handoff_expired"
    status = 410


def _sig(secret: bytes, body: str) -> str:
    mac = hmac.new(secret, b"kefu-handoff\x00" + body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign(secret: bytes, handoff_id: int, expires_at: datetime) -> str:
    body = f"{handoff_id}.{int(expires_at.timestamp())}"
    return f"{body}.{_sig(secret, body)}"


def verify(secret: bytes, token: str, *, now: datetime) -> int:
    """The handoff id of a genuine, unexpired token; TokenInvalid or TokenExpired otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(token) > 200:
        raise TokenInvalid("no such handoff")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _sig(secret, body)):
        raise TokenInvalid("no such handoff")
    if datetime.fromtimestamp(int(parts[1]), UTC) <= now:
        raise TokenExpired("this link has expired; call us or ask for a new one")
    return int(parts[0])
