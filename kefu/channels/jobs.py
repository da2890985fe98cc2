"""Outbound delivery jobs: the first attempt of each reply, and the retries that fall due."""

from __future__ import annotations

from kefu.channels import outbound
from kefu.jobs import JobContext, job

RETRY_BATCH = 100


@job("channels.deliver", queue="channels")
def deliver(ctx: JobContext, *, delivery_id: int) -> None:
    outbound.attempt(ctx.session, ctx.settings, delivery_id, now=ctx.now)


@job("channels.retry", queue="channels", cron="* * * * *")
def retry(ctx: JobContext) -> None:
    """Every minute: the queued deliveries whose back-off has passed (also any whose first job was lost)."""
    for delivery_id in outbound.due(ctx.session, ctx.now, limit=RETRY_BATCH):
        outbound.attempt(ctx.session, ctx.settings, delivery_id, now=ctx.now)
