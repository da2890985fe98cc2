"""The complaints box on the customer page (the domains' `customer_panel` hook): the customer's stored segment,
their complaints (with category, repeat mark and appeals) and the compensations on them; only tickets of the
caller's units; nothing for a role without `complaints.read`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient

from kefu.complaints import appeal_rules, appeals, compensation, customer_segments
from kefu.complaints.views import APPEAL_OUTCOMES, APPEAL_SOURCES
from kefu.core.auth import Principal
from kefu.customers import service as customers
from kefu.tickets import service as tickets
from kefu.web.i18n import LANG_COOKIE
from tests.conftest import World
from tests.web.conftest import login


def _principal(world: World, who: str) -> Principal:
    from kefu.org import service as org

    with world.db.session() as s:
        return org.principal_for(s, org.user(s, world.users[who]))


def _customer_with_history(world: World) -> tuple[int, int, int]:
    """A Guangzhou customer with a complaint (granted ¥20 bill credit, appealed to 12300), an inquiry, and a
    Shenzhen complaint; 40 other customers so a segmentation can be fitted."""
    with world.db.unit_of_work() as s:
        c = customers.create_customer(s, phone="13912345678", org_unit_id=world.units["gz"], name="王芳",
                                      arpu=280, tenure_months=70, share_voice=0.2, share_data=0.7,
                                      share_sms=0.05, share_vas=0.05)
        for i in range(40):
            customers.create_customer(s, phone=f"1370000{i:04d}", org_unit_id=world.units["gz"],
                                      arpu=20 + i, tenure_months=3 + i % 9, share_voice=0.7, share_data=0.2,
                                      share_sms=0.1, share_vas=0.0)
        gz = tickets.create_ticket(s, type="complaint", subject="话费多扣了", org_unit_id=world.units["gz"],
                                   customer_id=c.id)
        tickets.create_ticket(s, type="inquiry", subject="套餐怎么改", org_unit_id=world.units["gz"],
                              customer_id=c.id)
        sz = tickets.create_ticket(s, type="complaint", subject="深圳信号差", org_unit_id=world.units["sz"],
                                   customer_id=c.id)
        agent = _principal(world, "agent_gz")
        compensation.grant(s, agent, gz.id, kind="bill_credit", amount=Decimal("20"))
        appeals.record(s, _principal(world, "sup_gd"), gz.id, source="miit_12300",
                       received_on=datetime.now(UTC).date())
        assert customer_segments.fit_and_assign(s) is not None
        return c.id, gz.id, sz.id


def test_the_customer_page_shows_segment_complaints_and_compensations(client: TestClient, world: World) -> None:
    cid, gz, sz = _customer_with_history(world)
    login(client, "agent_gz")
    page = client.get(f"/console/customers/{cid}").text
    assert 'id="customer-complaints"' in page
    with world.db.session() as s:
        seg = customer_segments.of_customer(s, cid)
        assert seg is not None
        assert seg.profile in page
    history = page.split('id="complaint-history"')[1].split("</table>")[0]
    assert f"#{gz}" in history
    assert f"#{sz}" not in history  # Shenzhen's ticket is outside agent_gz's units
    assert "工信部 12300" in history
    assert history.count("<tr>") == 2  # the header and the one complaint (the inquiry is not a complaint)
    box = page.split('id="customer-compensations"')[1].split("</ul>")[0]
    assert "话费减免 ¥20.00" in box
    assert "已发放" in box
    assert "累计已发放补偿：¥20.00" in page


def test_the_province_sees_both_complaints_and_english_names(client: TestClient, world: World) -> None:
    cid, gz, sz = _customer_with_history(world)
    login(client, "sup_gd")
    client.cookies.set(LANG_COOKIE, "en")
    page = client.get(f"/console/customers/{cid}").text
    history = page.split('id="complaint-history"')[1].split("</table>")[0]
    assert f"#{gz}" in history
    assert f"#{sz}" in history
    assert "MIIT 12300" in history
    assert "Complaint history" in page
    assert "Bill credit ¥20.00" in page


def test_a_customer_without_anything_gets_an_empty_box(client: TestClient, world: World) -> None:
    with world.db.unit_of_work() as s:
        cid = customers.create_customer(s, phone="13800001111", org_unit_id=world.units["gz"]).id
    login(client, "agent_gz")
    page = client.get(f"/console/customers/{cid}").text
    assert "尚未分群" in page
    assert "没有投诉。" in page
    assert "没有补偿记录。" in page


def test_the_names_cover_every_source_and_outcome() -> None:
    assert tuple(APPEAL_SOURCES) == appeal_rules.SOURCES
    assert tuple(APPEAL_OUTCOMES) == appeal_rules.OUTCOMES
