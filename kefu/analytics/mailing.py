"""Reports sent by e-mail on a schedule: a supervisor picks the report (an org unit of their subtree, one
channel or all, a breakdown), the recipients and the cadence (every day yesterday's daily report, every
Monday last week's, on the 1st last month's) on the console (/console/reports/schedules); the periodic job
(kefu/analytics/jobs.py) sends each due report once per schedule and period through the operator's SMTP
server (the settings' smtp_*, the channels' e-mail path: kefu.channels.email.smtp_send), as a short summary
in the body with the XLSX attached. Each period's mailing keeps its state (ReportMailing: due, sending,
sent, failed with its attempts and error): the mail goes out after the run's transaction commits, and a
failed one is tried again by the later runs with a growing wait, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.analytics import reports, service
from kefu.analytics.models import ReportMailing, ReportSchedule
from kefu.core.config import Settings
from kefu.core.db import after_commit, insert_unless_exists
from kefu.core.errors import InvalidInput

log = logging.getLogger(__name__)

CADENCES = ("day", "week", "month")
CADENCE_NAMES = {"day": ("每天（昨日日报）", "Every day (yesterday's daily report)"),
                 "week": ("每周一（上周周报）", "Every Monday (last week's report)"),
                 "month": ("每月1日（上月月报）", "On the 1st (last month's report)")}
MAX_RECIPIENTS = 20
SEND_FROM = timedelta(minutes=45)  # local time after midnight when the day's summaries are settled
MAX_ATTEMPTS = 5
RETRY_FIRST = timedelta(minutes=15)
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


def retries(session: Session, schedule_ids: list[int]) -> dict[int, ReportMailing]:
    """Per schedule, its failed mailing still to be tried again (the earliest period), for the console."""
    out: dict[int, ReportMailing] = {}
    if not schedule_ids:
        return out
    for m in session.scalars(select(ReportMailing).where(
            ReportMailing.schedule_id.in_(schedule_ids), ReportMailing.state == "failed",
            ReportMailing.next_try_at.is_not(None)).order_by(ReportMailing.first_day)):
        out.setdefault(m.schedule_id, m)
    return out


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


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: 15 min, 30 min, 1 h, 2 h."""
    return RETRY_FIRST * (1 << max(attempts - 1, 0))


def _enqueue_due(session: Session, *, now: datetime) -> None:
    """A ``due`` mailing for each schedule's period due today that has none yet (from 00:45 local time,
    when the day's summaries are settled)."""
    if now < service.local_midnight(now) + SEND_FROM:
        return
    due = dict(reports.due_periods(service.local_date(now)))
    add = insert_unless_exists(session.get_bind().dialect.name, ReportMailing, "schedule_id", "first_day")
    for row in session.scalars(select(ReportSchedule).where(ReportSchedule.cadence.in_(due))
                               .order_by(ReportSchedule.id)):
        first, _ = reports.period_bounds(row.cadence, due[row.cadence])
        # a period mailed already, or added by a concurrent run, is left as it is
        session.execute(add, [{"schedule_id": row.id, "first_day": first, "state": "due", "attempts": 0,
                               "next_try_at": now}])


def send_due(session: Session, settings: Settings, *, now: datetime) -> list[int]:
    """Claim every mailing to send now (a period newly due today, or a failed one whose next try has come)
    and send them once ``session`` commits, outside the transaction (``_deliver``); returns the
    schedules claimed. Each attempt counts; a failed one is tried again after ``backoff``, up to
    MAX_ATTEMPTS, its error shown on the console meanwhile. A run that dies after its commit leaves its
    claims ``sending`` until their next try, when the next run takes them again."""
    from kefu.org import service as org
    from kefu.org.models import OrgUnit

    if not settings.smtp_host:
        log.warning("scheduled report mail: no SMTP server configured (smtp_host)")
        return []
    _enqueue_due(session, now=now)
    todo = (select(ReportMailing).where(ReportMailing.state.in_(("due", "sending", "failed")),
                                        ReportMailing.next_try_at <= now, ReportMailing.attempts < MAX_ATTEMPTS)
            .order_by(ReportMailing.schedule_id, ReportMailing.first_day).with_for_update(skip_locked=True))
    claimed: list[tuple[int, int, EmailMessage]] = []
    for m in list(session.scalars(todo)):
        row = session.get(ReportSchedule, m.schedule_id)
        unit = session.get(OrgUnit, row.org_unit_id) if row is not None else None
        if row is None or unit is None:  # nothing to report on: failed for good, not due forever
            m.state, m.next_try_at = "failed", None
            m.last_error = "the schedule's org unit no longer exists" if row is not None else "no such schedule"
            if row is not None:
                row.last_error = m.last_error
            continue
        rep = reports.build(session, period=row.cadence, start=m.first_day, unit_id=unit.id,
                            unit_ids=org.subtree_ids(session, unit.path), channel=row.channel, now=now,
                            by=row.breakdown)
        title = reports.report_title(rep, unit.name, zh=True)
        m.state, m.attempts = "sending", m.attempts + 1
        m.next_try_at = now + backoff(m.attempts)  # the lease: tried again then if this run dies
        claimed.append((m.id, row.id, message(settings, rep, title=title, to=row.recipients.split())))
    session.flush()
    if claimed:
        pending = [_Pending(settings, mid, msg, now) for mid, _, msg in claimed]
        after_commit(session, lambda s: _deliver(s, pending))
    return [sid for _, sid, _ in claimed]


@dataclass(frozen=True)
class _Pending:
    settings: Settings
    mailing_id: int
    msg: EmailMessage
    now: datetime




def _send(p: _Pending) -> str | None:
    """Hand one mail to the SMTP server; the error, or None when it was taken."""
    import smtplib

    from kefu.channels.email import smtp_send

    try:
        smtp_send(p.settings, p.msg)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _record(session: Session, p: _Pending, error: str | None) -> None:
    """Keep one attempt's outcome on the mailing and its schedule (what the console shows)."""
    m = session.get(ReportMailing, p.mailing_id)
    if m is None or m.state != "sending":  # the schedule was deleted meanwhile
        return
    row = session.get(ReportSchedule, m.schedule_id)
    if error is None:
        m.state, m.sent_at, m.next_try_at, m.last_error = "sent", p.now, None, None
        if row is not None:
            row.last_sent_at, row.last_error = p.now, None
        return
    m.state, m.last_error = "failed", error
    m.next_try_at = p.now + backoff(m.attempts) if m.attempts < MAX_ATTEMPTS else None
    if m.next_try_at is None:
        error = f"{error} (gave up after {m.attempts} attempts)"[:300]
    if row is not None:
        row.last_error = error
    log.warning("scheduled report %d (%s) not sent, attempt %d: %s", m.schedule_id, m.first_day, m.attempts,
                error)


def _deliver(session: Session, pending: list[_Pending]) -> None:
    """The claimed mails of a committed run (kefu.core.db.after_commit): all handed to the SMTP server
    before ``session`` touches the database (its transaction begins with the first statement, so no
    transaction is open while a mail goes out), then their outcomes kept in its one short transaction;
    if that fails, the lease lets the next run see to the rows."""
    outcomes = [(p, _send(p)) for p in pending]
    for p, error in outcomes:
        _record(session, p, error)
