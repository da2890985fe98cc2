"""Request and response shapes of the workforce API. Pydantic checks the shape; the workforce modules check
the values (a zero rate, a target outside (0, 1), an impossible target) and say what is wrong."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Model = Literal["a", "c"]


class ErlangIn(BaseModel):
    calls: float = Field(description="calls offered in one interval")
    interval_minutes: float = 30
    aht: float = Field(description="average handle time, seconds")
    agents: int
    patience: float | None = Field(None, description="mean patience, seconds (Erlang A); none: Erlang C only")
    target_time: float = Field(20, description="service level threshold T, seconds")


class StaffingIn(BaseModel):
    calls: float
    interval_minutes: float = 30
    aht: float
    service_level: float | None = 0.8
    target_time: float = 20
    max_asa: float | None = None
    max_abandon: float | None = None
    patience: float | None = None
    shrinkage: float = 0.0
    model: Model = "a"


class RulesSpec(BaseModel):
    """Shift rules in minutes, as an administrator thinks of them; converted to intervals when planning."""

    shift_minutes: list[int] = Field(default_factory=lambda: [240, 480], min_length=1)
    start_every_minutes: int = 30
    break_minutes: int = 30
    break_earliest_minutes: int = 120
    break_latest_minutes: int = 300
    min_hours: float = 4.0
    max_hours: float = 9.0
    max_agents: int | None = None


class RulesRead(RulesSpec):
    org_unit_id: int
    source_org_unit_id: int | None = Field(None, description="unit whose row applies; none: built-in default")


class PlanIn(BaseModel):
    """A day's plan. With ``calls`` the workload is given; without, it is forecast from the unit's history."""

    org_unit_id: int
    channel: str = "voice"
    day: date
    interval_minutes: Literal[15, 30, 60] = 30
    tz: str = "UTC"
    service_level: float = 0.8
    target_time: float = 20
    model: Model = "a"
    calls: list[float] | None = Field(None, description="calls per interval (the whole day)")
    aht: float | None = Field(None, description="seconds; default the history's mean handle time")
    patience: float | None = Field(None, description="seconds; default the history's exponential fit")
    shrinkage: float = 0.0
    volume_scale: float = 1.0
    aht_scale: float = 1.0
    rules: RulesSpec | None = Field(None, description="default: the unit's stored rules")
    time_limit: float = Field(10.0, gt=0, le=60)
    name: str | None = Field(None, max_length=200, description="POST /workforce/plans: the saved plan's name")


class WhatIfIn(PlanIn):
    """The plan as given, and again with volume, handle time and/or target changed."""

    what_if_volume_scale: float = 1.0
    what_if_aht: float | None = None
    what_if_service_level: float | None = None


class ForecastIn(BaseModel):
    org_unit_id: int
    channel: str = "voice"
    start_day: date
    days: int = Field(7, ge=1, le=62)
    interval_minutes: Literal[15, 30, 60] = 30
    tz: str = "UTC"
    history_weeks: int = Field(8, ge=1, le=104)
    holdout_days: int = Field(7, ge=1, le=62)


class SimulateIn(BaseModel):
    """A saved plan (``plan_id``), or calls and agents per interval."""

    plan_id: int | None = None
    calls: list[float] | None = None
    agents: list[int] | None = None
    interval_minutes: float = 30
    aht: float | None = None
    patience: float | None = None
    target_time: float = 20
    replications: int = Field(30, ge=2, le=1000)
    seed: int = 0


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
