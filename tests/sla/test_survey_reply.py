"""The survey answer parser on real-ish replies (SMS and WeChat)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.sla.survey_reply import NEUTRAL, SATISFIED, UNSATISFIED, Reply, parse_reply

CASES = [
    ("1", SATISFIED), ("１", SATISFIED), (" 1 ", SATISFIED), ("1。", SATISFIED), ("【1】", SATISFIED),
    ("回复1", SATISFIED), ("我选1", SATISFIED), ("1满意", SATISFIED), ("1 满意，谢谢", SATISFIED),
    ("满意", SATISFIED), ("非常满意！！", SATISFIED), ("很满意,辛苦了", SATISFIED), ("好评", SATISFIED),
    ("一", SATISFIED), ("问题已解决，谢谢", SATISFIED),
    ("2", NEUTRAL), ("２", NEUTRAL), ("2一般", NEUTRAL), ("一般", NEUTRAL), ("一般般吧", NEUTRAL),
    ("还行", NEUTRAL), ("凑合", NEUTRAL), ("二", NEUTRAL),
    ("3", UNSATISFIED), ("３", UNSATISFIED), ("3不满意", UNSATISFIED), ("不满意", UNSATISFIED),
    ("不满意！！！", UNSATISFIED), ("非常不满意，问题根本没解决", UNSATISFIED), ("不太满意", UNSATISFIED),
    ("不是很满意", UNSATISFIED), ("差评", UNSATISFIED), ("三", UNSATISFIED), ("回复3", UNSATISFIED),
    ("太差了", UNSATISFIED),
]
NOT_ANSWERS = [
    "", "   ", "？", "4", "0", "13", "1和3", "1 不满意", "3满意", "满意是满意但是还是不满意",
    "我的流量怎么又超了，帮我查一下本月账单", "13800138000", "你好", "什么意思",
    "我上个月的话费扣了两次，客服说给我退但是到现在都没有到账，请尽快处理一下谢谢",
]


@pytest.mark.parametrize(("text", "choice"), CASES)
def test_answers_are_read(text: str, choice: int) -> None:
    assert parse_reply(text) == Reply(choice)


@pytest.mark.parametrize("text", NOT_ANSWERS)
def test_texts_that_are_not_an_answer_score_nothing(text: str) -> None:
    assert parse_reply(text) == Reply(None)


@pytest.mark.parametrize("text", ["TD", "td", "退订", "T"])
def test_opting_out(text: str) -> None:
    assert parse_reply(text) == Reply(None, opted_out=True)


@given(st.text(max_size=80))
def test_any_text_gives_a_choice_in_range_or_none(text: str) -> None:
    r = parse_reply(text)
    assert r.choice in (None, SATISFIED, NEUTRAL, UNSATISFIED)
    assert not (r.opted_out and r.choice is not None)


@given(st.sampled_from([c for c, _ in CASES]), st.sampled_from(["", " ", "。", "!", "～", "\n"]))
def test_punctuation_around_an_answer_does_not_change_it(text: str, tail: str) -> None:
    assert parse_reply(tail + text + tail) == parse_reply(text)
