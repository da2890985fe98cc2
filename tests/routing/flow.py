"""A routing test bench on a real database: the outbox consumer that turns ticket events into routing inputs,
and the single writer run round by round on a clock the test moves."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kefu.channels import inbound
from kefu.channels.inbound import InboundMessage
from kefu.core.clock import ensure_aware
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.events import bus
from kefu.jobs import registry
from kefu.org import service as org
from kefu.routing import service as routing
from kefu.routing.models import RoutingAgent, RoutingInput, RoutingItem, RoutingOffer
from kefu.routing.runner import Round, Writer
from tests.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_local(hour: int) -> float:
    """The next `hour`:00 in Shanghai, at least an hour from now (the writer's clock runs ahead of inputs)."""
    now = datetime.now(SHANGHAI) + timedelta(hours=1)
    t = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if t <= now:
        t += timedelta(days=1)
    return t.astimezone(UTC).timestamp()


@dataclass
class Clock:
    t: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def past(self, at: datetime, seconds: float = 1.0) -> None:
        """Move to `seconds` after a time the database holds (an offer's expiry): routing stamps inputs with
        their real creation time, so on a slow machine they can be later than this clock's start."""
        self.t = max(self.t, ensure_aware(at).timestamp() + seconds)


class Flow:
    """Post messages, deliver events, run the writer; read what routing did."""

    def __init__(self, world: World, settings: Settings) -> None:
        self.world = world
        self.db: Database = world.db
        self.settings = settings
        self.clock = Clock()
        self.writer = Writer(self.db, clock=self.clock)
        registry.load()  # the consumers, routing's intake among them
        with self.db.unit_of_work() as s:
            routing.ensure_defaults(s, world.units["province"])
        self.settle()

    # ---- moving things ------------------------------------------------------------------------

    def settle(self) -> Round:
        """Deliver pending events to the consumers, then run writer rounds until nothing is left."""
        total = Round()
        for _ in range(20):
            bus.dispatch_pending(self.db)
            r = self.writer.run_round()
            total.inputs += r.inputs
            total.decisions += r.decisions
            with self.db.session() as s:
                pending = s.scalar(select(RoutingInput.id).where(RoutingInput.processed_at.is_(None)).limit(1))
            if r.inputs == 0 and not r.decisions and pending is None:
                break
        bus.dispatch_pending(self.db)
        return total

    def message(self, channel: str, sender: str, text: str, *, message_id: str | None = None,
                **extra: Any) -> inbound.InboundResult:
        msg = InboundMessage(message_id=message_id or f"m-{time.monotonic_ns()}", sender=sender, text=text,
                             **extra)
        with self.db.unit_of_work() as s:
            return inbound.receive_retrying(s, self.settings, channel, msg)

    def agent(self, username: str, presence: str = "available", reason: str | None = None) -> int:
        user_id = self.world.users[username]
        with self.db.unit_of_work() as s:
            user = org.user(s, user_id)
            assert user is not None
            routing.set_presence(s, org.principal_for(s, user), presence, reason)
        return user_id

    def answer(self, username: str, offer_id: int, *, accept: bool) -> None:
        with self.db.unit_of_work() as s:
            user = org.user(s, self.world.users[username])
            assert user is not None
            routing.answer_offer(s, org.principal_for(s, user), offer_id, accept=accept)

    # ---- reading ------------------------------------------------------------------------------

    def offers(self, state: str | None = None) -> list[RoutingOffer]:
        with self.db.session() as s:
            q = select(RoutingOffer).order_by(RoutingOffer.id)
            if state is not None:
                q = q.where(RoutingOffer.state == state)
            return list(s.scalars(q))

    def items(self) -> list[RoutingItem]:
        with self.db.session() as s:
            return list(s.scalars(select(RoutingItem).order_by(RoutingItem.id)))

    def presence(self, username: str) -> str:
        with self.db.session() as s:
            row = s.get(RoutingAgent, self.world.users[username])
            return row.presence if row is not None else "none"
