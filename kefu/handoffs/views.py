"""The page a customer opens from a handoff link (no login: the signed token is the key).

    GET  /h/{token}            the task, marked opened
    POST /h/{token}/complete   the customer finished it here
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kefu.core.deps import DbSession
from kefu.core.errors import KefuError
from kefu.handoffs import service

router = APIRouter(include_in_schema=False)


def _templates() -> Jinja2Templates:
    from pathlib import Path

    return Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _secret(request: Request) -> bytes:
    return str(request.app.state.settings.secret_key.get_secret_value()).encode()


def _page(request: Request, *, handoff: object = None, token: str = "", error: str | None = None,
          status: int = 200) -> HTMLResponse:
    return _templates().TemplateResponse(request, "handoff.html", {"h": handoff, "token": token, "error": error},
                                         status_code=status)


@router.get("/h/{token}")
def open_link(request: Request, token: str, session: DbSession) -> HTMLResponse:
    try:
        h = service.opened(session, service.by_token(session, token, secret=_secret(request)))
    except KefuError as exc:
        return _page(request, error=exc.message, status=exc.status)
    return _page(request, handoff=h, token=token)


@router.post("/h/{token}/complete")
def complete(request: Request, token: str, session: DbSession) -> HTMLResponse:
    try:
        h = service.complete(session, service.by_token(session, token, secret=_secret(request)))
    except KefuError as exc:
        return _page(request, error=exc.message, status=exc.status)
    return _page(request, handoff=h, token=token)
