"""The ledger's tables: entries (the leaves of the Merkle log), perfect subtree nodes, the head
counter, signed checkpoints and witness cosignatures.

Invariants (enforced by database triggers on both SQLite and PostgreSQL, see migration 0002):
entries, nodes, checkpoints and cosignatures are only ever inserted, never updated or deleted.
``LedgerEvent.body`` holds the exact bytes that were hashed; ``seq`` is the 0-based leaf index,
contiguous. The other columns of an entry copy fields of its body for querying; the body is the
truth and verification never re-serialises.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.models.base import Base, CreatedAt


class LedgerEvent(CreatedAt, Base):
    """One entry of the log: a state change or a security event, as canonical JSON bytes."""

    __tablename__ = "ledger_event"
    # A subject's chain head (its latest entry) is read at every append: see migration 0003.
    __table_args__ = (Index("ix_ledger_event_subject", "subject_type", "subject_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    district_code: Mapped[str | None] = mapped_column(String(6), index=True, default=None)
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    time_ms: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Leaf hash of the previous entry about the same subject: each subject has its own chain.
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)


class LedgerNode(Base):
    """Hash of a perfect subtree of 2**level leaves (level ≥ 1) from leaf idx·2**level on."""

    __tablename__ = "ledger_node"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The sequencer: one row whose update takes the writer's lock and hands out leaf indices."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerCheckpoint(CreatedAt, Base):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) of the log at ``size``."""

    __tablename__ = "ledger_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)


class LedgerCosignature(CreatedAt, Base):
    """A witness's cosignature (C2SP tlog-cosignature) of the checkpoint at ``size``."""

    __tablename__ = "ledger_cosignature"
    __table_args__ = (UniqueConstraint("size", "witness"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    witness: Mapped[str] = mapped_column(String(200))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[str] = mapped_column(Text)
