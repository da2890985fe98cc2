"""The workforce domain's error."""

from __future__ import annotations

from kefu.core.errors import InvalidInput


class WorkforceInputError(InvalidInput, ValueError):
    """Input a workforce calculation cannot accept: a non-positive rate, a target outside (0, 1),
    a target no number of agents can meet, a malformed call-log row.
    """

    code = "workforce_invalid_input"

    def __init__(self, message: str) -> None:
        super().__init__(message)
