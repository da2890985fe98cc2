"""The satisfaction summary (kefu/analytics/satisfaction.py): surveys sent and answered by SMS end to end
keep analytics_daily_surveys from their events; a report's 满意度 read from it is the hand-computed figure and
the one kefu.sla.surveys.csat_by counts from the surveys, per org unit's subtree; a redelivered event
changes nothing; migration 0712 backfills the same rows from the surveys."""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import select

from kefu.analytics import consumers, reports, service
from kefu.analytics.models import DaySurveySummary, SurveyFact
from kefu.channels import inbound
from kefu.channels.inbound import InboundMessage
from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.config import Settings
from kefu.core.events import bus
from kefu.core.migrate import downgrade, upgrade
from kefu.org import service as org
from kefu.sla import surveys
from kefu.sla.surveys import Csat
from kefu.tickets import service as tickets
from tests.conftest import World
from tests.sla.test_surveys import w  # noqa: F401 (the fixture)


def _sms(w: World, settings: Settings, text: str, *, sender: str, unit: str) -> inbound.InboundResult:  # noqa: F811
    msg = InboundMessage(message_id=f"m-{time.monotonic_ns()}", sender=sender, text=text, org_unit_code=unit)
    with w.db.unit_of_work() as s:
        r = inbound.receive_retrying(s, settings, "sms", msg)
    bus.dispatch_pending(w.db)
    return r


def _ticket_answered(w: World, settings: Settings, phone: str, city: str, answer: str | None) -> None:  # noqa: F811
    """A customer's SMS in ``city`` becomes a ticket, resolved by the city's agent: a survey goes out, which
    the customer answers with ``answer`` (None: not at all)."""
    agent = w.users[f"agent_{city.lower()}"]
    tid = _sms(w, settings, "这个月话费多扣了20元，请核实", sender=phone, unit=city).ticket_id
    assert tid is not None
    with w.db.unit_of_work() as s:
        tickets.assign(s, tid, assignee_id=agent, actor_id=w.users["sup_gd"])
        tickets.change_status(s, tid, "resolved", actor_id=agent, reason="已退还多扣话费")
    bus.dispatch_pending(w.db)
    if answer is not None:
        _sms(w, settings, answer, sender=phone, unit=city)


def _three(w: World, settings: Settings) -> None:  # noqa: F811
    _ticket_answered(w, settings, "13800138001", "GZ", "5 非常满意")
    _ticket_answered(w, settings, "13800138002", "GZ", "3")
    _ticket_answered(w, settings, "13800138003", "SZ", None)
    bus.dispatch_pending(w.db)  # the survey.sent its resolution's consumer recorded


def _csat(w: World, unit: str) -> tuple[Csat, Csat]:  # noqa: F811
    """The report's figure of today in the unit's subtree, and csat_by's from the surveys."""
    now = utcnow()
    today = service.local_date(now)
    with w.db.session() as s:
        ids = org.subtree_ids(s, org.org_unit(s, w.units[unit]).path)
        rep = reports.build(s, period="day", start=today, unit_id=w.units[unit], unit_ids=ids, channel=None,
                            now=now)
        first = reports.local_instant(today)
        raw = Csat.total(surveys.csat_by(s, "channel", since=first, until=first + timedelta(days=1), unit_ids=ids))
    return rep.csat, raw


def test_the_reports_satisfaction_comes_from_the_summary_by_hand(w: World, settings: Settings) -> None:  # noqa: F811
    _three(w, settings)
    # 广东: 3 sent, 2 answered (5 and 3), 1 satisfied (4 or 5), scores 8; 广州 the two answered; 深圳 one unanswered
    for unit, figures in (("province", (3, 2, 1, 8)), ("gz", (2, 2, 1, 8)), ("sz", (1, 0, 0, 0))):
        summary, raw = _csat(w, unit)
        assert (summary.sent, summary.answered, summary.satisfied, summary.score_total) == figures
        assert summary == raw
    with w.db.session() as s:
        assert s.scalar(select(sa.func.count()).select_from(SurveyFact)) == 3
    # a redelivered answer changes nothing
    with w.db.unit_of_work() as s:
        ev = s.scalars(select(events.OutboxEvent).where(events.OutboxEvent.name == "survey.answered")
                       .order_by(events.OutboxEvent.id)).first()
        assert ev is not None
        consumers.on_survey_event(s, events.Event(ev.id, ev.name, ev.aggregate_type, ev.aggregate_id,
                                                  ev.org_unit_id, ev.payload, ev.occurred_at))
    summary, _ = _csat(w, "province")
    assert (summary.sent, summary.answered, summary.satisfied, summary.score_total) == (3, 2, 1, 8)


def test_migration_0712_backfills_what_the_events_kept(w: World, settings: Settings, db_url: str) -> None:  # noqa: F811
    _three(w, settings)
    cols = ("day", "org_unit_id", "channel", "agent_id", "queue_key", "sent", "answered", "satisfied", "score_total")

    def rows() -> set[tuple[object, ...]]:
        with w.db.session() as s:
            return {tuple(getattr(r, c) for c in cols) for r in s.scalars(select(DaySurveySummary))}

    kept = rows()
    assert sum(r[5] for r in kept) == 3
    w.db.dispose()
    downgrade(db_url, "0711_analytics_agent_days")
    upgrade(db_url)
    assert rows() == kept
