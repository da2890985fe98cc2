"""Automatic pre-checks on a text conversation before an inspector reads it (pure: the messages come in).

- `forbidden_word`: an agent's reply holds a phrase the service rules forbid (a brush-off, an insult, a promise
  kefu must not make); each phrase once per reply.
- `no_greeting`: the agent's first reply of the conversation does not greet (您好 / 你好 / 很高兴为您服务 ...).
- `long_silence`: in a chat (im, webchat, wechat, app, web) the customer waited longer than `silence_seconds`
  for the agent's next reply (automatic notices do not count as replies).
- `script_conflict`: a reply states a figure (a time limit, an amount, a share: "3个工作日", "20元", "5GB")
  where a current script (口径) of the ticket's category states a different figure in the same unit about the
  same thing. The rule (`script_conflicts`, honest and narrow): both are split into clauses (at ，。；！？ and
  line ends; not at "." so "2.5GB" stays one figure); a clause's figures are a number (Arabic, full-width or a
  single Chinese numeral 一..十) and a unit from UNITS; two clauses are "about the same thing" when, with their
  figures removed, they share a two-character Chinese word-piece (bigram) that is not a courtesy (STOP_BIGRAMS).
  A reply figure that equals any of the script's figures for that unit and topic agrees. It does not understand
  negation, ranges or paraphrase: it points an inspector at a reply to read, it does not score.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

FORBIDDEN = ("不知道", "不归我管", "不关我事", "你自己查", "自己去查", "没办法", "投诉也没用", "随便你", "爱投诉就投诉",
             "你听不懂吗", "神经病", "保证百分之百", "肯定不会再出问题")
GREETINGS = ("您好", "你好", "很高兴为您服务", "欢迎", "感谢您", "早上好", "下午好", "晚上好")
CHAT_CHANNELS = ("im", "webchat", "wechat", "app", "web")
SILENCE_SECONDS = 120.0


@dataclass(frozen=True)
class Line:
    at: datetime
    outbound: bool  # from kefu to the customer
    text: str
    by_agent: bool = True  # an outbound line a person wrote (False: a survey, a notice)
    channel: str = "webchat"


@dataclass(frozen=True)
class Finding:
    kind: str  # forbidden_word | no_greeting | long_silence | script_conflict
    detail: str
    at: datetime | None = None


def precheck(lines: Iterable[Line], *, forbidden: Sequence[str] = FORBIDDEN, greetings: Sequence[str] = GREETINGS,
             silence_seconds: float = SILENCE_SECONDS) -> list[Finding]:
    ordered = sorted(lines, key=lambda x: x.at)
    replies = [x for x in ordered if x.outbound and x.by_agent]
    out: list[Finding] = []
    if replies and not any(g in replies[0].text for g in greetings):
        out.append(Finding("no_greeting", replies[0].text[:60], replies[0].at))
    for r in replies:
        for phrase in forbidden:
            if phrase in r.text:
                out.append(Finding("forbidden_word", phrase, r.at))
    waiting_since: datetime | None = None
    for x in ordered:
        if not x.outbound:
            if waiting_since is None and x.channel in CHAT_CHANNELS:
                waiting_since = x.at
        elif x.by_agent and waiting_since is not None:
            waited = (x.at - waiting_since).total_seconds()
            if waited > silence_seconds:
                out.append(Finding("long_silence", f"{round(waited)}", waiting_since))
            waiting_since = None
    return out


# ---- replies against the current script (口径) -----------------------------------------------------------

# unit as written -> the unit compared (longest first, so "个工作日" is not read as "日")
UNITS: tuple[tuple[str, str], ...] = (
    ("个工作日", "工作日"), ("工作日", "工作日"), ("个自然日", "天"), ("自然日", "天"), ("个小时", "小时"),
    ("小时", "小时"), ("分钟", "分钟"), ("个月", "个月"), ("天", "天"), ("元", "元"), ("块", "元"), ("GB", "GB"),
    ("G", "GB"), ("MB", "MB"), ("M", "MB"), ("%", "%"), ("次", "次"))
_CN_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8",
              "九": "9", "十": "10"}
_UNIT_RE = "|".join(re.escape(u) for u, _ in UNITS)
_QUANTITY = re.compile(r"(\d+(?:\.\d+)?|[一二两三四五六七八九十])\s*(" + _UNIT_RE + ")")
_CLAUSE = re.compile(r"[，,。；;！!？?\n]+")  # not ".": "2.5GB" is one figure
_CJK = re.compile(r"[\u4e00-\u9fff]")
STOP_BIGRAMS = frozenset({"您好", "你好", "请您", "为您", "您的", "我们", "已经", "可以", "会在", "将在", "之内",
                          "以内", "谢谢", "感谢", "本次", "这个", "一下", "左右"})


@dataclass(frozen=True)
class Script:
    title: str
    body: str


@dataclass(frozen=True)
class Claim:
    value: float
    unit: str
    written: str  # as it appears ("7个工作日")
    topic: frozenset[str]  # the clause's bigrams without its figures


def _number(raw: str) -> float:
    return float(_CN_DIGITS.get(raw, raw))


def claims(text: str) -> list[Claim]:
    """The figures of a text, clause by clause, each with its clause's topic bigrams."""
    units = dict(UNITS)
    out: list[Claim] = []
    for clause in _CLAUSE.split(unicodedata.normalize("NFKC", text)):
        found = list(_QUANTITY.finditer(clause))
        if not found:
            continue
        rest = _QUANTITY.sub(" ", clause)
        topic = frozenset(a + b for a, b in pairwise(rest)
                          if _CJK.match(a) and _CJK.match(b) and a + b not in STOP_BIGRAMS)
        out.extend(Claim(_number(m.group(1)), units[m.group(2)], m.group(0), topic) for m in found)
    return out


def script_conflicts(lines: Iterable[Line], scripts: Sequence[Script]) -> list[Finding]:
    """Each agent reply figure that a script of the ticket's category contradicts (see the module's rule); one
    finding per reply figure, naming the script's figure and title: "3个工作日 ≠ 7个工作日（退费到账口径）"."""
    stated = [(c, sc.title) for sc in scripts for c in claims(sc.body)]
    out: list[Finding] = []
    for line in sorted(lines, key=lambda x: x.at):
        if not (line.outbound and line.by_agent):
            continue
        for said in claims(line.text):
            related = [(c, title) for c, title in stated if c.unit == said.unit and c.topic & said.topic]
            if related and all(c.value != said.value for c, _ in related):
                c, title = related[0]
                out.append(Finding("script_conflict", f"{said.written} ≠ {c.written}（{title}）", line.at))
    return out
