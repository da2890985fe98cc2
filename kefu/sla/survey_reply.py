"""Reading a customer's answer to a satisfaction survey (回访) on a 1–5 scale. Pure.

The scale (the survey text says it: `PROMPT`): 5 非常满意, 4 满意, 3 一般, 2 不满意, 1 非常不满意. A higher
score is better; satisfied is 4 or 5 (`is_satisfied`, the one definition: the surveys' figures and the KPI
kefu.analytics.kpi.csat count by it, `csat`); 1 and 2 are unsatisfied (`is_unsatisfied`) and reopen the ticket.

`parse_reply(text)` gives the score or None when the text is not an answer (a new question, several
scores, a number out of range), and `opted_out` for "TD"/"退订". Digits are read after NFKC (full-width
"５" counts), Chinese numerals only as the whole answer ("五", "五分", "4星"), words longest first so that
"非常不满意" is not read as "满意"; several words on one side of the scale give the strongest of them,
words on different sides no answer. A digit and a word on different sides of the scale ("5 不满意") are not
an answer: the customer is asked again rather than scored wrongly; on the same side the digit wins ("5 满意").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

VERY_UNSATISFIED, UNSATISFIED, NEUTRAL, SATISFIED, VERY_SATISFIED = 1, 2, 3, 4, 5
SCORES = (VERY_SATISFIED, SATISFIED, NEUTRAL, UNSATISFIED, VERY_UNSATISFIED)
PROMPT = "回复1-5分：5非常满意 4满意 3一般 2不满意 1非常不满意"
LABELS = {VERY_SATISFIED: ("非常满意", "Very satisfied"), SATISFIED: ("满意", "Satisfied"),
          NEUTRAL: ("一般", "Neutral"), UNSATISFIED: ("不满意", "Unsatisfied"),
          VERY_UNSATISFIED: ("非常不满意", "Very unsatisfied")}

_WORDS: dict[int, tuple[str, ...]] = {
    VERY_UNSATISFIED: ("非常不满意", "很不满意", "十分不满意", "特别不满意", "极不满意", "非常不满", "很差", "太差",
                       "非常差", "极差", "特别差", "差劲", "垃圾", "差评", "一星", "零分"),
    UNSATISFIED: ("不太满意", "不是很满意", "不怎么满意", "不满意", "不满", "没解决", "没有解决", "未解决", "不行",
                  "较差", "有点差"),
    NEUTRAL: ("一般般", "一般", "还行", "还可以", "凑合", "马马虎虎", "中评", "过得去", "中等"),
    SATISFIED: ("满意", "好评", "不错", "挺好", "谢谢你们", "已解决", "解决了", "比较满意"),
    VERY_SATISFIED: ("非常满意", "很满意", "十分满意", "特别满意", "超级满意", "非常好", "很好", "太好了", "五星",
                     "满分"),
}
# every word with its score, longest first: a longer word is taken out before the shorter ones inside it
_BY_LENGTH = sorted(((w, k) for k, ws in _WORDS.items() for w in ws), key=lambda wk: -len(wk[0]))
_NUMERALS = {"一": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5}
_OPT_OUT = re.compile(r"^(td|t|退订|取消|别发了|不要再发)$")
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
_BARE = re.compile(r"^(?:回复|我选|选|答|我给|给|打)?(.)(?:分|星|颗星)?$")


@dataclass(frozen=True)
class Reply:
    choice: int | None
    opted_out: bool = False


def is_unsatisfied(choice: int | None) -> bool:
    return choice is not None and choice <= UNSATISFIED


def is_satisfied(choice: int | None) -> bool:
    """满意: 4 or 5 of 5 (满意 / 非常满意). The one definition: the surveys' figures (kefu.sla.surveys.csat_by)
    and the KPI (kefu.analytics.kpi.csat) both count by it."""
    return choice is not None and choice >= SATISFIED


def satisfaction_rate(satisfied: int, answered: int) -> float | None:
    """满意度 CSAT: satisfied answers / answers; None (no data, shown "—") without answers."""
    return satisfied / answered if answered else None


def mean_score(score_total: int, answered: int) -> float | None:
    """The answers' mean score (1–5); None (no data) without answers, never 0.0."""
    return score_total / answered if answered else None


def csat(scores: Iterable[int]) -> float | None:
    """满意度 of these answers (`is_satisfied` / answers); scores outside 1..5 are refused (ValueError)."""
    answered = satisfied = 0
    for score in scores:
        if not VERY_UNSATISFIED <= score <= VERY_SATISFIED:
            raise ValueError(f"a satisfaction score is 1..5, got {score}")
        answered += 1
        satisfied += is_satisfied(score)
    return satisfaction_rate(satisfied, answered)


def _side(choice: int) -> int:
    return (choice > NEUTRAL) - (choice < NEUTRAL)


def parse_reply(text: str) -> Reply:
    norm = unicodedata.normalize("NFKC", text or "").lower()
    compact = _STRIP.sub("", norm)
    if not compact:
        return Reply(None)
    if _OPT_OUT.match(compact):
        return Reply(None, opted_out=True)
    if len(compact) > 40:  # a long message is a new question, not a survey answer
        return Reply(None)
    digits = set(re.findall(r"(?<!\d)\d+(?!\d)", norm))
    word = _word_choice(compact)
    if digits:
        if len(digits) != 1:
            return Reply(None)
        d = int(next(iter(digits)))
        if d not in LABELS or (word is not None and _side(word) != _side(d)):
            return Reply(None)
        return Reply(d)
    bare = _BARE.match(compact)
    if bare and bare.group(1) in _NUMERALS:
        return Reply(_NUMERALS[bare.group(1)])
    return Reply(word)


def _word_choice(compact: str) -> int | None:
    rest = compact
    found: set[int] = set()
    for w, choice in _BY_LENGTH:
        if w in rest:
            found.add(choice)
            rest = rest.replace(w, "|")
    sides = {_side(k) for k in found}
    if len(sides) != 1:
        return None
    # words on one side ("非常不满意，问题没解决"): the strongest of them
    return max(found, key=lambda k: abs(k - NEUTRAL))
