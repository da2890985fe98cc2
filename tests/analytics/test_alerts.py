"""The wall's alerts pushed to supervisors (kefu/analytics/alerts.py): raised once when a tile turns red,
for each unit whose subtree it is in, pushed as a live notice, shown on the console in the reader's scope,
cleared when the thresholds say it is red no more."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.analytics import alerts, service
from kefu.analytics.models import WallAlert
from kefu.core.events import Event, OutboxEvent
from kefu.web import live
from tests.analytics.support import DAY0, call, counted
from tests.conftest import World
from tests.web.conftest import login


def _events(db) -> list[OutboxEvent]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.name.like("analytics.alert_%"))
                              .order_by(OutboxEvent.id)))


def test_a_red_tile_raises_one_alert_per_unit_pushed_live_and_cleared(client: TestClient, world: World,
                                                                       db) -> None:  # type: ignore[no-untyped-def]
    gz = world.units["gz"]
    nine = DAY0 + timedelta(hours=9)
    with db.unit_of_work() as s:  # four callers in Guangzhou gave up after 30 s: the hotline is red
        counted(s, [call(s, gz, nine + timedelta(minutes=n), abandon_after=30) for n in range(4)])
    now = DAY0 + timedelta(hours=10)
    with db.unit_of_work() as s:
        raised, cleared = alerts.check(s, now=now)
        assert cleared == []
        rows = {a.org_unit_id: a for a in s.scalars(select(WallAlert))}
    assert sorted(rows) == sorted([gz, world.units["province"], world.units["group"]])  # not Shenzhen
    assert sorted(raised) == sorted(a.id for a in rows.values())
    assert {(a.target, a.metrics) for a in rows.values()} == {
        ("channel:voice", "service_level,abandonment,answer_rate")}
    evs = _events(db)
    assert [(e.name, e.org_unit_id) for e in evs] == [("analytics.alert_raised", u) for u in
                                                      (world.units["group"], world.units["province"], gz)]
    e = evs[-1]
    notice = live.notices_for(Event(e.id, e.name, e.aggregate_type, e.aggregate_id, e.org_unit_id, e.payload,
                                    e.occurred_at))
    assert notice == [live.Notice("wall-alert", "analytics.alert_raised", gz, {"event": "analytics.alert_raised"})]
    with db.unit_of_work() as s:
        assert alerts.check(s, now=now + timedelta(minutes=1)) == ([], [])  # still red: nothing new
    # on every console page of a supervisor: the alerts of their subtree
    login(client, "sup_gd")
    assert 'hx-get="/console/wall/alerts" hx-trigger="load, sse:wall-alert"' in client.get("/console/reports").text
    frag = client.get("/console/wall/alerts").text
    assert frag.count("data-alert=") == 2  # the province's and Guangzhou's, not the group's
    assert "广州 · 热线 越过红线（20秒接通率、放弃率、接通率）" in frag
    assert "sse:wall-alert, sse:hello" in client.get("/console/wall").text  # the wall refreshes too
    login(client, "agent_gz")
    assert client.get("/console/wall/alerts").status_code == 403
    # the administrators loosen the hotline's thresholds: the tiles are red no more
    with db.unit_of_work() as s:
        for metric, amber, red in (("service_level", 0.05, 0.0), ("abandonment", 0.99, 1.0),
                                   ("answer_rate", 0.05, 0.0)):
            service.set_threshold(s, scope="channel", target="voice", metric=metric, amber=amber, red=red, at=now)
    with db.unit_of_work() as s:
        raised, cleared = alerts.check(s, now=now + timedelta(minutes=2))
    assert (raised, sorted(cleared)) == ([], sorted(a.id for a in rows.values()))
    assert [e.name for e in _events(db)][3:] == ["analytics.alert_cleared"] * 3
    login(client, "sup_gd")
    assert "data-alert=" not in client.get("/console/wall/alerts").text


def test_a_red_queue_tile_raises_alerts_for_its_unit_and_above_and_clears(client: TestClient, world: World,
                                                                          db) -> None:  # type: ignore[no-untyped-def]
    from kefu.routing import service as routing
    from kefu.routing.models import RoutingItem

    gz, province = world.units["gz"], world.units["province"]
    now = DAY0 + timedelta(hours=10)
    with db.unit_of_work() as s:
        routing.save_queue(s, None, routing.QueueSpec(key="zchat", name="在线队列", name_en="Chat queue",
                                                      channel="chat", org_unit_id=gz))
        routing.save_queue(s, None, routing.QueueSpec(key="zprov", name="省队列", channel="chat",
                                                      org_unit_id=province))

        def item(key: str, unit: int, enq: timedelta, state: str, assigned: timedelta | None = None) -> None:
            s.add(RoutingItem(queue_key=key, entry_queue_key=key, channel="chat", org_unit_id=unit,
                              enqueued_at=now - enq, queue_since=now - enq, state=state,
                              assigned_at=now - assigned if assigned is not None else None))
        # zchat: one item answered after 10 s (today: 1 offered, 1 answered within 20 s: 100 %), one waiting
        # for 200 s: above the chat's red line (180 s) on the longest wait only
        item("zchat", gz, timedelta(minutes=30), "assigned", assigned=timedelta(minutes=30) - timedelta(seconds=10))
        item("zchat", gz, timedelta(seconds=200), "waiting")
        # zprov: waiting 100 s: amber (above 60 s), no alert
        item("zprov", province, timedelta(seconds=100), "waiting")
    with db.unit_of_work() as s:
        tiles = {q.stats.queue.key: q for q in service.queue_tiles(s, [gz], "/", now=now)}
        assert (tiles["zchat"].today.offered, tiles["zchat"].today.answered, tiles["zchat"].today.pending) == (1, 1, 1)
        assert tiles["zchat"].longest_wait == 200
        assert tiles["zchat"].levels == {"service_level": "green", "abandonment": "green", "answer_rate": "green",
                                         "longest_wait": "red", "tile": "red"}
        assert tiles["zprov"].levels["tile"] == "amber"
        raised, cleared = alerts.check(s, now=now)
        rows = {a.org_unit_id: a for a in s.scalars(select(WallAlert))}
    assert cleared == []
    assert sorted(raised) == sorted(a.id for a in rows.values())
    assert sorted(rows) == sorted([gz, province, world.units["group"]])  # not Shenzhen, which only sees it
    assert {(a.target, a.metrics) for a in rows.values()} == {("queue:zchat", "longest_wait")}
    login(client, "sup_gd")
    assert 'data-queue="zchat"' in client.get("/console/wall").text
    frag = client.get("/console/wall/alerts").text
    assert "广州 · 队列 在线队列 越过红线（最长等待（秒））" in frag
    # the province's queue turns red under a stricter threshold for it alone: alerts for the province and the
    # group (its unit and the one above), not for the cities below
    with db.unit_of_work() as s:
        service.set_threshold(s, scope="queue", target="zprov", metric="longest_wait", amber=30, red=90, at=now)
        raised, cleared = alerts.check(s, now=now + timedelta(minutes=1))
        new = {(a.org_unit_id, a.target) for a in s.scalars(select(WallAlert).where(WallAlert.id.in_(raised)))}
    assert cleared == []
    assert new == {(province, "queue:zprov"), (world.units["group"], "queue:zprov")}
    # a looser threshold for zchat: its alerts clear, the province's stay
    with db.unit_of_work() as s:
        service.set_threshold(s, scope="queue", target="zchat", metric="longest_wait", amber=300, red=600, at=now)
        raised, cleared = alerts.check(s, now=now + timedelta(minutes=2))
        open_ = {(a.org_unit_id, a.target) for a in s.scalars(select(WallAlert).where(WallAlert.cleared_at.is_(None)))}
    assert raised == []
    assert sorted(cleared) == sorted(a.id for a in rows.values())
    assert open_ == new


def test_the_minute_check_recomputes_only_the_units_with_activity_and_finds_what_a_full_check_finds(
        world: World, db) -> None:  # type: ignore[no-untyped-def]
    """Minute by minute, the check looks only at the units with a contact changed since its last run, a
    contact waiting or an open alert (and the units above them); a full check right after each finds
    nothing to raise or clear."""
    from kefu.interactions.models import Interaction

    u = world.units
    above_gz = {u["gz"], u["province"], u["group"]}
    base = DAY0 + timedelta(hours=9, minutes=1)  # 09:01 in China

    def tick(m: int, expected: set[int] | None) -> tuple[list[int], list[int]]:
        now, since = base + timedelta(minutes=m), base + timedelta(minutes=m - 1)
        with db.unit_of_work() as s:
            assert alerts.units_to_check(s, now=now, since=since) == expected
            got = alerts.check(s, now=now, since=since)
        with db.unit_of_work() as s:
            assert alerts.check(s, now=now) == ([], [])  # every unit: nothing else changed
        return got

    def open_alerts() -> set[tuple[int, str]]:
        with db.session() as s:
            return {(a.org_unit_id, a.target)
                    for a in s.scalars(select(WallAlert).where(WallAlert.cleared_at.is_(None)))}

    assert tick(1, set()) == ([], [])  # nothing happened: no unit is looked at
    with db.unit_of_work() as s:  # four callers in Guangzhou give up after 30 s: the hotline turns red
        counted(s, [call(s, u["gz"], base + timedelta(minutes=1, seconds=5 * n), abandon_after=30) for n in range(4)])
    raised, _ = tick(2, above_gz)
    assert len(raised) == 3
    assert open_alerts() == {(unit, "channel:voice") for unit in above_gz}
    assert tick(3, above_gz) == ([], [])  # the open alerts are looked at (to clear them), not Shenzhen
    with db.unit_of_work() as s:  # a caller in Shenzhen waits
        waiting = call(s, u["sz"], base + timedelta(minutes=3, seconds=10))
        counted(s, [waiting])
        wid = waiting.id
    tick(4, above_gz | {u["sz"]})
    tick(5, above_gz | {u["sz"]})  # still waiting: the longest wait grows with no event
    assert (u["sz"], "channel:voice") in open_alerts()
    with db.unit_of_work() as s:  # answered at last, after a long wait
        it = s.get(Interaction, wid)
        assert it is not None
        it.answered_at = base + timedelta(minutes=5, seconds=20)
        counted(s, [it])
    tick(6, above_gz | {u["sz"]})  # the answer is activity; the alert stays open (the service level is red)
    with db.unit_of_work() as s:  # a looser hotline: every unit is checked, the alerts clear
        for metric, amber, red in (("service_level", 0.05, 0.0), ("abandonment", 0.99, 1.0),
                                   ("answer_rate", 0.05, 0.0), ("longest_wait", 600, 900)):
            service.set_threshold(s, scope="channel", target="voice", metric=metric, amber=amber, red=red,
                                  at=base + timedelta(minutes=6, seconds=30))
    tick(7, None)
    assert open_alerts() == set()
    assert tick(8, None) == ([], [])  # the change is looked back at for a while (alerts.SLACK)
    assert tick(10, set()) == ([], [])  # quiet again
    with db.session() as s:
        assert alerts.units_to_check(s, now=base + timedelta(minutes=13), since=base + timedelta(minutes=12)) == set()
        # every quarter hour, after a new day and without a last run: every unit
        assert alerts.units_to_check(s, now=base + timedelta(minutes=29), since=base + timedelta(minutes=28)) is None
        assert alerts.units_to_check(s, now=DAY0 + timedelta(minutes=1), since=DAY0 - timedelta(minutes=1)) is None
        assert alerts.units_to_check(s, now=base, since=None) is None
    # the job (its last run is the one before it, in periodic_runs): the overrides removed, the hotline of
    # Guangzhou and Shenzhen is red again
    from kefu.jobs import registry

    registry.load()
    with db.unit_of_work() as s:
        for metric in ("service_level", "abandonment", "answer_rate", "longest_wait"):
            service.set_threshold(s, scope="channel", target="voice", metric=metric, amber=None, red=None,
                                  at=base + timedelta(minutes=11))
    assert registry.run_periodic(db, "analytics.wall_alerts", base + timedelta(minutes=11)) is True
    assert open_alerts() == {(unit, "channel:voice") for unit in above_gz | {u["sz"]}}
    assert registry.run_periodic(db, "analytics.wall_alerts", base + timedelta(minutes=12)) is True
    assert len(_events(db)) == 3 + 1 + 4 + 4  # raised, raised for Shenzhen, cleared, raised again: once each
