"""Geometry for responsibility grids (网格): validate GeoJSON polygons, measure them, test points.

Invariants:
- A grid geometry is one GeoJSON ``Polygon`` (a ``Feature`` holding one is unwrapped) in WGS-84 /
  CGCS2000 ``[lon, lat]`` order, every ring closed with at least 4 positions, valid in the OGC sense
  (no self-intersection), and inside China's bounding box. ``MultiPolygon`` is refused: a squad that
  owns two areas gets two grids, so every later step (routing, maps) handles one shape per grid.
- Areas use a local equirectangular projection centred on the polygon (x = R·Δλ·cos φ₀, y = R·Δφ,
  R = 6 371 008.8 m, the mean Earth radius), then the planar shoelace area. For grid-sized shapes
  (a few kilometres) the error is far below 0.1 %, with no projection library to install.

Refusals are ``GeometryError`` (an ``InvalidInput``, 422) with an English message and ``detail``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

from zhifa.errors import InvalidInput

# China's bounding box (WGS-84), as used for a first plausibility check of coordinates.
CHINA_MIN_LON, CHINA_MAX_LON = 73.66, 135.05
CHINA_MIN_LAT, CHINA_MAX_LAT = 3.86, 53.55
EARTH_RADIUS_M = 6_371_008.8

Ring = list[list[float]]


class GeometryError(InvalidInput):
    code = "invalid_geometry"


@dataclass(frozen=True)
class GridShape:
    """A validated polygon with what a grid row stores beside it."""

    geometry: dict[str, Any]
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    area_m2: float


def in_china(lon: float, lat: float) -> bool:
    return CHINA_MIN_LON <= lon <= CHINA_MAX_LON and CHINA_MIN_LAT <= lat <= CHINA_MAX_LAT


def _fail(message: str, reason: str, **params: Any) -> GeometryError:
    return GeometryError(
        message, detail={"field": "geometry", "reason": reason, **params}, **params
    )


def unwrap_polygon(obj: Any) -> dict[str, Any]:
    """The Polygon geometry of ``obj`` (a Polygon, or a Feature with one); refuse anything else."""
    if not isinstance(obj, dict):
        raise _fail("The geometry must be a GeoJSON object.", "not_an_object")
    if obj.get("type") == "Feature":
        obj = obj.get("geometry")
        if not isinstance(obj, dict):
            raise _fail("The feature has no geometry.", "no_geometry")
    kind = obj.get("type")
    if kind == "MultiPolygon":
        raise _fail(
            "MultiPolygon is not supported: make one grid per polygon.", "multipolygon", kind=kind
        )
    if kind != "Polygon":
        raise _fail("The geometry must be a Polygon, not {kind}.", "not_a_polygon", kind=str(kind))
    return obj


def _position(value: Any) -> list[float]:
    ok = isinstance(value, list | tuple) and len(value) in (2, 3)
    if ok and all(isinstance(c, int | float) and not isinstance(c, bool) for c in value):
        lon, lat = float(value[0]), float(value[1])
        if math.isfinite(lon) and math.isfinite(lat):
            return [lon, lat]
    raise _fail("Every position must be a pair of numbers [lon, lat].", "bad_position")


def _rings(geometry: dict[str, Any]) -> list[Ring]:
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise _fail("The polygon has no coordinates.", "no_coordinates")
    rings: list[Ring] = []
    for ring in coordinates:
        if not isinstance(ring, list):
            raise _fail("Every ring must be a list of positions.", "bad_ring")
        rings.append([_position(p) for p in ring])
    return rings


def _check_ring(ring: Ring) -> None:
    if len(ring) < 4:
        raise _fail(
            "A polygon ring needs at least 4 positions (got {count}).",
            "too_few_positions",
            count=len(ring),
        )
    if ring[0] != ring[-1]:
        raise _fail(
            "The polygon ring is not closed: the last position must equal the first.", "unclosed"
        )


def _check_in_china(rings: list[Ring]) -> None:
    positions = [p for ring in rings for p in ring]
    if all(in_china(lon, lat) for lon, lat in positions):
        return
    if all(in_china(lat, lon) for lon, lat in positions):
        raise _fail(
            "The coordinates look like [lat, lon]; GeoJSON wants [lon, lat].", "swapped_order"
        )
    raise _fail(
        "The polygon lies outside China (longitude 73.66–135.05, latitude 3.86–53.55).",
        "outside_china",
    )


def _check_valid(polygon: Polygon) -> None:
    if not polygon.is_valid:
        raise _fail(
            "The polygon is not valid: {explanation}.",
            "invalid_polygon",
            explanation=explain_validity(polygon),
        )


def area_m2(polygon: Polygon) -> float:
    """Area in square metres through a local equirectangular projection (see the module doc)."""
    lon0, lat0 = polygon.centroid.x, polygon.centroid.y
    kx = EARTH_RADIUS_M * math.cos(math.radians(lat0)) * math.pi / 180
    ky = EARTH_RADIUS_M * math.pi / 180

    def project(ring: Any) -> list[tuple[float, float]]:
        return [((x - lon0) * kx, (y - lat0) * ky) for x, y in ring.coords]

    projected = Polygon(project(polygon.exterior), [project(r) for r in polygon.interiors])
    return float(projected.area)


def grid_shape(obj: Any) -> GridShape:
    """Validate ``obj`` as a grid polygon and return it normalised, with its bbox and area."""
    rings = _rings(unwrap_polygon(obj))
    for ring in rings:
        _check_ring(ring)
    _check_in_china(rings)
    polygon = Polygon(rings[0], rings[1:])
    _check_valid(polygon)
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    return GridShape(
        geometry={"type": "Polygon", "coordinates": rings},
        min_lon=min_lon,
        min_lat=min_lat,
        max_lon=max_lon,
        max_lat=max_lat,
        area_m2=round(area_m2(polygon), 1),
    )


def contains(geometry: dict[str, Any], lon: float, lat: float) -> bool:
    """Whether a stored grid polygon covers the point (its boundary counts as inside)."""
    rings = geometry["coordinates"]
    return bool(Polygon(rings[0], rings[1:]).covers(Point(lon, lat)))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (spherical Earth)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
