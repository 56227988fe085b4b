"""API shapes of officers' positions, duty status and the nearest-officer recommendation.

Positions come from the officers' devices (``POST /api/v1/positions``): the body is read
leniently (an ``officer_id`` or any other extra field is ignored: fixes are always the caller's),
and only the types are checked here; the rules (ranges, device clock, batch size) are the
service's (``dispatch.live.check_fixes``), so a refusal names the fix by its index. Times are ISO
8601; a time without an offset is read as local (Asia/Shanghai) time. Places are WGS-84.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from zhifa.models.dispatch import DutyStatus


class FixIn(BaseModel):
    """One GPS fix as the device took it."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    lon: float
    lat: float
    accuracy_m: float = Field(description="Horizontal accuracy (radius, metres), 0 or more")
    fix_at: datetime = Field(description="When the device took the fix")
    speed_mps: float | None = None
    heading_deg: float | None = Field(default=None, description="0 ≤ heading < 360, from north")


class PositionsIn(BaseModel):
    """A batch of the caller's fixes, 1 … ``position_batch_max`` (oldest first or in any order)."""

    model_config = ConfigDict(extra="ignore")

    fixes: list[FixIn]


class StatusIn(BaseModel):
    """The duty status an officer sets themselves: available (在岗可派) or off duty (离岗)."""

    model_config = ConfigDict(extra="forbid")

    status: DutyStatus


class LiveRead(BaseModel):
    """An officer's live row: duty status, last fix and whether it is stale."""

    officer_id: int
    name: str
    unit_id: int | None
    unit_name: str
    status: DutyStatus
    status_label: str
    colour: str
    status_at: datetime | None
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    fix_at: datetime | None
    received_at: datetime | None
    fix_age_seconds: int | None
    stale: bool
    complaint_id: int | None


class PositionsAccepted(BaseModel):
    accepted: int
    latest: LiveRead


class FixRead(BaseModel):
    lon: float
    lat: float
    accuracy_m: float | None
    speed_mps: float | None
    heading_deg: float | None
    fix_at: datetime
    received_at: datetime


class TrackRead(BaseModel):
    officer_id: int
    since: datetime
    until: datetime
    fixes: list[FixRead]


class CandidateRead(BaseModel):
    """An officer considered for a complaint; ``reason`` says why an ineligible one is skipped."""

    officer_id: int
    name: str
    unit_id: int | None
    unit_name: str
    own_unit: bool = Field(description="In the squad that owns the complaint")
    distance_m: int | None
    status: DutyStatus
    status_label: str
    fix_age_seconds: int | None
    eligible: bool
    reason_code: str
    reason: str
    complaint_id: int | None
    lon: float | None
    lat: float | None


class RecommendationRead(BaseModel):
    complaint_id: int
    tracking_no: str
    owning_unit_id: int | None
    owning_unit_name: str
    has_point: bool
    pair: list[CandidateRead] = Field(description="The recommended officers, the lead first")
    candidates: list[CandidateRead] = Field(description="Nearest first")
    explanation: list[str]
    stale_after_seconds: int
    computed_at: datetime
