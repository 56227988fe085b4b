"""The content-addressed file store: evidence, signatures and rendered documents under
``<data_dir>/blobs/ab/cd/<sha256>``.

Invariants:
- A file's name is the SHA-256 of its bytes; its SHA-256 and SM3 (GB/T 32905) digests are computed
  while it arrives, in one pass, and its type is sniffed from the content (magic numbers), never
  taken from the file name or the client's Content-Type.
- A file is written to ``blobs/tmp/`` first, flushed to disk and only then renamed into place (an
  atomic rename on one file system), so a crash mid-upload leaves at worst a stray ``.part`` file,
  never a truncated blob under a digest name. The same bytes are stored once.
- The ``blob`` row is added to the caller's session; a rolled-back request leaves an unreferenced
  file behind, which is harmless (the next upload of the same bytes finds it in place).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import filetype
from cryptography.hazmat.primitives import hashes
from sqlalchemy.orm import Session

from zhifa.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from zhifa.models.inspections import Blob

SNIFF_BYTES = 8192

# What may be stored, by sniffed type. Evidence narrows this per kind.
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/x-matroska"})
AUDIO_TYPES = frozenset(
    {
        "audio/mpeg",
        "audio/mp4",
        "audio/x-m4a",
        "audio/ogg",
        "audio/x-wav",
        "audio/webm",
        "audio/aac",
        "audio/amr",
    }
)
PDF_TYPES = frozenset({"application/pdf"})


@dataclass(frozen=True)
class Stored:
    blob: Blob
    path: Path
    # Whether these bytes were new to the store.
    created: bool


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


def sniff(head: bytes) -> str:
    """The media type the content declares by its magic numbers, or ``application/octet-stream``."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    kind = filetype.guess(head)
    if kind is None:
        return "application/octet-stream"
    mime = str(kind.mime)
    # WebM audio-only recordings (MediaRecorder) sniff as video/webm; the evidence kind decides.
    return {"audio/x-flac": "audio/flac", "audio/m4a": "audio/x-m4a"}.get(mime, mime)


def store_stream(
    session: Session,
    root: Path,
    chunks: Iterable[bytes],
    *,
    max_bytes: int,
    allowed: frozenset[str] | None = None,
) -> Stored:
    """Write ``chunks`` into the store; refuse (413) above ``max_bytes`` and (415) a sniffed type
    outside ``allowed``. Nothing is left under a digest name on refusal."""
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    part = tmp_dir / f"{uuid.uuid4().hex}.part"
    sha = hashlib.sha256()
    sm3 = hashes.Hash(hashes.SM3())
    size = 0
    head = b""
    try:
        with part.open("wb") as fh:
            for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(
                        "The file is larger than {limit} MB; send a shorter recording or a "
                        "smaller photo.",
                        detail={"field": "file", "limit_bytes": max_bytes},
                        limit=_megabytes(max_bytes),
                    )
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                sha.update(chunk)
                sm3.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if size == 0:
            raise UnsupportedMediaType("The file is empty.", detail={"field": "file"})
        media_type = sniff(head)
        if allowed is not None and media_type not in allowed:
            raise UnsupportedMediaType(
                "The file's content is {found}, which is not accepted here (accepted: {accepted}).",
                detail={"field": "file", "media_type": media_type},
                found=media_type,
                accepted=", ".join(sorted(allowed)),
            )
        digest = sha.hexdigest()
        final = path_for(root, digest)
        created = not final.exists()
        if created:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, final)
            _fsync_dir(final.parent)
    finally:
        part.unlink(missing_ok=True)
    blob = session.get(Blob, digest)
    if blob is None:
        blob = Blob(sha256=digest, sm3=sm3.finalize().hex(), size=size, media_type=media_type)
        session.add(blob)
    return Stored(blob=blob, path=final, created=created)


def store_bytes(
    session: Session,
    root: Path,
    data: bytes,
    *,
    max_bytes: int,
    allowed: frozenset[str] | None = None,
) -> Stored:
    return store_stream(session, root, [data], max_bytes=max_bytes, allowed=allowed)


def open_path(root: Path, sha256: str) -> Path:
    """The stored file of ``sha256``; NotFound when the store does not hold it."""
    path = path_for(root, sha256)
    if len(sha256) != 64 or not path.is_file():
        raise NotFound("The file {sha256} is not in the store.", sha256=sha256)
    return path


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
