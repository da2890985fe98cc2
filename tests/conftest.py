"""Test harness: every test gets a fresh, migrated database of its own.

SQLite (default): the schema is migrated once into a template file, copied per test.
PostgreSQL (KEFU_TEST_DATABASE_URL=postgresql+psycopg://.../anything): migrated once into a template
database, and each test gets `CREATE DATABASE ... TEMPLATE ...`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kefu.core import auth as _auth
from kefu.core import clock
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.migrate import upgrade

PG_URL = os.environ.get("KEFU_TEST_DATABASE_URL")
# The Redis of the scaled-shape tests (shared is fine: each test uses its own key prefix).
REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Argon2 at its cheapest in tests: the hashing is the same code, only the work factors are lower.
_auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Property tests check behaviour, not speed: on a shared CI machine running both suites, Hypothesis's
# timing checks (the per-example deadline, "data generation too slow") fail tests whose properties hold.
# Every other health check stays on; a test's own @settings still override this profile.
hypothesis_settings.register_profile("kefu", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("kefu")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    url = make_url(PG_URL).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        name = f"kefu_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        eng = _pg_admin_engine()
        with eng.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield name
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()
    else:
        path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
        upgrade(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def db_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        name = f"kefu_t_{uuid.uuid4().hex[:12]}"
        eng = _pg_admin_engine()
        with eng.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()
    else:
        path = tmp_path / "kefu.sqlite3"
        shutil.copy(template_db, path)
        yield f"sqlite:///{path}"


def midnight_offset(local: datetime) -> timedelta:
    """An hour when ``local`` is within 30 minutes of midnight, else nothing."""
    minute = local.hour * 60 + local.minute
    return timedelta(hours=1) if minute < 30 or minute >= 23 * 60 + 30 else timedelta(0)


@pytest.fixture
def away_from_midnight(monkeypatch: pytest.MonkeyPatch) -> Iterator[timedelta]:
    """Keep kefu's clock at least 30 minutes from local midnight in China for a test that counts "today":
    within 30 minutes of it, the clock runs an hour ahead (in this process, and through KEFU_CLOCK_OFFSET in
    any process the test starts). Yields the offset added (usually none)."""
    added = midnight_offset(clock.utcnow().astimezone(ZoneInfo("Asia/Shanghai")))
    before = clock.offset()
    if added:
        clock.shift(before + added)
        monkeypatch.setenv("KEFU_CLOCK_OFFSET", str((before + added).total_seconds()))
    yield added
    clock.shift(before)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(env="test", data_dir=tmp_path, database_url=db_url)


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    from kefu.app import create_app

    return create_app(settings, db, start_dispatcher=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@dataclass
class World:
    """A small operator: group → province → two cities, with people in each, and their API tokens."""

    db: Database
    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


PASSWORD = "secret-pass-1"


@pytest.fixture
def world(db: Database) -> World:
    from kefu.org import service as org

    w = World(db)
    with db.unit_of_work() as s:
        g = org.create_org_unit(s, kind="group", code="G", name="集团")
        p = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=g.id)
        gz = org.create_org_unit(s, kind="city", code="GZ", name="广州", parent_id=p.id)
        sz = org.create_org_unit(s, kind="city", code="SZ", name="深圳", parent_id=p.id)
        w.units = {"group": g.id, "province": p.id, "gz": gz.id, "sz": sz.id}
        people = [
            ("admin", "管理员", "admin", g.id, 100000),
            ("sup_gd", "值班长", "supervisor", p.id, 500),
            ("agent_gz", "广州坐席", "agent", gz.id, 50),
            ("agent_sz", "深圳坐席", "agent", sz.id, 50),
            ("analyst", "分析员", "analyst", g.id, 0),
            ("support_gd", "计费支撑", "support", p.id, 0),
        ]
        for username, name, role, unit, limit in people:
            u = org.create_user(s, username=username, display_name=name, role=role, org_unit_id=unit,
                                password=PASSWORD, authority_limit=limit,
                                skills={"billing": 3} if role == "agent" else None)
            w.users[username] = u.id
            w.tokens[username] = org.create_api_token(s, u.id, "tests")[0]
    return w


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test cleanly when the data is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p}")
    return p


@pytest.fixture
def redis_url() -> str:
    """The tests' Redis; a test that needs it is skipped, with the reason, when it is unreachable."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"redis is not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix / channel namespace of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"kefu-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
