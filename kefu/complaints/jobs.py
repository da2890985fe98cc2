"""Weekly: refit the customer segments on kefu's customers and reassign every customer
(kefu.complaints.customer_segments.fit_and_assign)."""

from __future__ import annotations

import logging

from kefu.jobs import JobContext, job

log = logging.getLogger(__name__)


@job("complaints.segments", queue="maintenance", cron="40 3 * * 1")
def refit_segments(ctx: JobContext) -> None:
    from kefu.complaints import customer_segments

    m = customer_segments.fit_and_assign(ctx.session, at=ctx.now)
    if m is None:
        log.info("complaints: fewer than %d customers, no segments", customer_segments.MIN_CUSTOMERS)
    else:
        log.info("complaints: %d customers in %d segments", m.customers, len(m.segments))
