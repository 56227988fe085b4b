"""Every query on districts, departments and units, filtered by the actor's data scope.

Reads go through ``DataScope``: a row outside the scope is simply not found (the service answers
404). The ``*_taken`` / ``bureau_exists`` helpers are deployment-wide uniqueness checks for rules;
they answer yes or no and never hand a row out of scope back to the caller.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhifa.models.org import Department, District, Officer, OfficerStatus, Unit, UnitKind
from zhifa.org.scope import DataScope


def districts(session: Session, scope: DataScope) -> list[District]:
    stmt = scope.where_district(select(District), District.code).order_by(District.code)
    return list(session.scalars(stmt))


def district(session: Session, scope: DataScope, code: str) -> District | None:
    stmt = scope.where_district(select(District), District.code).where(District.code == code)
    return session.scalar(stmt)


def all_districts(session: Session) -> list[District]:
    """Every district of the deployment, for the operator's command line (no actor, no scope)."""
    return list(session.scalars(select(District).order_by(District.code)))


def district_exists(session: Session, code: str) -> bool:
    return session.get(District, code) is not None


def departments(
    session: Session,
    scope: DataScope,
    *,
    district_code: str | None = None,
    active: bool | None = None,
) -> list[Department]:
    stmt = scope.where_district(select(Department), Department.district_code)
    if district_code is not None:
        stmt = stmt.where(Department.district_code == district_code)
    if active is not None:
        stmt = stmt.where(Department.active == active)
    return list(session.scalars(stmt.order_by(Department.district_code, Department.code)))


def department(session: Session, scope: DataScope, department_id: int) -> Department | None:
    stmt = scope.where_district(select(Department), Department.district_code)
    return session.scalar(stmt.where(Department.id == department_id))


def department_code_taken(
    session: Session, district_code: str, code: str, *, except_id: int | None = None
) -> bool:
    stmt = select(Department.id).where(
        Department.district_code == district_code, Department.code == code
    )
    if except_id is not None:
        stmt = stmt.where(Department.id != except_id)
    return session.scalar(stmt) is not None


def _scoped_units(scope: DataScope) -> Select[Unit]:
    return scope.where_unit(scope.where_district(select(Unit), Unit.district_code), Unit.id)


def units(session: Session, scope: DataScope, *, district_code: str | None = None) -> list[Unit]:
    stmt = _scoped_units(scope)
    if district_code is not None:
        stmt = stmt.where(Unit.district_code == district_code)
    return list(session.scalars(stmt.order_by(Unit.district_code, Unit.path)))


def unit(session: Session, scope: DataScope, unit_id: int) -> Unit | None:
    unit_row: Unit | None = session.scalar(_scoped_units(scope).where(Unit.id == unit_id))
    return unit_row


def subtree(session: Session, root: Unit) -> list[Unit]:
    """The unit and all its descendants (by path prefix), shallowest first."""
    stmt = select(Unit).where(Unit.path.startswith(root.path)).order_by(func.length(Unit.path))
    return list(session.scalars(stmt))


def active_children(session: Session, unit_id: int) -> int:
    stmt = select(func.count(Unit.id)).where(Unit.parent_id == unit_id, Unit.active.is_(True))
    return int(session.scalar(stmt) or 0)


def bureau_exists(session: Session, district_code: str, *, except_id: int | None = None) -> bool:
    stmt = select(Unit.id).where(
        Unit.district_code == district_code, Unit.kind == UnitKind.BUREAU, Unit.active.is_(True)
    )
    if except_id is not None:
        stmt = stmt.where(Unit.id != except_id)
    return session.scalar(stmt) is not None


def unit_code_taken(
    session: Session, district_code: str, code: str, *, except_id: int | None = None
) -> bool:
    stmt = select(Unit.id).where(Unit.district_code == district_code, Unit.code == code)
    if except_id is not None:
        stmt = stmt.where(Unit.id != except_id)
    return session.scalar(stmt) is not None


def officer_counts(session: Session, scope: DataScope) -> dict[int, int]:
    """Active officers per unit id, counting only officers the actor may see."""
    stmt = scope.where_district(
        select(Officer.unit_id, func.count(Officer.id)), Officer.district_code
    )
    stmt = scope.where_unit(stmt, Officer.unit_id).where(
        Officer.unit_id.is_not(None), Officer.status == OfficerStatus.ACTIVE
    )
    rows = session.execute(stmt.group_by(Officer.unit_id)).all()
    return {int(unit_id or 0): int(count) for unit_id, count in rows}
