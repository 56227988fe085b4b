"""A subject's place: its point (WGS-84 [lon, lat], inside China) and its geofence, which is a
GeoJSON Polygon checked like a grid (``kit.geo.grid_shape``: closed ring, valid, [lon, lat], in
China) or a circle of 10–2,000 m around the point. A fence needs the point.

Distances are great-circle (haversine, mean Earth radius): for the few kilometres a search covers,
the error against the WGS-84 ellipsoid is under 0.5 %, far below a phone's GPS error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from zhifa.errors import AppError, InvalidInput
from zhifa.kit.geo import EARTH_RADIUS_M, GeometryError, grid_shape, in_china

MIN_RADIUS_M, MAX_RADIUS_M = 10.0, 2_000.0
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180


@dataclass(frozen=True)
class Place:
    lon: float | None
    lat: float | None
    geofence: dict[str, Any] | None
    geofence_radius_m: float | None


def check_point(lon: float | None, lat: float | None) -> list[AppError]:
    if lon is None and lat is None:
        return []
    if lon is None or lat is None:
        field = "lat" if lon is not None else "lon"
        return [
            InvalidInput(
                "Give both the longitude and the latitude, or neither.", detail={"field": field}
            )
        ]
    if in_china(lon, lat):
        return []
    if in_china(lat, lon):
        return [
            InvalidInput(
                "The longitude and latitude look swapped: longitude is the larger number "
                "(about 73–135 in China).",
                detail={"field": "lon"},
            )
        ]
    return [
        InvalidInput(
            "The location lies outside China (longitude 73.66–135.05, latitude 3.86–53.55).",
            detail={"field": "lon"},
        )
    ]


def check_fence(
    geofence: dict[str, Any] | None, radius_m: float | None, *, has_point: bool
) -> tuple[dict[str, Any] | None, list[AppError]]:
    """The normalised polygon (or None) and the problems of the fence."""
    if geofence is None and radius_m is None:
        return None, []
    if geofence is not None and radius_m is not None:
        return None, [
            InvalidInput(
                "Give either a fence polygon or a fence radius, not both.",
                detail={"field": "geofence"},
            )
        ]
    if not has_point:
        field = "geofence" if geofence is not None else "geofence_radius_m"
        return None, [
            InvalidInput(
                "A fence needs the subject's location: give its longitude and latitude.",
                detail={"field": field},
            )
        ]
    if radius_m is not None:
        return None, _check_radius(radius_m)
    try:
        return grid_shape(geofence).geometry, []
    except GeometryError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        exc.detail = {**detail, "field": "geofence"}
        return None, [exc]


def _check_radius(radius_m: float) -> list[AppError]:
    if math.isfinite(radius_m) and MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
        return []
    return [
        InvalidInput(
            "The fence radius must be between {minimum} and {maximum} metres.",
            detail={"field": "geofence_radius_m"},
            minimum=int(MIN_RADIUS_M),
            maximum=int(MAX_RADIUS_M),
        )
    ]


@dataclass(frozen=True)
class Box:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def box_around(lon: float, lat: float, radius_m: float) -> Box:
    """A lon/lat box that contains every point within ``radius_m`` of (lon, lat)."""
    dlat = radius_m / METRES_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    return Box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
