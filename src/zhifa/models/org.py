"""Organisation: districts (tenants), source departments, the unit tree, officers and grids.

Invariants:
- A unit's parent, an officer's unit and a grid's squad are in the same district as the row itself.
- ``Unit.path`` is the materialised path of ids (``/1/4/9/``): a subtree is a prefix match, which is
  how squad and brigade data scopes are enforced.
- ``Officer.cert_no`` (执法证号) is unique across the deployment.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhifa.models.base import Base, CreatedAt, DistrictScoped, Timestamps


class UnitKind(StrEnum):
    BUREAU = "bureau"
    BRIGADE = "brigade"
    SQUAD = "squad"

    @property
    def label(self) -> str:
        return {"bureau": "Bureau", "brigade": "Brigade", "squad": "Squad"}[self.value]


class OfficerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"

    @property
    def label(self) -> str:
        return {"active": "Active", "suspended": "Suspended", "left": "Left the bureau"}[self.value]

    @property
    def colour(self) -> str:
        return {"active": "green", "suspended": "amber", "left": "grey"}[self.value]


class District(Timestamps, Base):
    """A county-level district (区县), the tenant. ``code`` is its GB/T 2260 code."""

    __tablename__ = "district"
    __ledger_fields__ = (
        "code",
        "name",
        "city_code",
        "bureau_name",
        "fictional",
        "center_lon",
        "center_lat",
        "active",
    )

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    bureau_name: Mapped[str] = mapped_column(String(200), default="")
    # Demo and test districts say so on every page.
    fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    center_lon: Mapped[float | None] = mapped_column(default=None)
    center_lat: Mapped[float | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Department(DistrictScoped, Timestamps, Base):
    """A source agency whose enforcement powers the bureau took over (城管, 规划, 住建 …)."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = ("district_code", "code", "name", "active")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Unit(DistrictScoped, Timestamps, Base):
    """An enforcement unit: 局 (bureau) → 大队 (brigade) → 中队 (squad)."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = (
        "district_code",
        "parent_id",
        "kind",
        "code",
        "name",
        "path",
        "phone",
        "active",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None, index=True)
    kind: Mapped[UnitKind] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise")

    def assign_path(self, parent: Unit | None) -> None:
        """Set the materialised path from the parent's; the row must have its id (flushed)."""
        self.path = f"{parent.path if parent is not None else '/'}{self.id}/"


class Officer(DistrictScoped, Timestamps, Base):
    """A member of the bureau with a login: field officers and every other role alike."""

    __tablename__ = "officer"
    __ledger_fields__ = (
        "district_code",
        "username",
        "name",
        "unit_id",
        "cert_no",
        "cert_valid_from",
        "cert_valid_until",
        "phone",
        "roles",
        "scope",
        "status",
        "locale",
        "password_changed_at",
    )
    __ledger_digest_fields__ = ("password_hash",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None, index=True)
    cert_no: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    cert_valid_from: Mapped[date | None] = mapped_column(default=None)
    cert_valid_until: Mapped[date | None] = mapped_column(default=None)
    phone: Mapped[str] = mapped_column(String(40), default="")
    roles: Mapped[list[str]] = mapped_column(default=list)
    scope: Mapped[str] = mapped_column(String(20), default="squad")
    status: Mapped[OfficerStatus] = mapped_column(String(20), default=OfficerStatus.ACTIVE)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    locale: Mapped[str] = mapped_column(String(10), default="")

    unit: Mapped[Unit | None] = relationship(lazy="raise")


class Grid(DistrictScoped, CreatedAt, Base):
    """A responsibility grid (网格): a polygon owned by a squad, stored as GeoJSON (WGS-84)."""

    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = (
        "district_code",
        "code",
        "name",
        "unit_id",
        "geometry",
        "min_lon",
        "min_lat",
        "max_lon",
        "max_lat",
        "area_m2",
        "note",
        "active",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    geometry: Mapped[dict[str, Any]] = mapped_column()
    # Bounding box for a cheap spatial pre-filter before the exact point-in-polygon test.
    min_lon: Mapped[float] = mapped_column()
    min_lat: Mapped[float] = mapped_column()
    max_lon: Mapped[float] = mapped_column()
    max_lat: Mapped[float] = mapped_column()
    area_m2: Mapped[float] = mapped_column(default=0.0)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit] = relationship(lazy="raise")
