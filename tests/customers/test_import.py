from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.core.config import get_settings
from kefu.core.db import Database
from kefu.customers import service
from kefu.customers.models import Customer
from kefu.customers.service import Rejection
from tests.conftest import World

HEADER = "phone,name,city,plan,arpu,tenure_months,share_voice,share_data,share_sms,share_vas"
MIXED = "\n".join([
    HEADER,
    "13812345678,张三,GZ,5G畅享,199,30,0.2,0.7,0.05,0.05",  # 2: new, gold
    "139 1234 5678,李四,深圳,4G套餐,60,5,,,,",  # 3: new, city by name, blank shares
    "12345,王五,GZ,4G,50,1,0,0,0,0",  # 4: bad phone
    "13712345678,赵六,北京,4G,50,1,0,0,0,0",  # 5: unknown city
    "13612345678,钱七,GZ,4G,-5,1,0,0,0,0",  # 6: negative ARPU
    "13512345678,孙八,GZ,4G,abc,1.5,0,0,0,0",  # 7: two bad numbers
    "13412345678,周九,GZ",  # 8: wrong column count
    "+86 138 1234 5678,张三,GZ,5G,199,30,0,0,0,0",  # 9: same phone as line 2
    "",  # 10: blank line, no row
    "13312345678,吴十,GZ,4G,50,1,0.6,0.6,0,0",  # 11: shares add up to more than 1
    "15012345678,,GZ,,250,,,,,",  # 12: existing customer: ARPU updated, blank cells kept
]) + "\n"
EXPECTED_REJECTED = [
    Rejection(4, "'12345' is not a valid phone number: incomplete (too short, or a local number without its "
                 "area code)"),
    Rejection(5, "unknown city '北京'"),
    Rejection(6, "arpu must not be negative (-5)"),
    Rejection(7, "arpu 'abc' is not a number; tenure_months '1.5' is not a whole number of months >= 0"),
    Rejection(8, "expected 10 columns, found 3"),
    Rejection(9, "phone +8613812345678 appears already on line 2"),
    Rejection(11, "the consumption shares add up to 1.2000, more than 1"),
]


def _existing(db: Database, world: World) -> int:
    with db.unit_of_work() as s:
        return service.create_customer(s, phone="15012345678", org_unit_id=world.units["gz"], name="老客户",
                                       plan="4G 58", arpu="100", tenure_months=70, share_voice=0.5).id


def _profiles(db: Database) -> list[tuple[object, ...]]:
    with db.session() as s:
        rows = s.execute(select(Customer.phone, Customer.name, Customer.org_unit_id, Customer.plan,
                                Customer.arpu, Customer.tenure_months, Customer.share_voice,
                                Customer.share_data, Customer.tier, Customer.vip)
                         .order_by(Customer.phone)).all()
        return [(r[0], r[1], r[2], r[3], str(r[4]), *r[5:]) for r in rows]


def _expected_profiles(world: World) -> list[tuple[object, ...]]:
    gz, sz = world.units["gz"], world.units["sz"]
    return [("+8613812345678", "张三", gz, "5G畅享", "199.00", 30, 0.2, 0.7, "gold", True),
            ("+8613912345678", "李四", sz, "4G套餐", "60.00", 5, 0.0, 0.0, "standard", False),
            ("+8615012345678", "老客户", gz, "4G 58", "250.00", 70, 0.5, 0.0, "gold", True)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_mixed_file_imports_good_rows_and_reports_every_bad_one(db: Database, world: World,
                                                                encoding: str) -> None:
    _existing(db, world)
    with db.unit_of_work() as s:
        report = service.import_customers_csv(s, MIXED.encode(encoding),
                                              actor_org_unit_ids=world.units.values())
    assert (report.imported, report.updated, report.rejected) == (2, 1, EXPECTED_REJECTED)
    assert _profiles(db) == _expected_profiles(world)


def test_import_via_api_returns_the_report(client: TestClient, world: World, db: Database) -> None:
    _existing(db, world)
    files = {"file": ("customers.csv", MIXED.encode("gbk"), "text/csv")}
    refused = client.post("/api/v1/customers/import", files=files, headers=world.auth("sup_gd"))
    assert refused.status_code == 403
    r = client.post("/api/v1/customers/import", files=files, headers=world.auth("admin"))
    assert r.status_code == 200
    assert r.json() == {"imported": 2, "updated": 1,
                        "rejected": [{"line": x.line, "reason": x.reason} for x in EXPECTED_REJECTED]}
    assert _profiles(db) == _expected_profiles(world)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty; a header line is needed: " + HEADER),
    (b"phone,name,city\n13812345678,x,GZ\n",
     f"the header must name the columns {HEADER}; missing: plan, arpu, tenure_months, share_voice, "
     "share_data, share_sms, share_vas"),
    (b"\x00\x01\x02binary", "the file is binary, not CSV text"),
])
def test_unreadable_file_is_refused_whole_and_nothing_is_written(client: TestClient, world: World,
                                                                 db: Database, content: bytes,
                                                                 message: str) -> None:
    r = client.post("/api/v1/customers/import", files={"file": ("x.csv", content, "text/csv")},
                    headers=world.auth("admin"))
    assert r.status_code == 422
    assert (r.json()["error"]["code"], r.json()["error"]["message"]) == ("invalid_csv", message)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KEFU_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_imports_a_gbk_file_and_prints_the_report(cli_env: None, db: Database, world: World,
                                                      tmp_path: Path) -> None:
    from kefu.cli import app

    _existing(db, world)
    path = tmp_path / "customers.csv"
    path.write_bytes(MIXED.encode("gbk"))
    result = CliRunner().invoke(app, ["import", "customers", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{path}: 2 imported, 1 updated, 7 rejected",
                                          *(f"line {x.line}: {x.reason}" for x in EXPECTED_REJECTED)]
    assert _profiles(db) == _expected_profiles(world)


def test_cli_org_unit_limits_the_cities_and_fills_blank_ones(cli_env: None, db: Database, world: World,
                                                             tmp_path: Path) -> None:
    from kefu.cli import app

    path = tmp_path / "sz.csv"
    rows = [HEADER, "13812345678,张三,GZ,,100,1,,,,", "13912345678,李四,,,100,1,,,,"]
    path.write_text("\ufeff" + "\n".join(rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "customers", str(path), "--org-unit", "SZ"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{path}: 1 imported, 0 updated, 1 rejected",
                                          "line 2: unknown city 'GZ'"]
    with db.session() as s:
        assert s.execute(select(Customer.phone, Customer.org_unit_id)).all() == [
            ("+8613912345678", world.units["sz"])]


def test_cli_exits_1_when_the_file_cannot_be_read(cli_env: None, db: Database, world: World,
                                                  tmp_path: Path) -> None:
    from kefu.cli import app

    missing = CliRunner().invoke(app, ["import", "customers", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1
    assert "cannot read" in missing.output
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x00\xff")
    result = CliRunner().invoke(app, ["import", "customers", str(binary)])
    assert result.exit_code == 1
    assert "the file is binary, not CSV text" in result.output
