from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.core.db import Database
from kefu.core.errors import Conflict
from kefu.core.events import OutboxEvent
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.tickets.helpers import T0, add_customer, add_ticket, days, snapshot


def test_merging_a_duplicate_marks_it_merged_and_records_why(db: Database, world: World) -> None:
    sup = world.users["sup_gd"]
    with db.unit_of_work() as s:
        c = add_customer(s, org_unit_id=world.units["gz"])
        target = add_ticket(
            s, org_unit_id=world.units["gz"], type="complaint", customer_id=c.id, at=T0 + days(1)
        )
        source = add_ticket(s, org_unit_id=world.units["gz"], type="complaint", customer_id=c.id, at=T0)
        src_id, tgt_id = source.id, target.id
        out = tickets.merge(s, src_id, tgt_id, actor_id=sup, reason="同一扣费投诉，重复来电", at=T0 + days(2))
        assert out is target
    with db.session() as s:
        src, tgt = tickets._get(s, src_id), tickets._get(s, tgt_id)
        assert (src.status, src.merged_into_id, src.updated_at) == ("merged", tgt_id, T0 + days(2))
        # The surviving complaint keeps the earlier legal deadline.
        assert (tgt.status, tgt.reply_due_at, tgt.updated_at) == ("new", T0 + days(15), T0 + days(2))
        last = tickets.transitions_of(s, src_id)[-1]
        assert (last.from_status, last.to_status, last.actor_id, last.reason, last.at) == (
            "new",
            "merged",
            sup,
            "同一扣费投诉，重复来电",
            T0 + days(2),
        )
        ev = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "ticket.merged")).one()
        assert (ev.aggregate_id, ev.payload["into_id"]) == (src_id, tgt_id)
        assert tickets.reply_clock(src, at=T0 + days(13)).at_risk is False


def _refused(db: Database, source_id: int, target_id: int, code: str, reason: str | None = "dup") -> None:
    with db.unit_of_work() as s:
        before = (snapshot(s, source_id), snapshot(s, target_id))
        with pytest.raises(Conflict) as e:
            tickets.merge(s, source_id, target_id, actor_id=None, reason=reason, at=T0 + days(1))
        assert (e.value.status, e.value.code) == (409, code)
        assert (snapshot(s, source_id), snapshot(s, target_id)) == before


def test_merge_refusals_change_nothing(db: Database, world: World) -> None:
    gz = world.units["gz"]
    with db.unit_of_work() as s:
        c1, c2 = add_customer(s, org_unit_id=gz), add_customer(s, org_unit_id=gz)
        a = add_ticket(s, org_unit_id=gz, customer_id=c1.id).id
        b = add_ticket(s, org_unit_id=gz, customer_id=c1.id).id
        other = add_ticket(s, org_unit_id=gz, customer_id=c2.id).id
        closed = add_ticket(s, org_unit_id=gz, customer_id=c1.id).id
        tickets.change_status(s, closed, "closed", actor_id=None, reason="撤销", at=T0)
        complaint = add_ticket(s, org_unit_id=gz, customer_id=c1.id, type="complaint").id
    _refused(db, a, a, "merge_into_self")
    _refused(db, a, closed, "merge_target_closed")
    _refused(db, a, other, "merge_across_customers")
    _refused(db, complaint, b, "merge_type_mismatch")
    _refused(db, closed, a, "illegal_transition")
    with db.unit_of_work() as s:
        tickets.merge(s, a, b, actor_id=None, reason="dup", at=T0)
    _refused(db, b, a, "merge_target_closed")
    _refused(db, a, b, "illegal_transition")


def test_merge_without_a_reason_is_refused(db: Database, world: World) -> None:
    with db.unit_of_work() as s:
        a = add_ticket(s, org_unit_id=world.units["gz"]).id
        b = add_ticket(s, org_unit_id=world.units["gz"]).id
        before = snapshot(s, a)
        with pytest.raises(Exception) as e:  # noqa: PT011
            tickets.merge(s, a, b, actor_id=None, reason=None, at=T0)
        assert getattr(e.value, "code", None) == "reason_required"
        assert snapshot(s, a) == before
