"""`kefu bench channels-latency`: from a customer's message arriving to its notice on an agent's open
console, per channel, through the whole running server (uvicorn on a free loopback port with its
outbox dispatcher, a fresh migrated database): the message is posted as its channel does (the gateway's
JSON, WeChat's signed XML callback, the web chat widget's WebSocket frame), and an agent's console
stream (`/console/stream`, Server-Sent Events, as the open page holds it) records when it is told of
the ticket (`ticket-<id>`), on which the page re-fetches what it shows.

Messages go one at a time (a pause between them), half from returning senders. The reference,
measured in the same run, is the acknowledgement round trip of the generic JSON post: the time a
gateway waits for its answer. Printed: median, 95th percentile and worst per channel, and the ratio
of each median to the reference's.
"""

from __future__ import annotations

import hashlib
import json
import socket
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

WX_TOKEN = "bench-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _watcher(base: str, token: str) -> object:
    from kefu.bench.faults import StreamWatcher

    class Watcher(StreamWatcher):
        """Every notice of a ticket (the faults bench keeps the first only): a returning sender's
        message is told about on the same ticket again."""

        def __init__(self, base_url: str, token: str) -> None:
            super().__init__(base_url, token)
            self.times: dict[int, list[float]] = {}

        def _saw(self, kind: str) -> None:
            super()._saw(kind)
            if kind.startswith("ticket-") and kind[7:].isdigit():
                with self._lock:
                    self.times.setdefault(int(kind[7:]), []).append(time.monotonic())

        def told(self, ticket_id: int, since: float) -> float | None:
            with self._lock:
                later = [t for t in self.times.get(ticket_id, ()) if t >= since]
            return min(later) if later else None

    return Watcher(base, token)


def run(*, db: str, messages: int, echo: Callable[[str], None], pause: float = 0.05) -> dict[str, float]:
    import uvicorn
    from sqlalchemy import select
    from websockets.sync.client import connect

    from kefu.app import create_app
    from kefu.bench.common import fresh_database
    from kefu.core.config import Settings
    from kefu.core.db import Database
    from kefu.interactions.models import Interaction, Message
    from kefu.org import service as org

    medians: dict[str, float] = {}
    with fresh_database(db) as url:
        settings = Settings(env="test", database_url=url, wechat_token=WX_TOKEN)
        database = Database(url)
        with database.unit_of_work() as s:
            g = org.create_org_unit(s, kind="group", code="G", name="集团")
            p = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=g.id)
            gz = org.create_org_unit(s, kind="city", code="GZ", name="广州", parent_id=p.id)
            gw = org.create_user(s, username="gw", display_name="gateway", role="gateway", org_unit_id=p.id)
            agent = org.create_user(s, username="agent", display_name="坐席", role="agent", org_unit_id=gz.id)
            gw_token = org.create_api_token(s, gw.id, "bench")[0]
            agent_token = org.create_api_token(s, agent.id, "bench")[0]
        # The web chat's limits are per address and per visitor; the bench is one address writing fast.
        from kefu.channels import webchat, webchat_api

        webchat_api.sessions = webchat.Window(10**6, 60.0)
        webchat_api.messages = webchat.Window(10**6, 60.0)
        webchat_api.frames = webchat.Window(10**6, 60.0)
        app = create_app(settings, database, start_dispatcher=True)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="on", timeout_graceful_shutdown=1))
        thread = threading.Thread(target=server.run, name="bench-server", daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        watcher: Any = _watcher(base, agent_token)
        watcher.start()
        http = httpx.Client(base_url=base, timeout=30.0)
        try:
            if not watcher.wait_hello(15):
                raise RuntimeError("the console stream did not open")

            def ticket_of(channel: str, external_id: str) -> int:
                with database.session() as s:
                    tid = s.scalar(select(Interaction.ticket_id).join(Message)
                                   .where(Message.channel == channel, Message.external_id == external_id))
                assert tid is not None
                return int(tid)

            def sender(i: int) -> int:
                return 100_000 + i // 2  # an odd message comes from the sender of the one before

            def json_sms(i: int) -> tuple[float, float, int]:
                t0 = time.monotonic()
                r = http.post("/api/v1/inbound/sms", headers={"Authorization": f"Bearer {gw_token}"}, json={
                    "message_id": f"j{i}", "sender": f"139{sender(i):08d}", "text": f"查询话费 {i}",
                    "org_unit_code": "GZ"})
                acked = time.monotonic()
                assert r.status_code in (200, 201), r.text
                return t0, acked, int(r.json()["ticket_id"])

            def wechat(i: int) -> tuple[float, float, int]:
                ts, nonce = str(1700000000 + i), str(i)
                sig = hashlib.sha1("".join(sorted([WX_TOKEN, ts, nonce])).encode()).hexdigest()
                xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o{sender(i):027d}]]>"
                       f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                       f"<Content><![CDATA[宽带断了 {i}]]></Content><MsgId>{6000000000000000000 + i}</MsgId></xml>")
                t0 = time.monotonic()
                r = http.post("/api/v1/channels/wechat", params={"signature": sig, "timestamp": ts, "nonce": nonce,
                                                                  "org": "GZ"}, content=xml.encode())
                acked = time.monotonic()
                assert r.text == "success", r.text
                return t0, acked, ticket_of("wechat", str(6000000000000000000 + i))

            chats: dict[int, Any] = {}

            def web_chat(i: int) -> tuple[float, float, int]:
                who = sender(i) % 20  # 20 visitors, each returning
                ws = chats.get(who)
                if ws is None:
                    ws = chats[who] = connect(f"ws://127.0.0.1:{port}/api/v1/webchat/ws?org=GZ")
                    json.loads(ws.recv())  # the session
                t0 = time.monotonic()
                ws.send(json.dumps({"type": "message", "id": f"b{i}", "text": f"副卡怎么办理 {i}"}))
                while True:
                    f = json.loads(ws.recv())
                    if f["type"] == "ack":
                        break
                acked = time.monotonic()
                with database.session() as s:
                    tid = s.scalar(select(Interaction.ticket_id).join(Message).where(Message.id == f["message_id"]))
                assert tid is not None
                return t0, acked, int(tid)

            paths: list[tuple[str, Callable[[int], tuple[float, float, int]]]] = [
                ("sms json (generic)", json_sms), ("wechat xml callback", wechat), ("web chat websocket", web_chat)]
            ack_ref: list[float] = []
            table: list[tuple[str, list[float]]] = []
            for name, fn in paths:
                fn(10**6)  # warm up
                seen: list[float] = []
                for i in range(messages):
                    t0, acked, tid = fn(i)
                    if name.startswith("sms"):
                        ack_ref.append(acked - t0)
                    deadline = time.monotonic() + 10
                    while (told := watcher.told(tid, t0)) is None and time.monotonic() < deadline:
                        time.sleep(0.001)
                    if told is None:
                        raise RuntimeError(f"{name}: ticket {tid} never reached the console")
                    seen.append(told - t0)
                    time.sleep(pause)
                table.append((name, seen))
            for ws in chats.values():
                ws.close()
        finally:
            watcher.stop()
            http.close()
            from kefu.web import live

            live.broadcaster.close_all()
            server.should_exit = True
            thread.join(timeout=10)
    ref = statistics.median(ack_ref)
    echo(f"arrival -> agent's console (SSE notice), {messages} messages per channel, {db}, one at a time:")
    p95 = _pct(ack_ref, 0.95)
    echo(f"  {'reference: json post acknowledged':36s} p50 {ref * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    for name, seen in table:
        med = statistics.median(seen)
        medians[name] = med
        echo(f"  {name:36s} p50 {med * 1000:7.1f} ms   p95 {_pct(seen, 0.95) * 1000:7.1f} ms   "
             f"max {max(seen) * 1000:7.1f} ms   p50 ratio to reference {med / ref:5.2f}")
    medians["reference"] = ref
    return medians
