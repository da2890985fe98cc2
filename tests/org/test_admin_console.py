"""The console's admin pages: API tokens (list, make with the secret shown once, revoke) and the audit log."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.org.models import ApiToken
from tests.conftest import World
from tests.org.support import add_gateway, add_province
from tests.web.conftest import csrf_of, login

TOKENS = "/console/admin/tokens"
SECRET = re.compile(r"<code class=\"mono\" data-secret>(kf_[^<]+)</code>")


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-token="(\d+)">', html)


def test_the_admin_makes_a_gateway_token_and_sees_the_secret_once(client: TestClient, world: World) -> None:
    add_gateway(world, name="wx_gw", unit="gz")
    login(client, "admin")
    page = client.get(TOKENS)
    assert page.status_code == 200
    assert "API 令牌" in page.text
    assert "短信网关（wx_gw · 渠道网关 · 广州）" in page.text  # the owner chooser, by name
    r = client.post(TOKENS, data={"csrf_token": csrf_of(page.text), "user_id": str(world.users["wx_gw"]),
                                  "name": "微信接入", "scopes": ["inbound:wechat"], "expires": "2099-12-31"})
    assert r.status_code == 201
    secret = SECRET.search(r.text)
    assert secret is not None
    assert "此密钥只显示这一次" in r.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}).json()
    assert (me["username"], me["permissions"]) == ("wx_gw", ["inbound.post"])
    with world.db.session() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.name == "微信接入"))
        assert tok.scopes == ["inbound:wechat"]
        assert tok.expires_at.isoformat() == "2099-12-31T16:00:00+00:00"  # the end of that day in Beijing
    again = client.get(TOKENS)
    assert SECRET.search(again.text) is None
    assert "inbound:wechat" in again.text
    assert "2100-01-01 00:00" in again.text


def test_a_token_form_with_a_scope_the_owner_lacks_is_refused_and_makes_nothing(client: TestClient,
                                                                                world: World) -> None:
    login(client, "admin")
    page = client.get(TOKENS)
    r = client.post(TOKENS, data={"csrf_token": csrf_of(page.text), "user_id": str(world.users["agent_gz"]),
                                  "name": "bad", "scopes": ["inbound:sms"], "expires": "2099-01-01"})
    assert r.status_code == 422
    assert "a agent user&#39;s token cannot carry inbound:sms" in r.text
    missing = client.post(TOKENS, data={"csrf_token": csrf_of(page.text), "name": "x", "expires": "2099-01-01"})
    assert (missing.status_code, "请选择所属用户。" in missing.text) == (422, True)
    with world.db.session() as s:
        assert s.scalars(select(ApiToken.name).where(ApiToken.name.in_(["bad", "x"]))).all() == []


def test_revoking_asks_first_and_then_the_token_stops_working(client: TestClient, world: World) -> None:
    login(client, "admin")
    with world.db.session() as s:
        tid = s.scalar(select(ApiToken.id).where(ApiToken.user_id == world.users["agent_sz"]))
    confirm = client.get(f"{TOKENS}/{tid}/revoke")
    assert "确定吊销令牌“tests”（所属用户：深圳坐席）吗？" in confirm.text
    assert client.get("/api/v1/me", headers=world.auth("agent_sz")).status_code == 200
    r = client.post(f"{TOKENS}/{tid}/revoke", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"{TOKENS}?msg=revoked")
    assert client.get("/api/v1/me", headers=world.auth("agent_sz")).status_code == 401
    listed = client.get(f"{TOKENS}?msg=revoked").text
    assert "令牌已吊销。" in listed


def test_a_province_admin_sees_and_revokes_only_its_own_provinces_tokens(client: TestClient, world: World) -> None:
    add_province(world)
    login(client, "admin_gd")
    page = client.get(TOKENS)
    with world.db.session() as s:
        owners = dict(s.execute(select(ApiToken.id, ApiToken.user_id)).all())
    shown = {owners[int(i)] for i in _rows(page.text)}
    assert shown == {world.users[u] for u in ("sup_gd", "agent_gz", "agent_sz", "support_gd", "admin_gd")}
    assert "杭州坐席" not in page.text  # not in the chooser either
    hz = next(i for i, u in owners.items() if u == world.users["agent_hz"])
    assert client.get(f"{TOKENS}/{hz}/revoke").status_code == 404
    r = client.post(f"{TOKENS}/{hz}/revoke", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 404
    assert client.get("/api/v1/me", headers=world.auth("agent_hz")).status_code == 200


def test_an_agent_may_not_open_the_admin_pages(client: TestClient, world: World) -> None:
    login(client, "agent_gz")
    assert client.get(TOKENS).status_code == 403
    assert client.get("/console/admin/audit").status_code == 403
    assert 'href="/console/admin"' not in client.get("/console/inbox").text


def test_the_audit_page_filters_by_user_and_action_in_english(client: TestClient, world: World) -> None:
    add_province(world)
    login(client, "agent_hz")
    client.cookies.clear()
    login(client, "admin_gd")
    client.cookies.set("lang", "en")
    page = client.get("/console/admin/audit", params={"action": "login."})
    assert page.status_code == 200
    assert "Audit log" in page.text
    assert f'<option value="{world.users["agent_gz"]}">广州坐席（agent_gz）</option>' in page.text
    assert "杭州坐席" not in page.text  # another province: neither in the chooser nor in the log
    assert page.text.count("<tr data-entry=") == 1  # admin_gd's own login
    mine = client.get("/console/admin/audit", params={"user": world.users["admin_gd"], "action": "login.succeeded"})
    assert mine.text.count("<tr data-entry=") == 1
    assert "Login" in mine.text
    none = client.get("/console/admin/audit", params={"since": "2000-01-01", "until": "2000-01-02"})
    assert "No matching entries." in none.text
