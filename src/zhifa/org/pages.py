"""HTML pages for organisation administration: districts, departments and the unit tree (officers
and grids have their own pages in their nested folders, mounted here). Thin: parse the form, call
the service, redirect. Forms work as plain posts and with htmx."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from zhifa.org.auth import DbSession, DistrictsManage, OrgManage, OrgRead
from zhifa.org.forms import blank_to_none, done, page_context, parse
from zhifa.org.grids.pages import router as grids_router
from zhifa.org.officers.pages import router as officers_router
from zhifa.org.roles import Permission, ScopeLevel
from zhifa.org.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    DistrictCreate,
    DistrictUpdate,
    UnitCreate,
    UnitMove,
    UnitUpdate,
)
from zhifa.org.service import department_service, district_service, unit_service
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
TextField = Annotated[str, Form()]


@router.get("/admin/districts")
def show_districts(request: Request, session: DbSession, actor: OrgRead) -> Response:
    rows = district_service.list(session, actor)
    can_create = actor.scope.level is ScopeLevel.CITY and actor.can(Permission.DISTRICTS_MANAGE)
    ctx = page_context(actor, districts=rows, can_create=can_create)
    return render(request, "org/districts.html", ctx)


@router.post("/admin/districts")
def create_district(
    request: Request,
    session: DbSession,
    actor: DistrictsManage,
    code: TextField,
    name: TextField,
    bureau_name: Annotated[str, Form()] = "",
    center_lon: Annotated[str, Form()] = "",
    center_lat: Annotated[str, Form()] = "",
    fictional: Annotated[str, Form()] = "",
) -> Response:
    values = blank_to_none({"center_lon": center_lon, "center_lat": center_lat})
    data = parse(
        DistrictCreate,
        {
            "code": code,
            "name": name,
            "bureau_name": bureau_name,
            "fictional": bool(fictional),
            **values,
        },
    )
    district_service.create(session, actor, data=data)
    return done(request, "/admin/districts")


@router.get("/admin/districts/{code}")
def edit_district(
    request: Request, session: DbSession, actor: DistrictsManage, code: str
) -> Response:
    row = district_service.get(session, actor, code=code)
    return render(request, "org/district_edit.html", page_context(actor, district=row))


@router.post("/admin/districts/{code}")
def update_district(
    request: Request,
    session: DbSession,
    actor: DistrictsManage,
    code: str,
    name: TextField,
    bureau_name: Annotated[str, Form()] = "",
    center_lon: Annotated[str, Form()] = "",
    center_lat: Annotated[str, Form()] = "",
    fictional: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
) -> Response:
    values = blank_to_none({"center_lon": center_lon, "center_lat": center_lat})
    data = parse(
        DistrictUpdate,
        {
            "name": name,
            "bureau_name": bureau_name,
            "fictional": bool(fictional),
            "active": bool(active),
            **values,
        },
    )
    district_service.update(session, actor, code=code, data=data)
    return done(request, "/admin/districts")


@router.get("/admin/departments")
def show_departments(request: Request, session: DbSession, actor: OrgRead) -> Response:
    rows = department_service.list(session, actor)
    return render(request, "org/departments.html", page_context(actor, departments=rows))


@router.post("/admin/departments")
def create_department(
    request: Request, session: DbSession, actor: OrgManage, code: TextField, name: TextField
) -> Response:
    data = parse(DepartmentCreate, {"code": code, "name": name})
    department_service.create(session, actor, data=data)
    return done(request, "/admin/departments")


@router.get("/admin/departments/{department_id}")
def edit_department(
    request: Request, session: DbSession, actor: OrgManage, department_id: int
) -> Response:
    row = department_service.get(session, actor, department_id=department_id)
    return render(request, "org/department_edit.html", page_context(actor, department=row))


@router.post("/admin/departments/{department_id}")
def update_department(
    request: Request,
    session: DbSession,
    actor: OrgManage,
    department_id: int,
    code: TextField,
    name: TextField,
) -> Response:
    data = parse(DepartmentUpdate, {"code": code, "name": name})
    department_service.update(session, actor, department_id=department_id, data=data)
    return done(request, "/admin/departments")


@router.post("/admin/departments/{department_id}/deactivate")
def deactivate_department(
    request: Request, session: DbSession, actor: OrgManage, department_id: int
) -> Response:
    department_service.deactivate(session, actor, department_id=department_id)
    return done(request, "/admin/departments")


@router.get("/admin/units")
def show_units(request: Request, session: DbSession, actor: OrgRead) -> Response:
    tree = unit_service.tree(session, actor)
    parents = [u for u in unit_service.list(session, actor) if u.kind != "squad" and u.active]
    return render(request, "org/units.html", page_context(actor, tree=tree, parents=parents))


@router.post("/admin/units")
def create_unit(
    request: Request,
    session: DbSession,
    actor: OrgManage,
    kind: TextField,
    code: TextField,
    name: TextField,
    parent_id: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
) -> Response:
    values = blank_to_none({"parent_id": parent_id})
    data = parse(UnitCreate, {"kind": kind, "code": code, "name": name, "phone": phone, **values})
    row = unit_service.create(session, actor, data=data)
    return done(request, f"/admin/units/{row.id}")


@router.get("/admin/units/{unit_id}")
def show_unit(request: Request, session: DbSession, actor: OrgRead, unit_id: int) -> Response:
    row = unit_service.get(session, actor, unit_id=unit_id)
    parents = [
        u
        for u in unit_service.list(session, actor, district_code=row.district_code)
        if u.kind != "squad" and u.active and not u.path.startswith(row.path)
    ]
    return render(request, "org/unit.html", page_context(actor, unit=row, parents=parents))


@router.post("/admin/units/{unit_id}")
def update_unit(
    request: Request,
    session: DbSession,
    actor: OrgManage,
    unit_id: int,
    code: TextField,
    name: TextField,
    phone: Annotated[str, Form()] = "",
) -> Response:
    data = parse(UnitUpdate, {"code": code, "name": name, "phone": phone})
    unit_service.update(session, actor, unit_id=unit_id, data=data)
    return done(request, f"/admin/units/{unit_id}")


@router.post("/admin/units/{unit_id}/move")
def move_unit(
    request: Request, session: DbSession, actor: OrgManage, unit_id: int, parent_id: TextField
) -> Response:
    unit_service.move(
        session, actor, unit_id=unit_id, data=parse(UnitMove, {"parent_id": parent_id})
    )
    return done(request, f"/admin/units/{unit_id}")


@router.post("/admin/units/{unit_id}/deactivate")
def deactivate_unit(
    request: Request, session: DbSession, actor: OrgManage, unit_id: int
) -> Response:
    unit_service.deactivate(session, actor, unit_id=unit_id)
    return done(request, f"/admin/units/{unit_id}")


router.include_router(officers_router)
router.include_router(grids_router)
