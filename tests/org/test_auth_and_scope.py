from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World


def test_login_sets_session_cookie_and_me_returns_role(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "agent_gz", "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["role"] == "agent"
    assert "kefu_session" in r.cookies
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "agent_gz"
    assert me.json()["skills"] == {"billing": 3}


def test_wrong_password_is_refused_with_stable_error_shape(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "agent_gz", "password": "nope-nope"})
    assert r.status_code == 401
    assert r.json() == {"error": {"code": "login_failed", "message": "wrong username or password",
                                  "details": {}}}


def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    client.post("/api/v1/auth/login", json={"username": "agent_gz", "password": PASSWORD})
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_no_credentials_is_401(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/me").json()["error"]["code"] == "unauthorized"


def test_api_token_authenticates_and_revoked_token_does_not(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/tokens", json={"name": "gateway"}, headers=world.auth("admin"))
    assert r.status_code == 201
    token = r.json()["token"]
    assert token.startswith("kf_")
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=h).json()["username"] == "admin"
    assert client.delete(f"/api/v1/tokens/{r.json()['id']}", headers=world.auth("admin")).status_code == 204
    assert client.get("/api/v1/me", headers=h).status_code == 401


def test_a_token_for_an_owner_given_as_true_false_or_zero_is_refused_and_none_is_made(
        client: TestClient, world: World) -> None:
    before = client.get("/api/v1/tokens", headers=world.auth("admin")).json()["total"]
    for owner in (False, True, 0, -1):
        r = client.post("/api/v1/tokens", json={"name": "gateway", "user_id": owner}, headers=world.auth("admin"))
        assert r.status_code == 422, owner
    assert client.get("/api/v1/tokens", headers=world.auth("admin")).json()["total"] == before
    r = client.post("/api/v1/tokens", json={"name": "gateway", "user_id": world.users["agent_gz"]},
                    headers=world.auth("admin"))
    assert r.status_code == 201
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()[
        "username"] == "agent_gz"


def test_agent_may_not_create_users(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/users", headers=world.auth("agent_gz"), json={
        "username": "x1", "display_name": "X", "role": "agent", "org_unit_id": world.units["gz"]})
    assert r.status_code == 403
    assert r.json()["error"]["details"] == {"permission": "users.admin"}


def test_supervisor_sees_own_province_units_only_below(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/org-units", headers=world.auth("sup_gd"))
    assert [u["code"] for u in r.json()] == ["GD", "GZ", "SZ"]
    users = client.get("/api/v1/users", headers=world.auth("sup_gd")).json()
    assert {u["username"] for u in users} == {"sup_gd", "agent_gz", "agent_sz", "support_gd"}


def test_admin_builds_the_tree_and_a_city_cannot_hold_a_city(client: TestClient, world: World) -> None:
    h = world.auth("admin")
    r = client.post("/api/v1/org-units", headers=h,
                    json={"kind": "city", "code": "FS", "name": "佛山", "parent_id": world.units["province"]})
    assert r.status_code == 201
    assert r.json()["path"].startswith(f"/{world.units['group']}/{world.units['province']}/")
    bad = client.post("/api/v1/org-units", headers=h,
                      json={"kind": "city", "code": "XX", "name": "X", "parent_id": world.units["gz"]})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"] == "a city cannot sit under a city"


def test_missing_field_is_named_in_422(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/users", headers=world.auth("admin"), json={"username": "abc"})
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["details"]["fields"]}
    assert fields == {"display_name", "role", "org_unit_id"}


def test_malformed_json_is_422_malformed(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/org-units", headers={**world.auth("admin"), "content-type": "application/json"},
                    content=b"{not json")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "malformed_json"


def test_an_expired_session_is_no_longer_accepted(client: TestClient, world: World) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from kefu.core.clock import utcnow
    from kefu.org.models import AuthSession

    client.post("/api/v1/auth/login", json={"username": "agent_gz", "password": PASSWORD})
    assert client.get("/api/v1/me").status_code == 200
    with world.db.unit_of_work() as s:
        s.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/me").status_code == 401


def test_a_deactivated_user_is_refused_on_every_credential(client: TestClient, world: World) -> None:
    from kefu.org.models import User

    client.post("/api/v1/auth/login", json={"username": "agent_gz", "password": PASSWORD})
    with world.db.unit_of_work() as s:
        s.get(User, world.users["agent_gz"]).active = False
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=world.auth("agent_gz")).status_code == 401
