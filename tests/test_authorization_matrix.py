"""The authorisation matrix, generated from the route table.

Every API route is found by walking `app.routes`; the permission it needs is read from its dependencies
(`kefu.core.deps.Requirement`, made by `require(...)`; `current_principal` alone means "any logged-in
principal"). A route with neither, and not on PUBLIC, fails the test: new routes are covered (or
refused) automatically.

Each route is called by one principal of every role (agent in a city, the others at province level,
plus an administrator at the group level) against objects of their own city, and, when the role may
call it, against objects of another province (and, for the city agent, of another city). Asserted:
- never a 5xx;
- a role without the permission gets 403 (also below the group level for group-wide settings);
- an object outside the caller's scope is 404 (so existence does not leak);
- the allowed case is not 401 or 403.

Bodies come from EXAMPLES (with the target's object ids filled in), else from the OpenAPI schema's
required fields. Requests run read-only routes first, then writes, then deletions. One database, about
1,300 requests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from kefu.core.auth import PERMISSIONS
from kefu.core.db import Database
from kefu.core.deps import Requirement, current_principal

API = "/api/v1"
PUBLIC = {("POST", f"{API}/auth/login"), ("POST", f"{API}/auth/logout"),
          ("GET", f"{API}/docs"),  # the API's documentation page: the public OpenAPI document, no data
          # Provider callbacks authenticated by the provider's signature (WeChat presents no token).
          ("GET", f"{API}/channels/wechat"), ("POST", f"{API}/channels/wechat"),
          ("GET", f"{API}/channels/weibo"), ("POST", f"{API}/channels/weibo"), ("POST", f"{API}/channels/qq")}
# Permissions an endpoint checks in its body on top of the declared one. Better declared, so the route
# table says it: `require("workforce.write", "org.admin")` (left to the workforce domain's owner).
CHECKED_INSIDE = {("PUT", f"{API}/workforce/rules/{{org_unit_id}}"): ("org.admin",)}
ROLES = ("agent", "support", "expert", "supervisor", "analyst", "admin", "gateway")


# ---- reading the route table ----------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    permissions: tuple[str, ...]  # (): any logged-in principal
    group_level: bool = False


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def rule_of(route: APIRoute) -> Rule | None:
    """The permission the route needs, read from its dependencies (None: no authentication at all)."""
    rules = [Rule(c.permissions, c.group_level) for c in _calls(route.dependant) if isinstance(c, Requirement)]
    if len(rules) > 1:
        raise AssertionError(f"{route.path}: more than one permission dependency {rules}")
    if rules:
        return rules[0]
    if any(c is current_principal for c in _calls(route.dependant)):
        return Rule(())
    return None


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: APIRoute
    rule: Rule | None


def api_endpoints(app: FastAPI) -> list[Endpoint]:
    out = []
    for rc in iter_route_contexts(app.routes):
        route = rc.original_route
        if not isinstance(route, APIRoute) or not (rc.path or "").startswith(API):
            continue
        for method in sorted(rc.methods or ()):
            if method != "HEAD":
                out.append(Endpoint(method, str(rc.path), route, rule_of(route)))
    return out


# ---- the world ----------------------------------------------------------------------------------

@dataclass
class Objs:
    """The objects of one unit (a city), by the name the route table's parameters use."""

    unit: int
    province: int
    customer: int = 0
    customer2: int = 0
    ticket: int = 0
    ticket2: int = 0
    interaction: int = 0
    user: int = 0
    token: int = 0
    article: int = 0
    topic: int = 0
    plan: int = 0


@dataclass
class Matrix:
    tokens: dict[str, str]  # principal name → bearer token
    roles: dict[str, str]  # principal name → role
    own: Objs
    others: dict[str, list[Objs]]  # principal name → objects outside its scope
    shared: dict[str, int]  # unscoped objects: question, answer, search


def build(db: Database, client: TestClient) -> Matrix:
    from kefu.org import service as org
    from kefu.workforce.models import WorkforcePlan

    tokens: dict[str, str] = {}
    roles: dict[str, str] = {}
    with db.unit_of_work() as s:
        g = org.create_org_unit(s, kind="group", code="G", name="集团")
        gd = org.create_org_unit(s, kind="province", code="GD", name="广东", parent_id=g.id)
        gz = org.create_org_unit(s, kind="city", code="GZ", name="广州", parent_id=gd.id)
        sz = org.create_org_unit(s, kind="city", code="SZ", name="深圳", parent_id=gd.id)
        zj = org.create_org_unit(s, kind="province", code="ZJ", name="浙江", parent_id=g.id)
        hz = org.create_org_unit(s, kind="city", code="HZ", name="杭州", parent_id=zj.id)
        people = [(role, role, gz.id if role == "agent" else gd.id) for role in ROLES]
        people.append(("group_admin", "admin", g.id))
        for code, unit in (("GD", gd.id), ("ZJ", zj.id)):  # they make the pushes of their provinces' cities
            seed = org.create_user(s, username=f"seed_{code}", display_name="seed", role="admin", org_unit_id=unit)
            tokens[f"seed_{code}"] = org.create_api_token(s, seed.id, "seed")[0]
        for name, role, unit in people:
            u = org.create_user(s, username=name, display_name=name, role=role, org_unit_id=unit,
                                authority_limit=1000)
            tokens[name] = org.create_api_token(s, u.id, "matrix")[0]
            roles[name] = role
        units = {"GZ": Objs(gz.id, gd.id), "SZ": Objs(sz.id, gd.id), "HZ": Objs(hz.id, zj.id)}
        for code, objs in units.items():
            victim = org.create_user(s, username=f"victim_{code}", display_name="对象", role="agent",
                                     org_unit_id=objs.unit)
            objs.user = victim.id
            objs.token = org.create_api_token(s, victim.id, "victim")[1].id
            plan = WorkforcePlan(name="plan", org_unit_id=objs.unit, channel="voice", day=date(2024, 1, 8),
                                 interval_minutes=30, inputs={}, result={}, created_at=victim.created_at)
            s.add(plan)
            s.flush()
            objs.plan = plan.id
    admin = {"Authorization": f"Bearer {tokens['group_admin']}"}

    def ok(r: Any) -> dict[str, Any]:
        assert r.status_code in (200, 201), r.text
        result: dict[str, Any] = r.json()
        return result

    for i, (code, objs) in enumerate(units.items()):
        made = []
        for j in range(2):
            made.append(ok(client.post(f"{API}/inbound/sms", headers=admin, json={
                "message_id": f"seed-{code}-{j}", "sender": f"1380000{i}{j}00", "text": "我的话费怎么扣了这么多",
                "org_unit_code": code})))
        objs.customer, objs.customer2 = made[0]["customer_id"], made[1]["customer_id"]
        objs.ticket, objs.ticket2 = made[0]["ticket_id"], made[1]["ticket_id"]
        objs.interaction = made[0]["interaction_id"]
        art = ok(client.post(f"{API}/knowledge/articles", headers=admin, json={
            "title": f"{code} 话费查询", "body": "发送 CXHF 到 10086 查询话费。", "kind": "faq", "department": "计费",
            "org_unit_id": objs.unit}))
        seed = {"Authorization": f"Bearer {tokens['seed_ZJ' if code == 'HZ' else 'seed_GD']}"}
        # the author submits it, a second person (the province's administrator) publishes it
        for to, who in (("in_review", admin), ("published", seed)):
            ok(client.post(f"{API}/knowledge/articles/{art['id']}/transitions", headers=who, json={"to": to}))
        objs.article = art["id"]
        objs.topic = ok(client.post(f"{API}/knowledge/pushes", headers=seed,
                                    json={"title": f"{code} 通知", "unit_ids": [objs.unit]}))["id"]
    question = ok(client.post(f"{API}/knowledge/questions", headers=admin, json={"title": "问题", "body": "怎么办"}))
    answer = ok(client.post(f"{API}/knowledge/questions/{question['id']}/answers", headers=admin,
                            json={"body": "这样办"}))
    search = ok(client.get(f"{API}/knowledge/search", headers=admin, params={"q": "话费"}))
    shared = {"question": question["id"], "answer": answer["id"], "search": search.get("search_id") or 1}
    for code in ("GD", "ZJ"):
        del tokens[f"seed_{code}"]
    others = {name: [units["HZ"]] for name in tokens if name != "group_admin"}
    others["agent"] = [units["SZ"], units["HZ"]]
    others["group_admin"] = []
    return Matrix(tokens, roles, units["GZ"], others, shared)


# ---- requests ------------------------------------------------------------------------------------

# Path parameters naming an object in an org unit: the "other" case targets another unit's object.
SCOPED_PARAMS = {"customer_id": "customer", "ticket_id": "ticket", "interaction_id": "interaction",
                 "user_id": "user", "token_id": "token", "org_unit_id": "unit", "article_id": "article",
                 "topic_id": "topic", "plan_id": "plan"}
# Parameters that are not org-scoped (the Q&A community is operator-wide; a search is the caller's own).
UNSCOPED_PARAMS: dict[str, Callable[[Matrix], Any]] = {
    "channel": lambda m: "sms", "number": lambda m: 1, "from": lambda m: 1, "to": lambda m: 1,
    "question_id": lambda m: m.shared["question"], "answer_id": lambda m: m.shared["answer"],
    "search_id": lambda m: m.shared["search"], "start": lambda m: "2024-01-01", "end": lambda m: "2024-01-07",
    # routing: an offer is its agent's own (anyone else's is 404); queues are keyed by name
    "offer_id": lambda m: 987654321, "key": lambda m: "matrix-queue", "action": lambda m: "open",
    # collaboration: a consult is seen through its ticket or by its addressees; expert teams are operator-wide
    "consult_id": lambda m: 987654321, "team_id": lambda m: 987654321, "suggestion_id": lambda m: 987654321,
    "state": lambda m: "consulting",  # the customer notice texts are operator-wide
    # playbooks: definitions and runs concern a branch and the units above it (checked in the service)
    # workforce: special days are read through their unit; a missing one is 404
    "special_day_id": lambda m: 987654321,
    "playbook_id": lambda m: 987654321, "run_id": lambda m: 987654321, "step_id": lambda m: 987654321,
    # voice: a call by the switch's call id (one outside the caller's subtree is 404, as a missing one)
    "call_id": lambda m: "matrix-call",
    # a customer's address and link suggestions: reached through the (scoped) customer; a missing one is 404
    "identity_id": lambda m: 987654321,
    # complaints: a surge of another unit is 404 like a missing one (tests/complaints/test_surges.py)
    "surge_id": lambda m: 987654321, "compensation_id": lambda m: 987654321,
    "appeal_id": lambda m: 987654321,
    # sla: policies are operator-wide; a calendar of another branch is 404 like a missing one (tests/sla/test_api.py)
    "policy_id": lambda m: 987654321, "calendar_id": lambda m: 987654321, "day": lambda m: "2026-06-10",
    # quality: an inspection is its agent's or its branch inspectors'; courses concern a branch and the units
    # above it; certificates their holder's subtree (tests/quality/test_api.py)
    "inspection_id": lambda m: 987654321, "course_id": lambda m: 987654321, "certificate_id": lambda m: 987654321,
    # sla: a survey call task is seen within its unit's subtree (checked in the view); others are 404
    "survey_id": lambda m: 987654321,
}

Body = Callable[[Objs, int], dict[str, Any]]
# (method, path) → (does the body name an org-scoped object?, body for a target unit's objects)
EXAMPLES: dict[tuple[str, str], tuple[bool, Body]] = {
    ("POST", "/org-units"): (True, lambda o, n: {"kind": "city", "code": f"C{n}", "name": "新城",
                                                 "parent_id": o.province}),
    ("POST", "/users"): (True, lambda o, n: {"username": f"new{n}", "display_name": "新人", "role": "agent",
                                             "org_unit_id": o.unit}),
    ("POST", "/tokens"): (True, lambda o, n: {"name": f"t{n}", "user_id": o.user}),
    ("POST", "/inbound/{channel}"): (False, lambda o, n: {"message_id": f"m{n}", "sender": "13900000000",
                                                          "text": "你好"}),
    ("POST", "/cti/events"): (False, lambda o, n: {"events": [{"call_id": f"mx{n}", "kind": "offered",
                                                                "at": "2026-01-01T08:00:00+08:00"}]}),
    ("POST", "/customers"): (True, lambda o, n: {"phone": f"1370000{n:04d}", "org_unit_id": o.unit}),
    ("POST", "/customers/{customer_id}/identities"): (True, lambda o, n: {"kind": "email",
                                                                          "value": f"c{n}@example.com"}),
    ("POST", "/customers/{customer_id}/merge"): (True, lambda o, n: {"merge_id": o.customer2}),
    ("PUT", "/tier-rules"): (False, lambda o, n: {"rules": [
        {"tier": "gold", "min_arpu": "150", "min_tenure_months": 0},
        {"tier": "standard", "min_arpu": "0", "min_tenure_months": 0}]}),
    ("PUT", "/tier-rules/vip-threshold"): (False, lambda o, n: {"vip_min_arpu": "120"}),
    ("POST", "/interactions/{interaction_id}/messages"): (True, lambda o, n: {"body": "您好，已为您查询。"}),
    ("POST", "/interactions/{interaction_id}/close"): (True, lambda o, n: {"outcome": "replied"}),
    ("POST", "/tickets"): (True, lambda o, n: {"type": "inquiry", "subject": "话费", "org_unit_id": o.unit}),
    ("POST", "/tickets/{ticket_id}/transitions"): (True, lambda o, n: {"to": "in_progress"}),
    ("POST", "/complaints/tickets/{ticket_id}/compensations"): (True, lambda o, n: {"kind": "gift_points",
                                                                                      "amount": "1"}),
    ("PUT", "/complaints/budgets/{org_unit_id}"): (False, lambda o, n: {"month": "2026-12", "amount": "100"}),
    ("POST", "/complaints/tickets/{ticket_id}/appeals"): (True, lambda o, n: {"source": "miit_12300",
                                                                                "received_on": "2099-01-01"}),
    ("POST", "/tickets/{ticket_id}/assign"): (True, lambda o, n: {"assignee_id": o.user}),
    ("POST", "/tickets/{ticket_id}/merge"): (True, lambda o, n: {"into_id": o.ticket2, "reason": "重复"}),
    ("POST", "/knowledge/articles"): (True, lambda o, n: {"title": f"新文章{n}", "body": "内容", "kind": "faq",
                                                          "department": "计费", "org_unit_id": o.unit}),
    ("PUT", "/knowledge/articles/{article_id}"): (True, lambda o, n: {
        "title": "改", "body": "改过的内容", "kind": "faq", "department": "计费", "base_version": 1,
        "org_unit_id": o.unit}),
    ("POST", "/knowledge/articles/{article_id}/transitions"): (True, lambda o, n: {"to": "in_review"}),
    ("POST", "/knowledge/searches/{search_id}/click"): (True, lambda o, n: {"article_id": o.article}),
    ("POST", "/knowledge/feedback"): (True, lambda o, n: {"article_id": o.article, "helpful": True}),
    ("POST", "/knowledge/pushes"): (True, lambda o, n: {"title": "通知", "unit_ids": [o.unit]}),
    ("PUT", "/knowledge/duplicate-precision"): (False, lambda o, n: {"precision": 0.7}),
    ("POST", "/knowledge/questions"): (False, lambda o, n: {"title": "问", "body": "问题"}),
    ("POST", "/knowledge/questions/{question_id}/answers"): (False, lambda o, n: {"body": "答"}),
    ("POST", "/workforce/erlang"): (False, lambda o, n: {"calls": 100, "aht": 180, "agents": 10}),
    ("POST", "/workforce/staffing"): (False, lambda o, n: {"calls": 100, "aht": 180}),
    ("POST", "/workforce/forecast"): (True, lambda o, n: {"org_unit_id": o.unit, "start_day": "2024-01-08"}),
    ("POST", "/workforce/plan"): (True, lambda o, n: {"org_unit_id": o.unit, "day": "2024-01-08"}),
    ("POST", "/workforce/plans"): (True, lambda o, n: {"org_unit_id": o.unit, "day": "2024-01-08"}),
    ("POST", "/workforce/what-if"): (True, lambda o, n: {"org_unit_id": o.unit, "day": "2024-01-08"}),
    ("POST", "/workforce/roster"): (True, lambda o, n: {"org_unit_id": o.unit, "day": "2024-01-08"}),
    ("POST", "/workforce/special-days"): (True, lambda o, n: {"org_unit_id": o.unit, "name": "促销",
                                                              "kind": "campaign", "first_day": "2024-01-08"}),
    ("POST", "/tickets/{ticket_id}/consults"): (True, lambda o, n: {
        "question": "请核实", "due_minutes": 60, "targets": [{"kind": "role", "role": "support"}]}),
    ("POST", "/consults/{consult_id}/answer"): (False, lambda o, n: {"answer": "已核实"}),
    ("POST", "/expert-teams"): (False, lambda o, n: {"key": f"team{n}", "name": "专家组", "domain": "network"}),
    ("PUT", "/expert-teams/{team_id}"): (False, lambda o, n: {"key": f"team{n}", "name": "专家组",
                                                               "domain": "network"}),
    # the owner department may sit above the submitter (its province): not a subtree-scoped object
    ("POST", "/suggestions"): (False, lambda o, n: {"kind": "problem", "topic": "script", "title": "口径",
                                                   "body": "不一致", "owner_unit_id": o.unit}),
    ("POST", "/suggestions/{suggestion_id}/status"): (False, lambda o, n: {"to": "accepted"}),
    ("POST", "/playbooks"): (True, lambda o, n: {"key": f"pb{n}", "name": "预案", "trigger": "manual",
                                                 "org_unit_id": o.unit, "steps": [
                                                     {"title": "上报", "owner_role": "support", "due_minutes": 10}]}),
    ("PUT", "/playbooks/{playbook_id}"): (True, lambda o, n: {"key": f"pb{n}", "name": "预案", "trigger": "manual",
                                                              "org_unit_id": o.unit, "steps": [
                                                                  {"title": "上报", "owner_role": "support",
                                                                   "due_minutes": 10}]}),
    ("POST", "/playbook-runs/{run_id}/notices"): (False, lambda o, n: {"body": "故障抢修中"}),
}
# Required query parameters naming org-scoped objects.
SCOPED_QUERY = {"ticket_id": "ticket", "org_unit_id": "unit"}
UPLOADS = {("POST", "/customers/import"): {"file": ("c.csv", b"phone,name\n13600000000,x\n", "text/csv")}}


def _fallback_body(app: FastAPI, ep: Endpoint) -> dict[str, Any] | None:
    """Required fields of the request schema with plain values (for routes without an example)."""
    op = app.openapi()["paths"][ep.path][ep.method.lower()]
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = app.openapi()["components"]["schemas"][schema["$ref"].split("/")[-1]]
    plain = {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}
    return {k: plain.get(str(v.get("type")), "x") for k, v in schema.get("properties", {}).items()
            if k in schema.get("required", [])}


@dataclass
class Call:
    url: str
    params: dict[str, Any]
    json: dict[str, Any] | None
    files: dict[str, Any] | None
    scoped: bool


_counter = itertools.count(1)


def make_call(app: FastAPI, ep: Endpoint, m: Matrix, objs: Objs) -> Call:
    short = ep.path[len(API):]
    url, scoped = ep.path, False
    for p in ep.route.dependant.path_params:
        if p.name in SCOPED_PARAMS:
            value, scoped = getattr(objs, SCOPED_PARAMS[p.name]), True
        elif p.name in UNSCOPED_PARAMS:
            value = UNSCOPED_PARAMS[p.name](m)
        else:
            raise AssertionError(f"{ep.method} {ep.path}: path parameter '{p.name}' is in neither SCOPED_PARAMS "
                                 f"nor UNSCOPED_PARAMS of tests/test_authorization_matrix.py")
        url = url.replace("{" + p.name + "}", str(value))
    params: dict[str, Any] = {}
    for q in ep.route.dependant.query_params:
        if not q.field_info.is_required():
            continue
        if q.alias in SCOPED_QUERY:
            params[q.alias], scoped = getattr(objs, SCOPED_QUERY[q.alias]), True
        elif q.alias in UNSCOPED_PARAMS:
            params[q.alias] = UNSCOPED_PARAMS[q.alias](m)
        else:
            raise AssertionError(f"{ep.method} {ep.path}: required query '{q.alias}' has no value in the matrix")
    body: dict[str, Any] | None = None
    files = UPLOADS.get((ep.method, short))
    example = EXAMPLES.get((ep.method, short))
    if example is not None:
        body_scoped, make = example
        body, scoped = make(objs, next(_counter)), scoped or body_scoped
    elif files is None and ep.route.body_field is not None:
        body = _fallback_body(app, ep)
    return Call(url, params, body, files, scoped)


ORDER = {"GET": 0, "PATCH": 1, "PUT": 1, "POST": 1, "DELETE": 2}


def test_every_api_route_answers_every_role_and_scope_as_its_permission_says(db: Database, app: FastAPI) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    with client:
        m = build(db, client)
        endpoints = sorted(api_endpoints(app), key=lambda e: (ORDER.get(e.method, 1), e.path))
        assert len(endpoints) > 70
        undeclared = [f"{e.method} {e.path}" for e in endpoints if e.rule is None and (e.method, e.path) not in PUBLIC]
        assert undeclared == [], "routes without a declared permission (use require(...)) and not PUBLIC"
        problems: list[str] = []
        calls = 0
        for ep in endpoints:
            if ep.rule is None:
                continue
            for name, token in m.tokens.items():
                role = m.roles[name]
                headers = {"Authorization": f"Bearer {token}"}
                needs = (*ep.rule.permissions, *CHECKED_INSIDE.get((ep.method, ep.path), ()))
                allowed = all(p in PERMISSIONS[role] for p in needs)
                below = ep.rule.group_level and name != "group_admin"
                for target, objs in [("own", m.own), *(("other", o) for o in m.others[name])]:
                    call = make_call(app, ep, m, objs)
                    if target == "other" and (not allowed or below or not call.scoped):
                        continue
                    r = client.request(ep.method, call.url, params=call.params, json=call.json, files=call.files,
                                       headers=headers)
                    calls += 1
                    got, where = r.status_code, f"{ep.method} {call.url} as {name} ({target})"
                    if got >= 500:
                        problems.append(f"{where}: {got} {r.text[:200]}")
                    elif not allowed or below:
                        if got != 403:
                            problems.append(f"{where}: {got}, expected 403 (needs {needs})")
                    elif target == "other":
                        if got != 404:
                            problems.append(f"{where}: {got}, expected 404 (outside scope) {r.text[:160]}")
                    elif got in (401, 403):
                        problems.append(f"{where}: {got}, expected to be allowed {r.text[:160]}")
        assert not problems, f"{len(problems)} of {calls} cells wrong:\n" + "\n".join(problems)
        assert calls > 700


def test_the_matrix_reads_permissions_from_the_route_table(app: FastAPI) -> None:
    rules = {(e.method, e.path): e.rule for e in api_endpoints(app)}
    assert rules[("DELETE", f"{API}/tokens/{{token_id}}")] == Rule(("tokens.admin",))
    assert rules[("PUT", f"{API}/tier-rules")] == Rule(("tiers.admin",), group_level=True)
    assert rules[("GET", f"{API}/me")] == Rule(())
    assert rules[("POST", f"{API}/auth/login")] is None


def test_a_route_without_a_declared_permission_is_caught(app: FastAPI) -> None:
    from fastapi import APIRouter

    stray = APIRouter()

    @stray.get("/stray")
    def stray_endpoint() -> dict[str, str]:
        return {"leak": "everything"}

    app.include_router(stray, prefix=API)
    found = [e for e in api_endpoints(app) if e.path == f"{API}/stray"]
    assert [(e.method, e.rule) for e in found] == [("GET", None)]
    assert ("GET", f"{API}/stray") not in PUBLIC


def test_the_matrix_covers_every_role() -> None:
    from kefu.org.models import ROLES as MODEL_ROLES

    assert set(ROLES) == set(MODEL_ROLES) == set(PERMISSIONS)
