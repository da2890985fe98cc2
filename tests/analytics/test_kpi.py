"""The KPI definitions (kefu/analytics/kpi.py) with exact, hand-computed values, and their invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.analytics import kpi
from kefu.analytics.kpi import DAY, Complaint, Contact, Tally

# Ten contacts by hand (times in seconds; each starts waiting at 0 for readability):
HAND = [
    Contact(0, answered=10, ended=130),  # wait 10, handle 120
    Contact(0, answered=15, ended=75),  # wait 15 (within 15: "<=")
    Contact(0, answered=18, ended=318),  # wait 18: within 20, not 15
    Contact(0, answered=20, ended=None),  # wait 20, still talking: answered, not handled
    Contact(0, answered=45, ended=105),  # wait 45
    Contact(0, ended=3, abandoned=True),  # short abandon (3 s < 5 s)
    Contact(0, ended=4.999, abandoned=True),  # short abandon
    Contact(0, ended=5, abandoned=True),  # abandon at exactly 5 s: counts
    Contact(0, ended=60, abandoned=False),  # ended unanswered, not given up (e.g. no reply)
    Contact(0),  # still waiting
]


def test_hand_computed_day() -> None:
    t = kpi.tally(HAND)
    assert (t.offered, t.answered, t.abandoned, t.short_abandoned, t.handled, t.pending) == (9, 5, 3, 2, 4, 1)
    assert t.within == {15: 2, 20: 4}
    assert t.answer_rate() == pytest.approx(5 / 9)
    assert t.service_level(15) == pytest.approx(2 / 7)  # short abandons out of the denominator
    assert t.service_level(20) == pytest.approx(4 / 7)
    assert t.service_level(20, exclude_short=False) == pytest.approx(4 / 9)
    assert t.abandonment() == pytest.approx(1 / 7)
    assert t.abandonment(exclude_short=False) == pytest.approx(3 / 9)
    assert t.asa() == pytest.approx((10 + 15 + 18 + 20 + 45) / 5)
    assert t.aht() == pytest.approx((120 + 60 + 300 + 60) / 4)


def test_empty_tally_has_no_ratios() -> None:
    t = kpi.tally([])
    assert (t.answer_rate(), t.service_level(20), t.abandonment(), t.asa(), t.aht()) == (None,) * 5
    with pytest.raises(ValueError, match="no tally of answers within 30 s"):
        t.service_level(30)


def test_short_abandon_threshold_is_a_parameter() -> None:
    t = kpi.tally(HAND, short_abandon=10)
    assert t.short_abandoned == 3
    assert t.abandonment() == 0.0


contacts = st.builds(
    lambda s, w, h, kind: (Contact(s, answered=s + w, ended=s + w + h) if kind == 0 else
                           Contact(s, answered=s + w) if kind == 1 else
                           Contact(s, ended=s + w, abandoned=kind == 2) if kind in (2, 3) else Contact(s)),
    st.integers(0, 86_400), st.integers(0, 600), st.integers(0, 3_600), st.integers(0, 4))


@given(st.lists(contacts, max_size=40), st.integers(1, 39))
def test_tallies_add_up_over_any_split(cs: list[Contact], cut: int) -> None:
    whole = kpi.tally(cs)
    parts = kpi.tally(cs[:cut]) + kpi.tally(cs[cut:])
    assert parts.within == whole.within
    assert (parts.offered, parts.answered, parts.abandoned, parts.short_abandoned, parts.handled,
            parts.pending) == (whole.offered, whole.answered, whole.abandoned, whole.short_abandoned,
                               whole.handled, whole.pending)
    assert parts.wait_sum == pytest.approx(whole.wait_sum)


@given(st.lists(contacts, max_size=40))
def test_ratios_are_shares(cs: list[Contact]) -> None:
    t = kpi.tally(cs)
    assert t.offered + t.pending == len(cs)
    for r in (t.answer_rate(), t.service_level(15), t.service_level(20), t.abandonment()):
        assert r is None or 0.0 <= r <= 1.0
    sl15, sl20 = t.service_level(15), t.service_level(20)
    assert sl15 is None or sl20 is None or sl15 <= sl20


def test_total_of_tallies() -> None:
    assert Tally.total([kpi.tally(HAND[:5]), kpi.tally(HAND[5:])]).within == {15: 2, 20: 4}


def test_bucket_start_aligns_on_local_time() -> None:
    # 2026-03-02 00:10 in China (UTC+8) is 16:10 UTC the day before; its hour starts at 16:00 UTC.
    t = 1_772_381_400.0  # 2026-03-01T16:10:00Z
    assert kpi.bucket_start(t, 60, offset=8 * 3600) == 1_772_380_800.0
    assert kpi.bucket_start(t, 15, offset=8 * 3600) == t - 600  # 16:10 is in the quarter from 16:00
    assert kpi.bucket_start(t + 300, 30, offset=8 * 3600) == t - 600  # 16:15 too, by half hours
    assert kpi.bucket_start(t, 1440, offset=8 * 3600) == 1_772_380_800.0  # local midnight = 16:00 UTC
    with pytest.raises(ValueError, match="at least one minute"):
        kpi.bucket_start(t, 0)


def test_complaint_replies_against_15_days() -> None:
    now = 40 * DAY
    cs = [
        Complaint(0, reply_due=15 * DAY, first_reply=15 * DAY),  # on time at the last second
        Complaint(0, reply_due=15 * DAY, first_reply=15 * DAY + 1),  # late
        Complaint(0, reply_due=15 * DAY),  # overdue, no reply
        Complaint(30 * DAY),  # due on day 45: still open (deadline from opened + 15 days)
        Complaint(20 * DAY, first_reply=21 * DAY),  # on time
    ]
    r = kpi.reply_tally(cs, now=now)
    assert (r.on_time, r.late, r.overdue, r.open) == (2, 1, 1, 1)
    assert r.on_time_rate() == pytest.approx(2 / 4)


def test_repeat_complaints_same_customer_same_issue_within_30_days() -> None:
    cs = [
        Complaint(0, customer_id=1, issue="billing"),
        Complaint(10 * DAY, customer_id=1, issue="billing"),  # repeat
        Complaint(11 * DAY, customer_id=1, issue="network"),  # another issue
        Complaint(41 * DAY, customer_id=1, issue="billing"),  # 31 days after the last billing one
        Complaint(12 * DAY, customer_id=2, issue="billing"),  # another customer
        Complaint(13 * DAY, customer_id=None, issue="billing"),  # unknown customer: never a repeat
        Complaint(30 * DAY, customer_id=2, issue="billing"),  # 18 days after: repeat
    ]
    flags = kpi.repeat_flags(cs)
    assert flags == [False, True, False, False, False, False, True]
    assert kpi.repeat_rate(flags) == pytest.approx(2 / 7)


def test_first_contact_resolution() -> None:
    contacts = [(1, 0.0), (1, 3 * DAY), (1, 20 * DAY), (2, 0.0), (None, 0.0)]
    flags = kpi.first_contact_flags(contacts, days=7)
    assert flags == [False, True, True, True, None]
    assert kpi.fcr(flags) == pytest.approx(3 / 4)


def test_satisfaction_is_top_two_of_five() -> None:
    assert kpi.csat([5, 4, 3, 2, 1, 5]) == pytest.approx(3 / 6)
    assert kpi.csat([]) is None
    with pytest.raises(ValueError, match=r"1\.\.5"):
        kpi.csat([6])


def test_per_million() -> None:
    assert kpi.per_million(3, 1_500_000) == pytest.approx(2.0)
    assert kpi.per_million(3, 0) is None
    assert kpi.per_ten_thousand(3, 1_500) == pytest.approx(20.0)
    assert kpi.per_ten_thousand(1, 0) is None
