"""The pure lifecycle and diff modules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.knowledge import diff, lifecycle
from kefu.knowledge.errors import CampaignEnded, IllegalTransition

STATUSES = ["draft", "in_review", "published", "expired", "withdrawn"]


@given(st.lists(st.sampled_from(STATUSES), max_size=30))
def test_any_walk_reaches_published_only_through_review(steps: list[str]) -> None:
    status = "draft"
    for dst in steps:
        try:
            lifecycle.check_transition(status, dst)
        except IllegalTransition:
            continue
        if dst == "published":
            assert status == "in_review"
        status = dst


def test_terminal_states_only_reopen_as_draft() -> None:
    for src in ("expired", "withdrawn"):
        for dst in STATUSES:
            if dst == "draft":
                lifecycle.check_transition(src, dst)
            else:
                with pytest.raises(IllegalTransition):
                    lifecycle.check_transition(src, dst)


def test_an_article_past_its_end_cannot_be_published() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    lifecycle.check_publishable(None, now)
    lifecycle.check_publishable(now, now)
    with pytest.raises(CampaignEnded):
        lifecycle.check_publishable(now - timedelta(seconds=1), now)


@given(st.text(max_size=60), st.text(max_size=60))
def test_body_diff_rebuilds_both_versions(old: str, new: str) -> None:
    runs = diff.body_changes(old, new)
    assert "".join(r["from"] for r in runs) == old
    assert "".join(r["to"] for r in runs) == new
