"""The legal reply clock of complaints (and appeals). Pure: time comes in as arguments.

Order No. 35 (2016): an operator answers a complaint within 15 days of receiving it, counted in
calendar days (not working days), so the deadline is `opened_at + 15 days` to the second. A case is
"at risk" from day 12 (`complaint_risk_after_days`) until it is answered, and "overdue" when the
deadline passed before it was answered. Answered means the first agent reply, the resolution or the
close, whichever came first. Appeals forwarded by the regulator get APPEAL_REPLY_DAYS, at risk for
the last fifth of that window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

APPEAL_REPLY_DAYS = 30
APPEAL_RISK_AFTER_DAYS = 24


@dataclass(frozen=True)
class ReplyClock:
    due_at: datetime
    at_risk: bool  # not answered yet and the risk point has passed (overdue cases are at risk too)
    overdue: bool  # the deadline passed before an answer (stays true when answered late)
    remaining: timedelta | None  # until the deadline (negative once overdue); None once answered


def reply_due_at(opened_at: datetime, reply_days: int) -> datetime:
    return opened_at + timedelta(days=reply_days)


def reply_clock(due_at: datetime, *, warn_before: timedelta, now: datetime,
                answered_at: datetime | None = None) -> ReplyClock:
    """The state of a reply deadline at `now`: at risk from `due_at - warn_before` until answered."""
    if answered_at is not None and answered_at <= now:
        return ReplyClock(due_at=due_at, at_risk=False, overdue=answered_at > due_at, remaining=None)
    return ReplyClock(due_at=due_at, at_risk=now >= due_at - warn_before, overdue=now > due_at,
                      remaining=due_at - now)


def complaint_clock(opened_at: datetime, *, now: datetime, answered_at: datetime | None = None,
                    reply_days: int = 15, risk_after_days: int = 12) -> ReplyClock:
    warn = timedelta(days=reply_days - risk_after_days)
    due = reply_due_at(opened_at, reply_days)
    return reply_clock(due, warn_before=warn, now=now, answered_at=answered_at)
