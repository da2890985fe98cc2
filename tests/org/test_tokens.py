"""API tokens: scopes, the gateway role, expiry, last use, the cache, listing and revoking in scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.org import service as org
from kefu.org.models import ApiToken, User
from kefu.org.token_cache import cache
from tests.conftest import World
from tests.org.support import add_gateway, add_province

API = "/api/v1"


def _principal(role: str, scopes: list[str] | None) -> Principal:
    return Principal(user_id=1, username="u", display_name="U", role=role, org_unit_id=1, org_path="/1/",
                     authority_limit=Decimal(0), via_token=True, scopes=None if scopes is None else frozenset(scopes))


def test_can_post_inbound_follows_the_role_and_the_channel_scopes() -> None:
    assert _principal("admin", None).can_post_inbound("wechat") is True
    assert _principal("gateway", None).can_post_inbound("email") is True
    sms_only = _principal("gateway", ["inbound:sms"])
    assert [c for c in ("sms", "wechat", "email") if sms_only.can_post_inbound(c)] == ["sms"]
    assert sms_only.can("inbound.post") is True
    assert sms_only.can("tickets.read") is False
    assert _principal("gateway", ["inbound:sms", "inbound:email"]).can_post_inbound("email") is True
    assert _principal("gateway", ["inbound.post"]).can_post_inbound("weibo") is True
    assert _principal("admin", ["tickets.read"]).can_post_inbound("sms") is False
    assert _principal("agent", None).can_post_inbound("sms") is False
    # a scope the role lacks grants nothing
    assert _principal("agent", ["inbound:sms"]).can_post_inbound("sms") is False


def test_a_scoped_token_can_do_only_what_its_scopes_and_its_role_both_allow() -> None:
    p = _principal("admin", ["customers.read", "tickets.read"])
    assert p.permissions == frozenset({"customers.read", "tickets.read"})
    assert p.can("pii") is False
    assert p.can_use_console is False
    assert _principal("admin", None).can_use_console is True
    assert _principal("gateway", None).can_use_console is False


def test_a_gateway_token_posts_inbound_on_its_channel_and_can_do_nothing_else(client: TestClient,
                                                                              world: World) -> None:
    add_gateway(world, scopes=["inbound:sms"])
    h = world.auth("sms_gw")
    me = client.get(f"{API}/me", headers=h).json()
    assert (me["role"], me["permissions"]) == ("gateway", ["inbound.post"])
    r = client.post(f"{API}/inbound/sms", headers=h, json={"message_id": "m1", "sender": "13812345678",
                                                           "text": "你好"})
    assert r.status_code == 201
    for path in ("/tickets", "/customers", "/users", "/tokens", "/knowledge/articles", "/interactions"):
        assert client.get(API + path, headers=h).status_code == 403, path
    # nor the console: a gateway token is not a console login
    page = client.get("/console/inbox", headers=h, follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?msg=required&next=%2Fconsole%2Finbox")


def test_a_gateway_has_no_password_and_cannot_log_in(client: TestClient, world: World) -> None:
    r = client.post(f"{API}/users", headers=world.auth("admin"), json={
        "username": "gw2", "display_name": "网关", "role": "gateway", "org_unit_id": world.units["gz"],
        "password": "long-enough-1"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "password_not_allowed")
    with world.db.session() as s:
        assert org.user_by_username(s, "gw2") is None
    add_gateway(world)
    r = client.post(f"{API}/auth/login", json={"username": "sms_gw", "password": "anything-at-all"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "login_failed")


def test_token_scopes_must_be_part_of_the_owners_role(client: TestClient, world: World) -> None:
    h = world.auth("admin")
    cases = [
        (world.users["agent_gz"], ["tokens.admin"]),
        (world.users["agent_gz"], ["inbound:sms"]),
        (world.users["admin"], ["inbound:fax"]),
        (world.users["admin"], []),
    ]
    for user_id, scopes in cases:
        r = client.post(f"{API}/tokens", headers=h, json={"name": "x", "user_id": user_id, "scopes": scopes})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_scope"), scopes
    assert r.json()["error"]["message"].startswith("a token needs at least one scope")
    with world.db.session() as s:
        assert s.scalar(select(ApiToken.id).where(ApiToken.name == "x")) is None


def test_a_read_only_scoped_admin_token_reads_masked_and_cannot_write(client: TestClient, world: World) -> None:
    r = client.post(f"{API}/tokens", headers=world.auth("admin"),
                    json={"name": "reader", "scopes": ["customers.read", "customers.write"]})
    assert r.status_code == 201
    assert r.json()["scopes"] == ["customers.read", "customers.write"]
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    made = client.post(f"{API}/customers", headers=h, json={"phone": "13900001111", "org_unit_id": world.units["gz"]})
    assert made.status_code == 201
    assert (made.json()["phone"], made.json()["masked"]) == ("139****1111", True)
    assert client.post(f"{API}/tokens", headers=h, json={"name": "more"}).status_code == 403


def test_new_tokens_expire_after_a_year_unless_told_and_never_in_the_past(client: TestClient,
                                                                          world: World) -> None:
    h = world.auth("admin")
    r = client.post(f"{API}/tokens", headers=h, json={"name": "default"}).json()
    created = datetime.fromisoformat(r["created_at"])
    assert datetime.fromisoformat(r["expires_at"]) - created == timedelta(days=365)
    when = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    r2 = client.post(f"{API}/tokens", headers=h, json={"name": "month", "expires_at": when.isoformat()}).json()
    assert datetime.fromisoformat(r2["expires_at"]) == when
    past = client.post(f"{API}/tokens", headers=h,
                       json={"name": "past", "expires_at": (utcnow() - timedelta(minutes=1)).isoformat()})
    assert (past.status_code, past.json()["error"]["code"]) == (422, "invalid_expiry")


def test_an_expired_token_is_refused_even_while_cached(client: TestClient, world: World) -> None:
    with world.db.unit_of_work() as s:
        secret, tok = org.create_api_token(s, world.users["agent_gz"], "short",
                                           expires_at=utcnow() + timedelta(hours=1))
    with world.db.session() as s:
        assert org.principal_for_token(s, secret) is not None
        assert org.principal_for_token(s, secret, at=utcnow() + timedelta(hours=1, seconds=1)) is None
    with world.db.unit_of_work() as s:
        s.get(ApiToken, tok.id).expires_at = utcnow() - timedelta(seconds=1)
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(world: World) -> None:
    secret = world.tokens["agent_gz"]
    t0 = utcnow()

    def last_used() -> datetime | None:
        with world.db.session() as s:
            return s.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == org.digest(secret)))

    # Each call as a request: its transaction commits, then the token's use is written.
    with world.db.session() as s:
        org.principal_for_token(s, secret, db=world.db, at=t0)
        assert last_used() is None  # not inside the request's own transaction
        s.commit()
        assert last_used() == t0
        org.principal_for_token(s, secret, db=world.db, at=t0 + timedelta(seconds=59))
        s.commit()
        assert last_used() == t0
        org.principal_for_token(s, secret, db=world.db, at=t0 + timedelta(seconds=61))
        s.commit()
        assert last_used() == t0 + timedelta(seconds=61)


def test_a_hot_token_is_served_from_the_cache_without_a_query(world: World) -> None:
    secret = world.tokens["agent_gz"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_a) -> None:  # type: ignore[no-untyped-def]
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", count)
    try:
        with world.db.session() as s:
            first = org.principal_for_token(s, secret, db=world.db)
            loaded = len(statements)
            s.commit()  # then the first use is written
            written = len(statements)
            again = [org.principal_for_token(s, secret, db=world.db) for _ in range(50)]
            s.commit()
    finally:
        event.remove(world.db.engine, "before_cursor_execute", count)
    assert first is not None
    assert first.username == "agent_gz"
    assert (loaded, written) == (1, 2)  # the joined lookup; after commit, last_used_at
    assert statements[1].startswith("UPDATE api_tokens SET last_used_at")
    assert len(statements) == written
    assert all(p is first for p in again)


def test_a_change_made_by_another_process_is_seen_within_the_cache_lifetime(world: World) -> None:
    secret = world.tokens["agent_gz"]
    with world.db.session() as s:
        assert org.principal_for_token(s, secret) is not None
    with world.db.unit_of_work() as s:  # a bulk UPDATE, as another process's change looks to this one
        s.execute(update(ApiToken).where(ApiToken.token_hash == org.digest(secret)).values(revoked_at=utcnow()))
    with world.db.session() as s:
        assert org.principal_for_token(s, secret, cache_seconds=10) is not None  # still within the bound
        assert org.principal_for_token(s, secret, cache_seconds=0) is None  # after it


def test_role_changes_and_deactivation_apply_to_cached_tokens_at_once(client: TestClient, world: World) -> None:
    h = world.auth("agent_gz")
    assert client.get(f"{API}/tickets", headers=h).status_code == 200
    assert len(cache) >= 1
    uid = world.users["agent_gz"]
    r = client.patch(f"{API}/users/{uid}", headers=world.auth("admin"), json={"role": "gateway"})
    assert (r.status_code, r.json()["role"]) == (200, "gateway")
    assert client.get(f"{API}/tickets", headers=h).status_code == 403
    assert client.patch(f"{API}/users/{uid}", headers=world.auth("admin"), json={"active": False}).status_code == 200
    assert client.get(f"{API}/me", headers=h).status_code == 401
    with world.db.session() as s:
        user = s.get(User, uid)
        assert (user.role, user.active, user.password_hash) == ("gateway", False, None)


def test_a_province_admin_lists_and_revokes_only_tokens_of_its_province(client: TestClient, world: World) -> None:
    add_province(world)
    gd, zj = world.auth("admin_gd"), world.auth("admin_zj")
    listed = client.get(f"{API}/tokens", headers=gd).json()
    assert {i["username"] for i in listed["items"]} == {"sup_gd", "agent_gz", "agent_sz", "support_gd", "admin_gd"}
    assert listed["total"] == 5
    assert {i["user_display_name"] for i in listed["items"]} >= {"广州坐席"}
    with world.db.session() as s:
        hz_token = s.scalar(select(ApiToken.id).where(ApiToken.user_id == world.users["agent_hz"]))
    r = client.delete(f"{API}/tokens/{hz_token}", headers=gd)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "token_not_found")
    assert client.get(f"{API}/me", headers=world.auth("agent_hz")).status_code == 200
    with world.db.session() as s:
        assert s.get(ApiToken, hz_token).revoked_at is None
    assert client.delete(f"{API}/tokens/{hz_token}", headers=zj).status_code == 204
    assert client.get(f"{API}/me", headers=world.auth("agent_hz")).status_code == 401
    after = client.get(f"{API}/tokens", headers=zj, params={"user_id": world.users["agent_hz"]}).json()["items"]
    assert [(i["active"], i["revoked_at"] is not None) for i in after] == [(False, True)]
    # and a token for a user of another province cannot be made either
    made = client.post(f"{API}/tokens", headers=gd, json={"name": "x", "user_id": world.users["agent_hz"]})
    assert (made.status_code, made.json()["error"]["code"]) == (404, "user_not_found")


def test_a_province_admin_cannot_change_a_user_of_another_province(client: TestClient, world: World) -> None:
    add_province(world)
    uid = world.users["agent_hz"]
    r = client.patch(f"{API}/users/{uid}", headers=world.auth("admin_gd"), json={"role": "admin"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "user_not_found")
    moved = client.patch(f"{API}/users/{world.users['agent_gz']}", headers=world.auth("admin_gd"),
                         json={"org_unit_id": world.units["hz"]})
    assert (moved.status_code, moved.json()["error"]["code"]) == (404, "org_unit_not_found")
    with world.db.session() as s:
        assert (s.get(User, uid).role, s.get(User, world.users["agent_gz"]).org_unit_id) == (
            "agent", world.units["gz"])
