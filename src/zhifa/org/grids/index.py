"""Which grid (网格) covers a point: a shapely STRtree per district, kept in the process.

``grid_at(session, district_code, lon, lat)`` answers in microseconds once a district's tree is
built. Before each answer one aggregate query over the district's active grids (count, the sum
and maximum of their ids, the sums of their bounding boxes and areas) tells whether the grid set
changed since the tree was built — in this process or any other — and the tree is rebuilt if
so.
A grid moved without changing its bounding box or area is the one change this cannot see; every
real redraw of a grid changes one of them.

Invariants: only active grids count. A point on a border shared by several grids (or on a shared
corner) belongs to exactly one of them, the one with the lowest grid code, so the same point is
always routed to the same squad. The returned ``Grid`` is loaded in the caller's session (its
owning squad is the current one even if the tree is older).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from shapely import STRtree
from shapely.geometry import Point, Polygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhifa.models.org import Grid

Extent = tuple[float, float, float, float]


@dataclass(frozen=True)
class DistrictIndex:
    signature: tuple[Any, ...]
    ids: tuple[int, ...]
    codes: tuple[str, ...]
    polygons: tuple[Polygon, ...]
    tree: STRtree | None
    # The bounding box of all the district's active grids; None without grids.
    extent: Extent | None

    def covering(self, lon: float, lat: float) -> list[tuple[str, int]]:
        """(code, id) of every grid covering the point, lowest code first."""
        if self.tree is None:
            return []
        point = Point(lon, lat)
        hits = self.tree.query(point, predicate="intersects")
        found = [
            (self.codes[i], self.ids[i])
            for i in (int(h) for h in hits)
            if self.polygons[i].covers(point)
        ]
        return sorted(found)


# Keyed by (database URL, district): one process may speak to several databases (tests do).
_indexes: dict[tuple[str, str], DistrictIndex] = {}
_lock = threading.Lock()


def _active(district_code: str) -> Any:
    return (Grid.district_code == district_code, Grid.active.is_(True))


def signature(session: Session, district_code: str) -> tuple[Any, ...]:
    """A cheap fingerprint of the district's active grid set (one aggregate row); the
    newest creation time tells a database emptied and refilled with lookalike grids apart."""
    row = session.execute(
        select(
            func.count(Grid.id),
            func.max(Grid.id),
            func.sum(Grid.id),
            func.sum(Grid.min_lon),
            func.sum(Grid.min_lat),
            func.sum(Grid.max_lon),
            func.sum(Grid.max_lat),
            func.sum(Grid.area_m2),
            func.max(Grid.created_at),
        ).where(*_active(district_code))
    ).one()
    return tuple(round(v, 7) if isinstance(v, float) else v for v in row)


def _polygon(geometry: dict[str, Any]) -> Polygon:
    rings = geometry["coordinates"]
    return Polygon(rings[0], rings[1:])


def _build(session: Session, district_code: str, sig: tuple[Any, ...]) -> DistrictIndex:
    rows = session.execute(
        select(Grid.id, Grid.code, Grid.geometry).where(*_active(district_code)).order_by(Grid.code)
    ).all()
    polygons = tuple(_polygon(r.geometry) for r in rows)
    extent: Extent | None = None
    if polygons:
        bounds = [p.bounds for p in polygons]
        extent = (
            min(b[0] for b in bounds),
            min(b[1] for b in bounds),
            max(b[2] for b in bounds),
            max(b[3] for b in bounds),
        )
    return DistrictIndex(
        signature=sig,
        ids=tuple(r.id for r in rows),
        codes=tuple(r.code for r in rows),
        polygons=polygons,
        tree=STRtree(polygons) if polygons else None,
        extent=extent,
    )


def index_for(session: Session, district_code: str) -> DistrictIndex:
    """The district's index, rebuilt first when its active grids changed."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), district_code)
    sig = signature(session, district_code)
    current = _indexes.get(key)
    if current is not None and current.signature == sig:
        return current
    built = _build(session, district_code, sig)
    with _lock:
        _indexes[key] = built
    return built


def grid_at(session: Session, district_code: str, lon: float, lat: float) -> Grid | None:
    """The active grid covering the point (the lowest code on a shared border), or None."""
    found = index_for(session, district_code).covering(lon, lat)
    if not found:
        return None
    return session.get(Grid, found[0][1])


def extent(session: Session, district_code: str) -> Extent | None:
    """(min lon, min lat, max lon, max lat) of the district's active grids; None without any."""
    return index_for(session, district_code).extent


def clear() -> None:
    """Forget every built index (tests, and after restoring a database under a running app)."""
    with _lock:
        _indexes.clear()
