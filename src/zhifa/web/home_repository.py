"""Queries behind the role home pages. Every query is narrowed by the actor's data scope.

Rows outside the scope never appear: districts through ``DataScope.where_district`` and units,
officers and grids through ``DataScope.where_unit`` (squad and brigade scope), both applied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhifa.ledger import repository as ledger_repository
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Department, District, Grid, Officer, OfficerStatus, Unit, UnitKind
from zhifa.org.scope import DataScope


@dataclass(frozen=True)
class OrgCounts:
    units: int
    officers_active: int
    officers_suspended: int
    grids: int
    departments: int


@dataclass(frozen=True)
class EventRow:
    event: LedgerEvent
    actor_name: str | None


# Statements are typed ``Select[Any]``: DataScope's helpers accept any select.
def _officers(scope: DataScope) -> Select[Any]:
    stmt: Select[Any] = scope.where_district(select(Officer), Officer.district_code)
    return scope.where_unit(stmt, Officer.unit_id)


def _units(scope: DataScope) -> Select[Any]:
    stmt: Select[Any] = select(Unit)
    return scope.where_unit(scope.where_district(stmt, Unit.district_code), Unit.id)


def _grids(scope: DataScope) -> Select[Any]:
    stmt: Select[Any] = select(Grid)
    return scope.where_unit(scope.where_district(stmt, Grid.district_code), Grid.unit_id)


def officer(session: Session, scope: DataScope, officer_id: int) -> Officer | None:
    found: Officer | None = session.scalar(_officers(scope).where(Officer.id == officer_id))
    return found


def unit(session: Session, scope: DataScope, unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    found: Unit | None = session.scalar(_units(scope).where(Unit.id == unit_id))
    return found


def unit_members(session: Session, scope: DataScope, unit_id: int) -> list[Officer]:
    """Active officers of one unit, by name."""
    stmt = _officers(scope).where(
        Officer.unit_id == unit_id, Officer.status == OfficerStatus.ACTIVE
    )
    return list(session.scalars(stmt.order_by(Officer.name, Officer.id)))


def unit_grids(session: Session, scope: DataScope, unit_id: int) -> list[Grid]:
    stmt = _grids(scope).where(Grid.unit_id == unit_id, Grid.active.is_(True))
    return list(session.scalars(stmt.order_by(Grid.code)))


def units(session: Session, scope: DataScope) -> list[Unit]:
    """Active units in tree order (a materialised path sorts parents before children)."""
    stmt = _units(scope).where(Unit.active.is_(True))
    return list(session.scalars(stmt.order_by(Unit.district_code, Unit.path)))


def grids_with_units(session: Session, scope: DataScope) -> list[tuple[Grid, Unit]]:
    stmt: Select[Any] = _grids(scope).add_columns(Unit).join(Unit, Unit.id == Grid.unit_id)
    stmt = stmt.where(Grid.active.is_(True)).order_by(Grid.district_code, Grid.code)
    return [(g, u) for g, u in session.execute(stmt)]


def active_officers_per_squad(session: Session, scope: DataScope) -> dict[int, int]:
    stmt = (
        _officers(scope)
        .with_only_columns(Officer.unit_id, func.count())
        .join(Unit, Unit.id == Officer.unit_id)
        .where(Unit.kind == UnitKind.SQUAD, Officer.status == OfficerStatus.ACTIVE)
        .group_by(Officer.unit_id)
    )
    return {u: int(n) for u, n in session.execute(stmt) if u is not None}


def districts(session: Session, scope: DataScope) -> list[District]:
    stmt: Select[Any] = select(District).order_by(District.code)
    return list(session.scalars(scope.where_district(stmt, District.code)))


def departments(session: Session, scope: DataScope) -> list[Department]:
    stmt: Select[Any] = select(Department)
    stmt = scope.where_district(stmt, Department.district_code).where(Department.active.is_(True))
    return list(session.scalars(stmt.order_by(Department.district_code, Department.code)))


def certs_expiring(session: Session, scope: DataScope, *, by: date) -> list[Officer]:
    """Active officers whose 执法证 has expired or expires on or before ``by``, soonest first."""
    stmt = _officers(scope).where(
        Officer.status == OfficerStatus.ACTIVE,
        Officer.cert_valid_until.is_not(None),
        Officer.cert_valid_until <= by,
    )
    return list(session.scalars(stmt.order_by(Officer.cert_valid_until, Officer.name)))


def _count(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def org_counts(session: Session, scope: DataScope) -> OrgCounts:
    officers = _officers(scope)
    return OrgCounts(
        units=_count(session, _units(scope).where(Unit.active.is_(True))),
        officers_active=_count(session, officers.where(Officer.status == OfficerStatus.ACTIVE)),
        officers_suspended=_count(
            session, officers.where(Officer.status == OfficerStatus.SUSPENDED)
        ),
        grids=_count(session, _grids(scope).where(Grid.active.is_(True))),
        departments=len(departments(session, scope)),
    )


def latest_events(
    session: Session, scope: DataScope, *, limit: int = 20, kind_prefix: str = ""
) -> list[EventRow]:
    """The newest ledger events of the actor's districts, with the acting officer's name."""
    found = ledger_repository.latest_entries(session, scope, limit=limit, kind_prefix=kind_prefix)
    return [EventRow(event, name) for event, name in found]
