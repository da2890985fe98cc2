"""Knowledge settings an administrator changes on the console; the process settings are the default.

``duplicate_precision``: the precision the duplicate-ticket finder keeps (kefu.tickets.duplicates). Each
choice is a row of the shipped table (kefu/knowledge/text/duplicate_thresholds.json, made by
`kefu bench duplicates --write`): its threshold was chosen on training question pairs for that precision,
and the precision and recall it had on held-out pairs are shown beside it, so the trade-off is chosen
seeing what it costs. Until an administrator chooses, KEFU_DUPLICATE_PRECISION applies.
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
    """The shipped rows (precision asked, threshold, held-out precision and recall) and the one in use."""
    chosen = duplicate_precision(session)
    threshold = dupbench.threshold_for(chosen)
    rows = dupbench.measured()
    return {
        "precision": chosen,
        "threshold": threshold,
        "set_by_administrator": session.get(KnowledgeSetting, DUPLICATE_PRECISION) is not None,
        "rows": [r | {"current": r["threshold"] == threshold} for r in rows],
    }


def set_duplicate_precision(session: Session, principal: Principal, precision: float) -> dict[str, Any]:
    """Keep ``precision`` (one of the shipped rows) from now on; event knowledge.duplicate_precision_set."""
    offered = sorted(dupbench.thresholds())
    if not any(abs(precision - p) < 1e-9 for p in offered):
        raise InvalidInput(
            f"precision must be one of {', '.join(f'{p:.2f}' for p in offered)}, got {precision}",
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
