"""The routing domain's errors."""

from __future__ import annotations

from kefu.core.errors import InvalidInput


class RoutingConfigError(InvalidInput, ValueError):
    """A routing configuration the engine cannot run: an unknown overflow target, a cycle of overflows,
    rings out of order, a negative aging rate, an item for a queue that does not exist.
    """

    code = "routing_invalid_config"

    def __init__(self, message: str) -> None:
        super().__init__(message)
