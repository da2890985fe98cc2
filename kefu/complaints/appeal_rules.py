"""The regulator's clock for appeals (pure; dates come in as arguments). An appeal about charges must come
within 5 months of the issue, any other within 2 years; acceptance is decided within 5 working days of
receipt, the answer within 30 days of acceptance. Working days skip Saturdays and Sundays (public holidays
and the make-up working days of the Chinese calendar are not known here)."""

from __future__ import annotations

from datetime import date, timedelta

SOURCES = ("miit_12300", "provincial_authority", "consumer_12315", "media", "group_hq")
OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "withdrawn")
ACCEPT_WORKING_DAYS = 5
ANSWER_DAYS = 30


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def window_end(issue_on: date, about_charges: bool) -> date:
    """The last day an appeal about an issue of `issue_on` may be received."""
    return add_months(issue_on, 5 if about_charges else 24)


def working_days_after(d: date, n: int) -> date:
    out = d
    while n > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            n -= 1
    return out


def acceptance_due(received_on: date) -> date:
    return working_days_after(received_on, ACCEPT_WORKING_DAYS)


def answer_due(accepted_on: date) -> date:
    return accepted_on + timedelta(days=ANSWER_DAYS)


def dates_in_order(received_on: date, accepted_on: date | None, answered_on: date | None) -> bool:
    """Received, then accepted, then answered (an answer needs an acceptance)."""
    if accepted_on is not None and accepted_on < received_on:
        return False
    if answered_on is not None:
        return accepted_on is not None and answered_on >= accepted_on
    return True


STATES = ("accepting", "accept_overdue", "answering", "answer_overdue", "answered")


def state(acceptance_due: date, accepted_on: date | None, answer_due: date | None, answered_on: date | None,
          today: date) -> str:
    """Where an appeal stands on `today`: waiting for the acceptance decision (overdue after its due day), then
    for the answer (overdue after its due day), or answered."""
    if answered_on is not None:
        return "answered"
    if accepted_on is None:
        return "accept_overdue" if today > acceptance_due else "accepting"
    return "answer_overdue" if answer_due is not None and today > answer_due else "answering"
