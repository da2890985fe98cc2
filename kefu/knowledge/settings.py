"""Knowledge settings an administrator changes on the console; the process settings are the default.

``duplicate_precision``: the precision the duplicate-ticket finder keeps (kefu.tickets.duplicates), one of
the shipped points (0.60 to 0.95 in steps of 0.01; kefu/knowledge/text/duplicate_thresholds.json, made by
`kefu bench duplicates --write`): its threshold was chosen on the training pairs' curve for that precision,
and the precision and recall that curve expects there are shown beside it (with those measured on held-out
pairs), so the trade-off is chosen seeing what it costs. Until an administrator chooses,
KEFU_DUPLICATE_PRECISION applies (default 0.65).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kefu.core import events
from kefu.core.auth import Principal
from kefu.core.clock import utcnow
from kefu.core.config import get_settings
from kefu.core.errors import InvalidInput
from kefu.knowledge import dupbench
from kefu.knowledge.models import KnowledgeSetting

DUPLICATE_PRECISION = "duplicate_precision"


def duplicate_precision(session: Session) -> float:
    """The precision the duplicate finder keeps: the administrator's choice, else the process setting."""
    row = session.get(KnowledgeSetting, DUPLICATE_PRECISION)
    return float(row.value) if row is not None else float(get_settings().duplicate_precision)


def duplicate_threshold(session: Session) -> float:
    """The pair score a possible duplicate needs for the chosen precision."""
    return dupbench.threshold_for(duplicate_precision(session))


def duplicate_choices(session: Session) -> dict[str, Any]:
    """The shipped points (precision asked, threshold, the training curve's expected precision and recall,
    the held-out ones) and the one in use."""
    point = dupbench.point_for(duplicate_precision(session))
    return {
        "precision": point["target"],
        "threshold": point["threshold"],
        "expected_precision": point["precision"],
        "expected_recall": point["recall"],
        "set_by_administrator": session.get(KnowledgeSetting, DUPLICATE_PRECISION) is not None,
        "rows": [r | {"current": r["target"] == point["target"]} for r in dupbench.points()],
    }


def set_duplicate_precision(session: Session, principal: Principal, precision: float) -> dict[str, Any]:
    """Keep ``precision`` (one of the shipped points) from now on; event knowledge.duplicate_precision_set."""
    offered = sorted(dupbench.thresholds())
    if not any(abs(precision - p) < 1e-9 for p in offered):
        raise InvalidInput(
            f"precision must be one of {offered[0]:.2f}, {offered[1]:.2f}, … {offered[-1]:.2f}, got {precision}",
            code="invalid_precision", details={"field": "precision"},
        )
    row = session.get(KnowledgeSetting, DUPLICATE_PRECISION)
    before = float(row.value) if row is not None else None
    if row is None:
        row = KnowledgeSetting(key=DUPLICATE_PRECISION)
        session.add(row)
    row.value = precision
    row.updated_by = principal.user_id or None
    row.updated_at = utcnow()
    session.flush()
    events.record(session, "knowledge.duplicate_precision_set",
                  {"precision": precision, "before": before, "threshold": dupbench.threshold_for(precision)},
                  aggregate_type="knowledge_setting", aggregate_id=None)
    return duplicate_choices(session)
