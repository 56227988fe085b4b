"""Pydantic shapes of the ledger's public JSON API (``/api/v1/ledger``).

Invariants: every hash and every entry body travels as standard, padded base64 (the encoding of
C2SP checkpoints), so a client can compare a root from a proof with the root line of a note
character for character. Proofs are lists in RFC 9162 order (the sibling nearest the leaf
first), exactly what ``merkle.verify_inclusion`` and ``merkle.verify_consistency`` take.
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, Field


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class CosignatureRead(BaseModel):
    witness: str = Field(description="The witness's key name")
    timestamp: int = Field(description="When the witness cosigned (seconds since the epoch)")
    line: str = Field(description="The tlog-cosignature line, as appended to the note")


class CheckpointRead(BaseModel):
    origin: str
    size: int
    root: str = Field(description="RFC 6962 root hash, base64")
    note: str = Field(description="The signed note with the witnesses' cosignature lines")
    cosignatures: list[CosignatureRead]


class EntryRead(BaseModel):
    index: int
    body: str = Field(description="The exact leaf bytes (canonical JSON), base64")
    leaf_hash: str = Field(description="SHA-256(0x00 ‖ body), base64")
    prev_hash: str | None = Field(description="Leaf hash of the subject's previous entry, base64")
    envelope: dict[str, Any] = Field(description="The body decoded (for reading, not verifying)")


class InclusionProofRead(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str = Field(description="The leaf hash the proof starts from, base64")
    root: str = Field(description="The root of the tree of tree_size leaves, base64")
    proof: list[str] = Field(description="Sibling hashes, base64, nearest the leaf first")


class ConsistencyProofRead(BaseModel):
    first: int
    second: int
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64 hashes")


class CosignatureIn(BaseModel):
    size: int = Field(ge=1, description="The size of the checkpoint that was cosigned")
    line: str = Field(min_length=1, max_length=1000, description="The tlog-cosignature line")
