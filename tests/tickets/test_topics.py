"""The topic rule (which open ticket a new contact continues) and the keyword rules, on synthetic cases, with
hypothesis, on real Weibo helpdesk dialogues (skipped when /work/shared/data is absent), and through the
inbound path."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.channels import inbound
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.tickets import service as tickets
from kefu.tickets.topics import TOPIC_WORDS, OpenTicket, says_complaint, ticket_to_continue, topic_of
from tests.conftest import World

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_ROOT = Path(__file__).resolve().parents[2]
# ../shared/data from the project root (a checkout in /work/main), or the shared folder seen from a worktree
DIALOGUES = next((p for p in (_ROOT.parent / "shared", _ROOT.parent.parent / "shared")
                  if (p / "data").is_dir()), _ROOT.parent / "shared") / "data" / "stc3-weibo-helpdesk-zh" / \
    "dialogues_cn.json"


def ot(i: int, topic: str | None, hours: float) -> OpenTicket:
    return OpenTicket(i, topic, T0 + timedelta(hours=hours))


# ---- synthetic ------------------------------------------------------------------------------------

def test_the_rule_case_by_case() -> None:
    assert ticket_to_continue([], "billing") is None  # nothing open: new
    assert ticket_to_continue([], None) is None
    broadband, billing = ot(1, "broadband", 0), ot(2, "billing", 1)
    assert ticket_to_continue([broadband, billing], None) == 2  # no topic: the newest
    assert ticket_to_continue([broadband, billing], "broadband") == 1  # the same topic, though not the newest
    assert ticket_to_continue([broadband, billing], "billing") == 2
    assert ticket_to_continue([broadband, billing], "data") is None  # newest on another topic: new
    assert ticket_to_continue([broadband, ot(3, None, 2)], "data") == 3  # newest has no topic: continue it
    assert ticket_to_continue([ot(4, "data", 0), ot(5, "data", 3)], "data") == 5  # of the same topic, the newest
    assert ticket_to_continue([ot(7, "data", 1), ot(6, "data", 1)], "data") == 7  # same time: the higher id


def test_topics_and_complaints_by_keyword() -> None:
    assert topic_of("家里宽带又断了，什么时候能修好？") == "broadband"
    assert topic_of("我的话费怎么多扣了20元？") == "billing"
    assert topic_of("流量用得太快了，流量包也没了") == "data"
    assert topic_of("你好，在吗") is None
    assert topic_of("") is None
    assert says_complaint("我要投诉！宽带报修三天没人上门")
    assert says_complaint("已经向工信部申诉")
    assert not says_complaint("宽带报修三天没人上门")
    assert not says_complaint(None)


tickets_st = st.lists(st.builds(ot, st.integers(1, 10_000), st.sampled_from([None, *TOPIC_WORDS]),
                                st.integers(0, 100).map(float)), max_size=8, unique_by=lambda t: t.id)


@given(tickets_st, st.sampled_from([None, *TOPIC_WORDS]))
def test_the_rule_holds_for_any_open_tickets(open_tickets: list[OpenTicket], topic: str | None) -> None:
    chosen = ticket_to_continue(open_tickets, topic)
    newest = max(open_tickets, key=lambda t: (t.opened_at, t.id)) if open_tickets else None
    same = [t for t in open_tickets if t.topic == topic and topic is not None]
    if newest is None:
        assert chosen is None
    elif topic is None:
        assert chosen == newest.id
    elif same:
        assert chosen == max(same, key=lambda t: (t.opened_at, t.id)).id
    elif newest.topic is None:
        assert chosen == newest.id
    else:
        assert chosen is None
    # the order the tickets come in does not matter
    assert ticket_to_continue(list(reversed(open_tickets)), topic) == chosen


# ---- real dialogues -------------------------------------------------------------------------------

def _dialogues() -> list[list[str]]:
    """Each dialogue's customer turns (utterances joined)."""
    if not DIALOGUES.exists():
        pytest.skip(f"real dialogues not found at {DIALOGUES} (see /work/shared/data/README.md)")
    data = json.loads(DIALOGUES.read_text(encoding="utf-8"))
    return [[" ".join(t["utterances"]) for t in d["turns"] if t["sender"] == "customer"] for d in data]


def test_real_dialogues_a_customer_with_two_matters() -> None:
    """A customer writes the first message of dialogue A (topic a), then the first of dialogue B (topic b ≠ a):
    B is a new ticket. Then A's and B's later turns: each goes to the ticket of its topic, and one without a
    topic to the newest (B). Checked over the first 200 such pairs of real dialogues."""
    topical = [d for d in _dialogues() if d and topic_of(d[0]) is not None]
    pairs = [(a, b) for a, b in itertools.pairwise(topical) if topic_of(a[0]) != topic_of(b[0])][:200]
    assert len(pairs) == 200
    back_to_older = 0
    for a, b in pairs:
        ta, tb = topic_of(a[0]), topic_of(b[0])
        first = [OpenTicket(1, ta, T0)]
        assert ticket_to_continue(first, tb) is None  # another matter: a new ticket
        both = [*first, OpenTicket(2, tb, T0 + timedelta(hours=1))]
        for turn in a[1:] + b[1:]:
            topic = topic_of(turn)
            expected = {ta: 1, tb: 2}.get(topic) if topic is not None else 2
            assert ticket_to_continue(both, topic) == expected, turn
            back_to_older += expected == 1
    assert back_to_older > 0  # the rule did send messages back to the older ticket, not to the newest


def test_real_dialogues_stay_on_their_ticket_unless_they_name_another_topic() -> None:
    """Within one real dialogue, every later customer turn continues the dialogue's ticket unless it names a
    different topic; counted, not tuned: the share is printed for the record."""
    topical = [d for d in _dialogues() if len(d) > 1 and topic_of(d[0]) is not None][:300]
    kept = total = 0
    for d in topical:
        one = [OpenTicket(1, topic_of(d[0]), T0)]
        for turn in d[1:]:
            total += 1
            chosen = ticket_to_continue(one, topic_of(turn))
            assert chosen == (1 if topic_of(turn) in (None, topic_of(d[0])) else None)
            kept += chosen == 1
    assert total > 0
    print(f"{kept}/{total} later turns of {len(topical)} real dialogues continue their ticket")


# ---- through the inbound path ---------------------------------------------------------------------

def test_a_new_contact_continues_the_ticket_of_its_topic(db: Database, settings: Settings, world: World) -> None:
    from kefu.interactions import service as interactions

    def send(channel: str, text: str, mid: str, hours: float) -> inbound.InboundResult:
        with db.unit_of_work() as s:
            r = inbound.receive(s, settings, channel, inbound.InboundMessage(
                message_id=mid, sender="+8613800138123", text=text, org_unit_code="GZ"),
                at=T0 + timedelta(hours=hours))
        assert r.ticket_id is not None
        return r

    broadband = send("sms", "家里宽带又断了，什么时候能修好？", "s1", 0)
    billing = send("voice", "我的话费怎么多扣了20元？", "v1", 1)  # a new contact (same number), another matter
    assert billing.customer_id == broadband.customer_id
    assert billing.ticket_id != broadband.ticket_id
    again = send("web", "宽带还是上不了，光猫一直闪红灯", "w1", 2)  # a new contact about broadband
    assert again.ticket_id == broadband.ticket_id  # the broadband ticket, not the newest (billing)
    with db.unit_of_work() as s:  # the SMS contact ends; the next SMS is a new contact
        interactions.close(s, broadband.interaction_id, outcome="replied")
    vague = send("sms", "你好，请尽快回复", "s2", 3)
    assert vague.ticket_id == billing.ticket_id  # no topic: the newest open ticket
    with db.session() as s:
        cats = tickets.categories_by_id(s)
        t1, t2 = tickets.get(s, broadband.ticket_id), tickets.get(s, billing.ticket_id)  # type: ignore[arg-type]
        assert t1 is not None
        assert t2 is not None
        assert (cats[t1.category_id].key, cats[t2.category_id].key) == ("broadband", "billing")  # type: ignore[index]
