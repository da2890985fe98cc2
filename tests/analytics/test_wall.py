"""The supervisor wall: figures per channel for the supervisor's subtree, colours, who may see it."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from kefu.analytics import kpi, service
from kefu.analytics import wall as colours
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.org import service as org
from tests.analytics.support import call, counted
from tests.conftest import World
from tests.web.conftest import login


def test_thresholds_colour_by_direction() -> None:
    sl = colours.RATES["service_level"]
    assert [sl.level(v) for v in (0.9, 0.8, 0.79, 0.6, 0.59, None)] == [
        "green", "green", "amber", "amber", "red", "none"]
    ab = colours.RATES["abandonment"]
    assert [ab.level(v) for v in (0.0, 0.05, 0.051, 0.10, 0.11)] == ["green", "green", "amber", "amber", "red"]
    t = kpi.tally([kpi.Contact(0, answered=30, ended=40)])  # SL 0 %
    levels = colours.tile_levels(t, 10.0, "voice")
    assert levels == {"service_level": "red", "abandonment": "green", "answer_rate": "green",
                      "longest_wait": "green", "tile": "red"}
    assert colours.tile_levels(kpi.Tally(), None, "message")["tile"] == "none"


def _principal(db, world: World, who: str) -> Principal:  # type: ignore[no-untyped-def]
    with db.session() as s:
        user = org.user(s, world.users[who])
        assert user is not None
        unit = org.org_unit(s, user.org_unit_id)
        return Principal(user.id, user.username, user.display_name, user.role, unit.id, unit.path, user.authority_limit)


def test_wall_figures_today_and_waiting_now(db, world: World) -> None:  # type: ignore[no-untyped-def]
    gz, sz = world.units["gz"], world.units["sz"]
    now = utcnow()
    with db.unit_of_work() as s:
        counted(s, [call(s, gz, now - timedelta(minutes=10), wait=10, talk=60),
                    call(s, gz, now - timedelta(minutes=9), wait=40, talk=60),
                    call(s, gz, now - timedelta(minutes=8), abandon_after=2),  # short: out of the ratios
                    call(s, sz, now - timedelta(seconds=92)),  # waiting for 90 s (queued 2 s after offered)
                    call(s, gz, now - timedelta(seconds=30), channel="wechat")])  # a chat waiting
    with db.session() as s:
        w = service.wall(s, _principal(db, world, "sup_gd"), now=now)
    voice = next(t for t in w.channels if t.channel == "voice")
    assert (voice.waiting, voice.today.offered, voice.today.answered, voice.today.abandoned) == (1, 3, 2, 1)
    assert voice.longest_wait is not None
    assert abs(voice.longest_wait - 90) < 1
    assert voice.today.service_level(20) == 0.5
    assert voice.levels["longest_wait"] == "red"
    assert voice.levels["service_level"] == "red"
    assert "channel:voice" in w.alerts
    chat = next(t for t in w.channels if t.channel == "wechat")
    assert chat.waiting == 1
    assert chat.media == "chat"
    assert chat.levels["longest_wait"] == "green"
    # a city supervisor's wall has only the city
    with db.unit_of_work() as s:
        u = org.create_user(s, username="sup_sz", display_name="深圳值班长", role="supervisor",
                            org_unit_id=sz, password="secret-pass-1")
        world.users["sup_sz"] = u.id
    with db.session() as s:
        w = service.wall(s, _principal(db, world, "sup_sz"), now=now)
    voice = next(t for t in w.channels if t.channel == "voice")
    assert (voice.waiting, voice.today.offered) == (1, 0)
    assert [t.channel for t in w.channels] == ["voice"]


def test_the_wall_page_shows_tiles_and_refreshes_from_the_live_stream(client: TestClient, world: World,
                                                                      db) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with db.unit_of_work() as s:
        counted(s, [call(s, world.units["gz"], now - timedelta(minutes=5), wait=5, talk=60)])
    login(client, "sup_gd")
    page = client.get("/console/wall")
    assert page.status_code == 200
    assert "值班长大屏" in page.text
    assert 'href="/console/wall"' in page.text
    assert 'sse-connect="/console/stream"' in page.text
    assert re.search(r'hx-trigger="sse:routing-queues[^"]*sse:inbox', page.text)
    tile = re.search(r'<section class="tile lvl-(\w+)" data-channel="voice">(.*?)</section>', page.text, re.S)
    assert tile is not None
    assert tile.group(1) == "green"
    assert re.search(r"data-sl20>100\.0%<", tile.group(2))
    frag = client.get("/console/wall", headers={"HX-Request": "true", "HX-Target": "wall-live"})
    assert frag.text.lstrip().startswith('<div id="wall-live"')
    dark = client.get("/console/wall?theme=dark")
    assert 'class="wall wall-dark"' in dark.text


def test_agents_cannot_see_the_wall(client: TestClient, world: World) -> None:
    login(client, "agent_gz")
    assert client.get("/console/wall").status_code == 403
    assert 'href="/console/wall"' not in client.get("/console/inbox").text


def test_thresholds_are_checked() -> None:
    import pytest

    colours.check("service_level", colours.Threshold(0.9, 0.7))
    colours.check("longest_wait", colours.Threshold(10, 30))
    for metric, t, msg in (("service_level", colours.Threshold(0.7, 0.9), "worse than amber"),
                           ("abandonment", colours.Threshold(0.1, 0.05), "worse than amber"),
                           ("answer_rate", colours.Threshold(1.5, 0.5), "between 0 % and 100 %"),
                           ("longest_wait", colours.Threshold(30, 10), "turns red above"),
                           ("occupancy", colours.Threshold(0.5, 0.4), "unknown figure")):
        with pytest.raises(ValueError, match=msg):
            colours.check(metric, t)


def test_an_admin_sets_a_channel_threshold_and_the_wall_uses_it(client: TestClient, world: World,
                                                                 db) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import csrf_of

    now = utcnow()
    with db.unit_of_work() as s:
        counted(s, [call(s, world.units["gz"], now - timedelta(minutes=5), wait=30, talk=60),  # SL 20 s: 0 %
                    call(s, world.units["gz"], now - timedelta(minutes=4), wait=5, talk=60)])  # 50 %
    login(client, "admin")
    page = client.get("/console/wall/thresholds")
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    bad = client.post("/console/wall/thresholds", data={"csrf_token": csrf, "target": "channel:voice",
                                                         "metric": "service_level", "amber": "40", "red": "60"})
    assert bad.status_code == 422
    assert "red must be worse than amber" in bad.text
    ok = client.post("/console/wall/thresholds", data={"csrf_token": csrf, "target": "channel:voice",
                                                        "metric": "service_level", "amber": "50", "red": "40"},
                     follow_redirects=False)
    assert ok.status_code == 303
    assert 'data-threshold="channel:voice:service_level"' in client.get("/console/wall/thresholds").text
    with db.session() as s:
        w = service.wall(s, _principal(db, world, "admin"), now=now)
    voice = next(t for t in w.channels if t.channel == "voice")
    assert voice.levels["service_level"] == "green"  # 50 % is not below the admin's 50 % amber
    # both empty: back to the default (80 % / 60 %): 50 % is red
    client.post("/console/wall/thresholds", data={"csrf_token": csrf, "target": "channel:voice",
                                                   "metric": "service_level", "amber": "", "red": ""})
    with db.session() as s:
        w = service.wall(s, _principal(db, world, "admin"), now=now)
    assert next(t for t in w.channels if t.channel == "voice").levels["service_level"] == "red"
    client.cookies.clear()
    login(client, "sup_gd")
    assert client.get("/console/wall/thresholds").status_code == 403


def test_a_suggested_move_is_shown_and_applied_with_one_click(client: TestClient, world: World,
                                                              db) -> None:  # type: ignore[no-untyped-def]
    from kefu.core import events
    from kefu.routing import service as routing
    from kefu.routing.models import RoutingAgent
    from tests.web.conftest import csrf_of

    now = utcnow()
    with db.unit_of_work() as s:
        keys = [q.key for q in routing.ensure_defaults(s, world.units["province"])]
        target = keys[0]
        events.record(s, "routing.move_suggested", {"user_id": world.users["agent_sz"], "queue": target,
                                                    "channel": "voice", "waiting": 7, "oldest_wait": 95.0},
                      aggregate_type="routing_queue", at=now - timedelta(minutes=2))
        events.record(s, "routing.move_suggested", {"user_id": world.users["agent_sz"], "queue": target,
                                                    "channel": "voice", "waiting": 3, "oldest_wait": 50.0},
                      aggregate_type="routing_queue", at=now - timedelta(minutes=40))  # too old
    login(client, "sup_gd")
    page = client.get("/console/wall")
    move = f'data-move="{world.users["agent_sz"]}:{target}"'
    assert page.text.count(move) == 1
    r = client.post("/console/wall/moves", data={"csrf_token": csrf_of(page.text), "user_id": world.users["agent_sz"],
                                                 "queue": target}, follow_redirects=False)
    assert r.status_code == 303
    with db.session() as s:
        row = s.get(RoutingAgent, world.users["agent_sz"])
        assert row is not None
        assert target in row.queues
    assert move not in client.get("/console/wall").text  # applied: no longer suggested
    # an unknown queue is refused and changes nothing
    bad = client.post("/console/wall/moves", data={"csrf_token": csrf_of(page.text),
                                                   "user_id": world.users["agent_sz"], "queue": "nope"})
    assert bad.status_code == 404
    with db.session() as s:
        row = s.get(RoutingAgent, world.users["agent_sz"])
        assert row is not None
        assert "nope" not in row.queues


def test_the_wall_shows_the_variant_with_short_abandons_counted_when_asked(client: TestClient, world: World,
                                                                           db) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        counted(s, [call(s, gz, now - timedelta(minutes=6), wait=5, talk=60),
                    call(s, gz, now - timedelta(minutes=5), wait=30, talk=60),
                    call(s, gz, now - timedelta(minutes=4), abandon_after=2)])  # a short abandon
    login(client, "sup_gd")

    def voice(url: str) -> tuple[str, str]:
        html = client.get(url, headers={"HX-Request": "true", "HX-Target": "wall-live"}).text
        tile = re.search(r'data-channel="voice">.*?data-sl20>([^<]*)<.*?data-abandonment>([^<]*)<', html, re.S)
        assert tile is not None
        return tile.group(1), tile.group(2)

    assert voice("/console/wall") == ("50.0%", "0.0%")  # short abandons out of both
    assert voice("/console/wall?short=in") == ("33.3%", "33.3%")
    page = client.get("/console/wall?short=in")
    assert 'hx-get="/console/wall?short=in"' in page.text  # the live refresh keeps the variant
    assert 'data-short="in"' in page.text
    assert client.get("/console/wall?short=maybe").status_code == 422
