"""Analytics' periodic jobs: the scheduled reports, and the reports scheduled by e-mail (mail_reports).

Every day at 00:30 in China (16:30 UTC) yesterday's daily report is made for the group and each province;
on Mondays last week's too, on the 1st last month's. Each is kept (analytics_reports) once per period
and unit, so a re-run or a second worker adds nothing; the reports page lists them for download.
"""

from __future__ import annotations

import logging

from kefu.jobs import JobContext, job, last_tick

log = logging.getLogger(__name__)


@job("analytics.scheduled_reports", queue="maintenance", cron="30 16 * * *")
def scheduled_reports(ctx: JobContext) -> None:
    from kefu.analytics import reports

    made = reports.make_scheduled(ctx.session, now=ctx.now)
    log.info("made %d scheduled report(s)", len(made))


@job("analytics.mail_reports", queue="maintenance", cron="*/15 * * * *")
def mail_reports(ctx: JobContext) -> None:
    """The reports scheduled by e-mail (kefu/analytics/mailing.py): every quarter hour, the periods due
    today (from 00:45 in China, after the day's summaries are settled) and the failed ones whose next
    try has come; the mails go out once this run commits."""
    from kefu.analytics import mailing

    claimed = mailing.send_due(ctx.session, ctx.settings, now=ctx.now)
    if claimed:
        log.info("mailing %d scheduled report(s) after commit", len(claimed))


@job("analytics.wall_alerts", queue="maintenance", cron="* * * * *")
def wall_alerts(ctx: JobContext) -> None:
    """Raise and clear the wall's alerts (kefu/analytics/alerts.py) of the units with activity since the
    last run (every unit now and then); the console pushes them live."""
    from kefu.analytics import alerts

    since = last_tick(ctx.session, "analytics.wall_alerts", before=ctx.now)
    raised, cleared = alerts.check(ctx.session, now=ctx.now, since=since)
    if raised or cleared:
        log.info("wall alerts: %d raised, %d cleared", len(raised), len(cleared))
