"""Call-log parsing and estimates from records."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.history import (
    Outcome,
    agents_per_interval,
    arrivals_per_interval,
    busy_agents_per_interval,
    handle_time_fit,
    kaplan_meier,
    parse_call_log,
    patience_fit,
    patience_sample,
    read_call_log,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "callcenter-anonymous-bank"

HEADER = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\t"
          "q_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver")
SAMPLE = [
    HEADER,
    "AA0101\t33116\t9664491\t2\tPS\t990101\t0:00:31\t0:00:36\t5\t0:00:36\t0:03:09\t153\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    "AA0101\t33117\t0\t0\tPS\t990101\t0:34:12\t0:34:23\t11\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    "AA0101\t33118\t27997683\t2\tPS\t990101\t6:55:20\t6:55:26\t6\t6:55:26\t6:55:43\t17\tAGENT\t6:55:43\t6:56:37\t54\tMICHAL",
    "AA0101\t33119\t0\t0\tPS\t990101\t7:41:16\t7:41:26\t10\t0:00:00\t0:00:00\t0\tAGENT\t7:41:25\t7:44:53\t208\tBASCH",
    "AA0101\t33120\t0\t0\tPS\t990101\t7:61:16\t7:41:26\t10\t0:00:00\t0:00:00\t0\tAGENT\t7:41:25\t7:44:53\t208\tBASCH",
    "AA0101\t33121\t0\t0\tPS\t990101\t7:50:00\t7:50:05\t5\t7:50:05\t7:50:35\t30\tAGENT\t7:50:35\t7:52:35\t120\tMICHAL",
    "AA0101\t33122\t0\t0\tPS",
]


def test_sample_parses_and_reports_bad_rows_by_line() -> None:
    parsed = parse_call_log(SAMPLE)
    assert [r.call_id for r in parsed.records] == [33116, 33117, 33118, 33119, 33121]
    assert [(i.line, i.reason) for i in parsed.issues] == [
        (6, "bad time '7:61:16'"),
        (8, "expected 17 tab-separated fields, got 5"),
    ]


def test_fields_are_typed_and_zero_times_mean_absent() -> None:
    first, vru_only, answered, direct, _ = parse_call_log(SAMPLE).records
    assert first.day == date(1999, 1, 1)
    assert first.q_start == 36
    assert first.abandoned
    assert first.server is None
    assert vru_only.queue_arrival is None
    assert not vru_only.abandoned
    assert answered.outcome is Outcome.AGENT
    assert answered.ser_start == 6 * 3600 + 55 * 60 + 43
    assert direct.queue_arrival == 7 * 3600 + 41 * 60 + 25  # served without queueing


def test_arrivals_and_agents_per_interval() -> None:
    records = parse_call_log(SAMPLE).records
    day = arrivals_per_interval(records, 30)[date(1999, 1, 1)]
    assert len(day) == 48
    assert day[0] == 1
    assert day[13] == 1
    assert day[15] == 2
    assert sum(day) == 4
    agents = agents_per_interval(records, 30)[date(1999, 1, 1)]
    assert agents[13] == 1
    assert agents[15] == 2


def test_busy_agents_are_service_seconds_over_interval_rounded_up() -> None:
    busy = busy_agents_per_interval(parse_call_log(SAMPLE).records, 30)[date(1999, 1, 1)]
    assert busy[13] == 1  # 54 s of service
    assert busy[15] == 1  # 208 s + 120 s of service in one half-hour


def test_spreadsheet_mangled_customer_id_keeps_the_call() -> None:
    row = SAMPLE[3].replace("27997683", "6.02E+11")
    parsed = parse_call_log([HEADER, row])
    assert parsed.issues == []
    assert parsed.records[0].customer_id is None
    assert parsed.records[0].call_id == 33118


def test_handle_time_mean_and_lognormal_fit() -> None:
    fit = handle_time_fit(parse_call_log(SAMPLE).records)
    times = [54, 208, 120]
    assert fit.count == 3
    assert fit.mean == pytest.approx(sum(times) / 3)
    assert fit.lognormal_mu == pytest.approx(sum(math.log(t) for t in times) / 3)


def test_patience_is_exposure_over_abandons() -> None:
    sample = patience_sample(parse_call_log(SAMPLE).records)
    assert sorted(sample) == [(0.0, False), (17.0, False), (30.0, False), (153.0, True)]
    fit = patience_fit(sample)
    assert fit.abandons == 1
    assert fit.censored == 3
    assert fit.exponential_mean == 200.0  # (153 + 17 + 30 + 0) / 1


def test_kaplan_meier_by_hand() -> None:
    # times 1(event) 2(censored) 3(event) 3(event) 4(censored): S(1)=4/5, S(3)=4/5 * (1 - 2/3)
    times, survival = kaplan_meier([(1, True), (2, False), (3, True), (3, True), (4, False)])
    assert times == [1, 3]
    assert survival == pytest.approx([0.8, 0.8 / 3])


def test_no_abandon_means_no_patience_estimate() -> None:
    with pytest.raises(WorkforceInputError, match="no abandoned call"):
        patience_fit([(10.0, False)])


def test_interval_must_be_15_or_30_minutes() -> None:
    with pytest.raises(WorkforceInputError, match="interval_minutes"):
        arrivals_per_interval([], 20)


def test_real_january_log_parses() -> None:
    path = DATA / "01_January.txt"
    if not path.exists():
        pytest.skip(f"real call log not present at {path}")
    parsed = read_call_log([path])
    assert len(parsed.records) + len(parsed.issues) == 31_599
    assert parsed.issues == []
    fit = patience_fit(patience_sample(parsed.records))
    assert 0 < fit.exponential_mean < 3_600
