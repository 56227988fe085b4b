"""Routing (分拨): who handles a complaint, from its category and its place.

- Category → department: the category's ``department_id``. A category without one is a matter the
  bureau holds no power over: the complaint is transferred to ``category.transfer_to``.
- Place → grid → owning squad (``org.grids.index``). A point outside the district (its
  ``ComplaintSettings.boundary``, or without one the extent of its grids) is transferred as out of
  district. Inside the district but in no grid, or with an address and no point, the complaint is
  owned by ``ComplaintSettings.default_unit_id`` and ``note`` tells the dispatcher what to do.

``route`` decides and writes nothing; the reasons are public (the citizen reads them) and Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from zhifa.complaints import repository as repo
from zhifa.models.complaints import ComplaintCategory, ComplaintSettings
from zhifa.org.grids import index

# Public wording ([M]: local practice).
NOT_OUR_POWER = "该事项不属于本局职权范围，已转 {to} 办理"
OUT_OF_DISTRICT = "投诉地点不在本区县范围内"
# Whom an out-of-district complaint goes to: the place's own district, named by the citizen's
# platform when it forwards it ([M]).
OUT_OF_DISTRICT_TO = "事发地所在区（市、县）"
SOME_AGENCY = "有关部门"
NO_GRID_NOTE = "投诉地点不在任何网格内，请人工指派"
NO_POINT_NOTE = "无坐标，请人工定位"


@dataclass(frozen=True)
class Route:
    unit_id: int | None
    grid_id: int | None
    department_id: int | None
    # Set when the complaint is transferred at intake: to whom and why (public).
    transfer_to: str | None = None
    transfer_reason: str | None = None
    # For the dispatcher (not public): why the place gave no squad.
    note: str = ""

    @property
    def transfer(self) -> bool:
        return self.transfer_to is not None


def route(
    session: Session,
    *,
    district_code: str,
    category: ComplaintCategory,
    lon: float | None,
    lat: float | None,
) -> Route:
    """Where a complaint of ``category`` at (lon, lat) goes (see the module docstring)."""
    settings = repo.settings_row(session, district_code)
    default_unit = settings.default_unit_id if settings is not None else None
    department = category.department_id
    if lon is None or lat is None:
        placed = Route(default_unit, None, department, note=NO_POINT_NOTE)
    elif not inside_district(session, district_code, settings, lon, lat):
        return Route(
            default_unit,
            None,
            department,
            transfer_to=OUT_OF_DISTRICT_TO,
            transfer_reason=OUT_OF_DISTRICT,
            note=OUT_OF_DISTRICT,
        )
    else:
        grid = index.grid_at(session, district_code, lon, lat)
        if grid is None:
            placed = Route(default_unit, None, department, note=NO_GRID_NOTE)
        else:
            placed = Route(grid.unit_id, grid.id, department)
    if department is None:
        to = category.transfer_to.strip() or SOME_AGENCY
        reason = NOT_OUR_POWER.format(to=to)
        return Route(placed.unit_id, placed.grid_id, None, to, reason, placed.note)
    return placed


def inside_district(
    session: Session,
    district_code: str,
    settings: ComplaintSettings | None,
    lon: float,
    lat: float,
) -> bool:
    """Whether the point lies in the district: its boundary (border included), else the extent
    of its grids; a district with neither cannot tell, and takes the point in."""
    boundary = settings.boundary if settings is not None else None
    if boundary:
        return bool(_shape(boundary).covers(Point(lon, lat)))
    box = index.extent(session, district_code)
    if box is None:
        return True
    min_lon, min_lat, max_lon, max_lat = box
    return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def _shape(geojson: dict[str, Any]) -> Any:
    """A GeoJSON Polygon / MultiPolygon (or a Feature holding one) as a shapely geometry."""
    if geojson.get("type") == "Feature":
        geojson = geojson["geometry"]
    return shape(geojson)
