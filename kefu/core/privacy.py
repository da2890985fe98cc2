"""Who is looking, for the masking of personal data in responses (PIPL).

Each HTTP request gets a `Viewer` (an ASGI middleware puts it in a context variable); the dependency that
resolves the principal records on it whether the principal holds `pii`. Response schemas whose free text may
hold phone or ID numbers (`kefu.customers.pii.FreeText`) read it when they are serialised, so every endpoint
that returns them masks them for roles without `pii`, with no code of its own.

Inside a request the viewer starts masked and is cleared only by a principal holding `pii`. Outside a request
(the CLI, jobs, tests calling services) there is no viewer and nothing is masked.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class Viewer:
    sees_pii: bool = False


_viewer: ContextVar[Viewer | None] = ContextVar("kefu_viewer", default=None)


def current_viewer() -> Viewer | None:
    return _viewer.get()


def record_viewer(sees_pii: bool) -> None:
    """Called where the request's principal is resolved. The viewer is shared by reference, so this reaches the
    serialisation of the response even from a dependency run in a worker thread."""
    viewer = _viewer.get()
    if viewer is not None:
        viewer.sees_pii = sees_pii


def must_mask() -> bool:
    viewer = _viewer.get()
    return viewer is not None and not viewer.sees_pii


class ViewerScope:
    """ASGI middleware: a fresh, masked viewer for each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _viewer.set(Viewer())
        try:
            await self.app(scope, receive, send)
        finally:
            _viewer.reset(token)
