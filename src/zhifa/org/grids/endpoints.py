"""JSON API for grids (/api/v1/grids): read within scope, change and import with org:manage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from zhifa.errors import InvalidInput
from zhifa.org.auth import DbSession, OrgManage, OrgRead
from zhifa.org.grids.schemas import GridCreate, GridImportResult, GridRead, GridUpdate
from zhifa.org.grids.service import grid_service
from zhifa.web.i18n import translate
from zhifa.web.templating import request_locale

router = APIRouter(prefix="/api/v1/grids", tags=["grids"])


def localised(request: Request, exc: InvalidInput) -> InvalidInput:
    """The same refusal with each bad feature's reason also in the reader's language."""
    if isinstance(exc.detail, list):
        locale = request_locale(request)
        exc.detail = [
            {k: v for k, v in p.items() if k not in ("message", "params")}
            | {"problem": translate(locale, p["message"], **p["params"])}
            for p in exc.detail
            if isinstance(p, dict) and "message" in p
        ]
    return exc


@router.get("", response_model=list[GridRead])
def list_grids(
    session: DbSession,
    actor: OrgRead,
    district_code: str | None = None,
    unit_id: int | None = None,
    active: bool | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> list[GridRead]:
    """Grids in your data scope; with lon and lat, only the active grids covering that point."""
    if lon is not None and lat is not None:
        rows = grid_service.containing(session, actor, lon=lon, lat=lat)
    else:
        rows = grid_service.list(
            session, actor, district_code=district_code, unit_id=unit_id, active=active
        )
    return [GridRead.model_validate(g) for g in rows]


@router.post("", response_model=GridRead, status_code=201)
def create_grid(session: DbSession, actor: OrgManage, body: GridCreate) -> GridRead:
    """Create one grid (a GeoJSON Polygon owned by a squad)."""
    return GridRead.model_validate(grid_service.create(session, actor, data=body))


@router.post("/import", response_model=GridImportResult, status_code=201)
def import_grids(
    request: Request,
    session: DbSession,
    actor: OrgManage,
    body: dict[str, Any] = Body(description="GeoJSON FeatureCollection"),
    district_code: str | None = None,
) -> GridImportResult:
    """Import a FeatureCollection (properties code, name, unit_code): all features or none."""
    try:
        rows = grid_service.import_collection(
            session, actor, district_code=district_code, collection=body
        )
    except InvalidInput as exc:
        raise localised(request, exc) from None
    grids = [GridRead.model_validate(g) for g in rows]
    return GridImportResult(
        district_code=district_code or actor.district_code, imported=len(grids), grids=grids
    )


@router.get("/{grid_id}", response_model=GridRead)
def get_grid(session: DbSession, actor: OrgRead, grid_id: int) -> GridRead:
    """One grid in your data scope."""
    return GridRead.model_validate(grid_service.get(session, actor, grid_id=grid_id))


@router.patch("/{grid_id}", response_model=GridRead)
def update_grid(session: DbSession, actor: OrgManage, grid_id: int, body: GridUpdate) -> GridRead:
    """Change a grid's name, squad, polygon or note."""
    return GridRead.model_validate(grid_service.update(session, actor, grid_id=grid_id, data=body))


@router.post("/{grid_id}/deactivate", response_model=GridRead)
def deactivate_grid(session: DbSession, actor: OrgManage, grid_id: int) -> GridRead:
    """Deactivate a grid (it stays on record)."""
    return GridRead.model_validate(grid_service.deactivate(session, actor, grid_id=grid_id))
