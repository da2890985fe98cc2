from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from kefu.core.db import Database
from kefu.core.events import OutboxEvent
from kefu.customers import service
from kefu.customers.models import Customer, CustomerIdentity
from tests.conftest import World


def _events(db: Database, name: str) -> list[OutboxEvent]:
    with db.session() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id)))


def test_identify_creates_a_customer_once_then_finds_it(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        c, created = service.identify(s, kind="phone", value="138-1234-5678", org_unit_id=world.units["gz"],
                                      name="张三")
        first_id = c.id
    assert created is True
    with db.unit_of_work() as s:
        again, created = service.identify(s, kind="phone", value="+86 13812345678",
                                          org_unit_id=world.units["sz"])
        assert (again.id, created, again.phone, again.name, again.org_unit_id, again.tier, again.vip) == (
            first_id, False, "+8613812345678", "张三", world.units["gz"], "standard", False)
    assert [e.aggregate_id for e in _events(db, "customer.created")] == [first_id]


def test_identify_by_wechat_openid_creates_a_customer_without_phone(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        c, created = service.identify(s, kind="wechat_openid", value=" oWx-123 ",
                                      org_unit_id=world.units["gz"])
        assert created is True
        assert c.phone is None
        assert [(i.kind, i.value) for i in c.identities] == [("wechat_openid", "oWx-123")]
    with db.unit_of_work() as s:
        again, created = service.identify(s, kind="wechat_openid", value="oWx-123",
                                          org_unit_id=world.units["gz"])
        assert (again.id, created) == (c.id, False)


def test_identify_refuses_an_invalid_phone_and_creates_nothing(db: Database, world: World) -> None:
    with db.unit_of_work() as s, pytest.raises(service.InvalidInput) as exc:
        service.identify(s, kind="phone", value="12345", org_unit_id=world.units["gz"])
    assert exc.value.code == "invalid_phone"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0


def test_identify_racing_a_concurrent_creation_returns_the_winner(db: Database, world: World) -> None:
    """The other transaction commits the same phone between our lookup and our insert."""
    if db.dialect == "sqlite":
        pytest.skip("SQLite writers are serialised (BEGIN IMMEDIATE): the race exists only on PostgreSQL")
    state = {"raced": False, "winner": 0}

    def race(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if state["raced"] or not statement.lstrip().upper().startswith("INSERT INTO CUSTOMERS"):
            return
        state["raced"] = True
        with db.unit_of_work() as other:
            winner, _ = service.identify(other, kind="phone", value="13812345678",
                                         org_unit_id=world.units["sz"])
            state["winner"] = winner.id

    event.listen(db.engine, "before_cursor_execute", race)
    try:
        with db.unit_of_work() as s:
            c, created = service.identify(s, kind="phone", value="13812345678", org_unit_id=world.units["gz"])
            assert (c.id, created, c.org_unit_id) == (state["winner"], False, world.units["sz"])
    finally:
        event.remove(db.engine, "before_cursor_execute", race)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 1


def test_identities_across_channels_then_merge_makes_identify_return_the_survivor(db: Database,
                                                                                  world: World) -> None:
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        by_phone = service.create_customer(s, phone="13812345678", org_unit_id=gz, name="张三", plan="5G畅享",
                                           arpu="199", tenure_months=36)
        service.attach_identity(s, by_phone, kind="email", value="Zhang.San@Example.com")
        by_wechat, _ = service.identify(s, kind="wechat_openid", value="oWx-1", org_unit_id=gz)
        service.attach_identity(s, by_wechat, kind="weibo_id", value="wb-77")
        other_phone, _ = service.identify(s, kind="phone", value="13912345678", org_unit_id=gz)
        keep_id, wechat_id, other_id = by_phone.id, by_wechat.id, other_phone.id
    with db.unit_of_work() as s:
        service.merge(s, keep_id, wechat_id, world.users["admin"])
    with db.unit_of_work() as s:
        service.merge(s, keep_id, other_id, world.users["admin"])
    with db.unit_of_work() as s:
        for kind, value in [("wechat_openid", "oWx-1"), ("weibo_id", "wb-77"),
                            ("email", "zhang.san@example.com"), ("phone", "13912345678"),
                            ("phone", "13812345678")]:
            c, created = service.identify(s, kind=kind, value=value, org_unit_id=gz)
            assert (c.id, created) == (keep_id, False), (kind, value)
        keep = s.get(Customer, keep_id)
        assert sorted((i.kind, i.value) for i in keep.identities) == [
            ("email", "zhang.san@example.com"), ("phone", "+8613912345678"), ("wechat_openid", "oWx-1"),
            ("weibo_id", "wb-77")]
        gone = s.get(Customer, other_id)
        assert (gone.merged_into_id, gone.phone) == (keep_id, "+8613912345678")
        assert service.customer_ids_of(s, keep_id) == [keep_id, wechat_id, other_id]
        assert service.customer_ids_of(s, other_id) == [other_id]
    merged = _events(db, "customer.merged")
    assert [(e.aggregate_id, e.payload["merged_id"], e.payload["moved_identities"]) for e in merged] == [
        (keep_id, wechat_id, ["wechat_openid", "weibo_id"]), (keep_id, other_id, ["phone"])]


def test_merge_copies_missing_profile_and_gives_a_phoneless_survivor_the_phone(db: Database,
                                                                               world: World) -> None:
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        stub, _ = service.identify(s, kind="app_user_id", value="u-9", org_unit_id=gz)
        full = service.create_customer(s, phone="13812345678", org_unit_id=gz, name="李四", arpu="320",
                                       tenure_months=72, share_data=0.7, share_voice=0.3)
        stub_id, full_id = stub.id, full.id
    with db.unit_of_work() as s:
        keep = service.merge(s, stub_id, full_id)
        assert (keep.phone, keep.name, keep.arpu, keep.tenure_months, keep.share_data, keep.tier,
                keep.vip) == ("+8613812345678", "李四", 320, 72, 0.7, "diamond", True)
        assert s.get(Customer, full_id).phone is None
    with db.unit_of_work() as s:
        assert service.identify(s, kind="phone", value="13812345678", org_unit_id=gz)[0].id == stub_id


def test_merge_into_itself_or_an_already_merged_customer_is_refused_and_changes_nothing(
        db: Database, world: World) -> None:
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        a = service.create_customer(s, phone="13800000001", org_unit_id=gz)
        b = service.create_customer(s, phone="13800000002", org_unit_id=gz)
        c = service.create_customer(s, phone="13800000003", org_unit_id=gz)
        ids = (a.id, b.id, c.id)
        service.merge(s, a.id, b.id)
    with db.unit_of_work() as s:
        with pytest.raises(service.InvalidMerge) as exc:
            service.merge(s, ids[2], ids[2])
        assert (exc.value.status, exc.value.code) == (409, "invalid_merge")
        with pytest.raises(service.CustomerMerged) as exc2:
            service.merge(s, ids[2], ids[1])
        assert exc2.value.message == f"customer {ids[1]} was merged into customer {ids[0]} already"
        with pytest.raises(service.CustomerMerged):
            service.merge(s, ids[1], ids[2])
    with db.session() as s:
        rows = s.execute(select(Customer.id, Customer.merged_into_id).order_by(Customer.id)).all()
        assert [tuple(r) for r in rows] == [(ids[0], None), (ids[1], ids[0]), (ids[2], None)]
        assert s.scalar(select(func.count()).select_from(CustomerIdentity)) == 1  # b's phone on a
    assert len(_events(db, "customer.merged")) == 1


def test_identity_owned_by_another_customer_is_refused_with_409(db: Database, world: World) -> None:
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        a = service.create_customer(s, phone="13800000001", org_unit_id=gz)
        b = service.create_customer(s, phone="13800000002", org_unit_id=gz)
        service.attach_identity(s, a, kind="qq", value="10001")
        assert service.attach_identity(s, a, kind="qq", value="10001").customer_id == a.id  # idempotent
        with pytest.raises(service.IdentityTaken) as exc:
            service.attach_identity(s, b, kind="qq", value="10001")
        assert (exc.value.status, exc.value.message) == (409, "qq '10001' belongs to another customer")
        with pytest.raises(service.IdentityTaken):
            service.attach_identity(s, b, kind="phone", value="13800000001")  # a's own number
        assert [(i.kind, i.value) for i in b.identities] == []


def test_profile_change_recomputes_tier_and_records_the_change(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        c = service.create_customer(s, phone="13812345678", org_unit_id=world.units["gz"], arpu="100",
                                    tenure_months=12)
        assert (c.tier, c.vip) == ("silver", False)
        service.update_customer(s, c, {"arpu": "158", "tenure_months": 24})
        assert (c.tier, c.vip) == ("gold", True)
        cid = c.id
    changes = _events(db, "customer.tier_changed")
    assert [(e.aggregate_id, e.payload["from"], e.payload["to"]) for e in changes] == [
        (cid, "silver", "gold")]
    assert [e.payload["fields"] for e in _events(db, "customer.updated")] == [["arpu", "tenure_months"]]


def test_shares_adding_up_to_more_than_one_are_refused(db: Database, world: World) -> None:
    with db.unit_of_work() as s, pytest.raises(service.InvalidInput) as exc:
        service.create_customer(s, phone="13812345678", org_unit_id=world.units["gz"], share_voice=0.6,
                                share_data=0.5)
    assert exc.value.message == "the consumption shares add up to 1.1000, more than 1"


def test_get_many_visible_returns_only_customers_in_scope(db, world) -> None:
    from kefu.customers import service
    from kefu.org import service as org
    from kefu.org.models import User

    with db.unit_of_work() as s:
        gz, _ = service.identify(s, kind="phone", value="13800138000", org_unit_id=world.units["gz"])
        sz, _ = service.identify(s, kind="phone", value="13900139000", org_unit_id=world.units["sz"])
        ids = (gz.id, sz.id)
    with db.session() as s:
        agent_sz = org.principal_for(s, s.get(User, world.users["agent_sz"]))
        sup = org.principal_for(s, s.get(User, world.users["sup_gd"]))
        assert set(service.get_many_visible(s, agent_sz, [*ids, 999999])) == {ids[1]}
        assert set(service.get_many_visible(s, sup, ids)) == set(ids)
        assert service.get_many_visible(s, sup, []) == {}
