"""API shapes of the subject registry (``docs/field-api.md`` §Subjects)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from zhifa.models.subjects import RiskLevel, SubjectKind


class Licence(BaseModel):
    """A licence the subject holds (排水许可证, 网络文化经营许可证 …)."""

    name: str = Field(min_length=1, max_length=100)
    number: str = Field(default="", max_length=100)
    issuer: str = Field(default="", max_length=100)
    valid_until: date | None = None


class SubjectIn(BaseModel):
    kind: SubjectKind
    name: str = Field(min_length=1, max_length=200)
    uscc: str | None = Field(default=None, max_length=40, description="统一社会信用代码")
    id_card: str | None = Field(
        default=None, max_length=40, description="居民身份证号 (persons only); stored encrypted"
    )
    representative: str = Field(default="", max_length=100, description="法定代表人/负责人")
    phone: str = Field(default="", max_length=40)
    address: str = Field(default="", max_length=300)
    subject_type: str = Field(min_length=1, max_length=60, description="SubjectType code")
    risk_level: RiskLevel = RiskLevel.LOW
    lon: float | None = Field(default=None, description="WGS-84 longitude")
    lat: float | None = Field(default=None, description="WGS-84 latitude")
    geofence: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon")
    geofence_radius_m: float | None = Field(default=None, description="10–2,000 m")
    licences: list[Licence] = Field(default_factory=list, max_length=50)
    note: str = Field(default="", max_length=2000)


class SubjectUpdate(BaseModel):
    """Only the fields sent change; send null to clear an optional one (``uscc``, ``id_card``,
    ``lon``/``lat``, ``geofence``, ``geofence_radius_m``). ``active: false`` deactivates."""

    kind: SubjectKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    uscc: str | None = Field(default=None, max_length=40)
    id_card: str | None = Field(default=None, max_length=40)
    representative: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    subject_type: str | None = Field(default=None, min_length=1, max_length=60)
    risk_level: RiskLevel | None = None
    lon: float | None = None
    lat: float | None = None
    geofence: dict[str, Any] | None = None
    geofence_radius_m: float | None = None
    licences: list[Licence] | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=2000)
    active: bool | None = None


class SubjectRead(BaseModel):
    id: int
    district_code: str
    kind: SubjectKind
    kind_label: str
    name: str
    uscc: str | None
    id_card_masked: str | None
    representative: str
    phone: str
    address: str
    subject_type: str
    subject_type_name: str
    risk_level: RiskLevel
    risk_label: str
    lon: float | None
    lat: float | None
    geofence: dict[str, Any] | None
    geofence_radius_m: float | None
    grid_id: int | None
    unit_id: int | None
    licences: list[dict[str, Any]]
    note: str
    active: bool
    distance_m: float | None = Field(
        default=None, description="From the `near` point, when the search gave one"
    )


class SubjectPage(BaseModel):
    items: list[SubjectRead]
    total: int


class RevealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="Why the full number is needed")


class RevealRead(BaseModel):
    id_card: str


# ---- history ----------------------------------------------------------------------------------


class HistoryOfficer(BaseModel):
    id: int
    name: str
    cert_no: str | None


class HistoryInspection(BaseModel):
    id: int
    task_id: int
    task_kind: str
    task_kind_label: str
    status: str
    status_label: str
    date: dt.date
    submitted_at: datetime | None
    officers: list[HistoryOfficer]
    passed: int
    failed: int
    not_applicable: int


class HistoryFinding(BaseModel):
    inspection_id: int
    date: dt.date
    item_code: str
    item_text: str
    reason: str
    measure: str
    measure_label: str
    power_code: str | None
    rectify_deadline: dt.date | None
    amended: bool


class HistoryPenalty(BaseModel):
    inspection_id: int
    date: dt.date
    item_code: str
    power_code: str | None
    amount_fen: int | None
    amount_yuan: str | None


class HistoryDocument(BaseModel):
    id: int
    public_id: str
    doc_type: str
    doc_type_label: str
    number_text: str
    issued_at: datetime
    status: str
    inspection_id: int | None
    verify_url: str


class HistoryCaseLead(BaseModel):
    id: int
    inspection_id: int
    item_code: str
    power_code: str | None
    facts: str
    status: str
    status_label: str
    created_at: datetime


class SubjectHistory(BaseModel):
    subject_id: int
    inspections: list[HistoryInspection]
    findings: list[HistoryFinding]
    penalties: list[HistoryPenalty]
    documents: list[HistoryDocument]
    case_leads: list[HistoryCaseLead]


# ---- import -----------------------------------------------------------------------------------


class ImportProblem(BaseModel):
    row: int = Field(description="Row number as the spreadsheet shows it (the header is row 1)")
    column: str
    message: str


class ImportReport(BaseModel):
    dry_run: bool
    file: str
    rows: int
    created: int
    existing: int = Field(description="Rows matching a registered subject: left as they are")
    created_ids: list[int]
