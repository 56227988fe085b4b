"""HTML pages for officers: the filtered list, a detail page with the edit form, and the new-officer
form. Edit controls are shown only to holders of org:manage."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.models.org import OfficerStatus
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, OrgManage, OrgRead
from zhifa.org.forms import blank_to_none, done, page_context, parse
from zhifa.org.officers.repository import OfficerFilter
from zhifa.org.officers.schemas import OfficerCreate, OfficerRead, OfficerUpdate
from zhifa.org.officers.service import SCOPE_ORDER, officer_service
from zhifa.org.roles import Role
from zhifa.org.schemas import UnitRead
from zhifa.org.service import unit_service
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]


def _options(session: Session, actor: Actor) -> dict[str, Any]:
    units: list[UnitRead] = [u for u in unit_service.list(session, actor) if u.active]
    grantable = SCOPE_ORDER[: SCOPE_ORDER.index(actor.scope.level) + 1]
    return {
        "units": units,
        "roles": list(Role),
        "scopes": grantable,
        "statuses": list(OfficerStatus),
    }


def _choice(enum: type[Role] | type[OfficerStatus], value: str) -> Any:
    return enum(value) if value in {m.value for m in enum} else None


@router.get("/admin/officers")
def show_officers(
    request: Request,
    session: DbSession,
    actor: OrgRead,
    unit_id: str = "",
    role: str = "",
    status: str = "",
    q: str = "",
) -> Response:
    criteria = OfficerFilter(
        int(unit_id) if unit_id.isdigit() else None,
        _choice(Role, role),
        _choice(OfficerStatus, status),
        q[:100],
    )
    rows = [
        OfficerRead.model_validate(o)
        for o in officer_service.list(session, actor, criteria=criteria)
    ]
    units = {u.id: u for u in unit_service.list(session, actor)}
    ctx = page_context(
        actor, officers=rows, unit_map=units, criteria=criteria, **_options(session, actor)
    )
    return render(request, "org/officers.html", ctx)


@router.get("/admin/officers/new")
def new_officer(request: Request, session: DbSession, actor: OrgManage) -> Response:
    ctx = page_context(actor, officer=None, **_options(session, actor))
    return render(request, "org/officer_form.html", ctx)


def _officer_values(
    name: str,
    unit_id: str,
    cert_no: str,
    cert_valid_from: str,
    cert_valid_until: str,
    phone: str,
    roles: list[str] | None,
    scope: str,
    status: str,
) -> dict[str, Any]:
    values = blank_to_none(
        {
            "unit_id": unit_id,
            "cert_no": cert_no,
            "cert_valid_from": cert_valid_from,
            "cert_valid_until": cert_valid_until,
            "scope": scope,
            "status": status,
        }
    )
    return {"name": name, "phone": phone, "roles": roles or [], **values}


@router.post("/admin/officers")
def create_officer(
    request: Request,
    session: DbSession,
    actor: OrgManage,
    username: FormText,
    password: FormText,
    name: FormText,
    unit_id: FormText = "",
    cert_no: FormText = "",
    cert_valid_from: FormText = "",
    cert_valid_until: FormText = "",
    phone: FormText = "",
    roles: Annotated[list[str] | None, Form()] = None,
    scope: FormText = "",
    status: FormText = "",
) -> Response:
    values = _officer_values(
        name, unit_id, cert_no, cert_valid_from, cert_valid_until, phone, roles, scope, status
    )
    data = parse(OfficerCreate, {"username": username, "password": password, **values})
    min_length = request.app.state.settings.password_min_length
    row = officer_service.create(session, actor, data=data, password_min_length=min_length)
    return done(request, f"/admin/officers/{row.id}")


@router.get("/admin/officers/{officer_id}")
def show_officer(request: Request, session: DbSession, actor: OrgRead, officer_id: int) -> Response:
    row = OfficerRead.model_validate(officer_service.get(session, actor, officer_id=officer_id))
    units = {u.id: u for u in unit_service.list(session, actor)}
    ctx = page_context(
        actor, officer=row, unit_map=units, today=date.today(), **_options(session, actor)
    )
    return render(request, "org/officer.html", ctx)


@router.post("/admin/officers/{officer_id}")
def update_officer(
    request: Request,
    session: DbSession,
    actor: OrgManage,
    officer_id: int,
    name: FormText,
    unit_id: FormText = "",
    cert_no: FormText = "",
    cert_valid_from: FormText = "",
    cert_valid_until: FormText = "",
    phone: FormText = "",
    roles: Annotated[list[str] | None, Form()] = None,
    scope: FormText = "",
    status: FormText = "",
) -> Response:
    values = _officer_values(
        name, unit_id, cert_no, cert_valid_from, cert_valid_until, phone, roles, scope, status
    )
    officer_service.update(session, actor, officer_id=officer_id, data=parse(OfficerUpdate, values))
    return done(request, f"/admin/officers/{officer_id}")
