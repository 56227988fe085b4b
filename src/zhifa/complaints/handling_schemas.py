"""API shapes of the handling loop (``docs/complaints-api.md`` §The loop): the command centre's
steps, the officer's device steps (each with a ``client_uuid``: exactly once) and the officer's
open assignments.

Inputs refuse unknown fields. Required texts (a reason, an answer, a result) are checked by the
service, not here, so the refusal is one translated message whichever way the step is called.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from zhifa.models.complaints import DisposalMeasure

TEXT_MAX = 2000
ANSWER_MAX = 4000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


Text = Annotated[str, Field(max_length=TEXT_MAX)]
LongText = Annotated[str, Field(max_length=ANSWER_MAX)]


# --- Command centre (complaints:dispatch) ---


class FileIn(_In):
    note: Text = ""


class RejectIn(_In):
    reason: Text = ""


class TransferIn(_In):
    to: Annotated[str, Field(max_length=200)] = ""
    reason: Text = ""


class DispatchIn(_In):
    """At least one officer, the lead first; a second must join before on-site enforcement
    (行政处罚法 art. 42). ``subject_id``: the handling needs an inspection of that subject."""

    officer_ids: list[int] = Field(max_length=10, description="Lead first; at least one")
    note: Text = ""
    subject_id: int | None = None


class VerifyIn(_In):
    passed: bool
    note: Text = ""


class AnswerIn(_In):
    answer: LongText = ""


# --- The officer's device (complaints:handle), each exactly once per client_uuid ---


class DeviceStepIn(_In):
    client_uuid: str = Field(max_length=40)


class TakeIn(DeviceStepIn):
    pass


class DeclineIn(DeviceStepIn):
    reason: Text = ""


class ArriveIn(DeviceStepIn):
    lon: float = Field(ge=-180, le=180, description="WGS-84 longitude")
    lat: float = Field(ge=-90, le=90, description="WGS-84 latitude")
    accuracy_m: float = Field(ge=0, le=100_000, description="The fix's accuracy radius, metres")
    device_time: datetime


class DisposeIn(DeviceStepIn):
    """A quick disposal record (``measure`` with photos of this complaint) or, for a complaint
    handled by an inspection, the submitted inspection of its task (``measure`` optional)."""

    measure: DisposalMeasure | None = None
    note: Text = ""
    media_ids: list[int] = Field(default_factory=list, max_length=20)


class FeedbackIn(DeviceStepIn):
    result: LongText = ""


# --- Answers ---


class StepRead(BaseModel):
    """A complaint after a step: where it stands and the step just taken."""

    complaint_id: int
    tracking_no: str
    status: str
    status_label: str
    step: str
    event_id: int
    at: datetime
    public: bool
    note: str
    officer_ids: list[int]
    task_id: int | None
    # For the dispatcher or the officer: what they must know (e.g. a second officer must join).
    notice: str = ""


class OfficerBrief(BaseModel):
    id: int
    name: str
    lead: bool


class MediaBrief(BaseModel):
    id: int
    role: str
    role_label: str


class ClockRead(BaseModel):
    stage: str
    label: str
    due: datetime | None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    remaining_seconds: float | None = None
    state: str


class AssignmentRead(BaseModel):
    """One open assignment of the caller, with what the phone needs to go and handle it."""

    complaint_id: int
    tracking_no: str
    category_id: int
    category_name: str
    description: str
    address: str
    lon: float | None
    lat: float | None
    priority: str
    priority_label: str
    status: str
    status_label: str
    sla_state: str
    clocks: list[ClockRead]
    dispatched_at: datetime | None
    officers: list[OfficerBrief]
    # The names of the other officers sent with the caller.
    other_officers: list[str]
    media: list[MediaBrief]
    task_id: int | None
    subject_id: int | None
    notice: str = ""
