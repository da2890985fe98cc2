"""The routing core's data: configuration, work items, agents, events in and decisions out.

Everything here is a frozen dataclass, so a snapshot, an event or a decision can be kept, compared and
sent between processes as it is. Times are float seconds on one fixed origin (the service passes
seconds since the Unix epoch, the simulator seconds since the start of the day); durations are
seconds. Ids are the database's integer ids; queues are keyed by a short text key.

Priority (see kefu/routing/priority.py for the proof of the bound):
    p0        = queue.base_priority + item.extra_priority + rules(tier, kind, category, at risk, repeat),
                at most config.max_priority
    p(t)      = min(max_priority, p0 + aging_per_minute x minutes waited)
The engine offers an agent the eligible waiting item with the highest p(t), then the earliest
``enqueued_at``, then the lowest id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from types import MappingProxyType

from kefu.routing.errors import RoutingConfigError


class Presence(Enum):
    """What an agent is doing. "busy" is not a presence: it is an available agent with no room left."""

    AVAILABLE = "available"
    AFTER_CALL_WORK = "after_call_work"  # wrap-up after an item, with a timer
    BREAK = "break"  # with a reason: lunch, training, meeting ...
    NOT_READY = "not_ready"  # the engine puts an agent here after a missed offer (configurable)
    OFFLINE = "offline"


class Reach(IntEnum):
    """How far from the item's place a ring looks for agents (wider is larger)."""

    CITY = 0  # the item's city only
    NEIGHBOURS = 1  # the city and its neighbouring cities (config.neighbours)
    PROVINCE = 2  # every city of the item's province
    ANYWHERE = 3  # any agent of the queue


@dataclass(frozen=True, slots=True)
class Ring:
    """A bullseye ring: from ``after`` seconds of waiting, the pool widens to this ring.

    ``level_drop`` lowers every required skill level by that much (a requirement that falls to 0 or
    below is dropped); ``reach`` widens the place agents may sit in.
    """

    after: float
    level_drop: int = 0
    reach: Reach = Reach.CITY


DEFAULT_RINGS = (Ring(0.0),)


@dataclass(frozen=True, slots=True)
class PriorityRules:
    """Points added to an item's initial priority. The green channel is the tier points."""

    tier: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(
        {"diamond": 40.0, "gold": 30.0, "vip": 30.0, "silver": 10.0}))
    kind: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(
        {"complaint": 10.0, "appeal": 30.0}))
    category: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    # the ticket's own priority (an agent's change, or the customer's segment raising it at classification)
    ticket_priority: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(
        {"high": 15.0, "urgent": 30.0}))
    at_risk: float = 20.0  # a complaint whose reply clock is at risk
    repeat: float = 10.0  # the customer contacted us about this within 7 days


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Engine-wide settings.

    ``max_priority`` is the one ceiling every queue's aging stops at; a common ceiling is what makes
    the waiting bound hold across queues (kefu/routing/priority.py).
    ``missed_offer`` is where an agent goes after rejecting or letting an offer time out: NOT_READY
    (the usual ACD rule), or AVAILABLE to keep them in rotation (then the same item may come back).
    """

    max_priority: float = 100.0
    rules: PriorityRules = field(default_factory=PriorityRules)
    missed_offer: Presence = Presence.NOT_READY
    neighbours: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    # move suggestions: a queue whose oldest item waited this long while an agent who could take it
    # sat idle this long (outside the queue or its channel) gives a suggestion, at most this often
    move_backlog_wait: float = 60.0
    move_idle_for: float = 60.0
    move_check_every: float = 60.0
    move_max_per_queue: int = 5

    def __post_init__(self) -> None:
        if not (self.max_priority > 0):
            raise RoutingConfigError(f"max_priority must be > 0, got {self.max_priority!r}")
        if self.missed_offer not in (Presence.NOT_READY, Presence.AVAILABLE):
            raise RoutingConfigError("missed_offer must be not_ready or available")


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue by skill and channel.

    ``skills`` are required of every item of the queue (merged with the item's own, the higher level
    wins). ``aging_per_minute`` (>= 0) is the priority gained per minute waited; 0 gives strict
    priority classes with no aging (and no waiting bound). ``rings`` start with one at 0 s.
    ``overflow_to`` takes the queue's items while it is closed (and new ones), and after
    ``overflow_after`` seconds in the queue when that is set. ``wrap_up`` is the after-call work an
    agent gets after finishing an item of this queue. ``preferred_window``: an item whose customer was
    last served by an agent waits up to this long for that agent (0: no preference).
    """

    key: str
    channel: str
    skills: Mapping[str, int] = field(default_factory=dict)
    base_priority: float = 0.0
    aging_per_minute: float = 1.0
    rings: tuple[Ring, ...] = DEFAULT_RINGS
    overflow_to: str | None = None
    overflow_after: float | None = None
    offer_timeout: float = 20.0
    wrap_up: float = 0.0
    preferred_window: float = 0.0
    open: bool = True

    def __post_init__(self) -> None:
        if not self.key:
            raise RoutingConfigError("a queue needs a key")
        if not (self.aging_per_minute >= 0):
            raise RoutingConfigError(f"queue {self.key}: aging_per_minute must be >= 0")
        if not self.rings or self.rings[0].after != 0:
            raise RoutingConfigError(f"queue {self.key}: the first ring starts at 0 s")
        for before, after in zip(self.rings, self.rings[1:], strict=False):
            if not (after.after > before.after and after.level_drop >= before.level_drop
                    and after.reach >= before.reach):
                raise RoutingConfigError(
                    f"queue {self.key}: rings must start later and only widen (level drop, reach)")
        if self.overflow_after is not None and not (self.overflow_after > 0 and self.overflow_to):
            raise RoutingConfigError(f"queue {self.key}: overflow_after needs overflow_to and > 0 s")
        if self.overflow_to == self.key:
            raise RoutingConfigError(f"queue {self.key}: cannot overflow to itself")
        if not (self.offer_timeout > 0 and self.wrap_up >= 0 and self.preferred_window >= 0):
            raise RoutingConfigError(f"queue {self.key}: offer_timeout > 0, wrap_up and preferred_window >= 0")
        if any(level < 1 for level in self.skills.values()):
            raise RoutingConfigError(f"queue {self.key}: skill levels are >= 1")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A voice call waiting, a chat or message thread, a ticket that needs an owner.

    ``weight`` is in the agents' capacity units; an item weighing an agent's whole capacity (a call:
    100 of 100) needs an agent with nothing else and blocks all other work.
    """

    id: int
    queue: str
    channel: str
    enqueued_at: float
    skills: Mapping[str, int] = field(default_factory=dict)
    weight: int = 100
    tier: str | None = None
    kind: str | None = None  # complaint, appeal, inquiry ...
    category: str | None = None
    ticket_priority: str | None = None  # low / normal / high / urgent (the ticket's)
    sla_at_risk: bool = False
    repeat_contact: bool = False
    extra_priority: float = 0.0
    city: str | None = None
    province: str | None = None
    preferred_agent: int | None = None

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise RoutingConfigError(f"item {self.id}: weight must be >= 1")


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent's routing profile; what a supervisor changes live.

    ``channels`` maps each channel the agent works to how many items of it they take at once;
    ``capacity`` bounds the summed weight of everything they hold.
    """

    id: int
    queues: frozenset[str]
    skills: Mapping[str, int] = field(default_factory=dict)
    channels: Mapping[str, int] = field(default_factory=dict)
    capacity: int = 100
    city: str | None = None
    province: str | None = None

    def __post_init__(self) -> None:
        if self.capacity < 1 or any(n < 0 for n in self.channels.values()):
            raise RoutingConfigError(f"agent {self.id}: capacity >= 1 and channel limits >= 0")


# ---------------------------------------------------------------- events in


@dataclass(frozen=True, slots=True)
class ItemEnqueued:
    item: WorkItem
    at: float


@dataclass(frozen=True, slots=True)
class ItemUpdated:
    """New attributes (tier, at-risk, skills, queue ...) for a known item; its place in line is kept."""

    item: WorkItem
    at: float


@dataclass(frozen=True, slots=True)
class ItemWithdrawn:
    """The customer hung up (abandoned), the thread closed, the ticket was taken by hand."""

    item_id: int
    at: float
    reason: str = "abandoned"


@dataclass(frozen=True, slots=True)
class WorkCompleted:
    """The agent finished an accepted item; its weight is released (wrap-up follows if configured)."""

    item_id: int
    at: float


@dataclass(frozen=True, slots=True)
class AgentUpdated:
    """A new agent, or a supervisor's move: queues, skills, channels, capacity changed live."""

    agent: Agent
    at: float


@dataclass(frozen=True, slots=True)
class AgentPresenceChanged:
    agent_id: int
    presence: Presence
    at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    offer_id: int
    at: float


@dataclass(frozen=True, slots=True)
class OfferRejected:
    offer_id: int
    at: float


@dataclass(frozen=True, slots=True)
class OfferTimedOut:
    offer_id: int
    at: float


@dataclass(frozen=True, slots=True)
class QueueStateChanged:
    """The queue opened or closed (service hours, a supervisor)."""

    queue: str
    open: bool
    at: float


@dataclass(frozen=True, slots=True)
class TimeAdvanced:
    at: float


Event = (ItemEnqueued | ItemUpdated | ItemWithdrawn | WorkCompleted | AgentUpdated | AgentPresenceChanged
         | OfferAccepted | OfferRejected | OfferTimedOut | QueueStateChanged | TimeAdvanced)


# ---------------------------------------------------------------- decisions out


@dataclass(frozen=True, slots=True)
class Offer:
    """Offer item to agent; the agent's capacity is held until accept, reject or ``expires_at``."""

    offer_id: int
    item_id: int
    agent_id: int
    queue: str
    at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class OfferRevoked:
    """An open offer ended without acceptance: timeout, the item withdrawn, the agent left."""

    offer_id: int
    item_id: int
    agent_id: int
    reason: str  # timeout | rejected | withdrawn | agent_unavailable
    at: float


@dataclass(frozen=True, slots=True)
class Overflowed:
    item_id: int
    from_queue: str
    to_queue: str
    reason: str  # closed | waited
    at: float


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """A presence change the engine made: not-ready after a missed offer, wrap-up start and end."""

    agent_id: int
    presence: Presence
    reason: str | None
    at: float
    until: float | None = None


@dataclass(frozen=True, slots=True)
class MoveSuggested:
    """Add ``queue`` (and its channel) to an idle agent's profile: its backlog outruns its agents."""

    agent_id: int
    queue: str
    channel: str
    waiting: int
    oldest_wait: float
    at: float


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event that no longer applies (an offer already settled, an unknown item): nothing changed."""

    event: Event
    reason: str


Decision = Offer | OfferRevoked | Overflowed | PresenceChanged | MoveSuggested | Ignored


# ---------------------------------------------------------------- snapshot


@dataclass(frozen=True, slots=True)
class Assignment:
    """An item an agent holds: offered (``offer_id`` set, not yet accepted) or accepted."""

    item: WorkItem
    agent_id: int
    queue: str
    offer_id: int | None = None
    offered_at: float = 0.0
    expires_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AgentState:
    agent: Agent
    presence: Presence = Presence.OFFLINE
    reason: str | None = None
    idle_since: float = 0.0
    acw_until: float | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A waiting item and the queue it waits in now (after overflows), entered at ``queue_since``."""

    item: WorkItem
    queue: str
    queue_since: float
    parked_with: int | None = None  # the preferred agent it waits for, within the window


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the engine needs to continue: what a service loads under its lock."""

    config: EngineConfig
    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentState, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    held: tuple[Assignment, ...] = ()
    now: float = 0.0
    next_offer_id: int = 1
