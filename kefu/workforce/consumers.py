"""Agents' presence changes, as routing reports them, kept for schedule adherence (kefu.workforce.roster).

Durable: each event is written once (its id is unique in the table), whichever process delivers it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.events import Event, bus
from kefu.workforce.models import WorkforceAgentState

CONSUMER = "workforce.agent_states"
EVENTS = ("routing.agent_presence_changed",)


def on_presence(session: Session, event: Event) -> None:
    user_id = event.payload.get("user_id")
    presence = event.payload.get("presence")
    if not isinstance(user_id, int) or not isinstance(presence, str):
        return
    if session.scalar(select(WorkforceAgentState.id).where(WorkforceAgentState.event_id == event.id)) is None:
        session.add(WorkforceAgentState(user_id=user_id, presence=presence, at=event.occurred_at, event_id=event.id))
        session.flush()


def register() -> None:
    bus.subscribe(CONSUMER, EVENTS, on_presence, db_only=True)
