"""Reading a customer's answer to a satisfaction survey (回访): "回复1满意 2一般 3不满意". Pure.

`parse_reply(text)` gives the choice (1 satisfied, 2 neutral, 3 unsatisfied) or None when the text is not
an answer (a new question, several choices, a digit out of range), and `opted_out` for "TD"/"退订".
Digits are read after NFKC (full-width １ counts), Chinese numerals only as the whole answer ("三"), and words
with their negations first ("不满意" before "满意"). A digit and a word that disagree ("1 不满意") are not an
answer: the customer is asked again rather than scored wrongly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SATISFIED, NEUTRAL, UNSATISFIED = 1, 2, 3
PROMPT = "回复1满意 2一般 3不满意"
LABELS = {SATISFIED: ("满意", "Satisfied"), NEUTRAL: ("一般", "Neutral"), UNSATISFIED: ("不满意", "Unsatisfied")}

# Longest first within a choice; unsatisfied words are looked for before satisfied ones.
_WORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (UNSATISFIED, ("非常不满意", "很不满意", "不太满意", "不是很满意", "不怎么满意", "不满意", "不满", "差评",
                   "很差", "太差", "非常差", "差劲", "垃圾", "没解决", "没有解决", "未解决", "不行")),
    (NEUTRAL, ("一般般", "一般", "还行", "还可以", "凑合", "马马虎虎", "中评", "过得去")),
    (SATISFIED, ("非常满意", "很满意", "十分满意", "满意", "好评", "很好", "非常好", "不错", "挺好", "谢谢你们",
                 "已解决", "解决了")),
)
_NUMERALS = {"一": SATISFIED, "壹": SATISFIED, "二": NEUTRAL, "两": NEUTRAL, "贰": NEUTRAL, "三": UNSATISFIED,
             "叁": UNSATISFIED}
_OPT_OUT = re.compile(r"^(td|t|退订|取消|别发了|不要再发)$")
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
_FILLER = re.compile(r"^(回复|我选|选|答|我给|给|打)")


@dataclass(frozen=True)
class Reply:
    choice: int | None
    opted_out: bool = False


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
        if d not in LABELS or (word is not None and word != d):
            return Reply(None)
        return Reply(d)
    bare = _FILLER.sub("", compact)
    if bare in _NUMERALS:
        return Reply(_NUMERALS[bare])
    return Reply(word)


def _word_choice(compact: str) -> int | None:
    rest = compact
    found: list[int] = []
    for choice, words in _WORDS:
        for w in words:
            if w in rest:
                found.append(choice)
                rest = rest.replace(w, "|")
    kinds = set(found)
    return kinds.pop() if len(kinds) == 1 else None
