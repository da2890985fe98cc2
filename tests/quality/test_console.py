"""The quality console: an inspector scores, the agent appeals, an administrator revises."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kefu.quality.core import DEFAULT_ITEMS
from tests.conftest import World
from tests.quality.test_service import _resolved
from tests.routing.test_api_and_console import _login


def test_score_appeal_and_decide_in_the_console(client: TestClient, world: World) -> None:
    tid = _resolved(world, "complaint")[0]
    csrf = _login(client, "sup_gd")
    assert client.post("/console/quality/sample", data={"csrf_token": csrf, "days": "1", "share": "0"},
                       follow_redirects=False).status_code == 303
    page = client.get("/console/quality")
    m = re.search(r'data-inspection="(\d+)"', page.text)
    assert m is not None
    assert f"#{tid}" in page.text
    iid = m.group(1)
    marks = {f"mark_{i.key}": str(i.max_marks) for i in DEFAULT_ITEMS}
    bad = client.post(f"/console/quality/{iid}/score", data={"csrf_token": csrf, **marks, "mark_greeting": "9"})
    assert bad.status_code == 422
    r = client.post(f"/console/quality/{iid}/score",
                    data={"csrf_token": csrf, **marks, "mark_solution": "0", "comment": "未解决"},
                    follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    csrf = _login(client, "agent_sz")
    assert client.get(f"/console/quality/{iid}").status_code == 404  # someone else's score
    client.cookies.clear()
    csrf = _login(client, "agent_gz")
    page = client.get(f"/console/quality/{iid}")
    assert "<strong>70.0</strong>" in page.text
    r = client.post(f"/console/quality/{iid}/appeal", data={"csrf_token": csrf, "reason": "录音03:20已给方案"},
                    follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    csrf = _login(client, "admin")
    r = client.post(f"/console/quality/{iid}/decide", data={"csrf_token": csrf, "decision": "revise", **marks},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/console/quality/{iid}")
    assert "<strong>100.0</strong>" in page.text
    assert "改判" in page.text
