"""Scorecards and sampling: exact totals, critical items, and sampling properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.quality.core import DEFAULT_ITEMS, Contact, Item, ScoringError, sample, score

FULL = {i.key: i.max_marks for i in DEFAULT_ITEMS}


def test_a_perfect_contact_scores_100_and_the_weights_count() -> None:
    assert score(DEFAULT_ITEMS, FULL) == 100.0
    assert score(DEFAULT_ITEMS, {**FULL, "solution": 0}) == 70.0
    assert score(DEFAULT_ITEMS, {**FULL, "greeting": 3, "empathy": 4}) == 94.0


def test_a_failed_critical_item_fails_the_contact() -> None:
    assert score(DEFAULT_ITEMS, {**FULL, "identity": 0}) == 0.0


def test_marks_out_of_range_missing_or_unknown_are_refused() -> None:
    with pytest.raises(ScoringError, match="0 to 5"):
        score(DEFAULT_ITEMS, {**FULL, "greeting": 6})
    with pytest.raises(ScoringError, match="not marked"):
        score(DEFAULT_ITEMS, {k: v for k, v in FULL.items() if k != "closing"})
    with pytest.raises(ScoringError, match="unknown items: speed"):
        score(DEFAULT_ITEMS, {**FULL, "speed": 1})
    with pytest.raises(ScoringError, match="repeat"):
        score([Item("a", "A", 1), Item("a", "B", 1)], {"a": 1})


def test_sampling_takes_all_complaints_and_unsatisfied_and_a_share_per_agent() -> None:
    contacts = [Contact(1, 7, complaint=True), Contact(2, 7, unsatisfied=True)] + \
        [Contact(10 + i, 7) for i in range(10)] + [Contact(30, 8)]
    got = sample(contacts, share=0.2, seed=1)
    assert got[1] == "complaint"
    assert got[2] == "low_csat"
    assert sum(1 for cid, why in got.items() if why == "random" and 10 <= cid < 20) == 2
    assert got[30] == "random"  # one contact, 20 %: rounded up to one
    assert sample(contacts, share=0.2, seed=1) == got


@given(st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.booleans()), max_size=60),
       st.floats(0, 1), st.integers(0, 10))
def test_sampling_properties(rows: list[tuple[int, bool, bool]], share: float, seed: int) -> None:
    contacts = [Contact(i, a, c, u) for i, (a, c, u) in enumerate(rows)]
    got = sample(contacts, share=share, seed=seed)
    assert {c.id for c in contacts if c.complaint or c.unsatisfied} <= set(got)
    for agent in {c.agent_id for c in contacts}:
        plain = [c.id for c in contacts if c.agent_id == agent and not (c.complaint or c.unsatisfied)]
        assert sum(1 for cid in plain if cid in got) == math.ceil(share * len(plain))
