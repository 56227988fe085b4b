"""The enforcement catalog: laws and provisions, powers, discretion benchmarks, check items,
checklists, subject types and each district's discretion policy.

Invariants:
- Nothing is overwritten. Legal documents and provisions are national (no district); everything
  else belongs to a district. A power, benchmark, check item, checklist or policy is an identity row
  plus immutable version rows; a change is a new version with its ``effective_from`` date.
- The version in force on a date is the one with the latest ``effective_from`` on or before it; of
  two with the same date the higher ``version`` number wins (a correction of the same rule).
- A provision is one article (条). Paragraphs (款) and items (项) are addressed inside its text by
  number, so a citation is ``(provision, paragraph, item)`` with 0 meaning "the whole".
- ``content_sha256`` is the SHA-256 of the version's canonical content (RFC 8785): a re-import of
  the same content is recognised and changes nothing.
- Every row here is ledgered (``__ledger_fields__``): an edit behind the application's back is
  caught by ``zhifa ledger verify``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from zhifa.models.base import Base, CreatedAt, DistrictScoped


class LawKind(StrEnum):
    """Rank of a legal document (法律位阶)."""

    LAW = "law"
    ADMINISTRATIVE_REGULATION = "administrative_regulation"
    LOCAL_REGULATION = "local_regulation"
    RULE = "rule"
    NORMATIVE_DOCUMENT = "normative_document"

    @property
    def label(self) -> str:
        return LAW_KIND_LABELS[self]


LAW_KIND_LABELS = {
    LawKind.LAW: "Law",
    LawKind.ADMINISTRATIVE_REGULATION: "Administrative regulation",
    LawKind.LOCAL_REGULATION: "Local regulation",
    LawKind.RULE: "Rule",
    LawKind.NORMATIVE_DOCUMENT: "Normative document",
}


class PowerKind(StrEnum):
    """Kind of power item (权力事项类别)."""

    PENALTY = "penalty"
    COERCION = "coercion"
    INSPECTION = "inspection"
    LICENSING = "licensing"
    COLLECTION = "collection"
    OTHER = "other"

    @property
    def label(self) -> str:
        return POWER_KIND_LABELS[self]


POWER_KIND_LABELS = {
    PowerKind.PENALTY: "Administrative penalty",
    PowerKind.COERCION: "Administrative coercion",
    PowerKind.INSPECTION: "Administrative inspection",
    PowerKind.LICENSING: "Administrative licensing",
    PowerKind.COLLECTION: "Administrative collection",
    PowerKind.OTHER: "Other power",
}


class PowerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REPEALED = "repealed"

    @property
    def label(self) -> str:
        return {"active": "In force", "suspended": "Suspended", "repealed": "Repealed"}[self.value]

    @property
    def colour(self) -> str:
        return {"active": "green", "suspended": "amber", "repealed": "grey"}[self.value]


class CitationRole(StrEnum):
    """Why a provision is cited by a power."""

    VIOLATED = "violated"  # 违法依据: the rule that was broken
    PENALTY = "penalty"  # 处罚依据: the rule that punishes

    @property
    def label(self) -> str:
        return {"violated": "Provision violated", "penalty": "Penalty provision"}[self.value]


class LegalDocument(CreatedAt, Base):
    """One revision of a law, regulation or rule (法律法规). A later revision is another row."""

    __tablename__ = "legal_document"
    __table_args__ = (UniqueConstraint("title", "revision_date"),)
    __ledger_fields__ = (
        "title",
        "short_title",
        "kind",
        "issuing_body",
        "jurisdiction",
        "promulgated_on",
        "revision_date",
        "effective_on",
        "repealed_on",
        "history",
        "source_name",
        "content_sha256",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    # The title without 中华人民共和国, as citations usually write it.
    short_title: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[LawKind] = mapped_column(String(40))
    issuing_body: Mapped[str] = mapped_column(String(200), default="")
    # "national", or the region a local regulation or rule applies in (四川省, 成都市 …).
    jurisdiction: Mapped[str] = mapped_column(String(100), default="national")
    promulgated_on: Mapped[date | None] = mapped_column(Date, default=None)
    # The date of this revision (公布/修正/修订 date); with the title it names the revision.
    revision_date: Mapped[date] = mapped_column(Date)
    effective_on: Mapped[date] = mapped_column(Date)
    repealed_on: Mapped[date | None] = mapped_column(Date, default=None)
    # The dated history lines of the text (公布, 修正, 修订 …), one per line.
    history: Mapped[str] = mapped_column(Text, default="")
    source_name: Mapped[str] = mapped_column(String(255), default="")
    # SHA-256 of the canonical JSON of all provisions as imported.
    content_sha256: Mapped[str] = mapped_column(String(64))


class Provision(CreatedAt, Base):
    """One article (条) of a legal document, with its full text. Revised text is a new version."""

    __tablename__ = "provision"
    __table_args__ = (UniqueConstraint("document_id", "article", "version"),)
    __ledger_fields__ = (
        "document_id",
        "article",
        "label",
        "chapter",
        "text",
        "version",
        "effective_on",
        "supersedes_id",
        "note",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("legal_document.id"), index=True)
    article: Mapped[int] = mapped_column(Integer)  # 第N条
    label: Mapped[str] = mapped_column(String(40))  # "第八十一条"
    chapter: Mapped[str] = mapped_column(String(200), default="")  # "第七章 法律责任"
    # Paragraphs (款) separated by "\n\n"; items (项) are the paragraph's lines starting （一）….
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    effective_on: Mapped[date] = mapped_column(Date)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("provision.id"), default=None, index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")


class VersionColumns:
    """Columns every catalog version row has."""

    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    # The version note the catalog admin wrote (why it changed), shown in the history.
    note: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str] = mapped_column(String(64))

    @declared_attr
    def recorded_by_id(cls) -> Mapped[int | None]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(ForeignKey("officer.id"), default=None)


VERSION_LEDGER_FIELDS = ("version", "effective_from", "note", "content_sha256", "recorded_by_id")


class Power(DistrictScoped, CreatedAt, Base):
    """A power item (权力事项) of a district's power list; its content lives in versions."""

    __tablename__ = "power"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = ("district_code", "code")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))  # 事项编码


class PowerVersion(VersionColumns, CreatedAt, Base):
    __tablename__ = "power_version"
    __table_args__ = (UniqueConstraint("power_id", "version"),)
    __ledger_fields__ = (
        "power_id",
        *VERSION_LEDGER_FIELDS,
        "name",
        "kind",
        "department_id",
        "party_types",
        "penalty_text",
        "responsibility",
        "status",
        "citations",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    power_id: Mapped[int] = mapped_column(ForeignKey("power.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PowerKind] = mapped_column(String(20))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    # "person" (个人) and/or "organisation" (单位).
    party_types: Mapped[list[str]] = mapped_column(default=list)
    # 处罚种类和幅度 as the power list publishes it (free text beside the structured benchmark).
    penalty_text: Mapped[str] = mapped_column(Text, default="")
    # 责任清单: {"unit_code", "role", "act_within_days", "duties"} (see catalog.schemas).
    responsibility: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[PowerStatus] = mapped_column(String(20), default=PowerStatus.ACTIVE)
    # The provisions cited, in order: [{"role", "provision_id", "paragraph", "item"}], where role is
    # a CitationRole and paragraph/item are 0 for "the whole". Kept in the row (not a join table)
    # so the ledgered state covers them.
    citations: Mapped[list[dict[str, Any]]] = mapped_column(default=list)


class BenchmarkVersion(VersionColumns, CreatedAt, Base):
    """A version of a power's discretion benchmark (裁量基准); ``spec`` is a BenchmarkSpec."""

    __tablename__ = "benchmark_version"
    __table_args__ = (UniqueConstraint("power_id", "version"),)
    __ledger_fields__ = ("power_id", *VERSION_LEDGER_FIELDS, "spec")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    power_id: Mapped[int] = mapped_column(ForeignKey("power.id"), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column()


class SubjectType(DistrictScoped, CreatedAt, Base):
    """A kind of regulated subject (建筑工地, 网吧, 餐饮店 …) that selects checklist templates."""

    __tablename__ = "subject_type"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = ("district_code", "code", "name", "active")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CheckItem(DistrictScoped, CreatedAt, Base):
    """A question an officer answers on site (检查事项); its content lives in versions."""

    __tablename__ = "check_item"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = ("district_code", "code")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))


class CheckItemVersion(VersionColumns, CreatedAt, Base):
    __tablename__ = "check_item_version"
    __table_args__ = (UniqueConstraint("check_item_id", "version"),)
    __ledger_fields__ = (
        "check_item_id",
        *VERSION_LEDGER_FIELDS,
        "text",
        "guidance",
        "evidence",
        "department_id",
        "power_ids",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_item_id: Mapped[int] = mapped_column(ForeignKey("check_item.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    guidance: Mapped[str] = mapped_column(Text, default="")
    # Evidence the answer needs: "photo", "video", "audio", "document".
    evidence: Mapped[list[str]] = mapped_column(default=list)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    # Powers that apply when the item fails, by Power.id (stable across power versions).
    power_ids: Mapped[list[int]] = mapped_column(default=list)


class Checklist(DistrictScoped, CreatedAt, Base):
    """A checklist template (巡查清单) for a subject type; its content lives in versions."""

    __tablename__ = "checklist"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = ("district_code", "code", "subject_type_id")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    subject_type_id: Mapped[int] = mapped_column(ForeignKey("subject_type.id"), index=True)


class ChecklistVersion(VersionColumns, CreatedAt, Base):
    __tablename__ = "checklist_version"
    __table_args__ = (UniqueConstraint("checklist_id", "version"),)
    __ledger_fields__ = ("checklist_id", *VERSION_LEDGER_FIELDS, "name", "item_ids", "active")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The check items in order, by CheckItem.id; each item's version is chosen by date.
    item_ids: Mapped[list[int]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DiscretionPolicyVersion(DistrictScoped, VersionColumns, CreatedAt, Base):
    """A district's discretion policy: the [M] constants (see catalog.policy.PolicySpec)."""

    __tablename__ = "discretion_policy_version"
    __table_args__ = (UniqueConstraint("district_code", "version"),)
    __ledger_fields__ = ("district_code", *VERSION_LEDGER_FIELDS, "spec")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column()


__all__ = [
    "BenchmarkVersion",
    "CheckItem",
    "CheckItemVersion",
    "Checklist",
    "ChecklistVersion",
    "CitationRole",
    "DiscretionPolicyVersion",
    "LawKind",
    "LegalDocument",
    "Power",
    "PowerKind",
    "PowerStatus",
    "PowerVersion",
    "Provision",
    "SubjectType",
]
