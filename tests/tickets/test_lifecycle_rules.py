"""The pure lifecycle: table properties checked by hypothesis, and the decisions spelled out."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.tickets import lifecycle as lc

T0 = datetime(2026, 3, 1, tzinfo=UTC)
statuses = st.sampled_from(lc.STATUSES)


def reachable(start: str) -> set[str]:
    seen, todo = {start}, deque([start])
    while todo:
        s = todo.popleft()
        for nxt in lc.allowed_targets(s, via_merge=True):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@given(statuses)
def test_no_status_moves_to_itself(s: str) -> None:
    assert s not in lc.allowed_targets(s, via_merge=True)
    with pytest.raises(lc.IllegalTransition):
        lc.check_transition(s, s, via_merge=True)


@given(statuses)
def test_every_state_reachable_from_new_can_reach_closed_unless_merged(s: str) -> None:
    if s in reachable(lc.NEW) and s != lc.MERGED:
        assert lc.CLOSED in reachable(s) or s == lc.CLOSED


def test_every_status_is_reachable_from_new() -> None:
    assert reachable(lc.NEW) == set(lc.STATUSES)


@given(statuses, st.booleans())
def test_merged_is_terminal(dst: str, via_merge: bool) -> None:
    assert lc.allowed_targets(lc.MERGED, via_merge=via_merge) == frozenset()
    with pytest.raises(lc.IllegalTransition) as e:
        lc.check_transition(lc.MERGED, dst, via_merge=via_merge)
    assert e.value.status == 409
    assert e.value.details["allowed"] == []


@given(st.timedeltas(min_value=timedelta(days=7, microseconds=1), max_value=timedelta(days=3650)), statuses)
def test_closed_beyond_reopen_window_is_terminal(age: timedelta, dst: str) -> None:
    assert lc.allowed_targets(lc.CLOSED, closed_at=T0, at=T0 + age) == frozenset()
    with pytest.raises(lc.IllegalTransition):
        lc.check_transition(lc.CLOSED, dst, closed_at=T0, at=T0 + age)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=7)))
def test_closed_within_reopen_window_reopens_to_in_progress_only(age: timedelta) -> None:
    assert lc.allowed_targets(lc.CLOSED, closed_at=T0, at=T0 + age) == {lc.IN_PROGRESS}


@given(statuses, statuses)
def test_merged_is_reached_only_through_a_merge_from_an_open_status(src: str, dst: str) -> None:
    if dst == lc.MERGED:
        assert (dst in lc.allowed_targets(src)) is False
        assert (dst in lc.allowed_targets(src, via_merge=True)) is (src in lc.OPEN_STATUSES)


@given(st.lists(st.integers(min_value=0, max_value=100), max_size=40))
def test_a_random_walk_from_new_only_ever_stops_in_a_terminal_status(choices: list[int]) -> None:
    s = lc.NEW
    for c in choices:
        targets = sorted(lc.allowed_targets(s) | lc.allowed_targets(s, via_merge=True))
        if not targets:
            assert s in lc.TERMINAL_STATUSES  # no dead end but merged
            break
        s = targets[c % len(targets)]
        assert s in lc.STATUSES


def test_illegal_transition_names_the_allowed_targets() -> None:
    with pytest.raises(lc.IllegalTransition) as e:
        lc.check_transition(lc.NEW, lc.WAITING_CUSTOMER)
    assert e.value.code == "illegal_transition"
    assert e.value.status == 409
    assert e.value.details == {
        "from": "new",
        "to": "waiting_customer",
        "allowed": ["assigned", "closed", "in_progress", "resolved"],
    }


def test_unknown_status_is_invalid_input() -> None:
    with pytest.raises(lc.UnknownStatus) as e:
        lc.check_transition(lc.NEW, "done")
    assert e.value.status == 422


@pytest.mark.parametrize(
    ("src", "dst", "needed"),
    [
        (lc.IN_PROGRESS, lc.RESOLVED, True),
        (lc.RESOLVED, lc.IN_PROGRESS, True),
        (lc.CLOSED, lc.IN_PROGRESS, True),
        (lc.NEW, lc.CLOSED, True),
        (lc.WAITING_SUPPORT, lc.CLOSED, True),
        (lc.IN_PROGRESS, lc.MERGED, True),
        (lc.RESOLVED, lc.CLOSED, False),
        (lc.NEW, lc.ASSIGNED, False),
        (lc.IN_PROGRESS, lc.WAITING_CUSTOMER, False),
        (lc.WAITING_CUSTOMER, lc.IN_PROGRESS, False),
    ],
)
def test_which_moves_need_a_reason(src: str, dst: str, needed: bool) -> None:
    assert lc.requires_reason(src, dst) is needed


def test_open_means_someone_still_has_to_act() -> None:
    assert {s for s in lc.STATUSES if lc.is_open(s)} == {
        "new",
        "assigned",
        "in_progress",
        "waiting_customer",
        "waiting_support",
    }
