"""The SLA scan: every minute, warnings and breaches that came due (kefu.sla.service.scan)."""

from __future__ import annotations

import logging

from kefu.jobs import JobContext, job

log = logging.getLogger(__name__)


@job("sla.scan", queue="maintenance", cron="* * * * *")
def scan(ctx: JobContext) -> None:
    from kefu.sla import service

    warned, breached = service.scan(ctx.session, at=ctx.now)
    if warned or breached:
        log.info("sla: %d warning(s), %d breach(es)", warned, breached)


@job("sla.surveys_expire", queue="maintenance", cron="17 * * * *")
def surveys_expire(ctx: JobContext) -> None:
    """Hourly: surveys nobody answered in time count as not answered."""
    from kefu.sla import surveys

    n = surveys.expire(ctx.session, at=ctx.now)
    if n:
        log.info("sla: %d survey(s) expired unanswered", n)
