"""Sampling, scoring, appealing and deciding on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, Forbidden, InvalidInput
from kefu.quality import service as quality
from kefu.quality.core import DEFAULT_ITEMS
from kefu.tickets import service as tickets
from tests.conftest import World

FULL = {i.key: i.max_marks for i in DEFAULT_ITEMS}


def _resolved(w: World, type: str, n: int = 1) -> list[int]:
    ids = []
    with w.db.unit_of_work() as s:
        for _ in range(n):
            t = tickets.create_ticket(s, type=type, subject="话费争议", org_unit_id=w.units["gz"])
            tickets.assign(s, t.id, assignee_id=w.users["agent_gz"], actor_id=w.users["sup_gd"])
            tickets.change_status(s, t.id, "resolved", actor_id=w.users["agent_gz"], reason="已处理")
            ids.append(t.id)
    return ids


def test_sample_score_appeal_and_revise(world: World) -> None:
    complaint = _resolved(world, "complaint")[0]
    inquiries = _resolved(world, "inquiry", 10)
    now = utcnow()
    with world.db.unit_of_work() as s:
        made = quality.sample_resolved(s, since=now - timedelta(hours=1), until=now + timedelta(hours=1),
                                       share=0.1, seed=3)
        got = {m.ticket_id: m.reason for m in made}
        # sampling again takes nothing twice
        assert quality.sample_resolved(s, since=now - timedelta(hours=1), until=now + timedelta(hours=1),
                                       share=1.0, seed=3)[0].ticket_id not in got
    assert got[complaint] == "complaint"
    assert sum(1 for t in inquiries if got.get(t) == "random") == 1
    iid = next(m.id for m in made if m.ticket_id == complaint)
    with world.db.unit_of_work() as s:
        with pytest.raises(InvalidInput, match="0 to 5"):
            quality.score(s, iid, inspector_id=world.users["sup_gd"], marks={**FULL, "greeting": 9})
        with pytest.raises(Forbidden):
            quality.score(s, iid, inspector_id=world.users["agent_gz"], marks=FULL)
        row = quality.score(s, iid, inspector_id=world.users["sup_gd"], marks={**FULL, "solution": 0},
                            comment="未给出解决方案")
        assert (row.status, row.total) == ("scored", 70.0)
    with world.db.unit_of_work() as s:
        with pytest.raises(quality.InspectionNotFound):
            quality.appeal(s, iid, agent_id=world.users["agent_sz"], reason="不是我的")
        quality.appeal(s, iid, agent_id=world.users["agent_gz"], reason="已在通话中给出退费方案，见录音03:20")
        with pytest.raises(Conflict):
            quality.appeal(s, iid, agent_id=world.users["agent_gz"], reason="再次申诉")
        with pytest.raises(Forbidden):
            quality.decide(s, iid, actor_id=world.users["sup_gd"], marks=FULL)  # the inspector is not impartial
        row = quality.decide(s, iid, actor_id=world.users["admin"], marks=FULL)
        assert (row.status, row.decision, row.total) == ("final", "revised", 100.0)
    with world.db.session() as s:
        assert [r.id for r in quality.for_agent(s, world.users["agent_gz"])] == [iid]
