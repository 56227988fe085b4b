"""Public verification of a document: what the ledger says was issued, and the proof of it.

What is shown comes from the ``document.issued`` entry's bytes (its payload carries the document
row's state at issue: number, type, fields, the PDF's SHA-256), not from the document row, which a
database administrator could edit. The entry is then proved: its leaf hash is recomputed from the
stored bytes, its RFC 9162 inclusion proof is checked against the root *in the signed note* of the
latest checkpoint, and the note's signature against the log's verifier key — what an outside
auditor checks. A document row that no longer matches its entry is reported as a failure.

When the latest checkpoint does not cover the entry yet (the scheduler signs at most once a second
after appends), one is signed on demand (``ledger.tasks.sign_once``, its own transaction; a size is
signed only once, so this adds at most one checkpoint per new document); if that is not possible
(no signer key in this process), the page says the proof is pending.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.config import Settings
from zhifa.db import Database
from zhifa.documents.compose import mask_name
from zhifa.ledger import checkpoints, merkle, note, store, tasks
from zhifa.ledger.kinds import N_
from zhifa.models.documents import Document, DocumentType
from zhifa.models.ledger import LedgerEvent

Status = Literal["verified", "pending", "failed"]
ISSUED = "document.issued"


@dataclass(frozen=True)
class Claims:
    """The document as its ledger entry records it."""

    agency: str
    doc_type: str
    number_text: str
    issued_at: datetime | None
    party: str
    pdf_sha256: str

    @property
    def doc_type_label(self) -> str:
        try:
            return DocumentType(self.doc_type).label
        except ValueError:
            return self.doc_type


@dataclass(frozen=True)
class Verification:
    status: Status
    message: str  # an English msgid, translated where shown
    claims: Claims | None = None
    reason: str = ""
    index: int | None = None
    leaf_hash: bytes | None = None
    tree_size: int | None = None
    root: bytes | None = None
    proof: list[bytes] = field(default_factory=list)
    checkpoint: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "verified"


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def issued_entry(session: Session, doc: Document) -> LedgerEvent | None:
    stmt = (
        select(LedgerEvent)
        .where(
            LedgerEvent.subject_type == Document.__tablename__,
            LedgerEvent.subject_id == str(doc.id),
            LedgerEvent.kind == ISSUED,
        )
        .order_by(LedgerEvent.seq)
        .limit(1)
    )
    return session.scalar(stmt)


def claims_of(body: bytes) -> Claims:
    """What the entry's bytes say (ValueError/KeyError when they are not a document.issued)."""
    envelope: dict[str, Any] = json.loads(body)
    if envelope.get("kind") != ISSUED:
        raise ValueError("the entry is not a document.issued event")
    state = envelope["payload"]["state"]
    fields = state.get("fields") or {}
    party = fields.get("party") or {}
    name = str(party.get("name", ""))
    issued = state.get("issued_at")
    return Claims(
        agency=str(fields.get("agency", "")),
        doc_type=str(state["doc_type"]),
        number_text=str(state["number_text"]),
        issued_at=datetime.fromisoformat(issued) if isinstance(issued, str) else None,
        party=mask_name(name) if party.get("kind") == "person" else name,
        pdf_sha256=str(state["pdf_sha256"]),
    )


def verify(session: Session, db: Database, settings: Settings, doc: Document) -> Verification:
    entry = issued_entry(session, doc)
    if entry is None:
        return Verification("failed", N_("The ledger has no record of this document's issue."))
    body = bytes(entry.body)
    try:
        claims = claims_of(body)
    except (ValueError, KeyError, TypeError) as exc:
        return Verification(
            "failed", N_("The ledger entry of this document cannot be read."), reason=str(exc)
        )
    if claims.pdf_sha256 != doc.pdf_sha256 or claims.number_text != doc.number_text:
        return Verification(
            "failed",
            N_("The stored document differs from what the ledger recorded at issue."),
            claims,
            reason=f"ledger {claims.pdf_sha256} ≠ stored {doc.pdf_sha256}",
            index=entry.seq,
        )
    return _prove(session, db, settings, entry, body, claims)


def _covering_checkpoint(
    session: Session, db: Database, settings: Settings, index: int
) -> tuple[str, int] | None:
    """The latest checkpoint note and size, signing one first if none covers ``index`` yet."""
    latest = checkpoints.latest(session)
    if latest is None or latest.size <= index:
        tasks.sign_once(db, settings)
        latest = checkpoints.latest(session)
    if latest is None or latest.size <= index:
        return None
    return latest.note, latest.size


def _prove(
    session: Session,
    db: Database,
    settings: Settings,
    entry: LedgerEvent,
    body: bytes,
    claims: Claims,
) -> Verification:
    index = entry.seq
    leaf = merkle.leaf_hash(body)
    covering = _covering_checkpoint(session, db, settings, index)
    if covering is None:
        return Verification(
            "pending",
            N_(
                "The issue is recorded in the ledger, but no signed checkpoint covers it yet; "
                "reload this page in a moment."
            ),
            claims,
            index=index,
            leaf_hash=leaf,
        )
    text, _size = covering
    keys = checkpoints.load_keys(settings)
    try:
        if keys is None:
            raise note.NoteError("this server holds no verifier key for the log")
        checkpoint_body, _ = note.open_note(text, [keys.verifier_key])
        signed = note.Checkpoint.parse_body(checkpoint_body)
        proof = store.inclusion_proof(session, index, signed.size)
        merkle.verify_inclusion(leaf, index, signed.size, proof, signed.root)
    except (merkle.ProofError, note.NoteError, LookupError) as exc:
        return Verification(
            "failed",
            N_("The proof does not check out against the signed checkpoint."),
            claims,
            reason=str(exc),
            index=index,
            leaf_hash=leaf,
            checkpoint=text,
        )
    return Verification(
        "verified",
        N_("Verified: this document's issue is recorded in the signed ledger."),
        claims,
        index=index,
        leaf_hash=leaf,
        tree_size=signed.size,
        root=signed.root,
        proof=proof,
        checkpoint=text,
    )
