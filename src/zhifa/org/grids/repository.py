"""Every query on grids, filtered by the actor's data scope (district, then the squad subtree)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from zhifa.kit.geo import contains
from zhifa.models.org import Grid
from zhifa.org.scope import DataScope


def _scoped(scope: DataScope) -> Select[Grid]:
    stmt = scope.where_district(select(Grid), Grid.district_code)
    return scope.where_unit(stmt, Grid.unit_id)


def grids(
    session: Session,
    scope: DataScope,
    *,
    district_code: str | None = None,
    unit_id: int | None = None,
    active: bool | None = None,
) -> list[Grid]:
    stmt = _scoped(scope)
    if district_code is not None:
        stmt = stmt.where(Grid.district_code == district_code)
    if unit_id is not None:
        stmt = stmt.where(Grid.unit_id == unit_id)
    if active is not None:
        stmt = stmt.where(Grid.active == active)
    return list(session.scalars(stmt.order_by(Grid.district_code, Grid.code)))


def grid(session: Session, scope: DataScope, grid_id: int) -> Grid | None:
    row: Grid | None = session.scalar(_scoped(scope).where(Grid.id == grid_id))
    return row


def grids_containing(session: Session, scope: DataScope, lon: float, lat: float) -> list[Grid]:
    """Active grids in scope covering the point: the bbox columns pre-filter in SQL, then the
    exact point-in-polygon test runs on the few candidates."""
    stmt = _scoped(scope).where(
        Grid.active.is_(True),
        Grid.min_lon <= lon,
        Grid.max_lon >= lon,
        Grid.min_lat <= lat,
        Grid.max_lat >= lat,
    )
    return [g for g in session.scalars(stmt.order_by(Grid.code)) if contains(g.geometry, lon, lat)]


def codes_taken(session: Session, district_code: str, codes: list[str]) -> set[str]:
    """Which of ``codes`` already name a grid in the district (a uniqueness check, no rows out)."""
    stmt = select(Grid.code).where(Grid.district_code == district_code, Grid.code.in_(codes))
    return set(session.scalars(stmt))
