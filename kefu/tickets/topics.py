"""Keyword rules on a customer's words, and which open ticket a new contact continues. Pure: no database.

- `says_complaint(text)`: the customer says 投诉 (to complain / a complaint), or 申诉 / 举报 / 工信部 /
  12300 (escalation words that are complaints in a telecom service centre's terms). Such a message makes its
  ticket a complaint, with the complaint reply clock (kefu.tickets.service). This is the interim rule until
  the classification issue lands; words are matched as written (no negation handling: "不是投诉" counts).
- `topic_of(text)`: the first-level category (DOMAIN.md's tree) the text is about, by keywords: the
  category with the most keyword hits, ties broken by the earliest hit in the text; None when no keyword
  of any category occurs.
- `ticket_to_continue(open_tickets, topic)`: the topic rule (docs/routing.md, "Which ticket a message
  continues").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

COMPLAINT_WORDS = ("投诉", "申诉", "举报", "工信部", "12300")

# first-level category key -> words that name it (checked in this order on ties of count and position)
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "broadband": ("宽带", "光猫", "固话", "装机", "移机", "iptv", "IPTV", "机顶盒", "路由器", "报修"),
    "data": ("流量", "流量包", "限速", "超流量"),
    "billing": ("话费", "扣费", "扣钱", "账单", "余额", "充值", "缴费", "退费", "欠费", "停机", "多扣"),
    "network": ("信号", "没信号", "无信号", "掉话", "基站", "网速", "上不了网", "断网", "4g", "4G", "5g", "5G",
                "volte", "VoLTE"),
    "plan": ("套餐", "资费", "合约", "优惠", "活动", "权益"),
    "vas": ("增值业务", "订购", "退订", "彩铃", "会员"),
    "roaming": ("漫游", "境外", "国际长途"),
    "terminal": ("手机坏", "终端", "合约机", "sim卡", "SIM卡", "换机"),
    "number": ("实名", "补卡", "换卡", "销户", "携号转网", "过户", "副卡", "号码"),
    "service": ("态度", "营业厅", "客服电话", "打不通", "没人理", "没人管", "承诺"),
    "spam": ("骚扰", "诈骗", "垃圾短信", "营销电话"),
}


def says_complaint(text: str | None) -> bool:
    return bool(text) and any(w in text for w in COMPLAINT_WORDS)  # type: ignore[operator]


def topic_of(text: str | None) -> str | None:
    if not text:
        return None
    best: tuple[int, int, int] | None = None  # (-hits, first position, order)
    best_key = None
    for order, (key, words) in enumerate(TOPIC_WORDS.items()):
        positions = [text.find(w) for w in words]
        found = [p for p in positions if p >= 0]
        if not found:
            continue
        score = (-len(found), min(found), order)
        if best is None or score < best:
            best, best_key = score, key
    return best_key


@dataclass(frozen=True)
class OpenTicket:
    """A customer's open ticket as the rule sees it: its topic (first-level category key, or None when
    it has none) and when it was opened."""

    id: int
    topic: str | None
    opened_at: datetime


def ticket_to_continue(open_tickets: Sequence[OpenTicket], topic: str | None) -> int | None:
    """Which open ticket a new contact of the customer continues, or None for a new ticket.

    1. No open ticket: a new ticket.
    2. The message names no topic (`topic` None: "还没好吗？"): the newest open ticket.
    3. An open ticket on the same topic: the newest of those (even when a newer one is on another topic).
    4. The newest open ticket has no topic yet: that one (nothing says it is a different matter).
    5. Otherwise the newest open ticket is on a different topic: a new ticket.
    "Newest" is the latest opened_at, then the highest id."""
    if not open_tickets:
        return None
    ordered = sorted(open_tickets, key=lambda t: (t.opened_at, t.id), reverse=True)
    if topic is None:
        return ordered[0].id
    same = [t for t in ordered if t.topic == topic]
    if same:
        return same[0].id
    if ordered[0].topic is None:
        return ordered[0].id
    return None
