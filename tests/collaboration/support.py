"""A ticket owned by the Guangzhou agent, back-office people to consult, and helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.events import OutboxEvent
from tests.conftest import PASSWORD, World


@dataclass
class Case:
    ticket_id: int
    network_unit: int  # 网络支撑 department under the province
    marketing_unit: int
    net_expert: int  # an expert of the network department
    mkt_support: int  # a support person of the marketing department
    sz_expert: int  # an expert in Shenzhen (for virtual teams)


def make_case(world: World) -> Case:
    from kefu.org import service as org
    from kefu.tickets import service as tickets

    with world.db.unit_of_work() as s:
        net = org.create_org_unit(s, kind="city", code="GD-NET", name="网络支撑中心", parent_id=world.units["province"])
        mkt = org.create_org_unit(s, kind="city", code="GD-MKT", name="市场营销部", parent_id=world.units["province"])
        people = {}
        for username, name, role, unit in (("net_expert", "网络专家王工", "expert", net.id),
                                           ("mkt_support", "市场支撑李姐", "support", mkt.id),
                                           ("sz_expert", "深圳专家陈工", "expert", world.units["sz"])):
            u = org.create_user(s, username=username, display_name=name, role=role, org_unit_id=unit,
                                password=PASSWORD)
            people[username] = u.id
            world.tokens[username] = org.create_api_token(s, u.id, "tests")[0]
            world.users[username] = u.id
        t = tickets.create_ticket(s, type="complaint", subject="宽带断网又被多扣费", org_unit_id=world.units["gz"],
                                  channel="voice", actor_id=world.users["agent_gz"])
        tickets.assign(s, t.id, assignee_id=world.users["agent_gz"], actor_id=world.users["agent_gz"])
        tid = t.id
    return Case(tid, net.id, mkt.id, people["net_expert"], people["mkt_support"], people["sz_expert"])


def events_named(world: World, name: str) -> list[OutboxEvent]:
    with world.db.session() as s:
        rows = list(s.scalars(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id)))
        s.expunge_all()
        return rows


def console_login(client: TestClient, username: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token
    r = client.post("/login", data={"username": username, "password": PASSWORD, "login_csrf": token.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/console/inbox")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m, "no csrf token on the inbox page"
    return m.group(1)
