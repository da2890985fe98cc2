"""Outbound delivery jobs: the first attempt of each reply, and the retries that fall due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from kefu.channels import inbound, outbound, sms
from kefu.channels.models import SmsFragment
from kefu.jobs import JobContext, job

RETRY_BATCH = 100


@job("channels.deliver", queue="channels")
def deliver(ctx: JobContext, *, delivery_id: int) -> None:
    outbound.attempt(ctx.session, ctx.settings, delivery_id, now=ctx.now)


@job("channels.retry", queue="channels", cron="* * * * *")
def retry(ctx: JobContext) -> None:
    """Every minute: the queued deliveries whose back-off has passed (also any whose first job was lost),
    and the delivery reports held because they came before their send was recorded."""
    for delivery_id in outbound.due(ctx.session, ctx.now, limit=RETRY_BATCH):
        outbound.attempt(ctx.session, ctx.settings, delivery_id, now=ctx.now)
    outbound.apply_held(ctx.session, now=ctx.now)


FRAGMENT_WAIT = timedelta(minutes=10)


@job("channels.sms_fragments", queue="channels", cron="*/5 * * * *")
def stale_fragments(ctx: JobContext) -> None:
    """Long SMS whose missing parts did not come within FRAGMENT_WAIT: stored with the gaps marked
    (never lost), through the generic inbound path, and their parts removed."""
    s = ctx.session
    groups = s.execute(select(SmsFragment.sender, SmsFragment.ref, SmsFragment.total)
                       .group_by(SmsFragment.sender, SmsFragment.ref, SmsFragment.total)
                       .having(func.min(SmsFragment.received_at) < ctx.now - FRAGMENT_WAIT).limit(100)).all()
    for sender, ref, total in groups:
        where = (SmsFragment.sender == sender, SmsFragment.ref == ref, SmsFragment.total == total)
        rows = s.scalars(select(SmsFragment).where(*where)).all()
        parts = [sms.Fragment(r.message_id, r.sender, r.ref, r.total, r.seq, r.text) for r in rows]
        whole = sms.assemble(parts) or sms.assemble_partial(parts)
        inbound.receive(s, ctx.settings, sms.CHANNEL, whole, at=ctx.now)
        s.execute(delete(SmsFragment).where(*where))
