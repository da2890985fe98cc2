"""Reports sent by e-mail on a schedule: a supervisor picks the report (an org unit of their subtree, one
channel or all, a breakdown), the recipients and the cadence (every day yesterday's daily report, every
Monday last week's, on the 1st last month's) on the console (/console/reports/schedules); the periodic job
(kefu/analytics/jobs.py) sends each due report once per schedule and period through the operator's SMTP
server (the settings' smtp_*, the channels' e-mail path: kefu.channels.email.smtp_send), as a short summary
in the body with the XLSX attached.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import reports, service
from kefu.analytics.models import ReportMailing, ReportSchedule
from kefu.core.config import Settings
from kefu.core.errors import InvalidInput

log = logging.getLogger(__name__)

CADENCES = ("day", "week", "month")
CADENCE_NAMES = {"day": ("每天（昨日日报）", "Every day (yesterday's daily report)"),
                 "week": ("每周一（上周周报）", "Every Monday (last week's report)"),
                 "month": ("每月1日（上月月报）", "On the 1st (last month's report)")}
MAX_RECIPIENTS = 20
_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class InvalidSchedule(InvalidInput):
    code = "invalid_schedule"


def parse_recipients(text: str) -> list[str]:
    """Addresses separated by lines, commas or semicolons; InvalidSchedule when one is not an address, none
    is given or there are too many."""
    found = [a.strip() for a in re.split(r"[\s,;]+", text) if a.strip()]
    bad = [a for a in found if not _ADDRESS.match(a)]
    if bad:
        raise InvalidSchedule(f"not an e-mail address: {', '.join(bad)}", details={"field": "recipients"})
    if not found:
        raise InvalidSchedule("give at least one recipient", details={"field": "recipients"})
    if len(found) > MAX_RECIPIENTS:
        raise InvalidSchedule(f"at most {MAX_RECIPIENTS} recipients", details={"field": "recipients"})
    return list(dict.fromkeys(found))


def create(session: Session, principal: Any, *, cadence: str, unit_id: int, channel: str | None,
           breakdown: str | None, recipients: str, at: datetime) -> ReportSchedule:
    """A new schedule of a unit the principal sees (404 outside their subtree)."""
    from kefu.interactions.models import CHANNELS
    from kefu.org import service as org

    if cadence not in CADENCES:
        raise InvalidSchedule(f"cadence is one of {', '.join(CADENCES)}", details={"field": "cadence"})
    if channel is not None and channel not in CHANNELS:
        raise InvalidSchedule(f"unknown channel {channel!r}", details={"field": "channel"})
    if breakdown is not None and breakdown not in reports.BREAKDOWNS:
        raise InvalidSchedule(f"unknown breakdown {breakdown!r}", details={"field": "by"})
    unit = org.check_visible(session, principal, unit_id)
    row = ReportSchedule(cadence=cadence, org_unit_id=unit.id, channel=channel, breakdown=breakdown,
                         recipients="\n".join(parse_recipients(recipients)), created_by_id=principal.user_id,
                         created_at=at)
    session.add(row)
    session.flush()
    return row


def visible(session: Session, principal: Any) -> list[ReportSchedule]:
    from kefu.org import service as org

    return list(session.scalars(select(ReportSchedule).where(
        ReportSchedule.org_unit_id.in_(org.visible_unit_ids(session, principal))).order_by(ReportSchedule.id)))


def delete(session: Session, principal: Any, schedule_id: int) -> None:
    from kefu.core.errors import NotFound

    row = next((r for r in visible(session, principal) if r.id == schedule_id), None)
    if row is None:
        raise NotFound("no such schedule")
    session.delete(row)
    session.flush()


def message(settings: Settings, rep: reports.Report, *, title: str, to: list[str]) -> EmailMessage:
    """The mail of one report: the summary figures and the interval table's total in the body, the XLSX
    attached."""
    msg = EmailMessage()
    msg["From"] = settings.email_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = title
    headers, rows = reports.table(rep)
    lines = [title, ""]
    lines += [f"{h}：{'—' if v is None else v}" for h, v in zip(headers[1:], rows[-1][1:], strict=True)]
    lines += [f"{name}：{'—' if value is None else value}" for name, value in reports.summary(rep)]
    lines += ["", "完整报表见附件（XLSX）。此邮件由客服系统按计划发送。"]
    msg.set_content("\n".join(lines))
    name = f"kefu-{rep.period}-{rep.first.isoformat()}.xlsx"
    msg.add_attachment(reports.to_xlsx(rep, title=title), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=name)
    return msg


def send_due(session: Session, settings: Settings, *, now: datetime) -> list[int]:
    """Send every schedule's report due today (the local date of ``now``) that was not sent yet; returns the
    schedules sent. A schedule whose mail fails keeps the error (shown on the console) and is tried again
    on the next run."""
    import smtplib

    from kefu.channels.email import smtp_send
    from kefu.org import service as org
    from kefu.org.models import OrgUnit

    if not settings.smtp_host:
        log.warning("scheduled report mail: no SMTP server configured (smtp_host)")
        return []
    sent = []
    due = dict((p, d) for p, d in reports.due_periods(service.local_date(now)))
    for row in session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)):
        if row.cadence not in due:
            continue
        first, _ = reports.period_bounds(row.cadence, due[row.cadence])
        done = session.scalar(select(ReportMailing.id).where(ReportMailing.schedule_id == row.id,
                                                              ReportMailing.first_day == first))
        unit = session.get(OrgUnit, row.org_unit_id)
        if done is not None or unit is None:
            continue
        rep = reports.build(session, period=row.cadence, start=due[row.cadence], unit_id=unit.id,
                            unit_ids=org.subtree_ids(session, unit.path), channel=row.channel, now=now,
                            by=row.breakdown)
        title = reports.report_title(rep, unit.name, zh=True)
        try:
            smtp_send(settings, message(settings, rep, title=title, to=row.recipients.split()))
        except (OSError, smtplib.SMTPException) as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("scheduled report %d not sent: %s", row.id, row.last_error)
            continue
        session.add(ReportMailing(schedule_id=row.id, first_day=first, sent_at=now))
        row.last_sent_at, row.last_error = now, None
        session.flush()
        sent.append(row.id)
    return sent
