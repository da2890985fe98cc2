"""`kefu bench channels`: inbound throughput of each adapter with its real payload, in process (the app
through its ASGI test client, one request at a time, on a fresh migrated database), beside the generic
JSON path measured in the same run as the reference: WeChat XML with its SHA1 signature check, the SMS
gateway's MO post, an e-mail through the SMTP ingress's handler. Half the messages come from returning
senders, half from new ones."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from email.message import EmailMessage

from pydantic import SecretStr

WX_TOKEN = "bench-token"


def run(*, db: str, messages: int, echo: Callable[[str], None]) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from kefu.app import create_app
    from kefu.bench.common import fresh_database
    from kefu.channels.email import SmtpIngress
    from kefu.core.config import Settings
    from kefu.core.db import Database
    from kefu.org import service as org

    rates: dict[str, float] = {}
    with fresh_database(db) as url:
        settings = Settings(env="test", database_url=url, wechat_token=WX_TOKEN, email_from="kefu@10086.cn",
                            wechat_app_secret=SecretStr("x"))
        database = Database(url)
        with database.unit_of_work() as s:
            g = org.create_org_unit(s, kind="group", code="G", name="集团")
            p = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=g.id)
            org.create_org_unit(s, kind="city", code="GZ", name="广州", parent_id=p.id)
            u = org.create_user(s, username="gw", display_name="gateway", role="gateway", org_unit_id=p.id)
            token = org.create_api_token(s, u.id, "bench")[0]
        auth = {"Authorization": f"Bearer {token}"}
        app = create_app(settings, database, start_dispatcher=False)
        ingress = SmtpIngress(database, settings)
        with TestClient(app) as client:
            def sender(i: int) -> int:
                return i // 2 if i % 2 else 100_000 + i  # every other message from a returning sender

            def json_path(i: int) -> None:
                r = client.post("/api/v1/inbound/sms", headers=auth, json={
                    "message_id": f"j{i}", "sender": f"139{sender(i):08d}", "text": f"查询话费 {i}"})
                assert r.status_code in (200, 201), r.text

            def wechat(i: int) -> None:
                ts, nonce = str(1700000000 + i), str(i)
                sig = hashlib.sha1("".join(sorted([WX_TOKEN, ts, nonce])).encode()).hexdigest()
                xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o{sender(i):027d}]]>"
                       f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                       f"<Content><![CDATA[宽带断了 {i}]]></Content><MsgId>{6000000000000000000 + i}</MsgId></xml>")
                r = client.post("/api/v1/channels/wechat", params={"signature": sig, "timestamp": ts, "nonce": nonce},
                                content=xml.encode())
                assert r.text == "success", r.text

            def sms_mo(i: int) -> None:
                r = client.post("/api/v1/channels/sms/mo", headers=auth, json={"messages": [
                    {"msg_id": f"s{i}", "mobile": f"138{sender(i):08d}", "content": f"查流量 {i}"}]})
                assert r.status_code == 202, r.text

            def mail(i: int) -> None:
                m = EmailMessage()
                m["From"] = f"c{sender(i)}@example.cn"
                m["To"] = "kefu@10086.cn"
                m["Subject"] = "账单疑问"
                m["Message-ID"] = f"<e{i}@example.cn>"
                m.set_content(f"我的账单有问题 {i}")
                assert ingress.receive(m.as_bytes()) == "250 OK"

            paths: list[tuple[str, Callable[[int], None]]] = [
                ("json (generic, reference)", json_path), ("wechat xml + signature", wechat),
                ("sms gateway MO", sms_mo), ("email (smtp ingress)", mail)]
            for name, fn in paths:
                fn(10**6)  # warm up (a message of its own)
                t0 = time.perf_counter()
                for i in range(messages):
                    fn(i)
                rates[name] = messages / (time.perf_counter() - t0)
    ref = rates["json (generic, reference)"]
    echo(f"inbound throughput, {messages} messages per adapter, {db}, one client, in process:")
    for name, rate in rates.items():
        echo(f"  {name:28s} {rate:8.1f} msg/s   ratio to json {rate / ref:5.2f}")
    return rates


