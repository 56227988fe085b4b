"""API shapes for responsibility grids (网格)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhifa.org.schemas import Code, Name


class GridCreate(BaseModel):
    district_code: str | None = Field(default=None, description="Defaults to the squad's")
    code: str = Code
    name: str = Name
    unit_id: int = Field(description="The owning squad (中队)")
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon, or a Feature holding one")
    note: str = Field(default="", max_length=2000)


class GridUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    unit_id: int | None = None
    geometry: dict[str, Any] | None = None
    note: str | None = Field(default=None, max_length=2000)


class GridRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    district_code: str
    code: str
    name: str
    unit_id: int
    geometry: dict[str, Any]
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    area_m2: float
    note: str
    active: bool


class GridImportResult(BaseModel):
    district_code: str
    imported: int
    grids: list[GridRead]
