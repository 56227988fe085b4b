"""Officers on duty: the latest position and status of each (kept hot, one row per officer) and the
track of every fix (kept for supervision).

Invariants:
- ``OfficerLive`` holds one row per officer: the newest fix by device time wins (an older fix
  arriving late goes into the track only) and the status set last wins.
- ``PositionFix`` is append-only telemetry; it is not ledgered fix by fix (a batch is too small a
  fact for the log), but each status change is (``dispatch.status.*``).
- ``complaint_id`` is the complaint the officer is committed to, which makes them unavailable to
  the recommender until it is fed back, declined or taken from them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.models.base import Base, DistrictScoped


class DutyStatus(StrEnum):
    AVAILABLE = "available"  # 在岗可派
    EN_ROUTE = "en_route"  # 出警中
    ON_SCENE = "on_scene"  # 到场
    HANDLING = "handling"  # 处置中
    OFF_DUTY = "off_duty"  # 离岗

    @property
    def label(self) -> str:
        return {
            "available": "On duty, available",
            "en_route": "On the way",
            "on_scene": "On scene",
            "handling": "Handling",
            "off_duty": "Off duty",
        }[self.value]

    @property
    def colour(self) -> str:
        return {
            "available": "green",
            "en_route": "blue",
            "on_scene": "amber",
            "handling": "amber",
            "off_duty": "grey",
        }[self.value]


class OfficerLive(DistrictScoped, Base):
    __tablename__ = "officer_live"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), primary_key=True)
    # The officer's squad when the row was last written (their data scope).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None, index=True)
    status: Mapped[DutyStatus] = mapped_column(String(20), default=DutyStatus.OFF_DUTY)
    status_at: Mapped[datetime] = mapped_column()
    lon: Mapped[float | None] = mapped_column(default=None)
    lat: Mapped[float | None] = mapped_column(default=None)
    accuracy_m: Mapped[float | None] = mapped_column(default=None)
    # Device time of the fix, and when the server received it.
    fix_at: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime | None] = mapped_column(default=None)
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id"), default=None, index=True
    )


class PositionFix(DistrictScoped, Base):
    __tablename__ = "position_fix"
    __table_args__ = (Index("ix_position_fix_officer_fix_at", "officer_id", "fix_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    lon: Mapped[float] = mapped_column()
    lat: Mapped[float] = mapped_column()
    accuracy_m: Mapped[float | None] = mapped_column(default=None)
    speed_mps: Mapped[float | None] = mapped_column(default=None)
    heading_deg: Mapped[float | None] = mapped_column(default=None)
    fix_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column()
