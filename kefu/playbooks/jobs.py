"""Playbooks' periodic job: steps of active runs past their deadline are reported once."""

from __future__ import annotations

import logging

from kefu.jobs import JobContext, job

log = logging.getLogger(__name__)


@job("playbooks.overdue_steps", queue="maintenance", cron="* * * * *")
def overdue_steps(ctx: JobContext) -> None:
    """Every minute: record playbook.step_overdue for pending steps past their deadline."""
    from kefu.playbooks import service

    ids = service.mark_overdue_steps(ctx.session, at=ctx.now)
    if ids:
        log.info("%d playbook step(s) overdue: %s", len(ids), ids)
