"""Digests of evidence and document files: SHA-256 beside 国密 SM3 (GB/T 32905-2016).

This module owns how file contents are fingerprinted. Invariants: digests are lowercase hex; a file
is read once, in fixed-size chunks, so a large video costs constant memory; SHA-256 stays the
tree's hash (so RFC 6962 peer vectors apply) and SM3 is recorded alongside for Chinese
compliance.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import hashes

CHUNK_SIZE = 1 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def file_digests(path: str | Path) -> tuple[str, str, int]:
    """(SHA-256 hex, SM3 hex, size in bytes) of the file at ``path``, in a single pass."""
    sha256 = hashlib.sha256()
    sm3 = hashes.Hash(hashes.SM3())
    size = 0
    with Path(path).open("rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            sha256.update(chunk)
            sm3.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), sm3.finalize().hex(), size
