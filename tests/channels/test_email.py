"""E-mail through real SMTP servers on loopback (aiosmtpd): inbound through kefu's SMTP ingress,
threading, auto-replies / bounces / loops opening nothing, attachments checked; replies sent by SMTP."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.channels.email import SmtpIngress
from kefu.core.config import Settings
from kefu.interactions.models import Interaction, Message
from tests.channels.outbox import delivery, jobs_with, settle
from tests.channels.support import counts
from tests.conftest import World

CUSTOMER = "zhang.san@example.cn"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Sink:
    """The operator's outgoing mail server: keeps what it is given."""

    def __init__(self) -> None:
        self.got: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email
        import email.policy

        self.got.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    s = Sink()
    port = free_port()
    c = Controller(s, hostname="127.0.0.1", port=port)
    c.start()
    try:
        yield s, port
    finally:
        c.stop()


@pytest.fixture
def settings(settings: Settings, sink: tuple[Sink, int]) -> Iterator[Settings]:
    s = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": sink[1], "email_from": "kefu@10086.cn",
                                    "email_max_attachment_bytes": 1000})
    with jobs_with(s):
        yield s


@pytest.fixture
def ingress(world: World, settings: Settings) -> Iterator[int]:
    port = free_port()
    c = Controller(SmtpIngress(world.db, settings), hostname="127.0.0.1", port=port)
    c.start()
    try:
        yield port
    finally:
        c.stop()


def mail(port: int, *, mid: str, body: str = "我的宽带无法上网", subject: str = "宽带故障", sender: str = CUSTOMER,
         headers: dict[str, str] | None = None, attach: list[tuple[bytes, str, str]] | None = None) -> None:
    m = EmailMessage()
    m["From"] = f"张三 <{sender}>"
    m["To"] = "kefu@10086.cn"
    m["Subject"] = subject
    m["Message-ID"] = mid
    m["Date"] = "Sun, 06 Dec 2026 10:00:00 +0800"
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    for data, ctype, name in attach or []:
        main, sub = ctype.split("/")
        m.add_attachment(data, maintype=main, subtype=sub, filename=name)
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.send_message(m, from_addr=sender or "<>", to_addrs=["kefu@10086.cn"])


def test_a_mail_opens_a_ticket_and_a_reply_threads_into_it(world: World, ingress: int) -> None:
    mail(ingress, mid="<a1@example.cn>", attach=[(b"%PDF-1.4 bill", "application/pdf", "bill.pdf"),
                                                 (b"MZ...", "application/x-msdownload", "run.exe"),
                                                 (b"x" * 2000, "image/png", "big.png")])
    mail(ingress, mid="<a2@example.cn>", body="补充：光猫红灯", subject="Re: 宽带故障",
         headers={"In-Reply-To": "<kefu-1@10086.cn>", "References": "<a1@example.cn> <kefu-1@10086.cn>"})
    c = counts(world.db)
    assert (c["customers"], c["interactions"], c["messages"], c["tickets"]) == (1, 1, 2, 1)
    with world.db.session() as s:
        first, second = s.scalars(select(Message).order_by(Message.id)).all()
        assert first.sender == CUSTOMER
        assert first.body == ("我的宽带无法上网\n[附件：bill.pdf，application/pdf，13 字节]\n"
                              "[附件被拒绝：run.exe，类型 application/x-msdownload 不在允许列表]\n"
                              "[附件被拒绝：big.png，2000 字节超过上限 1000]")
        assert (second.body, second.external_id) == ("补充：光猫红灯", "<a2@example.cn>")
        assert s.scalar(select(Interaction.subject)) == "宽带故障"


@pytest.mark.parametrize("headers", [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"X-Autoreply": "yes"}, {"X-Kefu-Loop": "1"}])
def test_auto_replies_and_loops_open_nothing(world: World, ingress: int, headers: dict[str, str]) -> None:
    mail(ingress, mid="<auto@example.cn>", body="我正在休假", headers=headers)
    c = counts(world.db)
    assert (c["customers"], c["messages"], c["tickets"], c["rejections"]) == (0, 0, 0, 0)


def test_a_mail_without_message_id_is_refused_and_kept(world: World, ingress: int) -> None:
    with smtplib.SMTP("127.0.0.1", ingress) as s, pytest.raises(smtplib.SMTPDataError) as err:
        s.sendmail(CUSTOMER, ["kefu@10086.cn"], b"From: a@example.cn\r\nSubject: x\r\n\r\nhello\r\n")
    assert err.value.smtp_code == 550
    c = counts(world.db)
    assert (c["messages"], c["tickets"], c["rejections"]) == (0, 0, 1)


def test_the_reply_is_sent_by_smtp_threaded_and_a_bounce_fails_it(client: TestClient, world: World, ingress: int,
                                                                   sink: tuple[Sink, int]) -> None:
    mail(ingress, mid="<a1@example.cn>")
    with world.db.session() as s:
        iid = s.scalar(select(Message.interaction_id))
    r = client.post(f"/api/v1/interactions/{iid}/messages", json={"body": "已为您派单"}, headers=world.auth("agent_gz"))
    mid = r.json()["id"]
    settle(world)
    d = delivery(world, mid)
    assert d.status == "sent"
    (out,) = sink[0].got
    assert (out["To"], out["Subject"], out["In-Reply-To"], out["References"]) == (
        CUSTOMER, "Re: 宽带故障", "<a1@example.cn>", "<a1@example.cn>")
    assert out["Message-ID"] == f"<{d.key}@10086.cn>"
    assert out.get_content().strip() == "已为您派单"

    # the customer's server bounces it: a DSN naming our Message-ID
    raw = (
        "From: MAILER-DAEMON@example.cn\r\nTo: kefu@10086.cn\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@example.cn>\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nmailbox full\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n\r\n"
        "Final-Recipient: rfc822; zhang.san@example.cn\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {out['Message-ID']}\r\n"
        "Subject: Re: x\r\n\r\n--B--\r\n").encode()
    with smtplib.SMTP("127.0.0.1", ingress) as s:
        s.sendmail("", ["kefu@10086.cn"], raw)
    got = delivery(world, mid)
    assert got.status == "failed"
    assert got.last_error == "delivery_report: failed 5.2.2"
    assert counts(world.db)["tickets"] == 1
