"""Distance from a GPS fix to a subject's geofence (电子围栏), in metres.

A fence is the subject's GeoJSON Polygon (WGS-84 ``[lon, lat]``) or, without one, a circle of
``geofence_radius_m`` around the subject's point. A subject with neither has no fence.

Distances use a local equirectangular projection centred on the fence (x = R·Δλ·cos φ₀, y = R·Δφ,
R = 6 371 008.8 m, the mean Earth radius), the same as ``kit.geo`` uses for grid areas, then plain
planar geometry (shapely). Within a few kilometres of the fence the error against the geodesic
distance is far below 0.1 % (the projection's scale error grows with the square of the distance
from its centre: about 1.5·10⁻⁷ at 5 km), i.e. centimetres for the tens of metres a check-in
decision turns on, with no projection library to install.

Invariants: a fix inside the polygon or the circle, or on its edge, is 0 m away; distances are
never negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, Polygon

from zhifa.kit.geo import EARTH_RADIUS_M


@dataclass(frozen=True)
class Fence:
    """A polygon (``rings`` as stored) or a circle (``centre`` and ``radius_m``)."""

    rings: list[list[list[float]]] | None = None
    centre: tuple[float, float] | None = None
    radius_m: float | None = None


def fence_of(
    geofence: dict[str, Any] | None,
    lon: float | None,
    lat: float | None,
    radius_m: float | None,
) -> Fence | None:
    """The fence of a subject's columns, or None when it has none."""
    if geofence and geofence.get("type") == "Polygon" and geofence.get("coordinates"):
        return Fence(rings=geofence["coordinates"])
    if lon is not None and lat is not None and radius_m is not None and radius_m > 0:
        return Fence(centre=(lon, lat), radius_m=radius_m)
    return None


class _Projection:
    """Local equirectangular coordinates in metres around (lon0, lat0)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx = EARTH_RADIUS_M * math.cos(math.radians(lat0)) * math.pi / 180
        self.ky = EARTH_RADIUS_M * math.pi / 180

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky)


def distance_m(fence: Fence, lon: float, lat: float) -> float:
    """Metres from the fix (lon, lat) to the fence; 0 inside it."""
    if fence.rings is not None:
        return _to_polygon(fence.rings, lon, lat)
    assert fence.centre is not None
    assert fence.radius_m is not None
    projection = _Projection(*fence.centre)
    x, y = projection.xy(lon, lat)
    return max(0.0, math.hypot(x, y) - fence.radius_m)


def _to_polygon(rings: list[list[list[float]]], lon: float, lat: float) -> float:
    outer = Polygon([(p[0], p[1]) for p in rings[0]])
    centroid = outer.centroid
    projection = _Projection(centroid.x, centroid.y)

    def project(ring: list[list[float]]) -> list[tuple[float, float]]:
        return [projection.xy(p[0], p[1]) for p in ring]

    polygon = Polygon(project(rings[0]), [project(r) for r in rings[1:]])
    return max(0.0, float(polygon.distance(Point(projection.xy(lon, lat)))))
