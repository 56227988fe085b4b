"""API shapes for powers, benchmarks, subject types, check items, checklists and the policy.

Inputs name things by code (power, department, unit, check item, subject type) and cite provisions
in the published form (``《中华人民共和国大气污染防治法》第一百一十八条第三款``), as the power
lists bureaus publish do; the service resolves them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from zhifa.catalog.policy import PolicySpec
from zhifa.catalog.spec import BenchmarkSpec, PartyType
from zhifa.models.catalog import CitationRole, PowerKind, PowerStatus
from zhifa.org.roles import Role

CatalogCode = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
Note = Field(default="", max_length=2000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResponsibilityIn(_In):
    """责任清单: who is accountable for the power and how fast it must act."""

    unit_code: str | None = Field(default=None, max_length=40)
    role: Role = Role.OFFICER
    act_within_days: int | None = Field(default=None, ge=1, le=3650)
    duties: str = Field(default="", max_length=2000)


class PowerVersionIn(_In):
    name: str = Field(min_length=1, max_length=300)
    kind: PowerKind
    department: str = Field(min_length=1, max_length=100, description="Department code or name")
    party_types: list[PartyType] = Field(min_length=1, max_length=2)
    violated: str = Field(default="", max_length=4000, description="违法依据, as citations")
    penalty: str = Field(default="", max_length=4000, description="处罚依据, as citations")
    penalty_text: str = Field(default="", max_length=4000, description="处罚种类和幅度")
    responsibility: ResponsibilityIn = Field(default_factory=ResponsibilityIn)
    status: PowerStatus = PowerStatus.ACTIVE
    effective_from: date
    note: str = Note

    @field_validator("party_types")
    @classmethod
    def _distinct(cls, value: list[PartyType]) -> list[PartyType]:
        if len(set(value)) != len(value):
            raise ValueError("each party type once")
        return sorted(value)


class PowerCreate(PowerVersionIn):
    code: str = CatalogCode


class BenchmarkVersionIn(_In):
    spec: BenchmarkSpec
    effective_from: date
    note: str = Note


class SubjectTypeIn(_In):
    code: str = CatalogCode
    name: str = Field(min_length=1, max_length=100)
    active: bool = True


class CheckItemVersionIn(_In):
    text: str = Field(min_length=1, max_length=1000)
    guidance: str = Field(default="", max_length=4000)
    evidence: list[str] = Field(default_factory=list, max_length=4)
    department: str = Field(min_length=1, max_length=100)
    power_codes: list[str] = Field(default_factory=list, max_length=50)
    effective_from: date
    note: str = Note

    @field_validator("evidence")
    @classmethod
    def _known_evidence(cls, value: list[str]) -> list[str]:
        allowed = ("photo", "video", "audio", "document")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValueError(f"evidence must be among {', '.join(allowed)}")
        return [v for v in allowed if v in value]


class CheckItemCreate(CheckItemVersionIn):
    code: str = CatalogCode


class ChecklistVersionIn(_In):
    name: str = Field(min_length=1, max_length=200)
    subject_type: str = Field(min_length=1, max_length=64, description="Subject type code")
    item_codes: list[str] = Field(min_length=1, max_length=200)
    active: bool = True
    effective_from: date
    note: str = Note

    @field_validator("item_codes")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a check item appears twice in the checklist")
        return value


class ChecklistCreate(ChecklistVersionIn):
    code: str = CatalogCode


class PolicyVersionIn(_In):
    spec: PolicySpec
    effective_from: date
    note: str = Field(min_length=1, max_length=2000)


# ---- reads -------------------------------------------------------------------------------


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class VersionInfo(ReadModel):
    version: int
    effective_from: date
    note: str
    content_sha256: str
    recorded_by_id: int | None


class CitationRead(BaseModel):
    role: CitationRole
    provision_id: int
    paragraph: int
    item: int
    title: str
    label: str  # 《…》第…条第…款
    text: str  # of the provision version in force on the date asked for


class PowerSummary(BaseModel):
    code: str
    name: str
    kind: PowerKind
    department_code: str
    department_name: str
    party_types: list[PartyType]
    status: PowerStatus
    version: int
    effective_from: date
    has_benchmark: bool


class PowerPage(BaseModel):
    items: list[PowerSummary]
    total: int


class PowerVersionRead(VersionInfo):
    name: str
    kind: PowerKind
    department_id: int
    party_types: list[PartyType]
    penalty_text: str
    responsibility: dict[str, Any]
    status: PowerStatus
    citations: list[dict[str, Any]]


class BenchmarkVersionRead(VersionInfo):
    spec: dict[str, Any]


class PowerDetail(BaseModel):
    code: str
    district_code: str
    on: date
    current: PowerSummary | None
    citations: list[CitationRead]
    responsibility: dict[str, Any]
    penalty_text: str
    versions: list[PowerVersionRead]
    benchmark: BenchmarkVersionRead | None
    benchmark_versions: list[BenchmarkVersionRead]


class WriteResult(BaseModel):
    code: str
    version: int
    effective_from: date
    created: bool  # False: the same content was already in force, nothing was recorded


class SubjectTypeRead(ReadModel):
    id: int
    code: str
    name: str
    active: bool


class CheckItemRead(BaseModel):
    code: str
    version: int
    effective_from: date
    text: str
    guidance: str
    evidence: list[str]
    department_code: str
    department_name: str
    power_codes: list[str]


class ChecklistSummary(BaseModel):
    code: str
    name: str
    subject_type: str
    subject_type_name: str
    version: int
    effective_from: date
    items: int
    departments: list[str]


class ChecklistRead(ChecklistSummary):
    item_codes: list[str]
    versions: list[VersionInfo]


class PolicyRead(BaseModel):
    version: int | None  # None: no district policy recorded, the defaults apply
    effective_from: date | None
    note: str
    spec: PolicySpec
