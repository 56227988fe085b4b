"""JSON API for officers (/api/v1/officers): read within scope, change with org:manage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from zhifa.models.org import OfficerStatus
from zhifa.org.auth import DbSession, OrgManage, OrgRead
from zhifa.org.officers.repository import OfficerFilter
from zhifa.org.officers.schemas import OfficerCreate, OfficerRead, OfficerUpdate
from zhifa.org.officers.service import officer_service
from zhifa.org.roles import Role

router = APIRouter(prefix="/api/v1/officers", tags=["officers"])


@router.get("", response_model=list[OfficerRead])
def list_officers(
    session: DbSession,
    actor: OrgRead,
    unit_id: int | None = None,
    role: Role | None = None,
    status: OfficerStatus | None = None,
    q: Annotated[str, Query(max_length=100, description="Name or 执法证号 contains")] = "",
    district_code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[OfficerRead]:
    """Officers in your data scope, filtered by unit, role, status or a search text."""
    criteria = OfficerFilter(unit_id, role, status, q, district_code)
    rows = officer_service.list(session, actor, criteria=criteria, limit=limit, offset=offset)
    return [OfficerRead.model_validate(o) for o in rows]


@router.post("", response_model=OfficerRead, status_code=201)
def create_officer(
    request: Request, session: DbSession, actor: OrgManage, body: OfficerCreate
) -> OfficerRead:
    """Create an officer account with an initial password (password policy applies)."""
    min_length = request.app.state.settings.password_min_length
    row = officer_service.create(session, actor, data=body, password_min_length=min_length)
    return OfficerRead.model_validate(row)


@router.get("/{officer_id}", response_model=OfficerRead)
def get_officer(session: DbSession, actor: OrgRead, officer_id: int) -> OfficerRead:
    """One officer in your data scope."""
    return OfficerRead.model_validate(officer_service.get(session, actor, officer_id=officer_id))


@router.patch("/{officer_id}", response_model=OfficerRead)
def update_officer(
    session: DbSession, actor: OrgManage, officer_id: int, body: OfficerUpdate
) -> OfficerRead:
    """Change an officer's name, 执法证, unit, phone, roles, scope or status."""
    row = officer_service.update(session, actor, officer_id=officer_id, data=body)
    return OfficerRead.model_validate(row)
