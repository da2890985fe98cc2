"""The input guard (kefu/core/guards.py): NUL characters, 64-bit integers and body size, for every route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.app import create_app
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.customers.models import Customer
from kefu.tickets.models import Ticket
from tests.channels.support import counts, post_inbound
from tests.conftest import PASSWORD, World

API = "/api/v1"
TICKET = {"type": "complaint", "subject": "套餐外流量乱扣费", "channel": "voice"}


def _tickets(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


def _error(r: Any) -> dict[str, Any]:
    body: dict[str, Any] = r.json()["error"]
    return body


def test_nul_in_a_json_string_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, world: World, db: Database
) -> None:
    r = client.post(f"{API}/tickets", headers=world.auth("agent_gz"), json={**TICKET, "subject": "扣费\x00"})
    assert r.status_code == 422
    assert _error(r) == {"code": "nul_character",
                         "message": "subject contains a NUL character (\\u0000), which is not accepted",
                         "details": {"location": "body", "field": "subject"}}
    assert _tickets(db) == 0


def test_nul_in_a_nested_json_value_and_in_a_key_is_refused(client: TestClient, world: World) -> None:
    body = json.dumps({"rules": [{"tier": "gold\x00", "min_arpu": 1}]})
    r = client.put(f"{API}/tier-rules", headers={**world.auth("admin"), "Content-Type": "application/json"},
                   content=body)
    assert (r.status_code, _error(r)["details"]) == (422, {"location": "body", "field": "rules.0.tier"})
    r = client.post(f"{API}/tickets", headers=world.auth("agent_gz"), json={**TICKET, "a\x00b": 1})
    assert (r.status_code, _error(r)["details"]["field"]) == (422, "a\\u0000b")


def test_nul_in_the_login_name_is_a_422_not_a_server_error(client: TestClient, world: World) -> None:
    r = client.post(f"{API}/auth/login", json={"username": "admin\x00", "password": PASSWORD})
    assert (r.status_code, _error(r)["code"], _error(r)["details"]["field"]) == (422, "nul_character", "username")


def test_nul_in_a_query_string_is_refused(client: TestClient, world: World) -> None:
    r = client.get(f"{API}/customers?q=%00abc", headers=world.auth("admin"))
    assert r.status_code == 422
    assert _error(r)["details"] == {"location": "query", "field": "q"}


def test_nul_in_a_path_is_refused(client: TestClient, world: World) -> None:
    r = client.get(f"{API}/inbound/rejections%00", headers=world.auth("admin"))
    assert (r.status_code, _error(r)["details"]) == (422, {"location": "path", "field": "path"})


def test_nul_in_a_console_form_is_refused(client: TestClient, world: World) -> None:
    r = client.post("/login", data={"username": "admin\x00", "password": PASSWORD, "csrf_token": "x"})
    assert (r.status_code, _error(r)["details"]) == (422, {"location": "form", "field": "username"})


def test_nul_in_an_imported_csv_file_is_refused_as_binary(client: TestClient, world: World, db: Database) -> None:
    csv = ("phone,name,city,plan,arpu,tenure_months,share_voice,share_data,share_sms,share_vas\n"
           "13812345678,张\x00三,GZ,,,,,,,\n"
           "13912345678,李四,GZ,,,,,,,\n")
    r = client.post(f"{API}/customers/import", headers=world.auth("admin"),
                    files={"file": ("c.csv", csv.encode(), "text/csv")})
    assert (r.status_code, _error(r)["code"]) == (422, "invalid_csv")
    with db.session() as s:
        assert list(s.scalars(select(Customer.phone))) == []


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_json_integers_beyond_64_bits_are_refused(client: TestClient, world: World, db: Database,
                                                   value: int) -> None:
    r = client.post(f"{API}/tickets", headers={**world.auth("agent_gz"), "Content-Type": "application/json"},
                    content=json.dumps({**TICKET, "customer_id": value}))
    assert r.status_code == 422
    assert (_error(r)["code"], _error(r)["details"]) == ("integer_out_of_range",
                                                         {"location": "body", "field": "customer_id"})
    assert _tickets(db) == 0


def test_json_nested_too_deep_is_malformed(client: TestClient, world: World) -> None:
    body = "[" * 100_000 + "]" * 100_000
    r = client.post(f"{API}/tickets", headers={**world.auth("agent_gz"), "Content-Type": "application/json"},
                    content=body)
    assert (r.status_code, _error(r)["code"]) == (422, "malformed_json")


def test_nan_is_not_json(client: TestClient, world: World) -> None:
    r = client.post(f"{API}/workforce/erlang", headers={**world.auth("admin"), "Content-Type": "application/json"},
                    content='{"calls": NaN, "aht": 180, "agents": 10}')
    assert (r.status_code, _error(r)["code"]) == (422, "malformed_json")


# ---- body size --------------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path, db_url: str, db: Database, world: World) -> Iterator[TestClient]:
    settings = Settings(env="test", data_dir=tmp_path, database_url=db_url, max_body_bytes=4096,
                        max_upload_bytes=64 * 1024)
    with TestClient(create_app(settings, db, start_dispatcher=False)) as c:
        yield c


def _chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    yield b'{"type": "complaint", "channel": "voice", "subject": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


def test_a_body_over_the_limit_is_413_by_its_declared_length(small: TestClient, world: World,
                                                             db: Database) -> None:
    r = small.post(f"{API}/tickets", headers=world.auth("agent_gz"), json={**TICKET, "subject": "x" * 5000})
    assert r.status_code == 413
    assert _error(r) == {"code": "payload_too_large", "message": "the request body is larger than 4096 bytes",
                         "details": {"limit": 4096}}
    assert _tickets(db) == 0


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(small: TestClient, world: World,
                                                                db: Database) -> None:
    headers = {**world.auth("agent_gz"), "Content-Type": "application/json"}
    r = small.post(f"{API}/tickets", headers=headers, content=_chunks(64 * 1024))
    assert (r.status_code, _error(r)["code"]) == (413, "payload_too_large")
    assert _tickets(db) == 0


def test_a_streamed_upload_is_counted_as_it_passes(small: TestClient, world: World, db: Database) -> None:
    def multipart(total: int) -> Iterator[bytes]:
        yield (b'--b\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n'
               b"Content-Type: text/csv\r\n\r\nphone,name\r\n")
        for _ in range(total // 1024):
            yield b"1" * 1023 + b"\n"
        yield b"\r\n--b--\r\n"

    headers = {**world.auth("admin"), "Content-Type": "multipart/form-data; boundary=b"}
    r = small.post(f"{API}/customers/import", headers=headers, content=multipart(1024 * 1024))
    assert (r.status_code, _error(r)["code"]) == (413, "payload_too_large")
    assert _error(r)["details"] == {"limit": 64 * 1024 + 64 * 1024}


def test_the_import_route_takes_files_larger_than_the_generic_limit(small: TestClient, world: World,
                                                                    db: Database) -> None:
    rows = "".join(f"1391234{i:04d},客户{i},GZ,,,,,,,\n" for i in range(300))
    csv = "phone,name,city,plan,arpu,tenure_months,share_voice,share_data,share_sms,share_vas\n" + rows
    assert 4096 < len(csv.encode()) < 64 * 1024
    r = small.post(f"{API}/customers/import", headers=world.auth("admin"),
                   files={"file": ("c.csv", csv.encode(), "text/csv")})
    assert (r.status_code, r.json()["imported"]) == (200, 300)


def test_the_inbound_endpoint_is_left_to_its_own_limit_and_rejection_record(small: TestClient, world: World,
                                                                          db: Database) -> None:
    r = post_inbound(small, world, "sms", message_id="m1", text="话费" * 3000)  # 18 KB: over 4096, under 20000
    assert r.status_code == 201, r.text
    r = post_inbound(small, world, "sms", message_id="m2", text="话费" * 40_000)  # over its own envelope
    assert r.status_code == 413
    assert counts(db)["rejections"] == 1  # the endpoint saw it and kept it
