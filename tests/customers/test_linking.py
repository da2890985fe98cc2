"""One customer across channels: evidence links an address to a number's customer, never a wrong merge."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from kefu.customers import linking
from kefu.customers.models import Customer, IdentityLinkSuggestion
from kefu.org.models import AuditEntry
from tests.channels.support import post_inbound
from tests.conftest import World


def _survivors(world: World) -> int:
    with world.db.session() as s:
        return s.scalar(select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None))) or 0


def _link(client: TestClient, world: World, **body: str) -> dict[str, object]:
    r = client.post("/api/v1/identity-links", json=body, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    out: dict[str, object] = r.json()
    return out


def test_sms_then_wechat_then_the_binding_and_a_spaced_number_end_as_one_customer(client: TestClient,
                                                                                  world: World) -> None:
    sms = post_inbound(client, world, "sms", message_id="s1", sender="13912340001", text="查话费").json()
    wx = post_inbound(client, world, "wechat", message_id="w1", sender="oWx-0001", text="你好").json()
    assert sms["customer_id"] != wx["customer_id"]
    assert _survivors(world) == 2
    r = _link(client, world, kind="wechat_openid", value="oWx-0001", phone="+86 139 1234 0001", evidence="binding")
    assert (r["action"], r["customer_id"]) == ("merge", sms["customer_id"])
    assert _survivors(world) == 1
    again = post_inbound(client, world, "wechat", message_id="w2", sender="oWx-0001", text="还在吗").json()
    spaced = post_inbound(client, world, "web", message_id="h1", sender="+86 139 1234 0001", text="网厅").json()
    assert again["customer_id"] == spaced["customer_id"] == sms["customer_id"]
    assert _survivors(world) == 1
    assert _link(client, world, kind="wechat_openid", value="oWx-0001", phone="13912340001",
                 evidence="binding")["action"] == "none"


def test_an_email_in_the_subscriber_record_joins_the_customer(client: TestClient, world: World) -> None:
    sms = post_inbound(client, world, "sms", message_id="s1", sender="13912340002", text="查话费").json()
    r = _link(client, world, kind="email", value="Li.Lei@Example.com", phone="13912340002",
              evidence="subscriber_record")
    assert (r["action"], r["customer_id"]) == ("attach", sms["customer_id"])
    mail = post_inbound(client, world, "email", message_id="e1", sender="li.lei@example.com", text="账单").json()
    assert mail["customer_id"] == sms["customer_id"]


def test_ambiguous_evidence_is_a_suggestion_and_merges_nothing(client: TestClient, world: World) -> None:
    a = post_inbound(client, world, "sms", message_id="s1", sender="13912340003", text="a").json()
    b = post_inbound(client, world, "sms", message_id="s2", sender="13912340004", text="b").json()
    with world.db.unit_of_work() as s:  # the openid is bound to 0003 already
        linking.link(s, kind="wechat_openid", value="oWx-9", phone="13912340003", evidence="binding",
                     org_unit_id=world.units["group"])
    r = _link(client, world, kind="wechat_openid", value="oWx-9", phone="13912340004", evidence="binding")
    assert (r["action"], r["customer_id"]) == ("suggest", a["customer_id"])
    assert r["suggestion_id"]
    claimed = _link(client, world, kind="email", value="x@example.com", phone="13912340004", evidence="claimed")
    assert claimed["action"] == "suggest"
    assert _survivors(world) == 2
    sug = client.get(f"/api/v1/customers/{b['customer_id']}/link-suggestions", headers=world.auth("agent_gz"))
    assert [x["kind"] for x in sug.json()] == ["wechat_openid", "email"]
    masked = client.get(f"/api/v1/customers/{b['customer_id']}/link-suggestions", headers=world.auth("analyst"))
    assert masked.json()[1]["value"] != "x@example.com"
    # the agent looks and accepts the WeChat one: the address moves, nobody is merged
    ok = client.post(f"/api/v1/customers/{b['customer_id']}/link-suggestions/{r['suggestion_id']}",
                     json={"accept": True}, headers=world.auth("agent_gz"))
    assert ok.status_code == 200
    assert ok.json()["status"] == "linked"
    wx = post_inbound(client, world, "wechat", message_id="w1", sender="oWx-9", text="hi").json()
    assert wx["customer_id"] == b["customer_id"]
    assert _survivors(world) == 2
    twice = client.post(f"/api/v1/customers/{b['customer_id']}/link-suggestions/{r['suggestion_id']}",
                        json={"accept": False}, headers=world.auth("agent_gz"))
    assert twice.status_code == 409


def test_an_agent_unlinks_an_address_with_an_audit_line(client: TestClient, world: World) -> None:
    sms = post_inbound(client, world, "sms", message_id="s1", sender="13912340005", text="a").json()
    _link(client, world, kind="wechat_openid", value="oWx-5", phone="13912340005", evidence="binding")
    c = client.get(f"/api/v1/customers/{sms['customer_id']}", headers=world.auth("agent_gz")).json()
    ident = next(i for i in c["identities"] if i["kind"] == "wechat_openid")
    assert client.delete(f"/api/v1/customers/{sms['customer_id']}/identities/{ident['id']}",
                         headers=world.auth("analyst")).status_code == 403
    r = client.delete(f"/api/v1/customers/{sms['customer_id']}/identities/{ident['id']}",
                      headers=world.auth("agent_gz"))
    assert r.status_code == 204
    wx = post_inbound(client, world, "wechat", message_id="w1", sender="oWx-5", text="hi").json()
    assert wx["customer_id"] != sms["customer_id"]
    with world.db.session() as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "customer.identity_unlinked"))


def test_a_verified_sms_code_links_and_a_wrong_one_counts(client: TestClient, world: World) -> None:
    sms = post_inbound(client, world, "sms", message_id="s1", sender="13912340006", text="a").json()
    post_inbound(client, world, "wechat", message_id="w1", sender="oWx-6", text="绑定手机")
    addr = {"kind": "wechat_openid", "value": "oWx-6", "phone": "13912340006"}
    code = client.post("/api/v1/identity-links/codes", json=addr, headers=world.auth("admin")).json()["code"]
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post("/api/v1/identity-links/codes/verify", json={**addr, "code": wrong}, headers=world.auth("admin"))
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "code_rejected"
    assert _survivors(world) == 2
    ok = client.post("/api/v1/identity-links/codes/verify", json={**addr, "code": code}, headers=world.auth("admin"))
    assert ok.status_code == 200
    assert ok.json()["customer_id"] == sms["customer_id"]
    assert _survivors(world) == 1
    reused = client.post("/api/v1/identity-links/codes/verify", json={**addr, "code": code},
                         headers=world.auth("admin"))
    assert reused.status_code == 422


def test_five_wrong_codes_kill_the_code(client: TestClient, world: World) -> None:
    addr = {"kind": "wechat_openid", "value": "oWx-7", "phone": "13912340007"}
    code = client.post("/api/v1/identity-links/codes", json=addr, headers=world.auth("admin")).json()["code"]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(linking.CODE_ATTEMPTS):
        client.post("/api/v1/identity-links/codes/verify", json={**addr, "code": wrong}, headers=world.auth("admin"))
    late = client.post("/api/v1/identity-links/codes/verify", json={**addr, "code": code}, headers=world.auth("admin"))
    assert late.status_code == 422
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(IdentityLinkSuggestion)) == 0


holders = st.one_of(st.none(), st.builds(linking.Holder, st.integers(1, 3), st.booleans(), st.booleans()))


@given(evidence=st.sampled_from(linking.EVIDENCE), address=holders, number=holders)
def test_no_merge_without_strong_evidence_and_a_numberless_unmerged_address_customer(
        evidence: str, address: linking.Holder | None, number: linking.Holder | None) -> None:
    d = linking.decide(evidence=evidence, address_holder=address, number_holder=number)
    if d.action == "merge":
        assert evidence in linking.STRONG
        assert address is not None
        assert not address.has_phone
        assert not address.merged
        assert number is None or (not number.merged and number.id != address.id)
    if d.action == "attach":
        assert evidence in linking.STRONG
        assert address is None
    if evidence == "claimed":
        assert d.action in ("suggest", "none")


def test_unknown_evidence_is_refused() -> None:
    with pytest.raises(linking.InvalidEvidence):
        linking.decide(evidence="rumour", address_holder=None, number_holder=None)


def test_the_customer_page_links_and_unlinks_an_address_by_choosers(client: TestClient, world: World) -> None:
    from tests.voice.support import console_login

    sms = post_inbound(client, world, "sms", message_id="s1", sender="13912340008", text="a").json()
    other = post_inbound(client, world, "email", message_id="e1", sender="taken@example.com", text="b").json()
    cid = sms["customer_id"]
    csrf = console_login(client, "agent_gz", f"/console/customers/{cid}/identities")
    assert f"/console/customers/{cid}/identities" in client.get(f"/console/customers/{cid}").text
    page = client.get(f"/console/customers/{cid}/identities")
    assert page.status_code == 200
    assert '<option value="wechat_openid">' in page.text
    r = client.post(f"/console/customers/{cid}/identities", data={"csrf_token": csrf, "kind": "qq", "value": "10001"},
                    follow_redirects=False)
    assert r.status_code == 303
    taken = client.post(f"/console/customers/{cid}/identities",
                        data={"csrf_token": csrf, "kind": "email", "value": "taken@example.com"})
    assert taken.status_code == 409  # another customer's: the page says so, nothing is merged
    assert _survivors(world) == 2
    assert other["customer_id"] != cid
    c = client.get(f"/api/v1/customers/{cid}", headers=world.auth("admin")).json()
    qq = next(i for i in c["identities"] if i["kind"] == "qq")
    r = client.post(f"/console/customers/{cid}/identities/{qq['id']}/unlink", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    with world.db.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("customer.identity_%"))
                                 .order_by(AuditEntry.id)))
    assert actions == ["customer.identity_linked", "customer.identity_unlinked"]
