"""A real day of the Anonymous Bank log through the CTI API, routing and all: the counts are the log's."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.core.config import Settings
from kefu.interactions.models import Interaction
from kefu.org import service as org
from kefu.routing import service as routing
from kefu.routing.models import LIVE_ITEM, RoutingItem
from kefu.routing.runner import Writer
from kefu.voice import replay
from kefu.voice.models import VoiceCall
from kefu.workforce.history import read_call_log
from tests.conftest import World, shared_data
from tests.routing.flow import Clock
from tests.voice.support import switch_token

TZ = ZoneInfo("Asia/Jerusalem")
BATCH = 500
LOG = "callcenter-anonymous-bank/01_January.txt"


def _log() -> Path:
    """The January log under ../shared/data (or KEFU_TEST_SHARED_DATA, for a worktree elsewhere)."""
    other = os.environ.get("KEFU_TEST_SHARED_DATA")
    if other and (Path(other) / LOG).exists():
        return Path(other) / LOG
    return shared_data(LOG)


def test_a_real_day_replayed_through_the_cti_api(client: TestClient, world: World, settings: Settings) -> None:
    log = _log()
    records = read_call_log([log]).records
    day = replay.quietest_day(records)
    rows = replay.day_records(records, day)
    expected = replay.figures(rows, tz=TZ)
    events = replay.cti_events(rows, tz=TZ)
    auth = switch_token(world)
    from kefu.core.events import bus
    from kefu.jobs import registry

    registry.load()
    with world.db.unit_of_work() as s:
        routing.ensure_defaults(s, world.units["province"])
        for name in sorted({e.agent for e in events if e.agent}):
            user = org.create_user(s, username=name, display_name=name, role="agent", org_unit_id=world.units["gz"])
            routing.default_profile(s, user.id)
    clock = Clock(events[0].at.timestamp())
    writer = Writer(world.db, clock=clock)
    with world.db.unit_of_work() as s:
        for name in sorted({e.agent for e in events if e.agent}):
            user = org.user_by_username(s, name)
            assert user is not None
            routing.set_presence(s, org.principal_for(s, user), "available")
    accepted = 0
    for start in range(0, len(events), BATCH):
        chunk = events[start:start + BATCH]
        body = {"events": [{"call_id": e.call_id, "event_id": e.event_id, "kind": e.kind, "at": e.at.isoformat(),
                            **{k: v for k, v in (("node", e.node), ("agent", e.agent), ("dnis", e.dnis)) if v}}
                           for e in chunk]}
        r = client.post("/api/v1/cti/events", json=body, headers=auth)
        assert r.status_code == 200, r.text
        accepted += r.json()["accepted"]
        clock.t = chunk[-1].at.timestamp()
        bus.dispatch_pending(world.db)
        writer.run_round()
    for _ in range(20):
        if writer.run_round().inputs == 0:
            break
    assert accepted == len(events)
    with world.db.session() as s:
        outcomes = dict(s.execute(select(VoiceCall.outcome, func.count()).group_by(VoiceCall.outcome)).all())
        assert outcomes == {k: v for k, v in (("answered", expected.answered), ("abandoned", expected.abandoned),
                                              ("self_served", expected.self_served)) if v}
        assert s.scalar(select(func.count()).select_from(VoiceCall)) == expected.calls
        assert s.scalar(select(func.count()).where(Interaction.channel == "voice",
                                                   Interaction.status == "closed")) == expected.calls
        assert round(s.scalar(select(func.sum(VoiceCall.talk_seconds))) or 0) == expected.talk_seconds
        assert s.scalar(select(func.count(func.distinct(VoiceCall.agent_id)))) == expected.agents
        # every call that asked for an agent was a work item, and none is left live
        items = s.scalar(select(func.count()).select_from(RoutingItem).where(RoutingItem.interaction_id.is_not(None)))
        assert items == expected.queued
        assert s.scalar(select(func.count()).select_from(RoutingItem).where(RoutingItem.state.in_(LIVE_ITEM))) == 0
