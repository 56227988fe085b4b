"""Regulated parties and sites (执法对象): enterprises, individually-owned businesses, persons and
sites, with a location, a geofence and a subject type that selects the checklist templates.

Invariants:
- ``uscc`` (统一社会信用代码) is stored validated and upper-case; it is unique within a district.
- A person's 居民身份证号 is never stored in clear: ``id_card_cipher`` is Fernet-encrypted with a
  key derived from the application secret, ``id_card_masked`` is what pages show
  (``5101**********1234``) and ``id_card_digest`` (HMAC-SHA-256 under the same secret) finds
  duplicates and exact searches.
  The ledger carries only the digest of the cipher text. Every reveal is a ledger event.
- The geofence is a GeoJSON Polygon (WGS-84) or, when absent, a circle of ``geofence_radius_m``
  around (lon, lat). A subject with neither has no fence and cannot be checked in to.
- ``unit_id`` is the squad whose grid contains the location (set when the subject is saved),
  which is how squad-scoped officers see only their own subjects.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.models.base import Base, DistrictScoped, Timestamps


class SubjectKind(StrEnum):
    ENTERPRISE = "enterprise"  # 企业 (统一社会信用代码 required)
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户 (统一社会信用代码 required)
    ORGANISATION = "organisation"  # 其他组织 (统一社会信用代码 required)
    PERSON = "person"  # 自然人 (居民身份证号 optional)
    SITE = "site"  # 场所/点位 with no registered party yet (工地、河段、流动摊点)

    @property
    def label(self) -> str:
        return SUBJECT_KIND_LABELS[self]

    @property
    def party_type(self) -> str | None:
        """The catalog party type (``person`` / ``organisation``) whose statutory range applies;
        None for a bare site, where the officer names the party. 个体工商户 are fined as persons
        (公民), the common reading of 行政处罚法 art. 51."""
        return {
            "enterprise": "organisation",
            "organisation": "organisation",
            "individual_business": "person",
            "person": "person",
        }.get(self.value)


SUBJECT_KIND_LABELS = {
    SubjectKind.ENTERPRISE: "Enterprise",
    SubjectKind.INDIVIDUAL_BUSINESS: "Individually-owned business",
    SubjectKind.ORGANISATION: "Other organisation",
    SubjectKind.PERSON: "Natural person",
    SubjectKind.SITE: "Site",
}


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return {"low": "Low risk", "medium": "Medium risk", "high": "High risk"}[self.value]


class Subject(DistrictScoped, Timestamps, Base):
    __tablename__ = "subject"
    __table_args__ = (UniqueConstraint("district_code", "uscc"),)
    __ledger_fields__ = (
        "district_code",
        "kind",
        "name",
        "uscc",
        "id_card_masked",
        "id_card_digest",
        "representative",
        "phone",
        "address",
        "subject_type_code",
        "risk_level",
        "lon",
        "lat",
        "geofence",
        "geofence_radius_m",
        "grid_id",
        "unit_id",
        "licences",
        "note",
        "active",
    )
    __ledger_digest_fields__ = ("id_card_cipher",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[SubjectKind] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200), index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), default=None)
    id_card_cipher: Mapped[str | None] = mapped_column(Text, default=None)
    id_card_masked: Mapped[str | None] = mapped_column(String(18), default=None)
    id_card_digest: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # 法定代表人 / 负责人 / 经营者
    representative: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    # The catalog subject type (``SubjectType.code``): which checklist templates apply.
    subject_type_code: Mapped[str] = mapped_column(String(60), index=True)
    risk_level: Mapped[RiskLevel] = mapped_column(String(10), default=RiskLevel.LOW)
    lon: Mapped[float | None] = mapped_column(default=None, index=True)
    lat: Mapped[float | None] = mapped_column(default=None, index=True)
    geofence: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    geofence_radius_m: Mapped[float | None] = mapped_column(default=None)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), default=None, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None, index=True)
    # [{"name": "排水许可证", "number": "…", "issuer": "…", "valid_until": "2027-06-30"}]
    licences: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
