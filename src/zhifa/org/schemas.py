"""API shapes for districts, source departments and the unit tree (局 → 大队 → 中队)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from zhifa.models.org import UnitKind

Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
Name = Field(min_length=1, max_length=100)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DistrictCreate(BaseModel):
    code: str = Field(max_length=6, description="GB/T 2260 county-level code, e.g. 510184")
    name: str = Name
    bureau_name: str = Field(default="", max_length=200)
    center_lon: float | None = None
    center_lat: float | None = None
    fictional: bool = False


class DistrictUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    bureau_name: str | None = Field(default=None, max_length=200)
    center_lon: float | None = None
    center_lat: float | None = None
    fictional: bool | None = None
    active: bool | None = None


class DistrictRead(ReadModel):
    code: str
    name: str
    city_code: str
    bureau_name: str
    fictional: bool
    center_lon: float | None
    center_lat: float | None
    active: bool


class DepartmentCreate(BaseModel):
    district_code: str | None = Field(default=None, description="Defaults to your district")
    code: str = Code
    name: str = Name


class DepartmentUpdate(BaseModel):
    code: str | None = Field(default=None, min_length=1, max_length=40)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None


class DepartmentRead(ReadModel):
    id: int
    district_code: str
    code: str
    name: str
    active: bool


class UnitCreate(BaseModel):
    district_code: str | None = Field(default=None, description="Defaults to the parent's")
    kind: UnitKind
    code: str = Code
    name: str = Name
    parent_id: int | None = None
    phone: str = Field(default="", max_length=40)


class UnitUpdate(BaseModel):
    code: str | None = Field(default=None, min_length=1, max_length=40)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=40)


class UnitMove(BaseModel):
    parent_id: int


class UnitRead(ReadModel):
    id: int
    district_code: str
    kind: UnitKind
    code: str
    name: str
    parent_id: int | None
    path: str
    phone: str
    active: bool
    officer_count: int = 0
