"""API shapes of field inspection (``docs/field-api.md`` §Tasks and check-in, §Submission).

Inputs refuse unknown fields (a misspelt ``rectify_deadline`` must not silently vanish). Times are
ISO 8601; a time without an offset is read as local (Asia/Shanghai) time. Money is integer fen,
with yuan strings beside it for display.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from zhifa.catalog.discretion.schemas import EvaluationRead
from zhifa.inspections.evidence import EvidenceRead
from zhifa.models.inspections import AnswerResult, Measure
from zhifa.subjects.schemas import SubjectRead

Text = Field(default="", max_length=2000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- Tasks ---


class TaskCreate(_In):
    """A planned task: at least two officers, the lead first (行政处罚法 art. 42)."""

    subject_id: int
    window_start: datetime
    window_end: datetime
    officer_ids: list[int] = Field(max_length=20, description="Lead first; at least two")
    title: str = Field(default="", max_length=200)
    note: str = Text


class AdHocTaskIn(_In):
    """A patrol inspection started on site by the caller (the lead)."""

    client_uuid: str = Field(max_length=40)
    subject_id: int
    second_officer_id: int
    note: str = Text
    device_time: datetime | None = None


class TaskCancel(_In):
    reason: str = Field(default="", max_length=2000)


class TaskReassign(_In):
    officer_ids: list[int] = Field(max_length=20, description="Lead first; at least two")


class SubjectBrief(BaseModel):
    id: int
    name: str
    address: str
    lon: float | None
    lat: float | None
    kind: str
    subject_type: str


class OfficerBrief(BaseModel):
    id: int
    name: str
    cert_no: str | None


class TaskRead(BaseModel):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    title: str
    window_start: datetime
    window_end: datetime
    subject: SubjectBrief
    officers: list[OfficerBrief]
    lead_officer_id: int
    distance_m: float | None = None
    my_check_in: str | None = None
    present_officer_ids: list[int]
    unit_id: int | None
    origin_task_id: int | None
    origin_ref: str
    note: str
    cancel_reason: str
    inspection_id: int | None = None


# --- Check-in ---


class CheckInIn(_In):
    client_uuid: str = Field(max_length=40)
    lon: float = Field(ge=-180, le=180, description="WGS-84 longitude")
    lat: float = Field(ge=-90, le=90, description="WGS-84 latitude")
    accuracy_m: float = Field(ge=0, le=100_000, description="The fix's accuracy radius, metres")
    device_time: datetime
    offline: bool = False
    exception_reason: str | None = Field(default=None, max_length=2000)


class CheckInDecision(_In):
    approve: bool
    note: str = Text


class CheckInRead(BaseModel):
    id: int
    task_id: int
    officer_id: int
    officer_name: str
    outcome: str
    outcome_label: str
    refusal: str
    message: str
    distance_m: float
    accuracy_m: float
    lon: float
    lat: float
    server_time: datetime
    device_time: datetime
    offline: bool
    exception_reason: str
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str


# --- Submission ---


class PenaltyIn(_In):
    """当场处罚: the discretion engine's input for this act (see ``EvaluationIn``)."""

    act_date: date
    party_type: str = Field(max_length=20)
    facts: dict[str, Any] = Field(default_factory=dict, max_length=40)
    circumstances: list[str] = Field(default_factory=list, max_length=30)
    mitigation: str | None = Field(default=None, max_length=20)
    chosen_fen: Any = Field(default=None, description="The amount decided, if not the recommended")
    reason: str = Field(default="", max_length=2000, description="Why the amount differs")


class AnswerIn(_In):
    item_code: str = Field(min_length=1, max_length=60)
    result: AnswerResult
    reason: str = Text
    note: str = Text
    measure: Measure = Measure.NONE
    power_code: str | None = Field(default=None, max_length=60)
    rectify_deadline: date | None = None
    penalty: PenaltyIn | None = None

    @field_validator("measure", mode="before")
    @classmethod
    def _none_is_no_measure(cls, value: Any) -> Any:
        return Measure.NONE if value is None or value == "" else value


class SubmissionIn(_In):
    client_uuid: str = Field(max_length=40)
    checklist_sha256: str = Field(max_length=64)
    device_time: datetime | None = None
    summary: str = Field(default="", max_length=10_000)
    answers: list[AnswerIn] = Field(max_length=500)
    evidence_uuids: list[str] = Field(default_factory=list, max_length=500)


class AmendmentIn(AnswerIn):
    amendment_reason: str = Field(default="", max_length=2000)


class RangeRead(BaseModel):
    min_fen: int
    max_fen: int


class CitationText(BaseModel):
    role: str
    label: str
    text: str


class PenaltyRead(BaseModel):
    amount_fen: int
    amount_yuan: str
    recommended_fen: int | None
    recommended_yuan: str | None
    deviation: str
    reason: str
    party_type: str
    act_date: date | None
    power_code: str
    power_name: str
    level: str
    tier_range: RangeRead | None
    statutory_range: RangeRead | None
    simple_procedure_cap_fen: int | None
    citations: list[CitationText]


class AnswerRead(BaseModel):
    item_code: str
    item_text: str
    item_version: int
    result: str
    result_label: str
    reason: str
    note: str
    measure: str
    measure_label: str
    power_code: str | None
    power_name: str | None
    rectify_deadline: date | None
    penalty: PenaltyRead | None
    amended: bool
    answered_by_id: int | None
    answered_at: datetime | None


class AmendmentRead(BaseModel):
    id: int
    item_code: str
    previous: dict[str, Any]
    amended: dict[str, Any]
    reason: str
    amended_by_id: int
    created_at: datetime


class DocumentRef(BaseModel):
    id: int
    public_id: str
    doc_type: str
    doc_type_label: str
    number_text: str
    status: str
    issued_at: datetime
    pdf_sha256: str
    verify_url: str
    pdf_url: str


class InspectionRead(BaseModel):
    id: int
    task_id: int
    subject_id: int
    status: str
    status_label: str
    started_by_id: int
    submitted_by_id: int | None
    submitted_at: datetime | None
    summary: str
    checklist_on: date
    checklist_sha256: str
    content_sha256: str
    answers: list[AnswerRead]
    amendments: list[AmendmentRead]
    follow_up_task_id: int | None
    case_lead_ids: list[int]
    evidence: list[EvidenceRead]
    documents: list[DocumentRef]


# --- The bundle the device keeps offline ---


class FactRef(BaseModel):
    key: str
    label: str


class Quote(BaseModel):
    """The engine's figure for a power with no facts and no circumstances, act date today."""

    needs_facts: list[FactRef]
    evaluation: EvaluationRead | None
    # What the app needs to compute a fine that needs facts offline (bundle.offline_payload).
    offline: dict[str, Any] | None = None
    reason: str | None = Field(
        default=None,
        description="Why there is no evaluation: needs_facts, no_benchmark, party_type_unknown, "
        "party_type_not_applicable, not_computable",
    )
    message: str | None = None


class SimpleProcedureCaps(BaseModel):
    person_fen: int
    organisation_fen: int


class TaskBundle(TaskRead):
    subject: SubjectRead  # type: ignore[assignment]
    checklist: dict[str, Any]
    checklist_sha256: str
    quotes: dict[str, Quote]
    party_type: str | None
    inspection: InspectionRead | None
    check_ins: list[CheckInRead]
    documents: list[DocumentRef]
    simple_procedure_caps: SimpleProcedureCaps


# --- Case leads ---


class CaseLeadRead(BaseModel):
    id: int
    inspection_id: int
    task_id: int
    subject_id: int
    subject_name: str
    item_code: str
    power_code: str | None
    facts: str
    status: str
    status_label: str
    created_by_id: int
    created_at: datetime
