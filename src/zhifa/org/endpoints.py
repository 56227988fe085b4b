"""JSON API for organisation administration: districts, departments, units (officers and grids
live in their nested folders and are mounted here). Read = org:read within scope; change =
org:manage; districts = districts:manage."""

from __future__ import annotations

from fastapi import APIRouter

from zhifa.org.auth import DbSession, DistrictsManage, OrgManage, OrgRead
from zhifa.org.grids.endpoints import router as grids_router
from zhifa.org.officers.endpoints import router as officers_router
from zhifa.org.schemas import (
    DepartmentCreate,
    DepartmentRead,
    DepartmentUpdate,
    DistrictCreate,
    DistrictRead,
    DistrictUpdate,
    UnitCreate,
    UnitMove,
    UnitRead,
    UnitUpdate,
)
from zhifa.org.service import department_service, district_service, unit_service

districts = APIRouter(prefix="/api/v1/districts", tags=["districts"])
departments = APIRouter(prefix="/api/v1/departments", tags=["departments"])
units = APIRouter(prefix="/api/v1/units", tags=["units"])


@districts.get("", response_model=list[DistrictRead])
def list_districts(session: DbSession, actor: OrgRead) -> list[DistrictRead]:
    """Districts in your data scope."""
    return [DistrictRead.model_validate(d) for d in district_service.list(session, actor)]


@districts.post("", response_model=DistrictRead, status_code=201)
def create_district(
    session: DbSession, actor: DistrictsManage, body: DistrictCreate
) -> DistrictRead:
    """Create a district in your city (needs city scope)."""
    return DistrictRead.model_validate(district_service.create(session, actor, data=body))


@districts.get("/{code}", response_model=DistrictRead)
def get_district(session: DbSession, actor: OrgRead, code: str) -> DistrictRead:
    """One district in your data scope."""
    return DistrictRead.model_validate(district_service.get(session, actor, code=code))


@districts.patch("/{code}", response_model=DistrictRead)
def update_district(
    session: DbSession, actor: DistrictsManage, code: str, body: DistrictUpdate
) -> DistrictRead:
    """Change a district's name, bureau name, centre, fictional flag or active flag."""
    row = district_service.update(session, actor, code=code, data=body)
    return DistrictRead.model_validate(row)


@departments.get("", response_model=list[DepartmentRead])
def list_departments(
    session: DbSession, actor: OrgRead, district_code: str | None = None, active: bool | None = None
) -> list[DepartmentRead]:
    """Source departments (城管、规划、住建 …) in your data scope."""
    rows = department_service.list(session, actor, district_code=district_code, active=active)
    return [DepartmentRead.model_validate(d) for d in rows]


@departments.post("", response_model=DepartmentRead, status_code=201)
def create_department(
    session: DbSession, actor: OrgManage, body: DepartmentCreate
) -> DepartmentRead:
    """Add a source department to a district."""
    return DepartmentRead.model_validate(department_service.create(session, actor, data=body))


@departments.get("/{department_id}", response_model=DepartmentRead)
def get_department(session: DbSession, actor: OrgRead, department_id: int) -> DepartmentRead:
    """One source department."""
    row = department_service.get(session, actor, department_id=department_id)
    return DepartmentRead.model_validate(row)


@departments.patch("/{department_id}", response_model=DepartmentRead)
def update_department(
    session: DbSession, actor: OrgManage, department_id: int, body: DepartmentUpdate
) -> DepartmentRead:
    """Change a department's code, name or active flag."""
    row = department_service.update(session, actor, department_id=department_id, data=body)
    return DepartmentRead.model_validate(row)


@departments.post("/{department_id}/deactivate", response_model=DepartmentRead)
def deactivate_department(
    session: DbSession, actor: OrgManage, department_id: int
) -> DepartmentRead:
    """Deactivate a source department (it stays on record)."""
    row = department_service.deactivate(session, actor, department_id=department_id)
    return DepartmentRead.model_validate(row)


@units.get("", response_model=list[UnitRead])
def list_units(
    session: DbSession, actor: OrgRead, district_code: str | None = None
) -> list[UnitRead]:
    """Units in your data scope, in tree order (by path), with active officer counts."""
    return unit_service.list(session, actor, district_code=district_code)


@units.post("", response_model=UnitRead, status_code=201)
def create_unit(session: DbSession, actor: OrgManage, body: UnitCreate) -> UnitRead:
    """Create a bureau, brigade or squad under its parent."""
    return UnitRead.model_validate(unit_service.create(session, actor, data=body))


@units.get("/{unit_id}", response_model=UnitRead)
def get_unit(session: DbSession, actor: OrgRead, unit_id: int) -> UnitRead:
    """One unit in your data scope."""
    return UnitRead.model_validate(unit_service.get(session, actor, unit_id=unit_id))


@units.patch("/{unit_id}", response_model=UnitRead)
def update_unit(session: DbSession, actor: OrgManage, unit_id: int, body: UnitUpdate) -> UnitRead:
    """Rename a unit or change its code or phone."""
    row = unit_service.update(session, actor, unit_id=unit_id, data=body)
    return UnitRead.model_validate(row)


@units.post("/{unit_id}/deactivate", response_model=UnitRead)
def deactivate_unit(session: DbSession, actor: OrgManage, unit_id: int) -> UnitRead:
    """Deactivate a unit whose sub-units are already deactivated."""
    return UnitRead.model_validate(unit_service.deactivate(session, actor, unit_id=unit_id))


@units.post("/{unit_id}/move", response_model=UnitRead)
def move_unit(session: DbSession, actor: OrgManage, unit_id: int, body: UnitMove) -> UnitRead:
    """Move a unit (and its subtree) under another parent in the same district."""
    row = unit_service.move(session, actor, unit_id=unit_id, data=body)
    return UnitRead.model_validate(row)


router = APIRouter()
for _sub in (districts, departments, units, officers_router, grids_router):
    router.include_router(_sub)
