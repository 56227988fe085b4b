"""Enforcement documents (执法文书): numbering, issued documents and their signatures.

Invariants:
- Numbers are gap-free and never reused per (district, document type, year).
  ``DocumentNumberSeries`` holds the next serial; it is advanced under a row lock in the
  transaction that uses the number, so a rolled-back document gives its number back and a
  committed one keeps it.
- Every serial handed out has a ``DocumentNumber`` row: used by a document, reserved in a block
  allotted to an officer's device (pre-numbered forms for offline use, 行政处罚法 art. 52), or
  voided with a reason. A voided number is never used again. So the register of a year is the
  serials 1..next-1, each accounted for.
- A document's PDF is rendered once, stored in the blob store, and its SHA-256 is recorded in the
  ledger event ``document.issued``; the public ``/verify/{public_id}`` page proves that event's
  inclusion against the latest signed checkpoint.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.kit.clock import utcnow
from zhifa.models.base import Base, CreatedAt, DistrictScoped, Timestamps


class DocumentType(StrEnum):
    INSPECTION_RECORD = "inspection_record"  # 现场检查（勘验）笔录
    RECTIFICATION_NOTICE = "rectification_notice"  # 责令（限期）改正通知书
    ON_SPOT_PENALTY = "on_spot_penalty"  # 当场行政处罚决定书
    SERVICE_RECEIPT = "service_receipt"  # 送达回证

    @property
    def label(self) -> str:
        return DOCUMENT_TYPE_LABELS[self]


DOCUMENT_TYPE_LABELS = {
    DocumentType.INSPECTION_RECORD: "On-site inspection record",
    DocumentType.RECTIFICATION_NOTICE: "Order to rectify within a time limit",
    DocumentType.ON_SPOT_PENALTY: "On-the-spot administrative penalty decision",
    DocumentType.SERVICE_RECEIPT: "Proof of service",
}


class DocumentSettings(DistrictScoped, Timestamps, Base):
    """A district's numbering rule: ``{agency}{code}〔{year}〕第{serial}号`` (configurable)."""

    __tablename__ = "document_settings"
    __table_args__ = (UniqueConstraint("district_code"),)
    __ledger_fields__ = (
        "district_code",
        "agency_name",
        "agency_short",
        "codes",
        "pattern",
        "width",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_name: Mapped[str] = mapped_column(String(200))  # 崇州市综合行政执法局
    agency_short: Mapped[str] = mapped_column(String(40))  # 崇综执
    # 文种代字 per document type, e.g. {"on_spot_penalty": "罚当字", "rectification_notice": "改字"}
    codes: Mapped[dict[str, Any]] = mapped_column()
    pattern: Mapped[str] = mapped_column(
        String(100), default="{agency}{code}〔{year}〕第{serial}号"
    )
    # Zero-padding of the serial (0: none, 3: 第007号).
    width: Mapped[int] = mapped_column(Integer, default=0)


class DocumentNumberSeries(DistrictScoped, Base):
    __tablename__ = "document_number_series"
    __table_args__ = (UniqueConstraint("district_code", "doc_type", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[DocumentType] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)
    next_serial: Mapped[int] = mapped_column(Integer, default=1)


class NumberStatus(StrEnum):
    RESERVED = "reserved"  # in an officer's block, not used yet
    USED = "used"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return {"reserved": "Reserved", "used": "Used", "voided": "Voided"}[self.value]


class NumberBlock(DistrictScoped, CreatedAt, Base):
    """Serials ``first..last`` allotted to an officer's device for offline, pre-numbered forms."""

    __tablename__ = "document_number_block"
    __ledger_fields__ = (
        "district_code",
        "doc_type",
        "year",
        "first_serial",
        "last_serial",
        "officer_id",
        "device_id",
        "returned_at",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[DocumentType] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)
    first_serial: Mapped[int] = mapped_column(Integer)
    last_serial: Mapped[int] = mapped_column(Integer)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    # Set when the block is returned: its unused numbers are voided then.
    returned_at: Mapped[datetime | None] = mapped_column(default=None)


class DocumentNumber(DistrictScoped, Base):
    __tablename__ = "document_number"
    __table_args__ = (UniqueConstraint("district_code", "doc_type", "year", "serial"),)
    __ledger_fields__ = (
        "district_code",
        "doc_type",
        "year",
        "serial",
        "text",
        "status",
        "block_id",
        "document_id",
        "void_reason",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[DocumentType] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(100))  # 崇综执罚当字〔2026〕第12号
    status: Mapped[NumberStatus] = mapped_column(String(20))
    block_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_number_block.id"), default=None, index=True
    )
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), default=None)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentStatus(StrEnum):
    ISSUED = "issued"
    VOIDED = "voided"  # 作废 (a new document replaces it; the number stays used)

    @property
    def label(self) -> str:
        return {"issued": "Issued", "voided": "Voided"}[self.value]


class Document(DistrictScoped, CreatedAt, Base):
    __tablename__ = "document"
    __ledger_fields__ = (
        "district_code",
        "public_id",
        "doc_type",
        "number_text",
        "year",
        "serial",
        "task_id",
        "inspection_id",
        "subject_id",
        "fields",
        "pdf_sha256",
        "pdf_size",
        "issued_at",
        "issued_by_id",
        "status",
        "client_uuid",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, unguessable id used in the QR code's /verify/{public_id} link.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    doc_type: Mapped[DocumentType] = mapped_column(String(30))
    number_text: Mapped[str] = mapped_column(String(100), default="")
    year: Mapped[int | None] = mapped_column(Integer, default=None)
    serial: Mapped[int | None] = mapped_column(Integer, default=None)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_task.id"), default=None)
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection.id"), default=None, index=True
    )
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subject.id"), default=None, index=True
    )
    # Everything printed on the document, as rendered (party, facts, basis, amount, remedies …).
    fields: Mapped[dict[str, Any]] = mapped_column()
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    pdf_size: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("officer.id"))
    status: Mapped[DocumentStatus] = mapped_column(String(20), default=DocumentStatus.ISSUED)
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True, default=None)


class SignerRole(StrEnum):
    PARTY = "party"  # 当事人
    OFFICER = "officer"  # 执法人员
    WITNESS = "witness"  # 见证人

    @property
    def label(self) -> str:
        return {"party": "Party", "officer": "Officer", "witness": "Witness"}[self.value]


class DocumentSignature(DistrictScoped, Base):
    __tablename__ = "document_signature"
    __ledger_fields__ = (
        "district_code",
        "document_id",
        "role",
        "officer_id",
        "signer_name",
        "image_sha256",
        "refused",
        "refusal_reason",
        "witness_name",
        "signed_at",
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    role: Mapped[SignerRole] = mapped_column(String(20))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), default=None)
    signer_name: Mapped[str] = mapped_column(String(100), default="")
    # The signature image (PNG) in the blob store; None when the signer refused.
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"), default=None)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    witness_name: Mapped[str] = mapped_column(String(100), default="")
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
