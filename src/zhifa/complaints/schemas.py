"""API shapes of complaint intake and reading: the complaint as filed (``ComplaintIn``), as read
(``ComplaintRead``, ``ComplaintDetail``), its timeline, media and possible duplicates, the
categories (Open311 services), and the reporter reveal.

Inputs are deliberately lax (plain strings, numbers and lists): ``complaints.intake`` checks them
and refuses with a message a person can act on (``InvalidInput`` naming ``detail.field``), the same
for every channel (hotline form, public page, Open311, 12345 import, upstream poll).

Invariant: no read model carries the reporter's name, phone or e-mail; only ``reporter_masked``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhifa.models.complaints import (
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
    MediaRole,
    Priority,
    SlaState,
)

CategoryCode = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")


class ComplaintIn(BaseModel):
    """A complaint as any channel hands it in. Reporter fields empty or absent: anonymous."""

    category_code: str = Field(default="", description="The category (Open311 service_code)")
    description: str = Field(default="", description="What happened, 1–4,000 characters")
    lon: float | None = Field(default=None, description="WGS-84 longitude")
    lat: float | None = Field(default=None, description="WGS-84 latitude")
    address: str = Field(default="", description="Address; required when there is no point")
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Answers to the category's Open311 attributes"
    )
    media_urls: list[str] = Field(default_factory=list, description="Photo links (http/https)")
    reporter_name: str | None = None
    reporter_phone: str | None = Field(default=None, description="CN mobile or landline")
    reporter_email: str | None = None
    priority: Priority | None = Field(default=None, description="Default: the category's")
    hotline_type: HotlineType | None = Field(default=None, description="Default: the category's")


class ComplaintCreate(ComplaintIn):
    """The hotline operator's entry; with ``client_uuid`` a retry is answered, not repeated."""

    client_uuid: str | None = None


class DuplicateCandidate(BaseModel):
    """An open complaint of the same category near this one in place and time."""

    id: int
    tracking_no: str
    status: ComplaintStatus
    status_label: str
    description: str
    address: str
    lon: float
    lat: float
    distance_m: float
    received_at: datetime
    # Hours between the two complaints' reception (positive: the candidate came earlier).
    age_hours: float


class ComplaintRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    district_code: str
    tracking_no: str
    source: ComplaintSource
    source_ref: str | None
    integration_id: int | None
    category_id: int
    category_code: str = ""
    category_name: str = ""
    hotline_type: HotlineType
    priority: Priority
    description: str
    address: str
    lon: float | None
    lat: float | None
    grid_id: int | None
    unit_id: int | None
    department_id: int | None
    status: ComplaintStatus
    status_label: str = ""
    is_open: bool = True
    routing_note: str
    anonymous: bool
    reporter_masked: str
    attributes: dict[str, Any]
    media_urls: list[str]
    duplicate_of_id: int | None
    officer_ids: list[int]
    task_id: int | None
    subject_id: int | None
    transfer_to: str
    answer: str
    received_at: datetime
    filed_at: datetime | None
    dispatched_at: datetime | None
    taken_at: datetime | None
    arrived_at: datetime | None
    disposed_at: datetime | None
    fed_back_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    dispatch_due: datetime | None
    arrive_due: datetime | None
    handle_due: datetime | None
    feedback_due: datetime | None
    paused_at: datetime | None
    sla_state: SlaState
    escalation_level: int
    rework_count: int
    rating: int | None
    rated_at: datetime | None


class ComplaintCreated(ComplaintRead):
    """The answer to an intake: the complaint, whether it is new, and its possible duplicates."""

    created: bool = True
    duplicates: list[DuplicateCandidate] = Field(default_factory=list)


class ComplaintPage(BaseModel):
    items: list[ComplaintRead]
    total: int


class ComplaintEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    kind_label: str = ""
    status: ComplaintStatus
    status_label: str = ""
    at: datetime
    actor_id: int | None
    actor_name: str = ""
    public: bool
    note: str
    data: dict[str, Any]


class MediaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    complaint_id: int
    role: MediaRole
    role_label: str = ""
    sha256: str
    media_type: str
    size: int
    officer_id: int | None
    client_uuid: str | None
    created_at: datetime
    url: str = ""


class ComplaintDetail(ComplaintRead):
    events: list[ComplaintEventRead] = Field(default_factory=list)
    media: list[MediaRead] = Field(default_factory=list)
    # ``complaints.sla.clocks(complaint, now)`` as JSON (stage, due, state …), when available.
    clocks: list[dict[str, Any]] = Field(default_factory=list)
    duplicates: list[DuplicateCandidate] = Field(default_factory=list)
    merged: list[str] = Field(
        default_factory=list, description="Tracking numbers of complaints merged into this one"
    )


class MergeIn(BaseModel):
    into_id: int = Field(description="The complaint this one duplicates (it survives)")
    note: str = Field(default="", max_length=2000)


class RevealIn(BaseModel):
    reason: str = Field(default="", description="Why the reporter's identity is needed")


class RevealedReporter(BaseModel):
    """The clear values (返回一次): only from ``reporter.reveal``, which ledgers the reveal."""

    complaint_id: int
    tracking_no: str
    name: str | None
    phone: str | None
    email: str | None


class CategoryAttributeIn(BaseModel):
    """An Open311 service-definition attribute (checked by ``complaints.categories``)."""

    code: str = ""
    datatype: str = "string"
    required: bool = False
    variable: bool = True
    order: int | None = None
    description: str = ""
    datatype_description: str = ""
    values: list[dict[str, Any]] = Field(default_factory=list)


class CategoryIn(BaseModel):
    code: str = CategoryCode
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    group: str = Field(default="", max_length=40, description="数字城管 event class")
    keywords: list[str] = Field(default_factory=list)
    hotline_type: HotlineType = HotlineType.COMPLAINT
    department_code: str | None = Field(
        default=None, description="The handling department's code; none: transferred"
    )
    power_codes: list[str] = Field(default_factory=list)
    transfer_to: str = Field(default="", max_length=200)
    sla_profile: str = Field(default="street", max_length=40)
    priority: Priority = Priority.NORMAL
    auto_dispatch: bool = False
    attributes: list[CategoryAttributeIn] = Field(default_factory=list)
    subject_type_code: str = Field(default="", max_length=60)
    sort_order: int = 0
    active: bool = True


class CategoryUpdate(BaseModel):
    """Only the fields sent change (``department_code`` null: no department, transferred)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    group: str | None = Field(default=None, max_length=40)
    keywords: list[str] | None = None
    hotline_type: HotlineType | None = None
    department_code: str | None = None
    power_codes: list[str] | None = None
    transfer_to: str | None = Field(default=None, max_length=200)
    sla_profile: str | None = Field(default=None, max_length=40)
    priority: Priority | None = None
    auto_dispatch: bool | None = None
    attributes: list[CategoryAttributeIn] | None = None
    subject_type_code: str | None = Field(default=None, max_length=60)
    sort_order: int | None = None
    active: bool | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    district_code: str
    code: str
    name: str
    description: str
    group: str
    keywords: list[str]
    hotline_type: HotlineType
    department_id: int | None
    department_code: str | None = None
    department_name: str | None = None
    power_codes: list[str]
    transfer_to: str
    sla_profile: str
    priority: Priority
    auto_dispatch: bool
    attributes: list[dict[str, Any]]
    subject_type_code: str
    sort_order: int
    active: bool
