"""The call state machine: any order, any duplicates, the same call; segments add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.voice.callstate import CtiEvent, fold

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def ev(n: int, kind: str, seconds: float, **kw: str) -> CtiEvent:
    return CtiEvent("c1", f"e{n}", kind, T0 + timedelta(seconds=seconds), **kw)  # type: ignore[arg-type]


def test_an_answered_call_with_ivr_hold_and_recording() -> None:
    events = [ev(1, "offered", 0, ani="13912340001", dnis="10086"), ev(2, "ivr", 0, node="root"),
              ev(3, "ivr", 5, node="billing"), ev(4, "queued", 12, queue="voice"), ev(5, "ringing", 40, agent="a"),
              ev(6, "answered", 45, agent="a"), ev(7, "held", 100), ev(8, "retrieved", 130),
              ev(9, "ended", 200, recording_url="https://rec/1.wav")]
    s = fold("c1", events)
    assert (s.phase, s.outcome, s.agent, s.queue) == ("ended", "answered", "a", "voice")
    assert [n for n, _ in s.ivr_path] == ["root", "billing"]
    assert (s.ivr_seconds, s.queue_seconds, s.talk_seconds, s.hold_seconds) == (12, 33, 125, 30)
    assert s.recording_url == "https://rec/1.wav"
    assert s.ani == "13912340001"
    assert s.dnis == "10086"


def test_abandoned_self_served_and_a_transfer_back_to_a_queue() -> None:
    assert fold("c1", [ev(1, "offered", 0), ev(2, "queued", 3), ev(3, "abandoned", 50)]).outcome == "abandoned"
    assert fold("c1", [ev(1, "offered", 0), ev(2, "queued", 3), ev(3, "ended", 50)]).abandoned
    ivr_only = [ev(1, "offered", 0), ev(2, "ivr", 1, node="balance"), ev(3, "ended", 30)]
    assert fold("c1", ivr_only).outcome == "self_served"
    s = fold("c1", [ev(1, "queued", 0, queue="voice"), ev(2, "answered", 10, agent="a"),
                    ev(3, "transferred", 70, queue="complaints"), ev(4, "answered", 100, agent="b"),
                    ev(5, "ended", 160)])
    assert (s.agent, s.queue, s.queue_seconds, s.talk_seconds) == ("b", "complaints", 40, 120)
    assert s.answered_at == T0 + timedelta(seconds=10)
    assert len(s.transfers) == 1


def test_a_late_answered_event_turns_an_abandon_into_an_answered_call() -> None:
    early = [ev(1, "queued", 0), ev(3, "ended", 90)]
    assert fold("c1", early).outcome == "abandoned"
    assert fold("c1", [*early, ev(2, "answered", 30, agent="a")]).outcome == "answered"


def test_nothing_but_a_recording_changes_after_the_end() -> None:
    s = fold("c1", [ev(1, "queued", 0), ev(2, "answered", 5), ev(3, "ended", 60), ev(4, "held", 70),
                    ev(5, "ended", 80, recording_url="https://rec/2.wav")])
    assert s.ended_at == T0 + timedelta(seconds=60)
    assert s.talk_seconds == 55
    assert s.hold_seconds == 0
    assert s.recording_url == "https://rec/2.wav"


@st.composite
def call_scripts(draw: st.DrawFn) -> list[CtiEvent]:
    """A plausible call: IVR nodes, perhaps a queue, perhaps an agent with holds and transfers, an end."""
    t = 0.0
    n = 0
    out: list[CtiEvent] = []

    def add(kind: str, **kw: str) -> None:
        nonlocal n
        n += 1
        out.append(ev(n, kind, t, **kw))

    add("offered", ani="13912340001")
    for node in draw(st.lists(st.sampled_from(["root", "bill", "data", "zero"]), max_size=3)):
        t += draw(st.integers(0, 30))
        add("ivr", node=node)
    if draw(st.booleans()):
        t += draw(st.integers(0, 30))
        add("queued", queue="voice")
        if draw(st.booleans()):
            t += draw(st.integers(0, 120))
            add("answered", agent="a")
            for step in draw(st.lists(st.sampled_from(["hold", "agent", "queue"]), max_size=3)):
                t += draw(st.integers(0, 200))
                if step == "hold":
                    add("held")
                    t += draw(st.integers(0, 60))
                    add("retrieved")
                elif step == "agent":
                    add("transferred", agent="b")
                else:
                    add("transferred", queue="complaints")
                    t += draw(st.integers(0, 60))
                    add("answered", agent="c")
    t += draw(st.integers(0, 300))
    add(draw(st.sampled_from(["ended", "abandoned"])))
    return out


@settings(max_examples=300, deadline=None)
@given(script=call_scripts(), data=st.data())
def test_any_order_and_any_duplicates_give_the_same_call(script: list[CtiEvent], data: st.DataObject) -> None:
    expected = fold("c1", script)
    shuffled = data.draw(st.permutations(script))
    dupes = data.draw(st.lists(st.sampled_from(script), max_size=5))
    assert fold("c1", [*shuffled, *dupes]) == expected
    # every second of the call is in exactly one segment
    assert expected.ended_at is not None
    assert expected.offered_at is not None
    total = (expected.ended_at - expected.offered_at).total_seconds()
    assert expected.ivr_seconds + expected.queue_seconds + expected.talk_seconds + expected.hold_seconds == total
    assert (expected.answered_at is not None) == (expected.outcome == "answered")


@settings(max_examples=200, deadline=None)
@given(script=call_scripts(), cut=st.integers(0, 30))
def test_a_prefix_in_time_is_a_call_in_progress(script: list[CtiEvent], cut: int) -> None:
    """Folding the events up to any point gives a call whose segments add up to that point."""
    prefix = script[: max(1, min(cut, len(script)))]
    s = fold("c1", prefix)
    assert s.offered_at is not None
    assert s.last_at is not None
    spent = s.ivr_seconds + s.queue_seconds + s.talk_seconds + s.hold_seconds
    end = s.ended_at or s.last_at
    assert spent <= (end - s.offered_at).total_seconds()
    if s.ended_at is not None:
        assert spent == (s.ended_at - s.offered_at).total_seconds()
