"""The inbox page query reads in inbox order from an index instead of sorting every match (SQLite).

PostgreSQL plans with statistics; SQLite in service usually has none, so the page query is steered
(see service._one_of). Timing lives in benchmarks/inbox.py; this pins the plan shape only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from kefu.core.auth import Principal
from kefu.core.db import Database
from kefu.org import service as org
from kefu.tickets import service as tickets
from kefu.tickets.service import InboxFilters

OPEN = ("new", "assigned", "in_progress", "waiting_customer", "waiting_support")


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": OPEN},
        {"assignee": "unassigned", "status": ("new",)},
        {"assignee": "me", "status": OPEN},
        {"type": "complaint"},
        {"tier": "diamond", "status": OPEN},
        {"channel": "wechat"},
        {"category": "billing"},
        {"category": "billing", "status": OPEN},
        {"q": "流量"},
        {"status": OPEN, "order": "work"},
        {"assignee": "me", "status": OPEN, "order": "work"},
        {"order": "work"},
    ],
)
@pytest.mark.parametrize("scope", ["group", "province", "city"])
def test_inbox_page_is_read_in_order_without_sorting_all_matches(
    db: Database, filters: dict[str, Any], scope: str
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL chooses plans from statistics")
    with db.unit_of_work() as s:
        g = org.create_org_unit(s, kind="group", code="G", name="集团")
        p = org.create_org_unit(s, kind="province", code="P", name="省", parent_id=g.id)
        c = org.create_org_unit(s, kind="city", code="C", name="市", parent_id=p.id)
        org.create_org_unit(s, kind="city", code="C2", name="市2", parent_id=p.id)
        unit = {"group": g, "province": p, "city": c}[scope]
        who = Principal(
            user_id=1,
            username="u",
            display_name="u",
            role="agent",
            org_unit_id=unit.id,
            org_path=unit.path,
            authority_limit=Decimal(0),
        )
        stmt = tickets.inbox_query(s, who, InboxFilters(**filters)).limit(50)
        sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " | ".join(row[-1] for row in s.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "TEMP B-TREE" not in plan, plan
