"""Loading the demo district into a database, idempotently.

``load_demo`` finds every row by its natural key (district code, department code, unit code,
grid code, user name) and creates only the missing ones, each with one ``org.<thing>.created``
ledger event (``actor_id`` None, ``via: demo``) in the caller's session. Existing rows are left as
they are: a reload neither repeats events nor resets a password (or anything else) changed since.
The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import get_settings
from zhifa.demo import data
from zhifa.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from zhifa.kit.clock import local, utcnow
from zhifa.kit.geo import grid_shape
from zhifa.models.org import Department, District, Grid, Officer, Unit
from zhifa.org.accounts.passwords import hash_password


@dataclass(frozen=True)
class DemoSummary:
    """What the demo district holds after a load, and how many rows this load created."""

    district_code: str
    district_name: str
    departments: int
    units: int
    grids: int
    officers: int
    created: int
    accounts: list[tuple[str, str]] = field(default_factory=list)
    password: str = DEMO_PASSWORD


class _Load:
    """One run of the loader: the session, today's date and what has been created so far."""

    def __init__(self, session: Session, today: date) -> None:
        self.session = session
        self.today = today
        self.created = 0
        self._password_hash: str | None = None

    def password_hash(self) -> str:
        """argon2 is slow on purpose: hash the demo password once per run, and only if needed."""
        if self._password_hash is None:
            self._password_hash = hash_password(DEMO_PASSWORD)
        return self._password_hash

    def add(self, row: Any, kind: str, subject: Any, payload: dict[str, Any]) -> None:
        self.session.add(row)
        self.session.flush()
        ledger.record(
            self.session,
            f"org.{kind}.created",
            subject,
            {"via": "demo", **payload},
            actor_id=None,
            district_code=data.DISTRICT_CODE,
        )
        self.created += 1


def _ensure_district(load: _Load) -> District:
    district = load.session.get(District, data.DISTRICT_CODE)
    if district is not None:
        return district
    district = District(
        code=data.DISTRICT_CODE,
        name=data.DISTRICT_NAME,
        city_code=data.CITY_CODE,
        bureau_name=data.BUREAU_NAME,
        fictional=True,
        center_lon=data.CENTER_LON,
        center_lat=data.CENTER_LAT,
    )
    payload = {"code": district.code, "name": district.name, "fictional": True}
    load.add(district, "district", district, payload)
    return district


def _ensure_departments(load: _Load) -> None:
    stmt = select(Department.code).where(Department.district_code == data.DISTRICT_CODE)
    existing = set(load.session.scalars(stmt))
    for code, name in data.DEPARTMENTS:
        if code not in existing:
            row = Department(district_code=data.DISTRICT_CODE, code=code, name=name)
            load.add(row, "department", row, {"code": code, "name": name})


def _ensure_units(load: _Load) -> dict[str, Unit]:
    stmt = select(Unit).where(Unit.district_code == data.DISTRICT_CODE)
    units = {u.code: u for u in load.session.scalars(stmt)}
    for spec in data.UNITS:
        if spec.code not in units:
            units[spec.code] = _create_unit(load, spec, units)
    return units


def _create_unit(load: _Load, spec: data.UnitSpec, units: dict[str, Unit]) -> Unit:
    parent = units[spec.parent_code] if spec.parent_code else None
    row = Unit(
        district_code=data.DISTRICT_CODE,
        kind=spec.kind,
        code=spec.code,
        name=spec.name,
        parent_id=parent.id if parent is not None else None,
    )
    load.session.add(row)
    load.session.flush()
    row.assign_path(parent)
    payload = {"code": spec.code, "name": spec.name, "kind": str(spec.kind), "path": row.path}
    load.add(row, "unit", row, {**payload, "parent_code": spec.parent_code})
    return row


def _ensure_grids(load: _Load, units: dict[str, Unit]) -> None:
    stmt = select(Grid.code).where(Grid.district_code == data.DISTRICT_CODE)
    existing = set(load.session.scalars(stmt))
    for spec in data.GRIDS:
        if spec.code not in existing:
            row = _grid_row(spec, units[spec.unit_code])
            payload = {"code": spec.code, "name": spec.name, "unit_code": spec.unit_code}
            load.add(row, "grid", row, {**payload, "area_m2": row.area_m2})


def _grid_row(spec: data.GridSpec, squad: Unit) -> Grid:
    """The grid with its bounding box and area, measured by the shared geometry helper."""
    shape = grid_shape(spec.geometry())
    return Grid(
        district_code=data.DISTRICT_CODE,
        code=spec.code,
        name=spec.name,
        unit_id=squad.id,
        geometry=shape.geometry,
        min_lon=shape.min_lon,
        min_lat=shape.min_lat,
        max_lon=shape.max_lon,
        max_lat=shape.max_lat,
        area_m2=shape.area_m2,
    )


def _ensure_officers(load: _Load, units: dict[str, Unit]) -> None:
    existing = set(load.session.scalars(select(Officer.username)))
    for spec in data.officer_specs(load.today):
        if spec.username not in existing:
            _create_officer(load, spec, units[spec.unit_code])


def _create_officer(load: _Load, spec: data.OfficerSpec, unit: Unit) -> None:
    row = Officer(
        district_code=data.DISTRICT_CODE,
        username=spec.username,
        name=spec.name,
        unit_id=unit.id,
        cert_no=spec.cert_no,
        cert_valid_from=spec.cert_valid_from,
        cert_valid_until=spec.cert_valid_until,
        phone=spec.phone,
        roles=[spec.role.value],
        scope=spec.scope.value,
        password_hash=load.password_hash(),
        password_changed_at=utcnow(),
    )
    payload = {
        "username": spec.username,
        "name": spec.name,
        "roles": [spec.role.value],
        "scope": spec.scope.value,
        "unit_code": unit.code,
        "cert_no": spec.cert_no,
    }
    load.add(row, "officer", row, payload)


def _count(session: Session, model: Any) -> int:
    stmt = select(func.count()).select_from(model).where(model.district_code == data.DISTRICT_CODE)
    return int(session.scalar(stmt) or 0)


def load_demo(session: Session, *, today: date | None = None) -> DemoSummary:
    """Create whatever part of the demo district is missing; the caller commits."""
    load = _Load(session, today or local(utcnow(), get_settings().tz).date())
    district = _ensure_district(load)
    _ensure_departments(load)
    units = _ensure_units(load)
    _ensure_grids(load, units)
    _ensure_officers(load, units)
    return DemoSummary(
        district_code=district.code,
        district_name=district.name,
        departments=_count(session, Department),
        units=_count(session, Unit),
        grids=_count(session, Grid),
        officers=_count(session, Officer),
        created=load.created,
        accounts=list(DEMO_ACCOUNTS),
    )
