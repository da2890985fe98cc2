"""Call-log import into interactions, reading it back, and history estimates from the database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from kefu.core.auth import Principal
from kefu.core.db import Database
from kefu.core.errors import InvalidInput
from kefu.interactions import calls
from kefu.interactions.models import Interaction
from kefu.org import service as org
from kefu.workforce import history, service
from kefu.workforce.errors import WorkforceInputError
from tests.conftest import World
from tests.workforce.support import HEADER, make_log, row

DAY = date(1999, 3, 1)  # a Monday


def _principal(db: Database, username: str) -> Principal:
    with db.session() as s:
        user = org.user_by_username(s, username)
        assert user is not None
        return org.principal_for(s, user)


def _count(db: Database) -> int:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Interaction).where(Interaction.channel == "voice")) or 0
        )


def test_import_maps_outcomes_and_times_and_skips_bad_rows(db: Database, world: World) -> None:
    lines = [
        HEADER,
        row(1, DAY, 8 * 3600, outcome="AGENT", queue=30, service=200, server="MICHAL"),
        row(2, DAY, 9 * 3600, outcome="HANG", queue=45),
        row(3, DAY, 10 * 3600, outcome="HANG"),
        row(4, DAY, 11 * 3600, outcome="AGENT", service=100, server="BASCH").replace(
            "11:00:00", "11:61:00", 1
        ),
        row(5, DAY, 12 * 3600, outcome="PHANTOM", queue=10),
        row(
            6, DAY, 86_400 - 20, outcome="AGENT", queue=10, service=60, server="ANAT"
        ),  # served after midnight
    ]
    parsed = history.parse_call_log(lines)
    assert [(i.line, i.reason) for i in parsed.issues] == [(5, "bad time '11:61:00'")]
    with db.unit_of_work() as s:
        report = calls.import_call_records(
            s, parsed.records, org_unit_id=world.units["gz"], source="bank", tz="Asia/Shanghai"
        )
    assert (report.imported, report.duplicates, report.ignored) == (4, 0, 1)
    with db.session() as s:
        rows = {r.external_ref: r for r in s.scalars(select(Interaction).order_by(Interaction.id))}
    answered, abandoned, vru, late = (rows[f"bank:AA0101:990301:{i}"] for i in (1, 2, 3, 6))
    cst = datetime(1999, 3, 1, tzinfo=UTC)  # 08:00 in Shanghai is 00:00 UTC
    assert (answered.channel, answered.direction, answered.status, answered.outcome) == (
        "voice",
        "inbound",
        "closed",
        "answered",
    )
    assert answered.offered_at == cst
    assert (answered.queued_at - answered.offered_at).total_seconds() == 6
    assert (answered.answered_at - answered.queued_at).total_seconds() == 30
    assert (answered.ended_at - answered.answered_at).total_seconds() == 200
    assert abandoned.outcome == "abandoned"
    assert abandoned.answered_at is None
    assert (abandoned.ended_at - abandoned.queued_at).total_seconds() == 45
    assert vru.outcome == "self_served"
    assert vru.queued_at is None
    assert late.answered_at.date() == date(
        1999, 3, 1
    )  # 00:00:something local on 2 March = 16:00 UTC on 1 March
    assert late.answered_at > late.queued_at > late.offered_at


def test_reimport_adds_nothing(db: Database, world: World) -> None:
    records = history.parse_call_log(make_log(DAY, 2)).records
    with db.unit_of_work() as s:
        first = calls.import_call_records(s, records, org_unit_id=world.units["gz"], source="bank")
    before = _count(db)
    seen: list[int] = []
    with db.unit_of_work() as s:
        again = calls.import_call_records(
            s, records, org_unit_id=world.units["gz"], source="bank", progress=seen.append
        )
    assert first.imported == before == len(records)
    assert (again.imported, again.duplicates) == (0, len(records))
    assert sum(seen) == len(records)
    assert _count(db) == before


def test_unknown_time_zone_is_refused(db: Database, world: World) -> None:
    with db.unit_of_work() as s, pytest.raises(InvalidInput, match="unknown time zone"):
        calls.import_call_records(s, [], org_unit_id=world.units["gz"], source="bank", tz="Mars/Olympus")


@pytest.mark.parametrize("tz", ["UTC", "Asia/Shanghai", "Asia/Jerusalem"])
def test_history_from_the_database_equals_the_pure_estimates(db: Database, world: World, tz: str) -> None:
    records = history.parse_call_log(make_log(DAY, 14)).records
    with db.unit_of_work() as s:
        calls.import_call_records(s, records, org_unit_id=world.units["gz"], source="bank", tz=tz)
    principal = _principal(db, "sup_gd")
    with db.session() as s:
        got = service.history_summary(
            s,
            principal,
            org_unit_id=world.units["province"],
            channel="voice",
            first=DAY,
            last=date(1999, 3, 14),
            interval_minutes=30,
            tz=tz,
        )
        back = calls.call_history(
            s,
            org_unit_ids=[world.units["gz"]],
            start=datetime(1999, 2, 1, tzinfo=UTC),
            end=datetime(1999, 4, 1, tzinfo=UTC),
            tz=tz,
        )
    arrivals = history.arrivals_per_interval(records, 30)
    assert [(d["day"], d["arrivals"]) for d in got["days"]] == [
        (d.isoformat(), v) for d, v in arrivals.items()
    ]
    aht = history.handle_time_fit(records)
    assert got["handle_time"]["mean"] == pytest.approx(aht.mean, abs=1e-6)
    assert got["handle_time"]["lognormal_sigma"] == pytest.approx(aht.lognormal_sigma, abs=1e-6)
    patience = history.patience_fit(history.patience_sample(records))
    assert got["patience"]["abandons"] == patience.abandons
    assert got["patience"]["censored"] == patience.censored
    assert got["patience"]["exponential_mean"] == pytest.approx(patience.exponential_mean, abs=1e-6)
    assert history.busy_agents_per_interval(back, 30) == history.busy_agents_per_interval(records, 30)
    assert sorted((r.day, r.call_id, r.vru_line) for r in back) == sorted(
        (r.day, r.call_id, r.vru_line) for r in records
    )


def test_history_outside_scope_is_not_found(db: Database, world: World) -> None:
    from kefu.core.errors import NotFound

    principal = _principal(db, "sup_gd")
    with db.session() as s, pytest.raises(NotFound):
        service.history_summary(
            s, principal, org_unit_id=world.units["group"], channel="voice", first=DAY, last=DAY
        )


def test_history_end_before_start_is_refused(db: Database, world: World) -> None:
    principal = _principal(db, "sup_gd")
    with db.session() as s, pytest.raises(WorkforceInputError, match="end day comes before"):
        service.history_summary(
            s, principal, org_unit_id=world.units["gz"], channel="voice", first=DAY, last=date(1999, 2, 1)
        )


def test_clock_jitter_is_not_taken_for_midnight(db: Database, world: World) -> None:
    # Anonymous Bank, January line 11698: service starts 40 s before the queue entry is logged
    jitter = "\t".join(
        [
            "AA0110",
            "27538",
            "0",
            "0",
            "NW",
            "990103",
            "8:54:01",
            "8:54:54",
            "53",
            "8:54:54",
            "8:55:06",
            "12",
            "AGENT",
            "8:54:14",
            "8:55:57",
            "103",
            "TOVA",
        ]
    )
    records = history.parse_call_log([HEADER, jitter]).records
    with db.unit_of_work() as s:
        calls.import_call_records(s, records, org_unit_id=world.units["gz"], source="bank")
    with db.session() as s:
        it = s.scalar(select(Interaction))
        back = calls.call_history(
            s,
            org_unit_ids=[world.units["gz"]],
            start=datetime(1999, 1, 3, tzinfo=UTC),
            end=datetime(1999, 1, 4, tzinfo=UTC),
        )
    assert it is not None
    assert it.answered_at == datetime(1999, 1, 3, 8, 54, 14, tzinfo=UTC)
    assert [(r.ser_start, r.ser_time, r.q_time) for r in back] == [(8 * 3600 + 54 * 60 + 14, 103, 0)]
