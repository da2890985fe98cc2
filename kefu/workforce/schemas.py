"""Request and response shapes of the workforce API. Pydantic checks the shape; the workforce modules check
the values (a zero rate, a target outside (0, 1), an impossible target) and say what is wrong."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from kefu.core.body import Body, BodyId

Model = Literal["a", "c"]

# What a real contact centre can have, with room to spare: the largest operators' provincial centres run a few
# thousand seats on one queue. Past these bounds a request is refused with 422 before anything is computed, so
# no input can keep the staffing search, the scheduler or the simulator busy for minutes (issue 8).
MAX_CALLS = 100_000.0  # calls offered in one interval
MAX_AGENTS = 20_000  # agents in one interval
MAX_SECONDS = 7_200.0  # handle time, patience, thresholds: two hours
MAX_INTERVAL_MINUTES = 1_440.0
MAX_LOAD_ERLANGS = 10_000.0  # calls x AHT / interval length: about 10,000 agents busy at once
MAX_INTERVALS = 288  # a day in 5-minute intervals
MAX_SCALE = 10.0  # volume and handle-time factors of a what-if
MAX_SIMULATED_CALLS = 2_000_000.0  # calls x replications (about 3 s of simulation)

MAX_SHRINKAGE = 0.95  # beyond it the roster is more than 20 times the required agents


def _shrinkage(value: float) -> float:
    # [0, 1) is the workforce modules' rule and message; this only adds the realistic ceiling below 1.
    if MAX_SHRINKAGE < value < 1:
        raise ValueError(f"shrinkage above {MAX_SHRINKAGE} is not realistic (it rosters more than 20 times "
                         "the required agents)")
    return value


# Only ceilings here: the lower bounds and the domain rules (a positive AHT, a target in (0, 1)) are checked by
# the workforce modules, which say in their own words what is wrong.
Calls = Annotated[float, Field(le=MAX_CALLS)]
Agents = Annotated[int, Field(le=MAX_AGENTS)]
Seconds = Annotated[float, Field(le=MAX_SECONDS)]
Threshold = Seconds
IntervalMinutes = Annotated[float, Field(le=MAX_INTERVAL_MINUTES)]
Share = float
Scale = Annotated[float, Field(le=MAX_SCALE)]
Shrinkage = Annotated[float, AfterValidator(_shrinkage)]
TimeZone = Annotated[str, Field(min_length=1, max_length=64)]
Channel = Annotated[str, Field(min_length=1, max_length=32)]
Country = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", description="ISO code whose public holidays the forecast knows (CN ...)")
]
Minutes = Annotated[int, Field(le=1_440)]
# Days a centre plans for or has history of; past them date arithmetic overflows (date.max + 1 day).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
MAX_HISTORY_DAYS = 731
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


def check_load(calls: float, aht: float | None, interval_minutes: float, where: str = "calls") -> None:
    """Refuse an offered load (Erlangs) no centre has: the staffing search grows with it."""
    if aht is None:
        return
    if not (calls > 0 and aht > 0 and interval_minutes > 0):
        return  # the workforce modules refuse these in their own words
    load = calls * aht / (interval_minutes * 60)
    if load > MAX_LOAD_ERLANGS:
        raise ValueError(f"{where}: the offered load is {load:,.0f} Erlangs in one interval "
                         f"(calls x AHT / interval length); at most {MAX_LOAD_ERLANGS:,.0f} is accepted")


class ErlangIn(Body):
    calls: Calls = Field(description="calls offered in one interval")
    interval_minutes: IntervalMinutes = 30
    aht: Seconds = Field(description="average handle time, seconds")
    agents: Agents
    patience: Seconds | None = Field(None, description="mean patience, seconds (Erlang A); none: Erlang C only")
    target_time: Threshold = Field(20, description="service level threshold T, seconds")

    @model_validator(mode="after")
    def _load(self) -> ErlangIn:
        check_load(self.calls, self.aht, self.interval_minutes)
        return self


class StaffingIn(Body):
    calls: Calls
    interval_minutes: IntervalMinutes = 30
    aht: Seconds
    service_level: Share | None = 0.8
    target_time: Threshold = 20
    max_asa: Threshold | None = None
    max_abandon: Share | None = None
    patience: Seconds | None = None
    shrinkage: Shrinkage = 0.0
    model: Model = "a"

    @model_validator(mode="after")
    def _load(self) -> StaffingIn:
        check_load(self.calls, self.aht, self.interval_minutes)
        return self


class RulesSpec(Body):
    """Shift rules in minutes, as an administrator thinks of them; converted to intervals when planning."""

    shift_minutes: list[Minutes] = Field(default_factory=lambda: [240, 480], min_length=1, max_length=12)
    start_every_minutes: Minutes = 30
    break_minutes: Minutes = 30
    break_earliest_minutes: Minutes = 120
    break_latest_minutes: Minutes = 300
    min_hours: Annotated[float, Field(le=24)] = 4.0
    max_hours: Annotated[float, Field(le=24)] = 9.0
    max_agents: Agents | None = None


class RulesRead(RulesSpec):
    org_unit_id: BodyId
    source_org_unit_id: BodyId | None = Field(None, description="unit whose row applies; none: built-in default")


class PlanIn(Body):
    """A day's plan. With ``calls`` the workload is given; without, it is forecast from the unit's history."""

    org_unit_id: BodyId
    channel: Channel = "voice"
    day: Day
    interval_minutes: Literal[15, 30, 60] = 30
    tz: TimeZone = "UTC"
    country: Country = "CN"
    service_level: Share = 0.8
    target_time: Threshold = 20
    model: Model = "a"
    calls: list[Calls] | None = Field(None, max_length=MAX_INTERVALS, description="calls per interval (the whole day)")
    aht: Seconds | None = Field(None, description="seconds; default the history's mean handle time")
    patience: Seconds | None = Field(None, description="seconds; default the history's exponential fit")
    shrinkage: Shrinkage = 0.0
    volume_scale: Scale = 1.0
    aht_scale: Scale = 1.0
    rules: RulesSpec | None = Field(None, description="default: the unit's stored rules")
    time_limit: float = Field(10.0, gt=0, le=60)
    name: str | None = Field(None, max_length=200, description="POST /workforce/plans: the saved plan's name")

    @model_validator(mode="after")
    def _load(self) -> PlanIn:
        for i, c in enumerate(self.calls or []):
            check_load(c * self.volume_scale, self.aht and self.aht * self.aht_scale, self.interval_minutes,
                       f"calls.{i}")
        return self


class WhatIfIn(PlanIn):
    """The plan as given, and again with volume, handle time and/or target changed."""

    what_if_volume_scale: Scale = 1.0
    what_if_aht: Seconds | None = None
    what_if_service_level: Share | None = None

    @model_validator(mode="after")
    def _what_if_load(self) -> WhatIfIn:
        aht = self.what_if_aht or (self.aht and self.aht * self.aht_scale)
        for i, c in enumerate(self.calls or []):
            check_load(c * self.volume_scale * self.what_if_volume_scale, aht, self.interval_minutes, f"calls.{i}")
        return self


class ForecastIn(Body):
    org_unit_id: BodyId
    channel: Channel = "voice"
    start_day: Day
    days: int = Field(7, ge=1, le=62)
    interval_minutes: Literal[15, 30, 60] = 30
    tz: TimeZone = "UTC"
    history_weeks: int = Field(16, ge=1, le=104)
    holdout_days: int = Field(7, ge=1, le=62)
    country: Country = "CN"


class SimulateIn(Body):
    """A saved plan (``plan_id``), or calls and agents per interval."""

    plan_id: BodyId | None = None
    calls: list[Calls] | None = Field(None, max_length=MAX_INTERVALS)
    agents: list[Agents] | None = Field(None, max_length=MAX_INTERVALS)
    interval_minutes: Annotated[float, Field(le=240)] = 30
    aht: Seconds | None = None
    patience: Seconds | None = None
    target_time: Threshold = 20
    replications: int = Field(30, ge=2, le=1000)
    seed: int = Field(0, ge=0, le=2**63 - 1)

    @model_validator(mode="after")
    def _size(self) -> SimulateIn:
        if self.calls is not None and self.interval_minutes > 0:
            if len(self.calls) * self.interval_minutes > 1_440:
                raise ValueError("calls: a simulation covers at most one day (intervals x interval_minutes)")
            simulated = sum(self.calls) * self.replications
            if simulated > MAX_SIMULATED_CALLS:
                raise ValueError(f"calls x replications is {simulated:,.0f}; at most {MAX_SIMULATED_CALLS:,.0f} "
                                 "calls are simulated in one request (fewer replications or a shorter day)")
            for i, c in enumerate(self.calls):
                check_load(c, self.aht, self.interval_minutes, f"calls.{i}")
        return self


class PlanSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    org_unit_id: int
    channel: str
    day: date
    interval_minutes: int
    created_by: int | None
    created_at: datetime


class PlanRead(PlanSummary):
    inputs: dict[str, Any]
    result: dict[str, Any]


# ---- several skills and channels ---------------------------------------------------------------------

MAX_DEMANDS = 20
MAX_NAMED_AGENTS = 500  # the assignment search recurses once per agent
MAX_CONCURRENCY = 10


class DemandIn(Body):
    """One skill on one channel: contacts per interval over the day (every demand the same length)."""

    skill_id: BodyId
    channel: Literal["voice", "chat", "email"] = "voice"
    volumes: list[Calls] = Field(min_length=1, max_length=MAX_INTERVALS)
    aht: Seconds = Field(description="seconds of agent work per contact (chat: per session)")
    service_level: Share = 0.8
    target_time: Threshold = 20
    patience: Seconds | None = Field(None, description="voice and chat: Erlang A with this mean patience")
    concurrency: int = Field(1, ge=1, le=MAX_CONCURRENCY, description="chat sessions an agent holds at once")
    answer_within: Seconds | None = Field(None, description="e-mail: seconds from arrival to answer")


class MultiSkillIn(Body):
    """A day's demand on several skills and channels, and the named agents on shift to cover it."""

    org_unit_id: BodyId
    interval_minutes: Literal[15, 30, 60] = 30
    demands: list[DemandIn] = Field(min_length=1, max_length=MAX_DEMANDS)
    agent_ids: list[BodyId] | None = Field(
        None,
        max_length=MAX_NAMED_AGENTS,
        description="named agents on shift; default every active agent of the unit holding a demanded skill",
    )

    @model_validator(mode="after")
    def _shape(self) -> MultiSkillIn:
        lengths = {len(d.volumes) for d in self.demands}
        if len(lengths) != 1:
            raise ValueError("every demand needs the same number of intervals")
        keys = [(d.skill_id, d.channel) for d in self.demands]
        if len(set(keys)) != len(keys):
            raise ValueError("each skill and channel may appear once")
        for k, d in enumerate(self.demands):
            for v in d.volumes:
                check_load(v, d.aht, self.interval_minutes, where=f"demands[{k}]")
        return self


SpecialKind = Literal["campaign", "outage", "holiday"]


class SpecialDayIn(Body):
    """Days an administrator marks for the forecast of a unit and the units below it."""

    org_unit_id: BodyId
    name: str = Field(min_length=1, max_length=200)
    kind: SpecialKind
    first_day: Day
    last_day: Day | None = Field(None, description="default: the first day (a single day)")
    effect_pct: float | None = Field(
        None, ge=-100, le=1000, description="expected change in calls, percent (+30: 30 % more); none: learnt"
    )

    @model_validator(mode="after")
    def _order(self) -> SpecialDayIn:
        if self.last_day is not None and self.last_day < self.first_day:
            raise ValueError("last_day comes before first_day")
        if self.last_day is not None and (self.last_day - self.first_day).days > 92:
            raise ValueError("a special period lasts at most 93 days")
        return self


class SpecialDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_unit_id: int
    name: str
    kind: SpecialKind
    first_day: date
    last_day: date
    effect_pct: float | None
    created_by: int | None
    created_at: datetime


Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


class AgentAvailability(Body):
    """When one named agent can work on the day (local time of the roster's zone)."""

    user_id: BodyId
    earliest_start: Clock | None = None
    latest_end: Clock | None = None


class RosterIn(PlanIn):
    """A day's plan, then its shifts given to named agents of the unit (all its active agents, or those
    listed with their hours), with ``min_rest_hours`` since each one's previous shift."""

    agents: list[AgentAvailability] | None = Field(None, max_length=2000)
    min_rest_hours: float = Field(11.0, ge=0, le=48)
