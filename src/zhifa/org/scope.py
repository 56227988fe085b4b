"""Data scope: which rows an actor may see. Applied in repositories, and only through here.

An actor with district or city scope sees whole districts; squad and brigade scope narrow every
unit-bearing row to the subtree of the actor's squad or brigade (``Unit.path`` prefix). A row
outside the scope does not exist for the actor: repositories answer NotFound (404), never 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from zhifa.models.org import District, Unit, UnitKind
from zhifa.org.roles import ScopeLevel

# SQLAlchemy 2.1: Select is generic over its row's types: select(Officer) is Select[Officer].
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class DataScope:
    level: ScopeLevel
    district_codes: frozenset[str]
    # Materialised-path prefix of the actor's squad or brigade; None for district and city scope.
    unit_path: str | None = None

    def allows_district(self, code: str) -> bool:
        return code in self.district_codes

    def allows_unit_path(self, path: str | None) -> bool:
        if self.unit_path is None:
            return True
        return path is not None and path.startswith(self.unit_path)

    def where_district(self, stmt: Select[*Ts], column: Any) -> Select[*Ts]:
        return stmt.where(column.in_(sorted(self.district_codes)))

    def where_unit(self, stmt: Select[*Ts], unit_id_column: Any) -> Select[*Ts]:
        """Narrow to rows whose unit lies in the actor's subtree (no-op for district scope)."""
        if self.unit_path is None:
            return stmt
        if not self.unit_path:
            return stmt.where(false())
        subtree = select(Unit.id).where(Unit.path.startswith(self.unit_path))
        return stmt.where(unit_id_column.in_(subtree))


def build_scope(
    session: Session, *, level: ScopeLevel, district_code: str, unit: Unit | None
) -> DataScope:
    """Work out an account's data scope from its level, district and unit."""
    if level is ScopeLevel.CITY:
        city = session.scalar(select(District.city_code).where(District.code == district_code))
        codes = session.scalars(select(District.code).where(District.city_code == city)).all()
        return DataScope(level, frozenset(codes) | {district_code})
    if level is ScopeLevel.DISTRICT:
        return DataScope(level, frozenset({district_code}))
    return DataScope(level, frozenset({district_code}), _unit_path(session, level, unit))


def _unit_path(session: Session, level: ScopeLevel, unit: Unit | None) -> str:
    """The path prefix of the actor's squad or brigade; '' (nothing) when they have no unit."""
    if unit is None:
        return ""
    if level is ScopeLevel.SQUAD or unit.kind != UnitKind.SQUAD:
        return unit.path
    if unit.parent_id is None:
        return unit.path
    parent = session.get(Unit, unit.parent_id)
    return parent.path if parent is not None and parent.kind == UnitKind.BRIGADE else unit.path
