"""The pure trigger matching core: keywords, the category × region scope, threshold starts, the peak."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kefu.playbooks import matching
from kefu.playbooks.matching import Scope, TicketFacts

GZ = TicketFacts(unit_path="/1/2/3/", category_id=11, parent_category_id=10, text="家里宽带断网了，光猫 LOS 红灯")


def test_keywords_are_folded_deduplicated_and_bounded() -> None:
    assert matching.clean_keywords(["  ＬＯＳ ", "los", "", "光猫  红灯", "断网"]) == ("los", "光猫 红灯", "断网")
    with pytest.raises(ValueError, match="at most 20"):
        matching.clean_keywords([f"k{i}" for i in range(21)])
    with pytest.raises(ValueError, match="40 characters"):
        matching.clean_keywords(["长" * 41])


def test_a_keyword_hit_is_the_first_keyword_the_text_holds() -> None:
    assert matching.keyword_hit(("停机", "los"), GZ.text) == "los"
    assert matching.keyword_hit(("停机",), GZ.text) is None
    assert matching.keyword_hit(("断网",), "宽带ＤＵＡＮ 断网") == "断网"


def test_the_scope_is_the_unit_subtree_the_category_or_its_parent_and_a_keyword() -> None:
    assert matching.in_scope(Scope("/1/2/"), GZ)
    assert matching.in_scope(Scope("/1/2/3/", category_id=10), GZ)  # the first-level category covers its children
    assert matching.in_scope(Scope("/1/2/3/", category_id=11), GZ)
    assert not matching.in_scope(Scope("/1/2/3/", category_id=12), GZ)
    assert not matching.in_scope(Scope("/1/4/"), GZ)  # another province
    assert not matching.in_scope(Scope("/1/", category_id=10),
                                 TicketFacts("/1/2/3/", None, None, GZ.text))  # no category yet
    assert matching.in_scope(Scope("/1/", keywords=("光猫",)), GZ)
    assert not matching.in_scope(Scope("/1/", keywords=("携号转网",)), GZ)


def test_keyword_and_threshold_playbooks_start_and_the_others_never_on_a_ticket() -> None:
    kw = Scope("/1/2/", category_id=10, keywords=("los",))
    assert matching.starts("keyword", kw, GZ, recent=1, min_count=0)
    assert not matching.starts("keyword", Scope("/1/2/", category_id=10), GZ, recent=1, min_count=0)
    region = Scope("/1/2/", category_id=10)
    assert not matching.starts("threshold", region, GZ, recent=4, min_count=5)
    assert matching.starts("threshold", region, GZ, recent=5, min_count=5)
    assert not matching.starts("threshold", Scope("/1/4/", category_id=10), GZ, recent=50, min_count=5)
    assert matching.starts("threshold", region, GZ, recent=1, min_count=0)  # at least one ticket
    assert not matching.starts("surge", region, GZ, recent=99, min_count=1)
    assert not matching.starts("manual", region, GZ, recent=99, min_count=1)


def test_the_peak_is_the_busiest_hour_from_the_origin() -> None:
    t0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    times = [t0 + timedelta(minutes=m) for m in (-5, 10, 70, 80, 95, 130, 150, 170)]
    got = matching.peak(times, origin=t0)
    assert (got.count, got.at) == (3, t0 + timedelta(hours=1))  # 09:00-10:00 holds 70, 80, 95 (-5 is left out)
    tie = matching.peak([t0 + timedelta(minutes=m) for m in (5, 65)], origin=t0)
    assert (tie.count, tie.at) == (1, t0)
    assert matching.peak([], origin=t0) == matching.Peak(0, None)
    assert matching.peak(times, origin=t0, bucket=timedelta(minutes=30)).count == 2
