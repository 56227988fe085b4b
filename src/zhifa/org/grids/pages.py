"""HTML page for grids: a Leaflet map of the squads' grids (no tiles needed), a table, and the
GeoJSON import form (paste or upload)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from zhifa.errors import InvalidInput
from zhifa.models.org import Grid
from zhifa.org.auth import DbSession, OrgManage, OrgRead
from zhifa.org.forms import done, page_context
from zhifa.org.grids.endpoints import localised
from zhifa.org.grids.service import grid_service
from zhifa.org.service import unit_service
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
PALETTE = ("#0b5cad", "#b54708", "#067647", "#9e1f63", "#5925dc", "#b42318", "#0e7090", "#4d7c0f")


def feature_collection(grids: list[Grid], unit_names: dict[int, str]) -> dict[str, Any]:
    """The grids as GeoJSON for the map, one colour per squad."""
    colours = {uid: PALETTE[i % len(PALETTE)] for i, uid in enumerate(sorted(unit_names))}
    features = [
        {
            "type": "Feature",
            "geometry": g.geometry,
            "properties": {
                "code": g.code,
                "name": g.name,
                "unit": unit_names.get(g.unit_id, ""),
                "colour": colours.get(g.unit_id, PALETTE[0]),
            },
        }
        for g in grids
        if g.active
    ]
    return {"type": "FeatureCollection", "features": features}


@router.get("/admin/grids")
def show_grids(request: Request, session: DbSession, actor: OrgRead) -> Response:
    grids = grid_service.list(session, actor)
    unit_names = {u.id: u.name for u in unit_service.list(session, actor)}
    ctx = page_context(
        actor, grids=grids, unit_names=unit_names, collection=feature_collection(grids, unit_names)
    )
    return render(request, "org/grids.html", ctx)


def _upload_text(file: UploadFile | None) -> str:
    if file is None or not file.filename:
        return ""
    return file.file.read().decode("utf-8-sig", errors="replace")


def _load(text: str) -> Any:
    if not text.strip():
        raise InvalidInput("Paste a GeoJSON FeatureCollection or choose a file.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("The import is not valid JSON: {error}.", error=str(exc)) from None


@router.post("/admin/grids/import")
def import_grids(
    request: Request,
    actor: OrgManage,
    session: DbSession,
    geojson: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    collection = _load(_upload_text(file) or geojson)
    try:
        grid_service.import_collection(session, actor, district_code=None, collection=collection)
    except InvalidInput as exc:
        raise localised(request, exc) from None
    return done(request, "/admin/grids")


@router.post("/admin/grids/{grid_id}/deactivate")
def deactivate_grid(
    request: Request, session: DbSession, actor: OrgManage, grid_id: int
) -> Response:
    grid_service.deactivate(session, actor, grid_id=grid_id)
    return done(request, "/admin/grids")
