"""Channel configuration per org unit on the console: an administrator sets a unit's WeChat account, its
secrets are write-only (never shown, stored encrypted), the unit's replies and callbacks use it, the
units below inherit it, KEFU_* stays the default; bad input refused with nothing changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.channels import config
from kefu.channels.models import ChannelConfig
from kefu.core.config import Settings
from kefu.core.events import OutboxEvent
from tests.channels.fake_wechat import FakeWeChat, serve
from tests.channels.outbox import delivery, jobs_with, settle
from tests.conftest import World
from tests.web.conftest import csrf_of, login

APPID = "wx00000000000000gz"
SECRET = "gz-app-secret-0123456789abcdef"
TOKEN = "gz-callback-token"
OPENID = "oGZ_customer_0001"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with serve(FakeWeChat(APPID, SECRET, followers={OPENID})) as f:
        yield f


def admin_form(client: TestClient, unit: int, channel: str, **fields: str) -> tuple[int, str]:
    """Open the configuration page of a unit and channel and submit it as an administrator does."""
    page = client.get(f"/console/channels/config?unit={unit}&channel={channel}")
    assert page.status_code == 200, page.text
    r = client.post("/console/channels/config", data={"csrf_token": csrf_of(page.text), "unit": str(unit),
                                                      "channel": channel, **fields}, follow_redirects=False)
    return r.status_code, r.text


def test_an_admin_sets_a_units_wechat_account_and_its_secrets_are_never_shown(client: TestClient, world: World,
                                                                              ) -> None:
    login(client, "admin")
    status, _ = admin_form(client, world.units["gz"], "wechat", wechat_app_id=APPID, wechat_app_secret=SECRET,
                           wechat_token=TOKEN, wechat_api_base="https://api.weixin.qq.com/")
    assert status == 303
    page = client.get(f"/console/channels/config?unit={world.units['gz']}&channel=wechat&saved=1")
    assert page.status_code == 200
    assert APPID in page.text
    assert SECRET not in page.text
    assert TOKEN not in page.text
    assert page.text.count("已设置（留空则保持不变）") == 2  # app secret and token; the AES key is not set
    with world.db.session() as s:
        row = s.scalar(select(ChannelConfig))
        assert row is not None
        assert (row.org_unit_id, row.channel) == (world.units["gz"], "wechat")
        assert json.loads(row.values) == {"wechat_app_id": APPID, "wechat_api_base": "https://api.weixin.qq.com",
                                          "wechat_notice_template": None}
        assert row.secrets is not None
        assert SECRET not in row.secrets
        assert TOKEN not in row.secrets
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "channel.config_changed")).one()
        assert ev.payload["fields"] == ["wechat_api_base", "wechat_app_id", "wechat_app_secret", "wechat_token"]
        assert SECRET not in json.dumps(ev.payload)

    # a blank secret keeps it, "clear" removes it
    status, _ = admin_form(client, world.units["gz"], "wechat", wechat_app_id=APPID, wechat_app_secret="",
                           clear_wechat_token="1")
    assert status == 303
    with world.db.session() as s:
        got = config.settings_for(s, client.app.state.settings, "wechat", world.units["gz"])  # type: ignore[attr-defined]
    assert got.wechat_app_secret is not None
    assert got.wechat_app_secret.get_secret_value() == SECRET
    assert got.wechat_token is None
    assert got.wechat_api_base == "https://api.weixin.qq.com"  # blank: the KEFU_* default


@pytest.mark.parametrize(("fields", "field"), [
    ({"smtp_port": "99999"}, "smtp_port"),
    ({"smtp_starttls": "maybe"}, "smtp_starttls"),
    ({"email_from": "x" * 300}, "email_from"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_stored(client: TestClient, world: World,
                                                                      fields: dict[str, str], field: str) -> None:
    login(client, "admin")
    status, html = admin_form(client, world.units["gz"], "email", smtp_host="smtp.example.cn", **fields)
    assert status == 422
    assert f"{field}:" in html
    with world.db.session() as s:
        assert s.scalar(select(ChannelConfig)) is None
        assert s.scalar(select(OutboxEvent).where(OutboxEvent.name == "channel.config_changed")) is None


def test_only_admins_configure_and_only_units_they_see(client: TestClient, world: World) -> None:
    login(client, "sup_gd")  # a supervisor is no administrator
    page = client.get("/console/inbox")
    assert client.get("/console/channels/config").status_code == 403
    r = client.post("/console/channels/config", data={"csrf_token": csrf_of(page.text), "unit": str(world.units["gz"]),
                                                      "channel": "sms", "sms_transport": "cmpp"},
                    follow_redirects=False)
    assert r.status_code == 403
    client.cookies.clear()
    login(client, "admin")
    page = client.get("/console/channels/config")
    r = client.post("/console/channels/config", data={"csrf_token": csrf_of(page.text), "unit": "999999",
                                                      "channel": "sms", "sms_transport": "cmpp"},
                    follow_redirects=False)
    assert r.status_code == 404
    with world.db.session() as s:
        assert s.scalar(select(ChannelConfig)) is None


def test_a_replys_delivery_uses_its_units_account_and_units_below_inherit(client: TestClient, world: World,
                                                                          settings: Settings, fake: FakeWeChat) -> None:
    login(client, "admin")
    status, _ = admin_form(client, world.units["province"], "wechat", wechat_app_id=APPID,
                           wechat_app_secret=SECRET, wechat_token=TOKEN, wechat_api_base=fake.base)
    assert status == 303
    client.cookies.clear()
    with jobs_with(settings):
        r = client.post("/api/v1/inbound/wechat", json={"message_id": "wx-cfg-1", "sender": OPENID, "text": "宽带断了",
                                                        "org_unit_code": "GZ"}, headers=world.auth("admin"))
        assert r.status_code == 201, r.text
        reply = client.post(f"/api/v1/interactions/{r.json()['interaction_id']}/messages",
                            json={"body": "师傅今天上门"}, headers=world.auth("agent_gz"))
        assert reply.status_code == 201, reply.text
        settle(world)
    assert delivery(world, reply.json()["id"]).status == "sent"
    assert fake.sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "师傅今天上门"}}]


def test_the_wechat_callback_is_verified_with_the_token_of_the_unit_in_its_url(client: TestClient,
                                                                              world: World) -> None:
    login(client, "admin")
    assert admin_form(client, world.units["gz"], "wechat", wechat_token=TOKEN)[0] == 303
    client.cookies.clear()
    ts, nonce = "1700000000", "n1"
    sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
    q = f"signature={sig}&timestamp={ts}&nonce={nonce}&echostr=hello"
    assert client.get(f"/api/v1/channels/wechat?{q}&org=GZ").text == "hello"
    assert client.get(f"/api/v1/channels/wechat?{q}&org=SZ").status_code == 404  # SZ has no account


def test_overlay_the_nearest_unit_wins_and_none_leaves_the_default(settings: Settings) -> None:
    got = config.overlay(settings, [({"smtp_host": "top.example", "smtp_port": 2525}, {"smtp_password": "p1"}),
                                    ({"smtp_host": "gz.example", "smtp_port": None}, {})])
    assert (got.smtp_host, got.smtp_port) == ("gz.example", 2525)
    assert got.smtp_password is not None
    assert got.smtp_password.get_secret_value() == "p1"
    assert config.overlay(settings, []) is settings
