"""Customers' birth year: set through the API (1900..this year, else 422 and nothing changes), imported from a
`birth_year` column or read from a valid 居民身份证号 (only the year kept), shown as an age band without `pii`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.core.clock import utcnow
from kefu.core.db import Database
from kefu.core.errors import InvalidInput
from kefu.customers import service
from kefu.customers.ages import age_band, birth_year_of_id, local_year
from kefu.customers.models import Customer
from kefu.customers.service import Rejection
from tests.conftest import World

HEADER = "phone,name,city,plan,arpu,tenure_months,share_voice,share_data,share_sms,share_vas"


def test_age_bands_by_hand() -> None:
    assert [age_band(b, 2026) for b in (None, 2027, 2026, 2002, 2001, 1992, 1991, 1962, 1961, 1900)] == [
        "", "", "lt25", "lt25", "25-34", "25-34", "35-44", "55-64", "65+", "65+"]
    assert birth_year_of_id("44010619900307001X") == 1990
    assert birth_year_of_id("440106199003070011") is None  # wrong check digit
    assert birth_year_of_id("440106900307001") is None  # 15 digits: not taken


def test_the_year_is_china_s_a_new_year_begins_at_16_utc(db: Database, world: World) -> None:
    """At 17:00 UTC on 31 December it is already 1 January in China: a customer born that new year can be
    recorded then (not before), and ages count in China's year (the reports' local year), not UTC's."""
    assert (local_year(datetime(2030, 12, 31, 15, 59, tzinfo=UTC)),
            local_year(datetime(2030, 12, 31, 16, 0, tzinfo=UTC))) == (2030, 2031)
    new_year, eve = datetime(2030, 12, 31, 17, 0, tzinfo=UTC), datetime(2030, 12, 31, 15, 0, tzinfo=UTC)
    with db.unit_of_work() as s, pytest.raises(InvalidInput):
        service.create_customer(s, phone="13812345678", org_unit_id=world.units["gz"], birth_year=2031,
                                at=eve)
    with db.unit_of_work() as s:
        c = service.create_customer(s, phone="13812345678", org_unit_id=world.units["gz"], birth_year=2031,
                                    at=new_year)
        assert c.birth_year == 2031
        service.update_customer(s, c, {"birth_year": 2006}, at=new_year)
        assert age_band(c.birth_year, local_year(new_year)) == "25-34"  # 25 in 2031; 24 in UTC's 2030


def test_birth_year_through_the_api_and_its_band_for_readers_without_pii(client: TestClient,
                                                                        world: World) -> None:
    year = local_year(utcnow())
    r = client.post("/api/v1/customers", headers=world.auth("admin"),
                    json={"phone": "13812345678", "org_unit_id": world.units["gz"], "birth_year": 1990})
    assert r.status_code == 201, r.json()
    cid = r.json()["id"]
    band = age_band(1990, year)
    assert (r.json()["birth_year"], r.json()["age_band"]) == (1990, band)
    seen = client.get(f"/api/v1/customers/{cid}", headers=world.auth("analyst")).json()
    assert (seen["birth_year"], seen["age_band"]) == (None, band)  # the band, not the year
    r = client.patch(f"/api/v1/customers/{cid}", headers=world.auth("admin"), json={"birth_year": year})
    assert (r.status_code, r.json()["birth_year"], r.json()["age_band"]) == (200, year, "lt25")
    r = client.patch(f"/api/v1/customers/{cid}", headers=world.auth("admin"), json={"birth_year": None})
    assert (r.status_code, r.json()["birth_year"], r.json()["age_band"]) == (200, None, "")


def test_a_birth_year_outside_1900_to_this_year_is_422_and_nothing_changes(client: TestClient, world: World,
                                                                         db: Database) -> None:
    r = client.post("/api/v1/customers", headers=world.auth("admin"),
                    json={"phone": "13812345678", "org_unit_id": world.units["gz"], "birth_year": 1800})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_customer")
    with db.session() as s:
        assert s.scalar(select(Customer.id).where(Customer.phone == "+8613812345678")) is None
    cid = client.post("/api/v1/customers", headers=world.auth("admin"),
                      json={"phone": "13812345678", "org_unit_id": world.units["gz"],
                            "birth_year": 1985}).json()["id"]
    for bad in (1800, local_year(utcnow()) + 1):
        r = client.patch(f"/api/v1/customers/{cid}", headers=world.auth("admin"), json={"birth_year": bad})
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_customer")
    with db.session() as s:
        assert s.scalar(select(Customer.birth_year).where(Customer.id == cid)) == 1985


def test_import_takes_the_birth_year_or_reads_it_from_the_id_number(db: Database, world: World) -> None:
    csv = "\n".join([
        f"{HEADER},birth_year,id_number",
        "13812345678,张三,GZ,4G,50,1,,,,,1975,",  # 2: the year
        "13912345678,李四,GZ,4G,50,1,,,,,,44010619900307001X",  # 3: from the ID number
        "13712345678,王五,GZ,4G,50,1,,,,,,440106199003070011",  # 4: bad check digit
        "13612345678,赵六,GZ,4G,50,1,,,,,1800,",  # 5: out of range
        "13512345678,钱七,GZ,4G,50,1,,,,,,",  # 6: neither: unknown
    ]) + "\n"
    with db.unit_of_work() as s:
        report = service.import_customers_csv(s, csv, actor_org_unit_ids=[world.units["gz"]])
    assert (report.imported, report.updated) == (3, 0)
    assert report.rejected == [Rejection(4, "id_number is not a valid 18-digit ID number"),
                               Rejection(5, f"birth_year '1800' is not a year from 1900 to {utcnow().year}")]
    with db.session() as s:
        assert dict(s.execute(select(Customer.phone, Customer.birth_year)).all()) == {
            "+8613812345678": 1975, "+8613912345678": 1990, "+8613512345678": None}
        # the ID number is kept nowhere: not in any customer's text
        for c in s.scalars(select(Customer)):
            assert "44010619900307001" not in repr([getattr(c, k.key) for k in Customer.__table__.c])


def test_the_old_header_still_imports(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        report = service.import_customers_csv(s, f"{HEADER}\n13812345678,张三,GZ,4G,50,1,,,,\n",
                                              actor_org_unit_ids=[world.units["gz"]])
    assert (report.imported, report.rejected) == (1, [])


def test_the_customer_page_shows_the_band_and_the_year_only_with_pii(client: TestClient, world: World,
                                                                    db: Database) -> None:
    from tests.web.conftest import login

    year = local_year(utcnow())
    with db.unit_of_work() as s:
        cid = service.create_customer(s, phone="13812345678", org_unit_id=world.units["gz"],
                                      birth_year=year - 40).id
    login(client, "agent_gz")  # has `pii`
    assert f"<dd>35–44岁 ({year - 40})</dd>" in client.get(f"/console/customers/{cid}").text
    login(client, "support_gd")  # has not
    page = client.get(f"/console/customers/{cid}").text
    assert "<dd>35–44岁</dd>" in page
    assert str(year - 40) not in page
