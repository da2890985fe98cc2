"""Quality's periodic work: daily warnings of skill certificates about to expire."""

from __future__ import annotations

import logging

from kefu.jobs import JobContext, job

log = logging.getLogger(__name__)


@job("quality.certificate_expiry", queue="maintenance", cron="5 7 * * *")
def certificate_expiry(ctx: JobContext) -> None:
    """Daily: certificate.expiring once per certificate ending within 30 days and not renewed."""
    from kefu.quality import certification

    ids = certification.warn_expiring(ctx.session, at=ctx.now)
    if ids:
        log.info("quality: %d certificate(s) expiring soon", len(ids))
