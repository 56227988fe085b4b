"""Every query of the subject registry. Reads are scoped by ``DataScope`` (district, then the
squad subtree through ``Subject.unit_id``); the ``*_in_district`` helpers are uniqueness and
location checks for rules and never hand a row to a caller who may not see it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from zhifa.kit.geo import contains, haversine_m
from zhifa.models.catalog import SubjectType
from zhifa.models.org import Grid, Unit
from zhifa.models.subjects import RiskLevel, Subject, SubjectKind
from zhifa.org.scope import DataScope
from zhifa.subjects.location import box_around


@dataclass(frozen=True)
class Filters:
    q: str = ""
    id_digest: str | None = None  # an exact 居民身份证号 search (its HMAC)
    subject_type: str | None = None
    kind: SubjectKind | None = None
    risk_level: RiskLevel | None = None
    active: bool | None = True
    unit_id: int | None = None


@dataclass(frozen=True)
class Near:
    lon: float
    lat: float
    radius_m: float


def scoped(scope: DataScope) -> Select[Subject]:
    stmt = scope.where_district(select(Subject), Subject.district_code)
    return scope.where_unit(stmt, Subject.unit_id)


def subject(session: Session, scope: DataScope, subject_id: int) -> Subject | None:
    row: Subject | None = session.scalar(scoped(scope).where(Subject.id == subject_id))
    return row


def _filtered(scope: DataScope, f: Filters) -> Select[Subject]:
    stmt = scoped(scope)
    if f.q:
        text = f.q.strip()
        matches = [
            Subject.name.icontains(text, autoescape=True),
            Subject.address.icontains(text, autoescape=True),
            Subject.uscc.contains(text.upper(), autoescape=True),
        ]
        if f.id_digest is not None:
            matches.append(Subject.id_card_digest == f.id_digest)
        stmt = stmt.where(or_(*matches))
    if f.subject_type:
        stmt = stmt.where(Subject.subject_type_code == f.subject_type)
    if f.kind is not None:
        stmt = stmt.where(Subject.kind == f.kind)
    if f.risk_level is not None:
        stmt = stmt.where(Subject.risk_level == f.risk_level)
    if f.active is not None:
        stmt = stmt.where(Subject.active.is_(f.active))
    if f.unit_id is not None:
        stmt = stmt.where(Subject.unit_id == f.unit_id)
    return stmt


def search(
    session: Session, scope: DataScope, f: Filters, *, limit: int, offset: int
) -> tuple[list[Subject], int]:
    stmt = _filtered(scope, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Subject.name, Subject.id).limit(limit).offset(offset))
    return list(rows), int(total)


def search_near(
    session: Session, scope: DataScope, f: Filters, near: Near, *, limit: int, offset: int
) -> tuple[list[tuple[Subject, float]], int]:
    """Subjects within ``near.radius_m``, nearest first: the box pre-filters in SQL (on the
    indexed lon/lat columns), the exact distance is measured here on the few candidates."""
    box = box_around(near.lon, near.lat, near.radius_m)
    stmt = _filtered(scope, f).where(
        Subject.lon.between(box.min_lon, box.max_lon),
        Subject.lat.between(box.min_lat, box.max_lat),
    )
    found = [
        (s, haversine_m(near.lon, near.lat, s.lon, s.lat))
        for s in session.scalars(stmt)
        if s.lon is not None and s.lat is not None
    ]
    inside = sorted((p for p in found if p[1] <= near.radius_m), key=lambda p: (p[1], p[0].id))
    return inside[offset : offset + limit], len(inside)


def all_located(session: Session, scope: DataScope) -> list[Subject]:
    """Every active subject in scope that has a point (for the map)."""
    stmt = scoped(scope).where(Subject.active.is_(True), Subject.lon.is_not(None))
    return list(session.scalars(stmt.order_by(Subject.name)))


# ---- checks for the rules (district-wide, unscoped, no rows handed out of scope) ---------------


def by_uscc_in_district(
    session: Session, district_code: str, uscc: str, *, except_id: int | None = None
) -> Subject | None:
    stmt = select(Subject).where(Subject.district_code == district_code, Subject.uscc == uscc)
    if except_id is not None:
        stmt = stmt.where(Subject.id != except_id)
    return session.scalars(stmt.order_by(Subject.id)).first()


def by_id_digest_in_district(
    session: Session, district_code: str, digest: str, *, except_id: int | None = None
) -> Subject | None:
    stmt = select(Subject).where(
        Subject.district_code == district_code, Subject.id_card_digest == digest
    )
    if except_id is not None:
        stmt = stmt.where(Subject.id != except_id)
    return session.scalars(stmt.order_by(Subject.id)).first()


def by_name_address_in_district(
    session: Session, district_code: str, name: str, address: str
) -> Subject | None:
    stmt = select(Subject).where(
        Subject.district_code == district_code, Subject.name == name, Subject.address == address
    )
    return session.scalars(stmt.order_by(Subject.id)).first()


def grid_at(session: Session, district_code: str, lon: float, lat: float) -> Grid | None:
    """The active grid of the district covering the point (bbox in SQL, exact test here); on a
    shared edge the grid with the smallest code wins, so the answer is stable."""
    stmt = select(Grid).where(
        Grid.district_code == district_code,
        Grid.active.is_(True),
        Grid.min_lon <= lon,
        Grid.max_lon >= lon,
        Grid.min_lat <= lat,
        Grid.max_lat >= lat,
    )
    for row in session.scalars(stmt.order_by(Grid.code)):
        if contains(row.geometry, lon, lat):
            return row
    return None


def unit(session: Session, unit_id: int) -> Unit | None:
    return session.get(Unit, unit_id)


def subject_type(session: Session, district_code: str, code: str) -> SubjectType | None:
    stmt = select(SubjectType).where(
        SubjectType.district_code == district_code, SubjectType.code == code
    )
    row: SubjectType | None = session.scalar(stmt)
    return row


def subject_types(session: Session, district_code: str) -> list[SubjectType]:
    stmt = select(SubjectType).where(SubjectType.district_code == district_code)
    return list(session.scalars(stmt.order_by(SubjectType.name, SubjectType.code)))


def grids_in_scope(session: Session, scope: DataScope) -> list[Grid]:
    stmt = scope.where_district(select(Grid), Grid.district_code).where(Grid.active.is_(True))
    return list(session.scalars(scope.where_unit(stmt, Grid.unit_id).order_by(Grid.code)))


def unit_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()
    return {int(uid): str(name) for uid, name in rows}
