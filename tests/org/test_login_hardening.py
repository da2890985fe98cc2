"""Login hardening: per-address limit, per-username lockout (in the database), bounded hashing, dummy hash."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from kefu.core import auth
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.org import login as guard
from kefu.org import service as org
from kefu.org.models import AuditEntry, LoginFailure
from tests.conftest import PASSWORD, World

LOGIN = "/api/v1/auth/login"


def _app(db_url: str, tmp_path: Path, **overrides: object) -> FastAPI:
    from kefu.app import create_app

    settings = Settings(env="test", data_dir=tmp_path, database_url=db_url, **overrides)  # type: ignore[arg-type]
    return create_app(settings, Database(db_url), start_dispatcher=False)


def _login(client: TestClient, username: str, password: str) -> tuple[int, str]:
    r = client.post(LOGIN, json={"username": username, "password": password})
    return r.status_code, r.json().get("error", {}).get("code", "ok")


def _audit(world: World) -> list[tuple[str, str | None, str | None]]:
    with world.db.session() as s:
        return [(a.action, a.actor_name, a.ip) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith("login")).order_by(AuditEntry.id))]


def test_five_failures_lock_the_account_even_against_the_right_password(client: TestClient, world: World) -> None:
    for _ in range(5):
        assert _login(client, "agent_gz", "wrong-password") == (401, "login_failed")
    r = client.post(LOGIN, json={"username": "agent_gz", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "account_locked"
    assert r.json()["error"]["details"]["minutes"] == 15
    assert "kefu_session" not in r.cookies
    assert _audit(world) == [("login.failed", "agent_gz", "testclient")] * 5 + [
        ("login.locked", "agent_gz", "testclient")]
    with world.db.session() as s:
        row = s.get(LoginFailure, "agent_gz")
        assert row.failures == 5
        assert row.locked_until - row.last_failure_at == timedelta(minutes=15)


def test_the_lock_ends_and_a_success_clears_the_count(client: TestClient, world: World) -> None:
    for _ in range(5):
        _login(client, "agent_gz", "wrong-password")
    with world.db.unit_of_work() as s:
        s.execute(update(LoginFailure).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert _login(client, "agent_gz", PASSWORD) == (200, "ok")
    with world.db.session() as s:
        assert s.get(LoginFailure, "agent_gz") is None
    assert _audit(world)[-1] == ("login.succeeded", "agent_gz", "testclient")


def test_failures_before_the_window_are_forgotten(world: World, settings: Settings) -> None:
    t0 = utcnow()
    with world.db.unit_of_work() as s:
        for i in range(4):
            assert guard.record_failure(s, settings, "agent_gz", at=t0 + timedelta(seconds=i)) is None
        later = t0 + timedelta(minutes=16)
        assert guard.record_failure(s, settings, "agent_gz", at=later) is None
        assert s.get(LoginFailure, "agent_gz").failures == 1
        for i in range(3):
            assert guard.record_failure(s, settings, "agent_gz", at=later + timedelta(seconds=i + 1)) is None
        assert guard.record_failure(s, settings, "agent_gz", at=later + timedelta(seconds=5)) == (
            later + timedelta(seconds=5, minutes=15))


def test_the_lockout_holds_across_processes(world: World, db_url: str, tmp_path: Path) -> None:
    one, two = _app(db_url, tmp_path), _app(db_url, tmp_path)
    with TestClient(one) as a, TestClient(two) as b:
        for client in (a, b, a, b, a):
            assert _login(client, "sup_gd", "wrong-password") == (401, "login_failed")
        assert _login(b, "sup_gd", PASSWORD) == (429, "account_locked")
        assert _login(a, "sup_gd", PASSWORD) == (429, "account_locked")
    for app in (one, two):
        app.state.db.dispose()


def test_an_unknown_username_fails_and_locks_exactly_like_a_known_one(client: TestClient, world: World) -> None:
    answers = [client.post(LOGIN, json={"username": name, "password": "wrong-password"}).json()
               for name in ("agent_gz", "nobody-here")]
    assert answers[0] == answers[1]
    for _ in range(4):
        _login(client, "nobody-here", "wrong-password")
    locked = client.post(LOGIN, json={"username": "nobody-here", "password": "x"}).json()["error"]
    assert (locked["code"], locked["details"]["minutes"]) == ("account_locked", 15)
    with world.db.session() as s:  # the unknown name's entries belong to no unit: group level only
        rows = s.scalars(select(AuditEntry).where(AuditEntry.actor_name == "nobody-here")).all()
        assert {(r.action, r.actor_id, r.org_unit_id) for r in rows} == {
            ("login.failed", None, None), ("login.locked", None, None)}


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    hasher = CountingHasher()
    monkeypatch.setattr(auth, "_hasher", hasher)
    return hasher


def test_an_unknown_user_or_a_gateway_costs_one_hash_like_a_real_user(world: World, counting: CountingHasher) -> None:
    with world.db.unit_of_work() as s:
        org.create_user(s, username="gw", display_name="网关", role="gateway", org_unit_id=world.units["gz"])
    with world.db.session() as s:
        for name in ("agent_gz", "nobody-here", "gw"):
            before = counting.verified
            assert org.check_password(s, name, "wrong-password") is None
            assert counting.verified - before == 1, name
        assert org.check_password(s, "agent_gz", PASSWORD) is not None


def test_one_address_may_try_only_so_many_logins_a_minute(world: World, db_url: str, tmp_path: Path) -> None:
    app = _app(db_url, tmp_path, login_per_ip_per_minute=3)
    with TestClient(app) as c, TestClient(app, client=("10.0.0.9", 4000)) as other:
        assert [_login(c, "agent_gz", "wrong-password")[0] for _ in range(3)] == [401, 401, 401]
        assert _login(c, "agent_gz", PASSWORD) == (429, "too_many_attempts")
        assert _login(other, "agent_gz", PASSWORD) == (200, "ok")
    app.state.db.dispose()


def test_a_login_that_finds_no_free_hashing_slot_is_answered_busy(world: World, db_url: str,
                                                                   tmp_path: Path) -> None:
    app = _app(db_url, tmp_path, password_hash_concurrency=1, password_hash_wait_seconds=0.01)
    with TestClient(app) as c:
        held = guard.guard_for(app.state, app.state.settings).slots
        with held.slot(1.0):
            assert _login(c, "agent_gz", PASSWORD) == (503, "login_busy")
        assert _login(c, "agent_gz", PASSWORD) == (200, "ok")
    with world.db.session() as s:  # a busy answer is no failure
        assert s.get(LoginFailure, "agent_gz") is None
    app.state.db.dispose()


def test_hash_slots_refuse_when_too_many_wait() -> None:
    slots = guard.HashSlots(1)
    inside, release = threading.Event(), threading.Event()
    outcomes: list[str] = []

    def holder() -> None:
        with slots.slot(1.0):
            inside.set()
            release.wait(5)

    def waiter() -> None:
        try:
            with slots.slot(5.0):
                outcomes.append("ran")
        except guard.LoginBusy:
            outcomes.append("busy")

    t = threading.Thread(target=holder)
    t.start()
    inside.wait(5)
    waiters = [threading.Thread(target=waiter) for _ in range(guard.WAITING_PER_SLOT)]
    for w in waiters:
        w.start()
    while slots._waiting < guard.WAITING_PER_SLOT:
        threading.Event().wait(0.001)
    with pytest.raises(guard.LoginBusy), slots.slot(5.0):
        pass
    release.set()
    for th in [t, *waiters]:
        th.join(5)
    assert outcomes == ["ran"] * guard.WAITING_PER_SLOT


def test_the_console_says_in_chinese_that_the_account_is_locked(client: TestClient, world: World) -> None:
    page = client.get("/login")
    token = page.cookies.get("kefu_login_csrf") or client.cookies.get("kefu_login_csrf")
    form = {"username": "agent_gz", "password": "wrong-password", "login_csrf": token, "next": "/console/inbox"}
    for _ in range(5):
        assert client.post("/login", data=form, follow_redirects=False).status_code == 401
    r = client.post("/login", data={**form, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 429
    assert "登录失败次数过多，该账号已被临时锁定，请在 15 分钟后重试，或联系管理员解锁。" in r.text
    assert "kefu_session" not in r.cookies
