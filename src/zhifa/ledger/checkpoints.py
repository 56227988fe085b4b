"""Signed checkpoints of the log and the witnesses' cosignatures.

Invariants:
- A checkpoint is signed for a size only once (checkpoints are time-free C2SP bodies: signing the
  same size again would give the same note); a new one is signed whenever the log has grown.
- The signer key lives in a file outside the database (``zhifa ledger keygen``); the verifier key
  is derived from it and published.
- A cosignature is kept only if it verifies against a configured witness key and the checkpoint
  it cosigns is one this log signed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.config import Settings
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.kit.clock import utcnow
from zhifa.ledger import note, store
from zhifa.models.ledger import LedgerCheckpoint, LedgerCosignature


@dataclass(frozen=True)
class LogKeys:
    signer: note.Signer
    verifier_key: str


def keygen(path: Path, origin: str) -> str:
    """Write a new signer key to ``path`` (mode 0600, never overwritten); return the verifier."""
    signer_key, verifier_key = note.generate_signer(origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer_key + "\n")
    return verifier_key


def load_keys(settings: Settings) -> LogKeys | None:
    """The log's keys, or None when no signer key has been generated yet."""
    path = settings.ledger_key_path
    if not path.exists():
        return None
    signer = note.parse_signer(path.read_text().strip())
    return LogKeys(signer, note.verifier_key_for(signer))


def latest(session: Session) -> LedgerCheckpoint | None:
    return session.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1))


def at_size(session: Session, size: int) -> LedgerCheckpoint | None:
    return session.scalar(select(LedgerCheckpoint).where(LedgerCheckpoint.size == size))


def all_checkpoints(session: Session) -> list[LedgerCheckpoint]:
    return list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)))


def sign(session: Session, keys: LogKeys) -> LedgerCheckpoint | None:
    """Sign a checkpoint of the current size if the log grew since the last one."""
    size = store.size(session)
    current = latest(session)
    if size == 0 or (current is not None and current.size >= size):
        return None
    root = store.root(session, size)
    body = note.Checkpoint(keys.signer.name, size, root).to_body()
    row = LedgerCheckpoint(size=size, root=root, note=note.sign(body, keys.signer))
    session.add(row)
    session.flush()
    return row


def cosignatures(session: Session, size: int) -> list[LedgerCosignature]:
    stmt = select(LedgerCosignature).where(LedgerCosignature.size == size)
    return list(session.scalars(stmt.order_by(LedgerCosignature.witness)))


def last_cosignature_of(session: Session, witness: str) -> LedgerCosignature | None:
    """The cosignature of the largest checkpoint ``witness`` has cosigned."""
    stmt = select(LedgerCosignature).where(LedgerCosignature.witness == witness)
    return session.scalar(stmt.order_by(LedgerCosignature.size.desc()).limit(1))


def add_cosignature(
    session: Session, settings: Settings, *, size: int, line: str
) -> LedgerCosignature:
    """Keep a witness's cosignature of our checkpoint at ``size``, if it verifies."""
    checkpoint = at_size(session, size)
    if checkpoint is None:
        raise NotFound("There is no checkpoint of size {size}.", size=size)
    body, _ = note.parse_note(checkpoint.note)
    witness, timestamp = _verify_with_known_witness(settings, body, line)
    if any(c.witness == witness for c in cosignatures(session, size)):
        raise Conflict(
            "Witness {witness} has already cosigned size {size}.", witness=witness, size=size
        )
    row = LedgerCosignature(size=size, witness=witness, timestamp=timestamp, line=line.strip())
    session.add(row)
    session.flush()
    return row


def _verify_with_known_witness(settings: Settings, body: str, line: str) -> tuple[str, int]:
    for key in settings.ledger_witnesses:
        verifier = note.parse_verifier(key)
        try:
            return verifier.name, note.verify_cosignature(body, line, verifier)
        except note.NoteError:
            continue
    raise InvalidInput(
        "The cosignature does not verify against any configured witness key.",
        detail={"received_at": utcnow().isoformat()},
    )


def published_note(session: Session, checkpoint: LedgerCheckpoint) -> str:
    """The checkpoint note with the witnesses' cosignature lines appended."""
    lines = "".join(c.line + "\n" for c in cosignatures(session, checkpoint.size))
    return checkpoint.note + lines
