"""Signatures on a document: who must sign, the images, and how they are kept.

Rules (行政处罚法 arts. 42, 52; the filling rules of law-and-procedure.md §6.2):
- every officer present on the task (checked in, or with an approved exception) signs, once;
- the party signs, or refuses: the refusal is recorded with its reason and, when there is one, a
  witness's name; a witness may also sign;
- nobody else signs: an officer who was not present, a second party, an officer who "refuses".

A signature image is a PNG sent as a ``data:image/png;base64,…`` URL of at most 500 kB, checked by
its content (not by the URL's claim). It is stored in the blob store and as an
``Evidence(kind=signature)`` row of the task, whose client UUID is derived from the document's
(UUID5 of the document UUID and the signature's position), so a retried issue cannot duplicate it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from zhifa import blobs, ledger
from zhifa.documents.compose import Officer, Signer
from zhifa.documents.schemas import SIGNATURE_MAX_BYTES, SignatureIn
from zhifa.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from zhifa.kit.clock import utcnow
from zhifa.models.documents import Document, DocumentSignature, SignerRole
from zhifa.models.inspections import Evidence, EvidenceKind, Inspection

PREFIX = "data:image/png;base64,"
NAMESPACE = uuid.UUID("7f0c1b53-3a5e-4c8e-9d6a-2f1e6b9c4d10")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Signed:
    """One checked signature: who, and the image bytes (None for a refusal)."""

    signer: Signer
    image: bytes | None


def decode_png(data_url: str, *, index: int) -> bytes:
    """The PNG bytes of a signature data URL (422 not a data URL, 413 too large, 415 not PNG)."""
    field = f"signatures.{index}.image_png"
    if not data_url.startswith(PREFIX):
        raise InvalidInput(
            "A signature must be sent as a data:image/png;base64 URL.", detail={"field": field}
        )
    try:
        raw = base64.b64decode(data_url[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "The signature image is not valid base64.", detail={"field": field}
        ) from None
    if len(raw) > SIGNATURE_MAX_BYTES:
        raise PayloadTooLarge(
            "A signature image may be at most {limit} kB.",
            detail={"field": field, "limit_bytes": SIGNATURE_MAX_BYTES},
            limit=SIGNATURE_MAX_BYTES // 1000,
        )
    if blobs.sniff(raw[: blobs.SNIFF_BYTES]) != "image/png" or not raw.startswith(PNG_MAGIC):
        raise UnsupportedMediaType(
            "The signature image is not a PNG picture.", detail={"field": field}
        )
    return raw


def check(entries: list[SignatureIn], present: list[Officer], party_name: str) -> list[Signed]:
    """Apply the signing rules; the signatures in print order (party, officers, witnesses)."""
    by_id = {o.id: o for o in present}
    party: list[Signed] = []
    officers: dict[int, Signed] = {}
    witnesses: list[Signed] = []
    for index, entry in enumerate(entries):
        if entry.role == SignerRole.PARTY:
            party.append(_party(entry, index, party_name))
        elif entry.role == SignerRole.OFFICER:
            officer = _officer(entry, index, by_id, officers)
            officers[officer.id] = Signed(
                Signer("officer", officer.name, officer_id=officer.id, image_sha256=None),
                _image(entry, index),
            )
        else:
            witnesses.append(_witness(entry, index))
    _complete(party, officers, present)
    return [_with_digest(s) for s in [*party, *(officers[o.id] for o in present), *witnesses]]


def _complete(party: list[Signed], officers: dict[int, Signed], present: list[Officer]) -> None:
    if len(party) != 1:
        raise InvalidInput(
            "The party signs once, or their refusal is recorded once; {count} party entries "
            "were sent.",
            detail={"field": "signatures"},
            error_code="party_signature",
            count=len(party),
        )
    missing = [o.name for o in present if o.id not in officers]
    if missing:
        raise InvalidInput(
            "Every officer present must sign; missing: {names}.",
            detail={
                "field": "signatures",
                "missing": [o.id for o in present if o.id not in officers],
            },
            error_code="officer_signature_missing",
            names="、".join(missing),
        )


def _party(entry: SignatureIn, index: int, party_name: str) -> Signed:
    if entry.refused:
        if not entry.refusal_reason.strip():
            field = f"signatures.{index}.refusal_reason"
            raise InvalidInput(
                "A refusal to sign needs the reason, as the party gave it.",
                detail={"field": field},
            )
        signer = Signer(
            "party",
            entry.name.strip() or party_name,
            refused=True,
            refusal_reason=entry.refusal_reason.strip(),
            witness_name=entry.witness_name.strip(),
        )
        return Signed(signer, None)
    name = entry.name.strip()
    if not name:
        field = f"signatures.{index}.name"
        raise InvalidInput(
            "The party's signature needs the name of the person who signed.",
            detail={"field": field},
        )
    return Signed(Signer("party", name), _image(entry, index))


def _officer(
    entry: SignatureIn, index: int, present: dict[int, Officer], done: dict[int, Signed]
) -> Officer:
    field = f"signatures.{index}.officer_id"
    officer = present.get(entry.officer_id) if entry.officer_id is not None else None
    if officer is None:
        raise InvalidInput(
            "Only the officers present on the task sign; officer {id} was not present.",
            detail={"field": field},
            error_code="officer_not_present",
            id=entry.officer_id,
        )
    if officer.id in done:
        raise InvalidInput(
            "Officer {name} signed twice.", detail={"field": field}, name=officer.name
        )
    if entry.refused:
        raise InvalidInput(
            "An officer cannot refuse to sign the document they issue.", detail={"field": field}
        )
    return officer


def _witness(entry: SignatureIn, index: int) -> Signed:
    if entry.refused or not entry.name.strip():
        field = f"signatures.{index}.name"
        raise InvalidInput(
            "A witness signs with their name and signature.", detail={"field": field}
        )
    return Signed(Signer("witness", entry.name.strip()), _image(entry, index))


def _image(entry: SignatureIn, index: int) -> bytes:
    if not entry.image_png:
        field = f"signatures.{index}.image_png"
        raise InvalidInput("The signature image is missing.", detail={"field": field})
    return decode_png(entry.image_png, index=index)


def _with_digest(signed: Signed) -> Signed:
    if signed.image is None:
        return signed
    digest = hashlib.sha256(signed.image).hexdigest()
    s = signed.signer
    signer = Signer(
        s.role, s.name, s.officer_id, digest, s.refused, s.refusal_reason, s.witness_name
    )
    return Signed(signer, signed.image)


def evidence_uuid(document_uuid: str, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{document_uuid}/signature/{index}"))


def store(
    session: Session,
    blob_dir: Path,
    *,
    document: Document,
    inspection: Inspection,
    signed: list[Signed],
    actor_id: int,
) -> list[DocumentSignature]:
    """Keep the signatures of an issued document: blobs, evidence rows, signature rows, events."""
    rows = []
    now = utcnow()
    for index, item in enumerate(signed):
        s = item.signer
        row = DocumentSignature(
            district_code=document.district_code,
            document_id=document.id,
            role=SignerRole(s.role),
            officer_id=s.officer_id,
            signer_name=s.name,
            image_sha256=s.image_sha256,
            refused=s.refused,
            refusal_reason=s.refusal_reason,
            witness_name=s.witness_name,
            signed_at=now,
        )
        evidence = None
        if item.image is not None:
            evidence = _evidence(session, blob_dir, document, inspection, item, index, actor_id)
        session.add(row)
        session.flush()
        _record(session, row, evidence, actor_id)
        rows.append(row)
    return rows


def _evidence(
    session: Session,
    blob_dir: Path,
    document: Document,
    inspection: Inspection,
    item: Signed,
    index: int,
    actor_id: int,
) -> Evidence:
    assert item.image is not None
    stored = blobs.store_bytes(
        session,
        blob_dir,
        item.image,
        max_bytes=SIGNATURE_MAX_BYTES,
        allowed=frozenset({"image/png"}),
    )
    role = {"party": "当事人", "officer": "执法人员", "witness": "见证人"}[item.signer.role]
    evidence = Evidence(
        district_code=document.district_code,
        client_uuid=evidence_uuid(document.client_uuid or document.public_id, index),
        task_id=inspection.task_id,
        inspection_id=inspection.id,
        kind=EvidenceKind.SIGNATURE,
        sha256=stored.blob.sha256,
        sm3=stored.blob.sm3,
        size=stored.blob.size,
        media_type=stored.blob.media_type,
        caption=f"{role}{item.signer.name}在{document.number_text}上的签名",
        received_at=utcnow(),
        uploaded_by_id=actor_id,
    )
    session.add(evidence)
    session.flush()
    ledger.record(
        session,
        "inspection.evidence.added",
        evidence,
        {"kind": "signature", "document_id": document.id, "sha256": evidence.sha256},
        actor_id=actor_id,
        district_code=document.district_code,
        evidence=(evidence.sha256,),
    )
    return evidence


def _record(
    session: Session, row: DocumentSignature, evidence: Evidence | None, actor_id: int
) -> None:
    if row.refused:
        payload = {"document_id": row.document_id, "reason": row.refusal_reason}
        ledger.record(
            session,
            "document.signature_refused",
            row,
            payload | {"witness_name": row.witness_name},
            actor_id=actor_id,
            district_code=row.district_code,
        )
        return
    assert evidence is not None
    ledger.record(
        session,
        "document.signed",
        row,
        {"document_id": row.document_id, "role": str(row.role), "evidence_id": evidence.id},
        actor_id=actor_id,
        district_code=row.district_code,
        evidence=(evidence.sha256,),
    )
