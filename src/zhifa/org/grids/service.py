"""Rules for grids: owned by an active squad of the same district; geometry checked by kit.geo;
an import of a FeatureCollection writes every feature or none (each bad feature is reported with
its index and reason). One ledger event per created or changed grid."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zhifa.errors import AppError, Conflict, InvalidInput, NotFound
from zhifa.kit.geo import GridShape, grid_shape
from zhifa.models.org import Grid, Unit, UnitKind
from zhifa.org import repository as org_repo
from zhifa.org.actor import Actor
from zhifa.org.changes import apply_changes, record, snapshot, target_district
from zhifa.org.grids import repository as repo
from zhifa.org.grids.schemas import GridCreate, GridUpdate
from zhifa.org.service import unit_service

GRID_FIELDS: tuple[str, ...] = Grid.__ledger_fields__


def shape_values(shape: GridShape) -> dict[str, Any]:
    return {
        "geometry": shape.geometry,
        "min_lon": shape.min_lon,
        "min_lat": shape.min_lat,
        "max_lon": shape.max_lon,
        "max_lat": shape.max_lat,
        "area_m2": shape.area_m2,
    }


def check_squad(unit: Unit, district_code: str) -> None:
    if unit.kind != UnitKind.SQUAD:
        raise Conflict("A grid must be owned by a squad (中队), not a bureau or brigade.")
    if unit.district_code != district_code:
        raise Conflict(
            "The squad is in another district ({district}): a grid's squad must be in the grid's "
            "district.",
            district=unit.district_code,
        )
    if not unit.active:
        raise Conflict("The squad is deactivated.")


@dataclass(frozen=True)
class ParsedFeature:
    code: str
    name: str
    unit: Unit
    shape: GridShape


def _problem(index: int, grid_code: str, exc: AppError) -> dict[str, Any]:
    params = exc.params
    return {
        "index": index,
        "field": f"features[{index}]",
        "grid_code": grid_code,
        "message": exc.message,
        "params": params,
        "reason": exc.message.format(**params) if params else exc.message,
    }


def _text(properties: dict[str, Any], *names: str) -> str:
    for name in names:
        value = properties.get(name)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return ""


def _features(collection: Any) -> list[Any]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise InvalidInput("The import must be a GeoJSON FeatureCollection.")
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput("The FeatureCollection has no features.")
    return features


class GridService:
    def list(
        self,
        session: Session,
        actor: Actor,
        *,
        district_code: str | None = None,
        unit_id: int | None = None,
        active: bool | None = None,
    ) -> builtins.list[Grid]:
        return repo.grids(
            session, actor.scope, district_code=district_code, unit_id=unit_id, active=active
        )

    def containing(
        self, session: Session, actor: Actor, *, lon: float, lat: float
    ) -> builtins.list[Grid]:
        return repo.grids_containing(session, actor.scope, lon, lat)

    def get(self, session: Session, actor: Actor, *, grid_id: int) -> Grid:
        row = repo.grid(session, actor.scope, grid_id)
        if row is None:
            raise NotFound("The grid does not exist or is outside your data scope.")
        return row

    def create(self, session: Session, actor: Actor, *, data: GridCreate) -> Grid:
        squad = unit_service.get(session, actor, unit_id=data.unit_id)
        district = target_district(actor, data.district_code or squad.district_code)
        check_squad(squad, district)
        shape = grid_shape(data.geometry)
        if repo.codes_taken(session, district, [data.code]):
            raise Conflict("Grid code {value} is already used in this district.", value=data.code)
        row = Grid(
            district_code=district,
            code=data.code,
            name=data.name,
            unit_id=squad.id,
            note=data.note,
            **shape_values(shape),
        )
        session.add(row)
        session.flush()
        record(
            session,
            actor,
            "org.grid.created",
            row,
            snapshot(row, GRID_FIELDS),
            district_code=district,
        )
        return row

    def update(self, session: Session, actor: Actor, *, grid_id: int, data: GridUpdate) -> Grid:
        row = self.get(session, actor, grid_id=grid_id)
        values = data.model_dump(exclude_unset=True, exclude_none=True)
        if "unit_id" in values:
            check_squad(
                unit_service.get(session, actor, unit_id=values["unit_id"]), row.district_code
            )
        if "geometry" in values:
            values |= shape_values(grid_shape(values["geometry"]))
        changes = apply_changes(row, values)
        if changes:
            record(
                session,
                actor,
                "org.grid.updated",
                row,
                {"changes": changes},
                district_code=row.district_code,
            )
        return row

    def deactivate(self, session: Session, actor: Actor, *, grid_id: int) -> Grid:
        row = self.get(session, actor, grid_id=grid_id)
        if apply_changes(row, {"active": False}):
            record(
                session,
                actor,
                "org.grid.deactivated",
                row,
                {"active": False},
                district_code=row.district_code,
            )
        return row

    def import_collection(
        self, session: Session, actor: Actor, *, district_code: str | None, collection: Any
    ) -> builtins.list[Grid]:
        """Import every feature of a FeatureCollection as a new grid, or none of them."""
        district = target_district(actor, district_code)
        features = _features(collection)
        parsed, problems = self._parse_all(session, actor, district, features)
        if problems:
            raise InvalidInput(
                "{bad} of {total} features are not valid; nothing was imported.",
                detail=problems,
                bad=len(problems),
                total=len(features),
            )
        return [self._add_imported(session, actor, district, p) for p in parsed]

    def _parse_all(
        self, session: Session, actor: Actor, district: str, features: builtins.list[Any]
    ) -> tuple[builtins.list[ParsedFeature], builtins.list[dict[str, Any]]]:
        squads = {u.code: u for u in org_repo.units(session, actor.scope, district_code=district)}
        taken = repo.codes_taken(session, district, [_code_of(f) for f in features])
        seen: set[str] = set()
        parsed: builtins.list[ParsedFeature] = []
        problems: builtins.list[dict[str, Any]] = []
        for index, feature in enumerate(features):
            code = _code_of(feature)
            try:
                parsed.append(_parse(feature, district, squads, taken | seen))
            except AppError as exc:
                problems.append(_problem(index, code, exc))
            seen.add(code)
        return parsed, problems

    def _add_imported(
        self, session: Session, actor: Actor, district: str, p: ParsedFeature
    ) -> Grid:
        row = Grid(
            district_code=district,
            code=p.code,
            name=p.name,
            unit_id=p.unit.id,
            **shape_values(p.shape),
        )
        session.add(row)
        session.flush()
        record(
            session,
            actor,
            "org.grid.imported",
            row,
            snapshot(row, GRID_FIELDS),
            district_code=district,
        )
        return row


def _properties(feature: Any) -> dict[str, Any]:
    props = feature.get("properties") if isinstance(feature, dict) else None
    return props if isinstance(props, dict) else {}


def _code_of(feature: Any) -> str:
    return _text(_properties(feature), "code")


def _parse(feature: Any, district: str, squads: dict[str, Unit], taken: set[str]) -> ParsedFeature:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidInput("Each item must be a GeoJSON Feature.")
    props = _properties(feature)
    code, name = _text(props, "code"), _text(props, "name")
    unit_code = _text(props, "unit_code", "unit", "squad_code", "squad")
    if not code or not name or not unit_code:
        raise InvalidInput("The feature needs the properties code, name and unit_code.")
    if code in taken:
        raise Conflict("Grid code {value} is already used in this district.", value=code)
    unit = squads.get(unit_code)
    if unit is None:
        raise NotFound("No unit with code {value} in this district.", value=unit_code)
    check_squad(unit, district)
    return ParsedFeature(code, name, unit, grid_shape(feature))


grid_service = GridService()
