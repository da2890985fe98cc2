"""The survey answer parser on real-ish replies (SMS and WeChat), on the 1–5 scale (5 非常满意 … 1 非常不满意)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.analytics import kpi
from kefu.sla import survey_reply
from kefu.sla.survey_reply import (
    LABELS,
    NEUTRAL,
    PROMPT,
    SATISFIED,
    UNSATISFIED,
    VERY_SATISFIED,
    VERY_UNSATISFIED,
    Reply,
    is_satisfied,
    is_unsatisfied,
    parse_reply,
)
from kefu.sla.surveys import Csat

CASES = [
    ("5", VERY_SATISFIED), ("５", VERY_SATISFIED), (" 5 ", VERY_SATISFIED), ("5。", VERY_SATISFIED),
    ("【5】", VERY_SATISFIED), ("回复5", VERY_SATISFIED), ("我选5", VERY_SATISFIED), ("5分", VERY_SATISFIED),
    ("5 非常满意", VERY_SATISFIED), ("5满意", VERY_SATISFIED), ("非常满意", VERY_SATISFIED),
    ("非常满意！！", VERY_SATISFIED), ("很满意,辛苦了", VERY_SATISFIED), ("五", VERY_SATISFIED),
    ("五星", VERY_SATISFIED), ("五分", VERY_SATISFIED), ("伍", VERY_SATISFIED), ("满分", VERY_SATISFIED),
    ("4", SATISFIED), ("４", SATISFIED), ("4满意", SATISFIED), ("满意", SATISFIED), ("好评", SATISFIED),
    ("问题已解决，谢谢", SATISFIED), ("还不错", SATISFIED), ("四", SATISFIED), ("4星", SATISFIED),
    ("3", NEUTRAL), ("３", NEUTRAL), ("3一般", NEUTRAL), ("一般", NEUTRAL), ("一般般吧", NEUTRAL),
    ("还行", NEUTRAL), ("凑合", NEUTRAL), ("三", NEUTRAL), ("三分", NEUTRAL),
    ("2", UNSATISFIED), ("２", UNSATISFIED), ("2不满意", UNSATISFIED), ("不满意", UNSATISFIED),
    ("不满意！！！", UNSATISFIED), ("不太满意", UNSATISFIED), ("不是很满意", UNSATISFIED), ("二", UNSATISFIED),
    ("两星", UNSATISFIED), ("回复2", UNSATISFIED), ("问题还是没解决", UNSATISFIED),
    ("1", VERY_UNSATISFIED), ("１", VERY_UNSATISFIED), ("1分", VERY_UNSATISFIED), ("1 很差", VERY_UNSATISFIED),
    ("很差", VERY_UNSATISFIED), ("太差了", VERY_UNSATISFIED), ("非常不满意，问题根本没解决", VERY_UNSATISFIED),
    ("非常不满意", VERY_UNSATISFIED), ("很不满意", VERY_UNSATISFIED), ("差评", VERY_UNSATISFIED),
    ("一", VERY_UNSATISFIED), ("壹", VERY_UNSATISFIED), ("回复1", VERY_UNSATISFIED),
]
NOT_ANSWERS = [
    "", "   ", "？", "6", "0", "13", "1和3", "1-5", "1 满意", "5 不满意", "4 很差", "满意是满意但是还是不满意",
    "我的流量怎么又超了，帮我查一下本月账单", "13800138000", "你好", "什么意思", "不好意思，请问营业厅几点开门",
    "我上个月的话费扣了两次，客服说给我退但是到现在都没有到账，请尽快处理一下谢谢",
]
FULL_WIDTH = "０１２３４５６７８９"


@pytest.mark.parametrize(("text", "choice"), CASES)
def test_answers_are_read(text: str, choice: int) -> None:
    assert parse_reply(text) == Reply(choice)


@pytest.mark.parametrize("text", NOT_ANSWERS)
def test_texts_that_are_not_an_answer_score_nothing(text: str) -> None:
    assert parse_reply(text) == Reply(None)


@pytest.mark.parametrize("text", ["TD", "td", "退订", "T"])
def test_opting_out(text: str) -> None:
    assert parse_reply(text) == Reply(None, opted_out=True)


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_every_label_and_the_prompt_read_back_as_their_score(score: int) -> None:
    zh, _ = LABELS[score]
    assert parse_reply(zh) == Reply(score)
    assert parse_reply(f"{score}{zh}") == Reply(score)
    assert f"{score}{zh}" in PROMPT


def test_unsatisfied_is_one_and_two_and_satisfied_four_and_five() -> None:
    assert [s for s in range(1, 6) if is_unsatisfied(s)] == [1, 2]
    assert [s for s in range(1, 6) if is_satisfied(s)] == [4, 5]
    assert not is_unsatisfied(None)
    assert not is_satisfied(None)


@given(st.lists(st.integers(1, 5), max_size=30))
def test_satisfied_is_defined_once_the_kpi_and_the_survey_figures_count_by_it(scores: list[int]) -> None:
    want = sum(1 for s in scores if s >= 4) / len(scores) if scores else None
    assert survey_reply.csat(scores) == want
    assert kpi.csat(scores) == want
    row = Csat("sms", len(scores) + 1, len(scores), sum(map(is_satisfied, scores)), sum(scores))
    assert row.csat == want
    assert row.average == (sum(scores) / len(scores) if scores else None)


def test_no_answers_is_no_data_not_zero() -> None:
    assert (survey_reply.csat([]), survey_reply.satisfaction_rate(0, 0), survey_reply.mean_score(0, 0)) == (
        None, None, None)
    empty = Csat.total([])
    assert (empty.sent, empty.answered, empty.csat, empty.average) == (0, 0, None, None)
    sent_only = Csat.total([Csat("sms", 3, 0, 0, 0), Csat("wechat", 1, 0, 0, 0)])
    assert (sent_only.sent, sent_only.csat, sent_only.average, sent_only.response_rate) == (4, None, None, 0.0)
    both = Csat.total([Csat("sms", 3, 2, 1, 7), Csat("wechat", 1, 1, 1, 5)])
    assert (both.answered, both.satisfied, both.csat, both.average) == (3, 2, 2 / 3, 4.0)
    with pytest.raises(ValueError, match=r"got 6"):
        survey_reply.csat([4, 6])


@given(st.text(max_size=80))
def test_any_text_gives_a_score_in_range_or_none(text: str) -> None:
    r = parse_reply(text)
    assert r.choice in (None, 1, 2, 3, 4, 5)
    assert not (r.opted_out and r.choice is not None)


@given(st.integers(1, 5), st.booleans(), st.sampled_from(["", "回复", "我选", "给"]),
       st.sampled_from(["", "分", " ", "。"]))
def test_a_digit_half_or_full_width_with_filler_reads_as_itself(score: int, full: bool, prefix: str,
                                                                 suffix: str) -> None:
    digit = FULL_WIDTH[score] if full else str(score)
    assert unicodedata.normalize("NFKC", digit) == str(score)
    assert parse_reply(prefix + digit + suffix) == Reply(score)


@given(st.integers(1, 5), st.integers(1, 5))
def test_a_digit_and_a_label_agree_or_the_text_is_not_an_answer(digit: int, label: int) -> None:
    got = parse_reply(f"{digit} {LABELS[label][0]}").choice
    same_side = (digit > 3) == (label > 3) and (digit < 3) == (label < 3)
    assert got == (digit if same_side else None)


@given(st.integers(min_value=6, max_value=10 ** 6))
def test_a_number_out_of_the_scale_is_not_an_answer(n: int) -> None:
    assert parse_reply(str(n)).choice is None


@given(st.sampled_from([c for c, _ in CASES]), st.sampled_from(["", " ", "。", "!", "～", "\n"]))
def test_punctuation_around_an_answer_does_not_change_it(text: str, tail: str) -> None:
    assert parse_reply(tail + text + tail) == parse_reply(text)
