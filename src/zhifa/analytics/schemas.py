"""API shapes of the assessment indicators (``GET /api/v1/kpis``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from zhifa.analytics.kpis import Grouping


class KpiRowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: int | None = Field(description="Unit or officer id; null: complaints of no squad")
    name: str
    received: int = Field(description="受理数: received in the period")
    excluded: int = Field(description="received, then transferred, rejected or merged")
    should_close: int = Field(description="应结案数: received and not excluded")
    deferred: int = Field(description="缓办数: not closed, clocks paused at the period's end")
    closed: int = Field(description="结案数: of those that should close, closed by the end")
    dispatched: int = Field(description="first dispatched in the period")
    arrived: int = Field(description="first arrived on scene in the period")
    handled: int = Field(description="处置数: a result reported in the period")
    handled_timed: int = Field(description="handled with a handling deadline")
    handled_on_time: int = Field(description="handled no later than the handling deadline")
    reworked: int = Field(description="返工数: handled and sent back at least once")
    on_time_rate: float | None = Field(description="按期处置率, 0…1 (null: nothing to divide)")
    close_rate: float | None = Field(description="结案率 = closed ÷ (should close − deferred)")
    rework_rate: float | None = Field(description="返工率 = reworked ÷ handled")
    median_dispatch_minutes: float | None = Field(description="received → first dispatch")
    median_arrive_minutes: float | None = Field(description="dispatch → first arrival")
    median_close_minutes: float | None = Field(description="received → closed")


class KpiTableRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start: date
    end: date
    by: Grouping
    rows: list[KpiRowRead]
    total: KpiRowRead
