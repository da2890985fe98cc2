"""Collaboration's periodic job: consults past their due time are reported once (`consult.overdue`)."""

from __future__ import annotations

import logging

from kefu.jobs import JobContext, job

log = logging.getLogger(__name__)


@job("collaboration.overdue", queue="maintenance", cron="* * * * *")
def overdue(ctx: JobContext) -> None:
    """Every minute: record consult.overdue for the open consults whose due time has passed."""
    from kefu.collaboration import service

    ids = service.mark_overdue(ctx.session, at=ctx.now)
    if ids:
        log.info("%d consult(s) overdue: %s", len(ids), ids)
