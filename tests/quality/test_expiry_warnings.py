"""Expiry warnings of skill certificates: the daily job (quality.certificate_expiry → warn_expiring) warns once
30 days before the end; the warning then stands on the holder's console and on their supervisors' until the
certificate is renewed by a new exam or runs out."""

from __future__ import annotations

import itertools
from datetime import timedelta

from fastapi.testclient import TestClient

from kefu.core.clock import utcnow
from kefu.quality import certification as cert
from kefu.quality.models import Certificate
from tests.conftest import World
from tests.quality.test_api import API, _article, _course
from tests.routing.test_api_and_console import _login

_ids = itertools.count(1)


def _cert(user: int, skill: str, days: float, *, warned: bool = True, revoked: bool = False) -> Certificate:
    now = utcnow()
    return Certificate(id=next(_ids), user_id=user, skill=skill, org_unit_id=1,
                       score=100.0, issued_at=now, expires_at=now + timedelta(days=days),
                       warned_at=now if warned else None, revoked_at=now if revoked else None)


def test_only_warned_valid_unrenewed_certificates_stand_as_warnings() -> None:
    now = utcnow()
    soon, renewed, newer = _cert(1, "billing", 10), _cert(2, "billing", 10), _cert(2, "billing", 300, warned=False)
    gone, revoked, quiet = _cert(3, "billing", -1), _cert(4, "vip", 5, revoked=True), _cert(5, "vip", 5, warned=False)
    other_skill = _cert(2, "vip", 3)
    got = cert.expiry_warnings([soon, renewed, newer, gone, revoked, quiet, other_skill], now)
    assert got == [other_skill, soon]


def test_the_agent_and_the_supervisor_see_the_warning_until_the_agent_renews(client: TestClient,
                                                                             world: World) -> None:
    w = world
    article = _article(client, w, "计费投诉口径")
    course = client.post(f"{API}/certification/courses", headers=w.auth("sup_gd"),
                         json=_course(article, org_unit_id=w.units["province"], valid_days=20)).json()
    got = client.post(f"{API}/certification/courses/{course['id']}/attempts", headers=w.auth("agent_gz"),
                      json={"answers": [1, 0]}).json()
    mine = got["certificate"]["id"]
    _login(client, "agent_gz")
    assert 'id="cert-expiry-mine"' not in client.get("/console/certification").text  # not warned yet
    with w.db.unit_of_work() as s:
        assert cert.warn_expiring(s) == [mine]  # 20 days left: within the 30-day warning
    page = client.get("/console/certification").text
    assert f'data-expiring="{mine}"' in page
    assert "您的技能证书即将到期：billing" in page
    _login(client, "sup_gd")
    page = client.get("/console/certification").text
    assert f'data-team-expiring="{mine}"' in page
    assert "团队中有 1 张证书将在30天内到期" in page
    _login(client, "agent_sz")
    assert 'id="cert-expiry-team"' not in client.get("/console/certification").text
    assert 'id="cert-expiry-mine"' not in client.get("/console/certification").text
    # the agent renews: a new certificate ends later, the warning is gone for both
    client.put(f"{API}/certification/courses/{course['id']}", headers=w.auth("sup_gd"),
               json=_course(article, org_unit_id=w.units["province"], valid_days=365))
    again = client.post(f"{API}/certification/courses/{course['id']}/attempts", headers=w.auth("agent_gz"),
                        json={"answers": [1, 0]})
    assert again.status_code == 201
    _login(client, "agent_gz")
    assert 'id="cert-expiry-mine"' not in client.get("/console/certification").text
    _login(client, "sup_gd")
    assert 'id="cert-expiry-team"' not in client.get("/console/certification").text
