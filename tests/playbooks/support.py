"""A broadband outage playbook, customers with tickets, and a surge event as the complaints domain emits it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.events import bus
from kefu.jobs import registry
from tests.conftest import World


@dataclass
class Outage:
    broadband: int  # category ids
    broadband_child: int
    billing: int
    customers: list[int]
    tickets: list[int]


def playbook_body(world: World, outage: Outage, **extra: object) -> dict[str, object]:
    return {"key": "bb-outage", "name": "宽带大面积故障预案", "name_en": "Broadband outage", "trigger": "surge",
            "category_id": outage.broadband, "org_unit_id": world.units["province"], "min_count": 20,
            "notice_template": "【广东移动】您所在区域{category}故障正在抢修，预计今晚恢复，给您带来不便敬请谅解。",
            "steps": [{"title": "确认故障范围并上报网管", "owner_role": "support", "due_minutes": 15},
                      {"title": "发布IVR故障播报", "owner_role": "supervisor", "due_minutes": 30},
                      {"title": "统一对外口径推送一线", "owner_role": "support", "due_minutes": 60}], **extra}


def make_outage(world: World, *, at: datetime | None = None) -> Outage:
    from kefu.customers import service as customers
    from kefu.tickets import service as tickets

    at = at or utcnow()
    with world.db.unit_of_work() as s:
        bb = tickets.category_by_key(s, "broadband")
        child = next(c for c in tickets.category_tree(s) if c.key == "broadband").children[0]
        billing = tickets.category_by_key(s, "billing")
        cust, tks = [], []
        for phone, channel, cat in (("13800138001", "voice", child.id), ("13800138002", "wechat", bb.id),
                                    ("13800138003", "voice", billing.id)):
            c, _ = customers.identify(s, kind="phone", value=phone, org_unit_id=world.units["gz"])
            t = tickets.create_ticket(s, type="complaint", subject="宽带断网", org_unit_id=world.units["gz"],
                                      customer_id=c.id, channel=channel, at=at - timedelta(minutes=30))
            t.category_id = cat
            cust.append(c.id)
            tks.append(t.id)
        return Outage(bb.id, child.id, billing.id, cust, tks)


def surge(world: World, category_id: int, count: int, *, unit: str = "gz", at: datetime | None = None) -> None:
    """What the complaints helper records on a surge; then the outbox is dispatched as a server does."""
    at = at or utcnow()
    registry.load()
    with world.db.unit_of_work() as s:
        events.record(s, "complaint.surge_detected", {
            "category_id": category_id, "org_unit_id": world.units[unit], "count": count, "baseline": 4.5,
            "window_start": (at - timedelta(hours=1)).isoformat(), "window_end": at.isoformat()},
            aggregate_type="category", aggregate_id=category_id, org_unit_id=world.units[unit], at=at)
    bus.dispatch_pending(world.db)
