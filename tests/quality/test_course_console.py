"""Creating a certification course in the console: choosers for skill, unit and articles; the exam by slots."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.quality.models import CertCourse
from tests.conftest import World
from tests.quality.test_api import _article
from tests.routing.test_api_and_console import _login


def _form(csrf: str, article: int, unit: int, **kw: str) -> dict[str, object]:
    return {"csrf_token": csrf, "key": "billing-cert", "name": "计费投诉上岗认证", "skill": "billing",
            "org_unit_id": str(unit), "pass_percent": "60", "valid_days": "180", "article_ids": [str(article)],
            "q_article_0": str(article), "q_text_0": "投诉几日内答复？", "q_options_0": "7日\n15日\n\n30日\n",
            "q_answer_0": "2", "q_article_1": str(article), "q_text_1": "", "q_options_1": "", **kw}


def test_a_supervisor_creates_a_course_from_the_console(client: TestClient, world: World) -> None:
    article = _article(client, world, "计费投诉口径")
    csrf = _login(client, "sup_gd")
    page = client.get("/console/certification")
    assert 'id="cert-new-course"' in page.text
    assert f'<option value="{article}">【口径】计费投诉口径</option>' in page.text
    r = client.post("/console/certification/courses", data=_form(csrf, article, world.units["province"]),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    with world.db.session() as s:
        [c] = s.scalars(select(CertCourse)).all()
        assert (c.key, c.name, c.skill, c.org_unit_id, c.pass_percent, c.valid_days, c.article_ids) == (
            "billing-cert", "计费投诉上岗认证", "billing", world.units["province"], 60, 180, [article])
        assert c.questions == [{"article_id": article, "text": "投诉几日内答复？", "options": ["7日", "15日", "30日"],
                                "answer": 1}]
    assert 'id="course-' in client.get("/console/certification").text


def test_a_bad_course_form_is_refused_whole(client: TestClient, world: World) -> None:
    article = _article(client, world, "计费投诉口径")
    csrf = _login(client, "sup_gd")
    for change in ({"q_answer_0": "4"}, {"q_options_0": "只有一个"}, {"skill": "nonsense"}, {"article_ids": []}):
        r = client.post("/console/certification/courses", data=_form(csrf, article, world.units["province"],
                                                                     **change))  # type: ignore[arg-type]
        assert r.status_code == 422, change
        assert 'role="alert"' in r.text
    with world.db.session() as s:
        assert s.scalars(select(CertCourse)).all() == []
    agent = _login(client, "agent_gz")
    assert 'id="cert-new-course"' not in client.get("/console/certification").text
    assert client.post("/console/certification/courses",
                       data=_form(agent, article, world.units["gz"])).status_code == 403
