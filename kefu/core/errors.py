"""One error base; every domain names its own. One handler renders them as JSON:

    {"error": {"code": "ticket_not_found", "message": "...", "details": {...}}}
"""

from __future__ import annotations

from typing import Any


class KefuError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(KefuError):
    status = 404
    code = "not_found"


class Conflict(KefuError):
    status = 409
    code = "conflict"


class Forbidden(KefuError):
    status = 403
    code = "forbidden"


class Unauthorized(KefuError):
    status = 401
    code = "unauthorized"


class InvalidInput(KefuError):
    """Well-formed payload whose content is unacceptable (a phone number that is no number, ...)."""

    status = 422
    code = "invalid_input"


class PayloadTooLarge(KefuError):
    status = 413
    code = "payload_too_large"
