"""Several skills and channels: voice and chat queues, an e-mail backlog with its own service level,
named agents with their skills covering every skill at once."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.workforce.errors import WorkforceInputError
from kefu.workforce.multiskill import Demand, cover, email_agents, required_by_demand
from kefu.workforce.staffing import StaffingTarget, required_agents

TARGET = StaffingTarget(service_level=0.8, target_time=20)


def test_voice_is_erlang_and_chat_divides_sessions_by_concurrency() -> None:
    voice = Demand("billing", "voice", [0, 120, 300], 240, TARGET)
    chat = Demand("billing", "chat", [0, 120, 300], 240, TARGET, concurrency=3)
    got = required_by_demand([voice, chat], 1800)
    sessions = [0] + [required_agents(v / 1800, 240, TARGET).agents for v in (120, 300)]
    assert got[("billing", "voice")] == sessions
    assert got[("billing", "chat")] == [0] + [-(-s // 3) for s in sessions[1:]]


def test_email_backlog_meets_every_deadline_with_the_fewest_agents() -> None:
    # 60 e-mails of 10 minutes each in the first half hour, answered within 2 hours: 10 agent-hours of
    # work spread over the time allowed, not done at once
    agents = email_agents([60, 0, 0, 0, 0, 0], 600, 7200, 1800)
    assert sum(a * 1800 for a in agents) >= 60 * 600
    assert max(agents) <= 6  # levelled: all at once would need 20 agents in one interval
    tight = email_agents([60, 0, 0], 600, 1800, 1800)
    assert tight[0] + tight[1] >= 10


@settings(max_examples=50, deadline=None)
@given(volumes=st.lists(st.integers(0, 80), min_size=1, max_size=8), window=st.sampled_from([900, 1800, 7200]))
def test_email_capacity_keeps_up_with_the_work_due(volumes: list[int], window: int) -> None:
    aht, interval = 300.0, 1800.0
    agents = email_agents(volumes, aht, window, interval)
    # by the end of each interval, capacity so far covers every e-mail whose deadline has passed
    for k in range(len(volumes)):
        end = (k + 1) * interval
        due = sum(
            v * aht / 20
            for j, v in enumerate(volumes)
            for p in range(20)
            if j * interval + (p + 1) * interval / 20 + window <= end
        )
        assert sum(agents[: k + 1]) * interval >= due - 1e-6


def test_named_agents_cover_skills_by_their_own_skills() -> None:
    agents = {
        "王芳": frozenset({"billing", "vas"}),
        "李娜": frozenset({"billing"}),
        "张伟": frozenset({"network"}),
    }
    ok = cover({"billing": 1, "vas": 1, "network": 1}, agents)
    assert ok.shortfall == {}
    assert ok.assigned == {"王芳": "vas", "李娜": "billing", "张伟": "network"}
    short = cover({"billing": 2, "vas": 1, "network": 2}, agents)
    assert sum(short.shortfall.values()) == 2
    assert short.shortfall["network"] == 1


def test_bad_demands_are_refused() -> None:
    with pytest.raises(WorkforceInputError):
        required_by_demand([Demand("x", "fax", [1], 10, TARGET)], 1800)
    with pytest.raises(WorkforceInputError):
        required_by_demand([Demand("x", "email", [1], 10)], 1800)
    with pytest.raises(WorkforceInputError):
        required_by_demand([Demand("x", "chat", [1], 10)], 1800)
