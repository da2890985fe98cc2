"""Test data for tickets: customers go in through the ORM (not the customers service) on purpose."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core.events import OutboxEvent
from kefu.customers.models import Customer
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket, TicketTransition

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_phones = itertools.count(13800000000)


def add_customer(
    session: Session, *, org_unit_id: int, tier: str = "standard", name: str = "张三"
) -> Customer:
    c = Customer(
        phone=f"+86{next(_phones)}",
        name=name,
        org_unit_id=org_unit_id,
        tier=tier,
        vip=tier != "standard",
        created_at=T0,
        updated_at=T0,
    )
    session.add(c)
    session.flush()
    return c


def add_ticket(
    session: Session,
    *,
    org_unit_id: int,
    type: str = "inquiry",
    subject: str = "话费疑问",
    at: datetime = T0,
    **kw: Any,
) -> Ticket:
    return tickets.create_ticket(session, type=type, subject=subject, org_unit_id=org_unit_id, at=at, **kw)


def snapshot(session: Session, ticket_id: int) -> dict[str, Any]:
    """Everything a refused action must leave as it was."""
    session.expire_all()
    t = session.get(Ticket, ticket_id)
    assert t is not None
    cols = {c.key: getattr(t, c.key) for c in Ticket.__table__.columns}
    cols["transitions"] = session.scalar(
        select(func.count()).select_from(TicketTransition).where(TicketTransition.ticket_id == ticket_id)
    )
    cols["events"] = session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.aggregate_type == "ticket", OutboxEvent.aggregate_id == ticket_id)
    )
    return cols


def days(n: float) -> timedelta:
    return timedelta(days=n)
