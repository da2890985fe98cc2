"""Customer segments in the product: fitted on kefu's own customers (value, usage mix and their tickets; no
second data entry), stored per customer, and read where a customer is handled:

- priority: a ticket that came in from a channel takes its customer's segment priority when that is higher
  (kefu.complaints.service.classify_ticket; the ticket's `priority` is what routing and the inbox read);
- compensation authority: the user's `authority_limit` × the segment's multiplier (kefu.complaints.compensation);
- the recommended offer, shown on the ticket page and chosen first in the grant form.

`fit_and_assign` (job `complaints.segments`, weekly, and `kefu complaints segment`) fits the pure core
(kefu/complaints/segments.py) and assigns every customer; a customer who arrives between two fits is assigned
with the newest model when their first ticket is classified (`ensure`). Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from kefu.complaints import segments
from kefu.complaints.models import CustomerSegment, SegmentModel
from kefu.core.clock import utcnow

#: What a customer's row holds, in order (key, Chinese name for the profile, role for the handling).
VARIABLES = (
    segments.Variable("arpu", "ARPU", "value"),
    segments.Variable("tenure_months", "在网时长", "tenure"),
    segments.Variable("share_voice", "语音占比", "voice"),
    segments.Variable("share_data", "流量占比", "data"),
    segments.Variable("share_sms", "短信占比", "sms"),
    segments.Variable("share_vas", "增值业务占比", "other"),
    segments.Variable("complaints", "近半年投诉", "complaints"),
    segments.Variable("contacts", "近半年工单", "other"),
)
LOOKBACK = timedelta(days=182)
MIN_CUSTOMERS = 30  # fewer: no segmentation (k-means and the silhouette need some customers per cluster)


def rows(session: Session, customer_ids: Sequence[int] | None = None, *, at: datetime
         ) -> tuple[list[int], np.ndarray]:
    """(customer ids, one row of VARIABLES each) for customers not merged into another (all, or those given)."""
    from kefu.customers.models import Customer
    from kefu.tickets.models import Ticket

    since = at - LOOKBACK
    counts = (select(Ticket.customer_id.label("cid"),
                     func.sum(case((Ticket.type.in_(("complaint", "appeal")), 1), else_=0)).label("complaints"),
                     func.count().label("contacts"))
              .where(Ticket.customer_id.is_not(None), Ticket.opened_at >= since, Ticket.opened_at <= at)
              .group_by(Ticket.customer_id).subquery())
    stmt = (select(Customer.id, Customer.arpu, Customer.tenure_months, Customer.share_voice, Customer.share_data,
                   Customer.share_sms, Customer.share_vas, func.coalesce(counts.c.complaints, 0),
                   func.coalesce(counts.c.contacts, 0))
            .outerjoin(counts, counts.c.cid == Customer.id)
            .where(Customer.merged_into_id.is_(None)).order_by(Customer.id))
    if customer_ids is not None:
        stmt = stmt.where(Customer.id.in_(list(customer_ids)))
    found = session.execute(stmt).all()
    x = np.array([[float(v or 0) for v in r[1:]] for r in found], dtype=np.float64).reshape(len(found),
                                                                                           len(VARIABLES))
    return [int(r[0]) for r in found], x


def latest_model(session: Session) -> SegmentModel | None:
    return session.scalars(select(SegmentModel).order_by(SegmentModel.id.desc()).limit(1)).first()


def _nearest(m: SegmentModel, x: np.ndarray) -> np.ndarray:
    keys = [v[0] for v in m.variables]
    idx = [keys.index(k) for k in m.kept]
    z = (x[:, idx] - np.asarray(m.mean)) / np.asarray(m.std)
    c = np.asarray(m.centroids)
    out: np.ndarray = ((z[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    return out


def _row(m: SegmentModel, customer_id: int, segment: int, at: datetime) -> dict[str, object]:
    s = m.segments[segment]
    return {"customer_id": customer_id, "model_id": m.id, "segment": segment, "priority": s["priority"],
            "authority_multiplier": Decimal(str(s["authority_multiplier"])), "offer": s["offer"],
            "profile": str(s["profile"])[:200], "assigned_at": at}


def fit_and_assign(session: Session, *, at: datetime | None = None, seed: int = 0) -> SegmentModel | None:
    """Fit a segmentation on every customer, store it, and put every customer in their segment (the previous
    assignments are replaced). None when there are fewer than MIN_CUSTOMERS customers (nothing changes)."""
    at = at or utcnow()
    ids, x = rows(session, at=at)
    if len(ids) < MIN_CUSTOMERS:
        return None
    seg = segments.segment(x, VARIABLES, ks=range(2, min(9, len(ids) // 5 + 1)), seed=seed)
    m = SegmentModel(
        variables=[[v.key, v.name, v.role] for v in VARIABLES], kept=list(seg.kept),
        mean=[float(v) for v in seg.mean], std=[float(v) for v in seg.std],
        centroids=[[float(v) for v in c] for c in seg.centroids],
        segments=[{"index": s.index, "size": s.size, "profile": s.profile, "priority": s.strategy.priority,
                   "authority_multiplier": s.strategy.authority_multiplier, "offer": s.strategy.offer,
                   "centroid_z": s.centroid_z} for s in seg.segments],
        choice=[list(c) for c in seg.choice], customers=len(ids), fitted_at=at)
    session.add(m)
    session.flush()
    session.execute(delete(CustomerSegment))
    labels = seg.assign(x)
    batch = [_row(m, cid, int(lab), at) for cid, lab in zip(ids, labels, strict=True)]
    for i in range(0, len(batch), 5000):
        session.execute(insert(CustomerSegment), batch[i:i + 5000])
    session.flush()
    return m


def of_customer(session: Session, customer_id: int | None) -> CustomerSegment | None:
    """The stored segment of the customer (or of the customer they were merged into); None when unassigned."""
    if customer_id is None:
        return None
    from kefu.customers import service as customers
    from kefu.customers.models import Customer

    c = session.get(Customer, customer_id)
    if c is None:
        return None
    return session.get(CustomerSegment, customers.resolve(session, c).id)


def ensure(session: Session, customer_id: int | None, *, at: datetime | None = None) -> CustomerSegment | None:
    """The customer's segment, assigned now with the newest model when they have none yet (None when no model
    was fitted or there is no such customer)."""
    return ensure_many(session, [(customer_id, at or utcnow())])[0]


def ensure_many(session: Session, wanted: Sequence[tuple[int | None, datetime]]) -> list[CustomerSegment | None]:
    """`ensure` for each (customer, time) in turn (a customer's first time assigns them), reading the
    customers' survivors and their stored segments with one query each, and the newest model once if one
    of them has no segment yet."""
    from kefu.customers import service as customers

    survivor = customers.survivors(session, {c for c, _ in wanted if c is not None})
    stored = {s.customer_id: s for s in session.scalars(
        select(CustomerSegment).where(CustomerSegment.customer_id.in_(set(survivor.values()))))} if survivor else {}
    model: list[SegmentModel | None] = []
    out: list[CustomerSegment | None] = []
    for customer_id, at in wanted:
        cid = survivor.get(customer_id) if customer_id is not None else None
        if cid is None or cid in stored:
            out.append(stored.get(cid) if cid is not None else None)
            continue
        if not model:
            model.append(latest_model(session))
        m = model[0]
        ids, x = rows(session, [cid], at=at) if m is not None else ([], None)
        if m is None or not ids or x is None:
            out.append(None)
            continue
        row = CustomerSegment(**_row(m, cid, int(_nearest(m, x)[0]), at))
        session.add(row)
        session.flush()
        stored[cid] = row
        out.append(row)
    return out
