"""CMPP 2.0 against a local ISMG simulator: login (AuthenticatorSource), SUBMIT of short and long replies
with status reports, MO DELIVERs (long ones reassembled) through the generic inbound path, ACTIVE_TEST."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select

from kefu.channels import cmpp, sms
from kefu.channels.adapters import Outbound, PermanentFailure
from kefu.channels.ingest import ingest
from kefu.core.config import Settings
from kefu.interactions.models import Message
from tests.channels.cmpp_sim import Ismg, serve
from tests.channels.outbox import delivery, jobs_with, settle
from tests.conftest import World

SP, SECRET = "901234", "s3cret"
AT = datetime(2026, 12, 6, 10, 30, 15, tzinfo=UTC)
LONG = "您好，您的故障单已受理，工程师将在两小时内上门，请保持电话畅通。如有疑问请回复本短信或拨打10086。" * 2


@pytest.fixture
def ismg() -> Iterator[Ismg]:
    with serve(Ismg({SP: SECRET}, stats={"13900000000": "UNDELIV"})) as g:
        yield g


@pytest.fixture
def settings(settings: Settings, ismg: Ismg) -> Iterator[Settings]:
    s = settings.model_copy(update={"sms_transport": "cmpp", "cmpp_host": "127.0.0.1", "cmpp_port": ismg.port,
                                    "cmpp_source_addr": SP, "cmpp_shared_secret": SecretStr(SECRET),
                                    "cmpp_src_id": "10086001", "cmpp_service_id": "KEFU"})
    with jobs_with(s):
        yield s


def test_authenticator_source_is_md5_of_the_spec_layout() -> None:
    import hashlib

    expected = hashlib.md5(b"901234" + b"\0" * 9 + b"s3cret" + b"1206103015").digest()
    assert cmpp.authenticator_source(SP, SECRET, cmpp.timestamp(AT)) == expected
    body = cmpp.connect_body(SP, SECRET, AT)
    c = cmpp.Connect.decode(body)
    assert (c.source_addr, c.authenticator, c.version, c.timestamp) == (SP, expected, 0x20, 1206103015)
    assert cmpp.pdu(cmpp.CONNECT, 7, body)[:12] == struct.pack(">III", 39, 1, 7)


def test_login_with_a_wrong_secret_is_refused(ismg: Ismg) -> None:
    c = cmpp.CmppClient("127.0.0.1", ismg.port, SP, "wrong", timeout=5)
    with pytest.raises(PermanentFailure, match="3 \\(authentication failed\\)"):
        c.connect(AT)
    c = cmpp.CmppClient("127.0.0.1", ismg.port, "999999", SECRET, timeout=5)
    with pytest.raises(PermanentFailure, match="2 \\(illegal source address\\)"):
        c.connect(AT)
    assert ismg.connects == [(SP, 3), ("999999", 2)]


def test_submit_short_and_long_with_reports_and_active_test(settings: Settings, ismg: Ismg) -> None:
    c = cmpp.client_of(settings)
    c.connect(AT)
    c.active_test()
    short = c.submit(cmpp.submit_parts("13812345678", "已处理", ref=1, src_id="10086001")[0])
    longs = [c.submit(s) for s in cmpp.submit_parts("13812345678", LONG, ref=9, src_id="10086001")]
    reports = cmpp.parsed(c.poll(0.5)).reports
    c.close()
    assert ismg.active_tests == 1
    assert len(longs) == 2
    got = [s for _, s in ismg.submitted]
    assert cmpp.decode_content(got[0].msg_fmt, got[0].content) == "已处理"
    assert [(s.pk_total, s.pk_number, s.udhi) for s in got[1:]] == [(2, 1, 1), (2, 2, 1)]
    texts = [sms.parse_udh(s.content) for s in got[1:]]
    assert [t[0] for t in texts] == [(9, 2, 1), (9, 2, 2)]
    assert "".join(cmpp.decode_content(8, t[1]) for t in texts) == LONG
    assert sorted((r.provider_id, r.delivered) for r in reports) == sorted(
        (str(i), True) for i in [short, *longs])


def test_replies_go_out_over_cmpp_and_reports_mark_them(client: object, world: World, settings: Settings,
                                                        ismg: Ismg) -> None:
    # a handset writes (MO through the listener's path), an agent answers twice
    c = cmpp.client_of(settings)
    c.connect(AT)
    ids = ismg.mo("13812345678", LONG) + ismg.mo("13900000000", "停机了")
    done = ingest(world.db, settings, "sms", cmpp.parsed(c.poll(0.3)))
    assert len(done.results) == 2
    assert len(ids) == 3
    assert set(ids) <= ismg.acked  # every DELIVER acknowledged
    with world.db.session() as s:
        bodies = {m.sender: m.body for m in s.scalars(select(Message))}
    assert bodies == {"+8613812345678": LONG, "+8613900000000": "停机了"}

    from kefu.channels.adapters import adapter_for

    adapter = adapter_for(settings, "sms")
    assert isinstance(adapter, cmpp.CmppAdapter)
    sent = adapter.send(Outbound(1, "sms", "+8613900000000", "已复机", key="k"))
    assert len(sent.provider_ids) == 1
    # The report of that submission arrived on the adapter's own connection, which is gone: the real ISMG
    # sends reports on a receiving link; the simulator sends them on the submitting one.
    c.close()
    assert ismg.submitted[-1][1].dest == ("13900000000",)


def test_an_undelivered_report_fails_the_reply(client: object, world: World, settings: Settings,
                                               ismg: Ismg) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    c = cmpp.client_of(settings)
    c.connect(AT)
    ismg.mo("13900000000", "停机了")
    ingest(world.db, settings, "sms", cmpp.parsed(c.poll(0.3)))
    c.close()
    with world.db.session() as s:
        iid = s.scalar(select(Message.interaction_id))
    mid = client.post(f"/api/v1/interactions/{iid}/messages", json={"body": "已复机"},
                      headers=world.auth("agent_gz")).json()["id"]
    settle(world)
    assert delivery(world, mid).status == "sent"
    # the report for the submitted Msg_Id, as the ISMG built it
    msg_id, sub = ismg.submitted[-1]
    rep = cmpp.StatusReport(msg_id, "UNDELIV", "2612061200", "2612061201", sub.dest[0])
    d = cmpp.Deliver(1, "10086001", sub.dest[0], 0, rep.encode(), registered_delivery=1)
    ingest(world.db, settings, "sms", cmpp.parsed([cmpp.Deliver.decode(d.encode())]))
    got = delivery(world, mid)
    assert (got.status, got.last_error) == ("failed", "delivery_report: UNDELIV")


@given(st.integers(0, 2**64 - 1), st.text(alphabet="0123456789", min_size=1, max_size=21),
       st.binary(max_size=140), st.integers(0, 1), st.integers(0, 1))
def test_deliver_round_trips(msg_id: int, src: str, content: bytes, udhi: int, reg: int) -> None:
    d = cmpp.Deliver(msg_id, "10086001", src, 8, content, udhi, reg, "KEFU")
    assert cmpp.Deliver.decode(d.encode()) == d


@given(st.text(min_size=1, max_size=300))
def test_submit_round_trips(text: str) -> None:
    for s in cmpp.submit_parts("13812345678", text, ref=3, src_id="10086001", service_id="KEFU", msg_src=SP):
        assert cmpp.Submit.decode(s.encode()) == s
        assert len(s.content) <= 140
