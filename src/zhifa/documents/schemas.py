"""API shapes of the documents domain: numbering settings, number blocks and the register, the
document issue request (``DocumentIn``), issued documents and the public verification answer.

Sizes are bounded here so that a request cannot make the server hold much in memory: at most 12
signatures of at most 500 kB each (as a base64 data URL, a little over 667 kB of text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zhifa.models.documents import DocumentType, NumberStatus, SignerRole

Text = Field(default="", max_length=200)
SIGNATURE_MAX_BYTES = 500_000
# A PNG of SIGNATURE_MAX_BYTES as a data URL, with room for the prefix.
SIGNATURE_MAX_CHARS = 4 * (SIGNATURE_MAX_BYTES // 3 + 1) + 64


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_name: str = Field(min_length=1, max_length=200)
    agency_short: str = Field(min_length=1, max_length=40)
    codes: dict[str, str] = Field(description="文种代字 per document type")
    pattern: str = Field(min_length=1, max_length=100)
    width: int = Field(default=0, ge=0, le=8, description="Zero-padding of the serial")


class SettingsRead(BaseModel):
    district_code: str
    configured: bool = Field(description="False: these are the defaults, not saved yet")
    agency_name: str
    agency_short: str
    codes: dict[str, str]
    pattern: str
    width: int
    examples: dict[str, str] = Field(description="Serial 1 of this year, per document type")


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_uuid: str = Field(max_length=64)
    doc_type: DocumentType = DocumentType.ON_SPOT_PENALTY
    count: int = Field(ge=1, le=50)
    device_id: str = Field(default="", max_length=64)
    officer_id: int | None = Field(default=None, description="inspections:manage only")


class BlockReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class BlockNumber(BaseModel):
    serial: int
    text: str
    status: NumberStatus


class BlockRead(BaseModel):
    id: int
    doc_type: DocumentType
    doc_type_label: str
    year: int
    first_serial: int
    last_serial: int
    officer_id: int
    device_id: str
    created_at: datetime
    returned_at: datetime | None
    unused: list[BlockNumber] = Field(description="Serials still reserved (usable)")


class RegisterRow(BaseModel):
    serial: int
    text: str
    status: NumberStatus | Literal["missing"]
    status_label: str
    block_id: int | None
    officer_id: int | None
    document_id: int | None
    void_reason: str
    changed_at: datetime | None


class RegisterRead(BaseModel):
    district_code: str
    doc_type: DocumentType
    doc_type_label: str
    year: int
    next_serial: int
    counts: dict[str, int]
    gaps: list[int] = Field(description="Serials below next_serial without a row: must be empty")
    numbers: list[RegisterRow]


class PartyIn(BaseModel):
    """What the officer states about the party; a field left empty comes from the subject."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    representative: str | None = Field(default=None, max_length=100)
    id_number: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)


class SignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: SignerRole
    officer_id: int | None = None
    name: str = Text
    image_png: str | None = Field(default=None, max_length=SIGNATURE_MAX_CHARS)
    refused: bool = False
    refusal_reason: str = Field(default="", max_length=500)
    witness_name: str = Field(default="", max_length=100)


ServiceMethod = Literal["direct", "left", "entrusted", "mail", "electronic"]


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: ServiceMethod = "direct"
    recipient: str = Field(default="", max_length=100)
    # The documents served (a 送达回证); default: every document issued for the task so far.
    document_ids: list[int] = Field(default_factory=list, max_length=20)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_uuid: str = Field(max_length=64)
    doc_type: DocumentType
    task_id: int
    item_codes: list[str] = Field(default_factory=list, max_length=60)
    serial: int | None = Field(default=None, ge=1)
    device_time: datetime | None = None
    party: PartyIn | None = None
    signatures: list[SignatureIn] = Field(default_factory=list, max_length=12)
    service: ServiceIn | None = None


class SignatureRead(BaseModel):
    role: SignerRole
    role_label: str
    officer_id: int | None
    signer_name: str
    image_sha256: str | None
    refused: bool
    refusal_reason: str
    witness_name: str
    signed_at: datetime


class DocumentRead(BaseModel):
    id: int
    public_id: str
    doc_type: DocumentType
    doc_type_label: str
    number_text: str
    status: str
    issued_at: datetime
    task_id: int | None
    inspection_id: int | None
    subject_id: int | None
    party_name: str
    pdf_sha256: str
    pdf_size: int
    pdf_url: str
    verify_url: str
    signatures: list[SignatureRead]


class DocumentDetail(DocumentRead):
    fields: dict[str, Any] = Field(description="Everything printed on the document")


class ProofRead(BaseModel):
    status: Literal["verified", "pending", "failed"]
    message: str
    reason: str = Field(description="The technical reason of a failure, as it is")
    index: int | None = Field(description="The ledger entry of document.issued")
    leaf_hash: str | None = Field(description="SHA-256(0x00 ‖ entry bytes), base64")
    tree_size: int | None
    root: str | None = Field(description="The root in the signed checkpoint, base64")
    proof: list[str] = Field(description="Sibling hashes, base64, nearest the leaf first")
    checkpoint: str | None = Field(description="The signed checkpoint note")


class VerifyRead(BaseModel):
    public_id: str
    agency: str
    doc_type: str
    doc_type_label: str
    number_text: str
    issued_on: str
    party: str = Field(description="A person's name is masked to the surname")
    pdf_sha256: str
    proof: ProofRead
