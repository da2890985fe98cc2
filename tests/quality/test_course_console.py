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


def test_a_supervisor_edits_a_course_its_name_articles_exam_and_closes_it(client: TestClient, world: World) -> None:
    article = _article(client, world, "计费投诉口径")
    second = _article(client, world, "携号转网口径")
    csrf = _login(client, "sup_gd")
    client.post("/console/certification/courses", data=_form(csrf, article, world.units["province"]))
    with world.db.session() as s:
        [c] = s.scalars(select(CertCourse)).all()
    page = client.get(f"/console/certification?edit={c.id}")
    assert page.status_code == 200
    assert f'data-edit-course="{c.id}"' in page.text
    assert f'<input type="hidden" name="course_id" value="{c.id}">' in page.text
    assert 'value="计费投诉上岗认证"' in page.text
    assert f'<option value="{article}" selected>【口径】计费投诉口径</option>' in page.text
    assert '<textarea name="q_options_0" rows="3">7日\n15日\n30日</textarea>' in page.text
    assert 'name="q_answer_0" min="1" max="6" class="w-60" value="2"' in page.text
    form = {**_form(csrf, article, world.units["province"]), "course_id": str(c.id), "slots": "6",
            "name": "计费与携转上岗认证", "article_ids": [str(article), str(second)], "active": "1",
            "q_article_1": str(second), "q_text_1": "携号转网需满足几个条件？", "q_options_1": "一个\n三个",
            "q_answer_1": "2", "pass_percent": "70"}
    r = client.post("/console/certification/courses", data=form, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/console/certification#course-{c.id}")
    with world.db.session() as s:
        [after] = s.scalars(select(CertCourse)).all()
        assert (after.id, after.name, after.article_ids, after.pass_percent, after.active) == (
            c.id, "计费与携转上岗认证", [article, second], 70, True)
        assert [q["text"] for q in after.questions] == ["投诉几日内答复？", "携号转网需满足几个条件？"]
        assert after.questions[1] == {"article_id": second, "text": "携号转网需满足几个条件？",
                                      "options": ["一个", "三个"], "answer": 1}
    bad = client.post("/console/certification/courses", data={**form, "q_article_1": "999999"})
    assert bad.status_code == 422
    assert f'<input type="hidden" name="course_id" value="{c.id}">' in bad.text  # the edit form again
    closed = {k: v for k, v in form.items() if k != "active"}
    client.post("/console/certification/courses", data=closed)
    with world.db.session() as s:
        [after] = s.scalars(select(CertCourse)).all()
        assert (after.name, after.active) == ("计费与携转上岗认证", False)
    assert "课程已关闭" in client.get("/console/certification").text
    agent = _login(client, "agent_gz")
    assert client.post("/console/certification/courses", data={**form, "csrf_token": agent}).status_code == 403
