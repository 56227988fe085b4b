"""A district's complaint configuration (complaints:configure): SLA profiles (deadlines per stage),
working-day overrides and the district settings (duplicates, stale fixes, default unit, boundary,
tracking prefix).

Invariants:
- Everything is per district: an actor configures its own district (``actor.district_code``).
- A limit is ``{"minutes": n}`` or ``{"workdays": n}`` (``sla.parse_limit``); ``warn_ratio`` lies
  in [0.5, 0.95]. A profile is saved by (code, priority); profiles are not deleted (categories
  name them by code).
- A working-day override is added or removed, never edited in place (``kit.workdays`` tells a
  changed calendar by the rows' ids and times); a change of an existing day is a removal and an
  addition in one transaction.
- Deadlines already set keep their time: a changed profile or calendar applies to clocks that
  start afterwards.
- Every change is one ledger event (``complaint.sla_profile.saved``, ``complaint.workday.saved``,
  ``complaint.settings.changed``) with what changed; saving the same values records nothing.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.complaints import repository, sla
from zhifa.config import Settings, get_settings
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit import workdays
from zhifa.kit.geo import GeometryError, grid_shape
from zhifa.models.complaints import (
    ComplaintSettings,
    Priority,
    SlaProfile,
    SlaStage,
    WorkdayOverride,
)
from zhifa.models.org import Unit
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission

PROFILE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PREFIX = re.compile(r"^[A-Z]{1,8}$")
SETTINGS_FIELDS = ComplaintSettings.__ledger_fields__[1:]


# --- inputs --------------------------------------------------------------------------------------


class SlaProfileIn(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    priority: Priority = Priority.NORMAL
    # stage → {"minutes": n} or {"workdays": n}; a stage left out has no clock.
    limits: dict[SlaStage, dict[str, int]] = Field(default_factory=dict)
    warn_ratio: float = Field(default=0.8, ge=0.5, le=0.95)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.strip()
        if not PROFILE_CODE.match(value):
            raise ValueError("lower-case letters, digits, - and _ (e.g. street)")
        return value

    @field_validator("limits")
    @classmethod
    def _limits(cls, value: dict[SlaStage, dict[str, int]]) -> dict[SlaStage, dict[str, int]]:
        for stage, limit in value.items():
            try:
                sla.parse_limit(limit)
            except ValueError as exc:
                raise ValueError(f"{stage.value}: {exc}") from None
        return value


class WorkdayOverrideIn(BaseModel):
    day: date
    is_workday: bool
    note: str = Field(default="", max_length=200)


class ComplaintSettingsIn(BaseModel):
    duplicate_radius_m: float = Field(gt=0, le=5000)
    duplicate_window_hours: int = Field(ge=1, le=24 * 30)
    position_stale_seconds: int = Field(ge=10, le=86_400)
    default_unit_id: int | None = None
    # GeoJSON Polygon or MultiPolygon (a Feature holding one is unwrapped); None: no boundary.
    boundary: dict[str, Any] | None = None
    tracking_prefix: str = Field(default="TS", min_length=1, max_length=8)


@dataclass(frozen=True)
class SettingsView:
    """The district's settings as they apply: its row, or the environment defaults."""

    district_code: str
    configured: bool
    duplicate_radius_m: float
    duplicate_window_hours: int
    position_stale_seconds: int
    default_unit_id: int | None
    boundary: dict[str, Any] | None
    tracking_prefix: str


# --- helpers -------------------------------------------------------------------------------------


def _require(actor: Actor) -> None:
    if not actor.can(Permission.COMPLAINTS_CONFIGURE):
        raise PermissionDenied(
            "Your role does not allow this action.",
            detail={"permission": str(Permission.COMPLAINTS_CONFIGURE)},
        )


def _apply(row: Any, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        before = getattr(row, name)
        if before != value:
            changes[name] = {"before": before, "after": value}
            setattr(row, name, value)
    return changes


def boundary_geometry(obj: Any) -> dict[str, Any]:
    """A district outline checked like a grid polygon (closed rings, valid, in China): a Polygon,
    a MultiPolygon, or a Feature / one-feature FeatureCollection holding one."""
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise InvalidInput(
                "The boundary file must hold exactly one feature (the district's outline).",
                detail={"field": "boundary"},
            )
        obj = features[0]
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    if isinstance(obj, dict) and obj.get("type") == "MultiPolygon":
        parts = obj.get("coordinates")
        if not isinstance(parts, list) or not parts:
            raise InvalidInput("The boundary has no polygons.", detail={"field": "boundary"})
        checked = [_polygon(p)["coordinates"] for p in parts]
        return {"type": "MultiPolygon", "coordinates": checked}
    return _polygon(obj)


def _polygon(obj: Any) -> dict[str, Any]:
    if isinstance(obj, list):
        obj = {"type": "Polygon", "coordinates": obj}
    try:
        return grid_shape(obj).geometry
    except GeometryError as exc:
        exc.detail = {**(exc.detail or {}), "field": "boundary"}
        raise


def defaults(config: Settings, district_code: str) -> SettingsView:
    return SettingsView(
        district_code=district_code,
        configured=False,
        duplicate_radius_m=config.complaint_duplicate_radius_m,
        duplicate_window_hours=config.complaint_duplicate_window_hours,
        position_stale_seconds=config.position_stale_seconds,
        default_unit_id=None,
        boundary=None,
        tracking_prefix="TS",
    )


# --- the service ---------------------------------------------------------------------------------


class ComplaintSettingsService:
    # SLA profiles

    def profiles(self, session: Session, actor: Actor) -> builtins.list[SlaProfile]:
        stmt = (
            select(SlaProfile)
            .where(SlaProfile.district_code == actor.district_code)
            .order_by(SlaProfile.code, SlaProfile.priority)
        )
        return list(session.scalars(stmt))

    def save_profile(self, session: Session, actor: Actor, *, data: SlaProfileIn) -> SlaProfile:
        """Create or change the profile (code, priority) of the actor's district."""
        _require(actor)
        values: dict[str, Any] = {
            "name": data.name.strip(),
            "limits": {s.value: dict(data.limits[s]) for s in SlaStage if s in data.limits},
            "warn_ratio": float(data.warn_ratio),
        }
        if not values["limits"]:
            raise InvalidInput(
                "Give a time limit for at least one stage.", detail={"field": "limits"}
            )
        row = session.scalar(
            select(SlaProfile).where(
                SlaProfile.district_code == actor.district_code,
                SlaProfile.code == data.code,
                SlaProfile.priority == str(data.priority),
            )
        )
        created = row is None
        if row is None:
            row = SlaProfile(
                district_code=actor.district_code,
                code=data.code,
                priority=data.priority,
                **values,
            )
            session.add(row)
            changes = {k: {"before": None, "after": v} for k, v in values.items()}
        else:
            changes = _apply(row, values)
        if changes:
            session.flush()
            ledger.record(
                session,
                "complaint.sla_profile.saved",
                row,
                {"created": created, "changes": changes},
                actor_id=actor.officer_id,
                district_code=actor.district_code,
            )
            sla.forget_rules(session)
        return row

    # working-day overrides

    def overrides(
        self, session: Session, actor: Actor, *, year: int | None = None
    ) -> builtins.list[WorkdayOverride]:
        stmt = select(WorkdayOverride).where(WorkdayOverride.district_code == actor.district_code)
        if year is not None:
            stmt = stmt.where(WorkdayOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
        return list(session.scalars(stmt.order_by(WorkdayOverride.day)))

    def _override(self, session: Session, district_code: str, day: date) -> WorkdayOverride | None:
        row: WorkdayOverride | None = session.scalar(
            select(WorkdayOverride).where(
                WorkdayOverride.district_code == district_code, WorkdayOverride.day == day
            )
        )
        return row

    def save_override(
        self, session: Session, actor: Actor, *, data: WorkdayOverrideIn
    ) -> WorkdayOverride:
        """Make ``day`` a working day or a day off in the actor's district."""
        _require(actor)
        note = data.note.strip()
        old = self._override(session, actor.district_code, data.day)
        if old is not None and old.is_workday == data.is_workday and old.note == note:
            return old
        if old is not None:
            session.delete(old)
            session.flush()
        row = WorkdayOverride(
            district_code=actor.district_code, day=data.day, is_workday=data.is_workday, note=note
        )
        session.add(row)
        session.flush()
        ledger.record(
            session,
            "complaint.workday.saved",
            row,
            {
                "day": data.day,
                "is_workday": data.is_workday,
                "note": note,
                "before": None if old is None else {"is_workday": old.is_workday, "note": old.note},
            },
            actor_id=actor.officer_id,
            district_code=actor.district_code,
        )
        self._calendar_changed(session, actor.district_code)
        return row

    def remove_override(self, session: Session, actor: Actor, *, day: date) -> None:
        """Let the national calendar decide ``day`` again."""
        _require(actor)
        old = self._override(session, actor.district_code, day)
        if old is None:
            raise NotFound(
                "The district has no working-day exception on {day}.", day=day.isoformat()
            )
        ledger.record(
            session,
            "complaint.workday.saved",
            ("workday_override", old.id),
            {
                "day": day,
                "removed": True,
                "before": {"is_workday": old.is_workday, "note": old.note},
            },
            actor_id=actor.officer_id,
            district_code=actor.district_code,
        )
        session.delete(old)
        session.flush()
        self._calendar_changed(session, actor.district_code)

    def _calendar_changed(self, session: Session, district_code: str) -> None:
        workdays.invalidate(district_code)
        sla.forget_rules(session)

    # district settings

    def get(self, session: Session, actor: Actor) -> SettingsView:
        row = repository.settings_row(session, actor.district_code)
        if row is None:
            return defaults(get_settings(), actor.district_code)
        return SettingsView(
            district_code=row.district_code,
            configured=True,
            **{name: getattr(row, name) for name in SETTINGS_FIELDS},
        )

    def put(
        self, session: Session, actor: Actor, *, data: ComplaintSettingsIn
    ) -> ComplaintSettings:
        """Save the actor's district settings (created on first save)."""
        _require(actor)
        values = self._checked(session, actor, data)
        row = repository.settings_row(session, actor.district_code)
        created = row is None
        if row is None:
            row = ComplaintSettings(district_code=actor.district_code, **values)
            session.add(row)
            changes = {k: {"before": None, "after": v} for k, v in values.items()}
        else:
            changes = _apply(row, values)
        if changes:
            session.flush()
            ledger.record(
                session,
                "complaint.settings.changed",
                row,
                {"created": created, "changes": changes},
                actor_id=actor.officer_id,
                district_code=actor.district_code,
            )
        return row

    def _checked(self, session: Session, actor: Actor, data: ComplaintSettingsIn) -> dict[str, Any]:
        prefix = data.tracking_prefix.strip().upper()
        if not PREFIX.match(prefix):
            raise InvalidInput(
                "The tracking prefix must be 1 to 8 Latin letters (e.g. TS).",
                detail={"field": "tracking_prefix"},
            )
        if data.default_unit_id is not None:
            unit = session.get(Unit, data.default_unit_id)
            if unit is None or unit.district_code != actor.district_code:
                raise NotFound(
                    "No unit {id} in this district.",
                    detail={"field": "default_unit_id"},
                    id=data.default_unit_id,
                )
            if not unit.active:
                raise Conflict(
                    "The unit is deactivated; choose an active one.",
                    detail={"field": "default_unit_id"},
                )
        boundary = boundary_geometry(data.boundary) if data.boundary is not None else None
        return {
            "duplicate_radius_m": float(data.duplicate_radius_m),
            "duplicate_window_hours": data.duplicate_window_hours,
            "position_stale_seconds": data.position_stale_seconds,
            "boundary": boundary,
            "default_unit_id": data.default_unit_id,
            "tracking_prefix": prefix,
        }


settings_service = ComplaintSettingsService()
