"""Automatic pre-checks on a text conversation before an inspector reads it (pure: the messages come in).

- `forbidden_word`: an agent's reply holds a phrase the service rules forbid (a brush-off, an insult, a promise
  kefu must not make); each phrase once per reply.
- `no_greeting`: the agent's first reply of the conversation does not greet (您好 / 你好 / 很高兴为您服务 ...).
- `long_silence`: in a chat (im, webchat, wechat, app, web) the customer waited longer than `silence_seconds`
  for the agent's next reply (automatic notices do not count as replies).
Not checked here: a reply that contradicts the current script (口径) — that needs the script's facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

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
    kind: str  # forbidden_word | no_greeting | long_silence
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
