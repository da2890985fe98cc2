"""Several server processes show the same wall: the counters live in the database (the summary tables the
events consumer keeps, kefu/analytics/summary.py), not in a process. One server here is this test's app,
the other a separate `uvicorn kefu.asgi:app` process on the same database with its own event dispatcher."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from kefu.core.clock import utcnow
from kefu.core.events import bus
from kefu.interactions import service as interactions
from tests.conftest import World
from tests.web.conftest import _free_port, http, login

TILE = re.compile(r'<section class="tile[^"]*" data-channel="(\w+)">.*?data-waiting>(\d+)<.*?data-sl20>([^<]*)<.*?'
                  r'data-counts>([^<]*)<', re.S)


def tiles(html: str) -> dict[str, tuple[str, ...]]:
    """Per channel tile: waiting, 20 s service level, offered / answered / abandoned."""
    return {ch: (waiting, sl, counts.strip()) for ch, waiting, sl, counts in TILE.findall(html)}


@pytest.fixture
def other_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "KEFU_ENV": "test", "KEFU_DATABASE_URL": db_url, "KEFU_DATA_DIR": str(tmp_path / "other")}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "kefu.asgi:app", "--host", "127.0.0.1", "--port",
                             str(port), "--log-level", "warning"], env=env, cwd=Path(__file__).parents[2])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http.get(f"{url}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the second server did not start")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wall(c: httpx.Client) -> dict[str, tuple[str, ...]]:
    r = c.get("/console/wall", headers={"HX-Request": "true", "HX-Target": "wall-live"})
    assert r.status_code == 200, r.text
    return tiles(r.text)


def test_two_server_processes_show_the_same_wall(client: TestClient, db, world: World,  # type: ignore[no-untyped-def]
                                                 other_server: str) -> None:
    now = utcnow()
    gz = world.units["gz"]
    with db.unit_of_work() as s:  # a call answered in 5 s, one abandoned after 30 s, one waiting
        for n, (answer, end) in enumerate(((5, 65), (None, 30), (None, None))):
            at = now - timedelta(minutes=3 - n)
            it = interactions.open_call(s, customer_id=None, org_unit_id=gz, external_ref=f"p-{n}", offered_at=at)
            interactions.update_times(s, it.id, queued_at=at,
                                      answered_at=None if answer is None else at + timedelta(seconds=answer),
                                      ended_at=None if end is None else at + timedelta(seconds=end))
    bus.dispatch_pending(db)  # this process's dispatcher (the other one may have taken some first: the same)
    login(client, "sup_gd")
    with httpx.Client(base_url=other_server, timeout=10) as other:
        login(other, "sup_gd")  # type: ignore[arg-type]
        here = _wall(client)  # type: ignore[arg-type]
        assert here["voice"] == ("1", "50.0%", "2 / 1 / 1")
        assert _wall(other) == here
        # a message arrives through the other server; its own dispatcher counts it
        r = other.post("/api/v1/inbound/sms", headers={"Authorization": f"Bearer {world.tokens['admin']}"},
                       json={"message_id": "proc-1", "sender": "13533334444", "text": "查一下话费",
                             "org_unit_code": "GZ"})
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 30
        while "sms" not in _wall(other):
            assert time.monotonic() < deadline, "the other server's dispatcher did not count the message"
            time.sleep(0.5)
        assert _wall(other)["sms"] == ("1", "—", "0 / 0 / 0")
        assert _wall(client) == _wall(other)  # type: ignore[arg-type]
