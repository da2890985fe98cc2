"""Call history in the interactions table: bulk import of a call-by-call log, and reading it back.

A logged call becomes one closed, inbound voice interaction:
    offered_at  = day + VRU entry            (the call reached us)
    queued_at   = day + queue start          (asked for an agent; None when served straight from the VRU)
    answered_at = day + service start        (outcome "answered")
    ended_at    = answered_at + service time (answered), queued_at + queue time (abandoned), VRU exit (else)
    outcome     = answered (AGENT with a service start), abandoned (hung up after queueing),
                  self_served (left in the VRU, never queued)
    external_ref = "{source}:{vru_line}:{yymmdd}:{call_id}" (call ids repeat across VRU lines on one day),
                   the idempotency key: a re-import skips refs that exist already.
PHANTOM rows (virtual calls the log says to ignore) are not imported; they are counted as ``ignored``.

Times in the log are local clock times without a zone: ``tz`` names the zone they were taken in (default
UTC; the Technion "Anonymous Bank" log is Israeli, ``Asia/Jerusalem``). A step whose clock is more than
12 hours earlier than the step before it happened after midnight and is moved to the next day; a step a
few seconds early (the log's clocks jitter: service may start before the queue exit) stays on its day.

Reading back (:func:`call_history`) gives :class:`kefu.workforce.history.CallRecord` rows, clock times as
seconds after local midnight of the offered day, so the workforce estimators run on the database as on the
file. Lossy on purpose: an answered call's queue time is answered_at - queued_at (the log's q_time lags the
service start by a second or two in most rows), and the log's odd rows (AGENT without a service start,
HANG after a service start) take the nearest regular outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kefu.core.errors import InvalidInput
from kefu.interactions.models import Interaction
from kefu.workforce.history import CallRecord, Outcome

BATCH = 5_000
DAY = timedelta(days=1)
MIDNIGHT_JUMP = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class CallImportReport:
    imported: int
    duplicates: int  # refs already in the database (or twice in this import)
    ignored: int = 0  # PHANTOM rows


def zone(name: str) -> tzinfo:
    """A zone by IANA name ('UTC', 'Asia/Shanghai', 'Asia/Jerusalem'); InvalidInput when unknown."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r} (an IANA name such as 'Asia/Shanghai')", code="invalid_time_zone"
        ) from None


def call_ref(source: str, record: CallRecord) -> str:
    return f"{source}:{record.vru_line}:{record.day:%y%m%d}:{record.call_id}"


def _row(record: CallRecord, *, org_unit_id: int, source: str, tz: tzinfo) -> dict[str, object] | None:
    """The interactions row of one logged call (None for a PHANTOM row)."""
    if record.outcome is Outcome.PHANTOM:
        return None
    midnight = datetime.combine(record.day, time(0), tzinfo=tz)
    previous: datetime | None = None

    def at(seconds: int | None) -> datetime | None:
        nonlocal previous
        if seconds is None:
            return None
        local = midnight + timedelta(seconds=seconds)
        if previous is not None and local < previous - MIDNIGHT_JUMP:
            local += DAY  # the clock passed midnight (a step a few seconds early is the log's jitter)
        previous = local
        return local

    offered = at(record.vru_entry)
    queued = at(record.q_start)
    started = at(record.ser_start)
    offered = offered or queued or started or midnight
    if record.outcome is Outcome.AGENT and started is not None:
        outcome, answered, ended = "answered", started, started + timedelta(seconds=record.ser_time)
    elif queued is not None:
        outcome, answered, ended = "abandoned", None, queued + timedelta(seconds=record.q_time)
    else:
        outcome, answered = "self_served", None
        ended = at(record.vru_exit) or offered
    return {
        "org_unit_id": org_unit_id,
        "channel": "voice",
        "direction": "inbound",
        "status": "closed",
        "subject": record.call_type or None,
        "offered_at": offered,
        "queued_at": queued,
        "answered_at": answered,
        "ended_at": ended,
        "outcome": outcome,
        "external_ref": call_ref(source, record),
    }


def logged_call(record: CallRecord, *, tz: tzinfo) -> dict[str, object] | None:
    """A logged call's times and outcome as this module reads them (None for a PHANTOM row): offered_at,
    queued_at, answered_at, ended_at as aware datetimes, outcome, subject (the call type)."""
    return _row(record, org_unit_id=0, source="log", tz=tz)


def import_call_records(
    session: Session,
    records: Iterable[CallRecord],
    *,
    org_unit_id: int,
    source: str,
    tz: str = "UTC",
    progress: Callable[[int], None] | None = None,
) -> CallImportReport:
    """Insert logged calls as voice interactions in batches of 5,000 (Core executemany); flushes only.

    ``progress(n)`` is called after each batch with the number of records it consumed.
    """
    if not source or ":" in source:
        raise InvalidInput("source must be a non-empty name without ':'", code="invalid_source")
    zone_info = zone(tz)
    prefix = f"{source}:"
    seen = set(
        session.scalars(
            select(Interaction.external_ref).where(
                Interaction.channel == "voice", Interaction.external_ref.startswith(prefix, autoescape=True)
            )
        )
    )
    imported = duplicates = ignored = 0
    batch: list[dict[str, object]] = []
    consumed = 0

    def flush() -> None:
        nonlocal batch, consumed
        if batch:
            session.execute(insert(Interaction), batch)  # bulk INSERT (executemany)
        if progress is not None and consumed:
            progress(consumed)
        batch, consumed = [], 0

    for record in records:
        consumed += 1
        row = _row(record, org_unit_id=org_unit_id, source=source, tz=zone_info)
        if row is None:
            ignored += 1
        elif row["external_ref"] in seen:
            duplicates += 1
        else:
            seen.add(str(row["external_ref"]))
            batch.append(row)
            imported += 1
        if consumed >= BATCH:
            flush()
    flush()
    session.flush()
    return CallImportReport(imported, duplicates, ignored)


def _seconds(value: datetime | None, midnight: datetime) -> int | None:
    """Wall-clock seconds after local midnight (wrapped past the next midnight, as the log does)."""
    if value is None:
        return None
    wall = value.astimezone(midnight.tzinfo).replace(tzinfo=None) - midnight.replace(tzinfo=None)
    return round(wall.total_seconds()) % 86_400 or None


def call_history(
    session: Session,
    *,
    org_unit_ids: Sequence[int],
    channel: str = "voice",
    start: datetime,
    end: datetime,
    tz: str = "UTC",
) -> list[CallRecord]:
    """Closed inbound calls offered in [start, end) in these units, as CallRecords (one query, columns only).

    Days and clock times are local to ``tz``. Open interactions and outcomes other than answered,
    abandoned and self_served are left out.
    """
    zone_info = zone(tz)
    rows = session.execute(
        select(
            Interaction.offered_at,
            Interaction.queued_at,
            Interaction.answered_at,
            Interaction.ended_at,
            Interaction.outcome,
            Interaction.external_ref,
            Interaction.subject,
        )
        .where(
            Interaction.org_unit_id.in_(list(org_unit_ids)),
            Interaction.channel == channel,
            Interaction.direction == "inbound",
            Interaction.offered_at >= start,
            Interaction.offered_at < end,
            Interaction.outcome.in_(("answered", "abandoned", "self_served")),
        )
        .order_by(Interaction.offered_at)
    ).all()
    out: list[CallRecord] = []
    for number, (offered, queued, answered, ended, outcome, ref, subject) in enumerate(rows, start=1):
        local = _aware(offered).astimezone(zone_info)
        day = local.date()
        midnight = datetime.combine(day, time(0), tzinfo=zone_info)
        queued, answered, ended = (_aware(v) if v is not None else None for v in (queued, answered, ended))
        call_id, vru_line = _parse_ref(ref)
        if outcome == "answered" and answered is not None:
            kind = Outcome.AGENT
            q_time = int((answered - queued).total_seconds()) if queued is not None else 0
            ser_time = int((ended - answered).total_seconds()) if ended is not None else 0
        else:
            kind, ser_time = Outcome.HANG, 0
            if outcome == "abandoned" and queued is None:
                queued = _aware(offered)  # an abandon that never recorded its queue entry queued on offer
            q_time = int((ended - queued).total_seconds()) if queued is not None and ended is not None else 0
            answered = None
        out.append(
            CallRecord(
                line=number,
                call_id=call_id,
                customer_id=None,
                priority=0,
                call_type=subject or "",
                day=day,
                vru_entry=_seconds(offered, midnight),
                vru_exit=None,
                q_start=_seconds(queued, midnight) if outcome != "self_served" else None,
                q_time=max(0, q_time),
                outcome=kind,
                ser_start=_seconds(answered, midnight),
                ser_time=max(0, ser_time),
                server=None,
                vru_line=vru_line,
            )
        )
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parse_ref(ref: str | None) -> tuple[int, str]:
    """(call_id, vru_line) from "{source}:{vru_line}:{yymmdd}:{call_id}"; (0, "") for other refs."""
    parts = (ref or "").split(":")
    if len(parts) == 4 and parts[3].isdigit():
        return int(parts[3]), parts[1]
    return 0, ""


def local_day_bounds(first: date, last: date, tz: str = "UTC") -> tuple[datetime, datetime]:
    """[local midnight of ``first``, local midnight after ``last``) as aware datetimes."""
    zone_info = zone(tz)
    return (
        datetime.combine(first, time(0), tzinfo=zone_info),
        datetime.combine(last + DAY, time(0), tzinfo=zone_info),
    )


def last_offered_at(
    session: Session, *, org_unit_ids: Sequence[int], channel: str = "voice"
) -> datetime | None:
    """When the newest inbound interaction on ``channel`` in these units was offered (None: there is none)."""
    value = session.scalar(
        select(Interaction.offered_at)
        .where(
            Interaction.org_unit_id.in_(list(org_unit_ids)),
            Interaction.channel == channel,
            Interaction.direction == "inbound",
        )
        .order_by(Interaction.offered_at.desc())
        .limit(1)
    )
    return _aware(value) if value is not None else None
