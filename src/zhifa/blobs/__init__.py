"""The content-addressed file store: evidence, signatures and rendered documents under
``<data_dir>/blobs/ab/cd/<sha256>``.

Invariants:
- A file's name is the SHA-256 of its bytes; its SHA-256 and SM3 (GB/T 32905) digests are computed
  while it arrives, in one pass, and its type is sniffed from the content (magic numbers), never
  taken from the file name or the client's Content-Type.
- A file is written to ``blobs/tmp/`` first, flushed to disk and only then renamed into place (an
  atomic rename on one file system), so a crash mid-upload leaves at worst a stray ``.part`` file,
  never a truncated blob under a digest name. ``sweep_partials`` removes stale ones. The same bytes
  are stored once.
- Storing is two steps when the caller must decide in between (``receive`` then ``keep`` or
  ``discard``): an upload refused once its digest is known (a reused client UUID) leaves nothing in
  the store. ``store_stream`` / ``store_bytes`` do both at once.
- The ``blob`` row is written in the caller's transaction; two transactions storing the same bytes
  at once both succeed (the row is inserted once). A rolled-back request leaves an unreferenced
  file behind, which is harmless (the next upload of the same bytes finds it in place).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import filetype
from cryptography.hazmat.primitives import hashes
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zhifa.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from zhifa.kit.clock import utcnow
from zhifa.models.inspections import Blob

SNIFF_BYTES = 8192
PART_SUFFIX = ".part"

# What may be stored, by sniffed type. Evidence narrows this per kind.
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
VIDEO_TYPES = frozenset(
    {"video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/3gpp"}
)
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

# ISO base media files (MP4 family) whose brand the sniffing library does not know: recorders
# (browsers' MediaRecorder, phones) write these. Image brands (heic, mif1, avif) are not here.
_VIDEO_BRANDS = frozenset(
    {b"iso2", b"iso4", b"iso5", b"iso6", b"avc1", b"dash", b"mp71", b"M4V ", b"3gp4", b"3gp5"}
)


@dataclass(frozen=True)
class Stored:
    blob: Blob
    path: Path
    # Whether these bytes were new to the store.
    created: bool


@dataclass(frozen=True)
class Received:
    """Bytes written under ``blobs/tmp`` with their digests and sniffed type, not yet stored."""

    part: Path
    sha256: str
    sm3: str
    size: int
    media_type: str

    def discard(self) -> None:
        """Drop the bytes (nothing happens once they have been kept)."""
        self.part.unlink(missing_ok=True)


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


def sniff(head: bytes) -> str:
    """The media type the content declares by its magic numbers, or ``application/octet-stream``."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    kind = filetype.guess(head)
    if kind is None:
        if head[4:8] == b"ftyp" and head[8:12] in _VIDEO_BRANDS:
            return "video/mp4"
        return "application/octet-stream"
    mime = str(kind.mime)
    # WebM audio-only recordings (MediaRecorder) sniff as video/webm; the evidence kind decides.
    return {"audio/x-flac": "audio/flac", "audio/m4a": "audio/x-m4a"}.get(mime, mime)


def receive(
    root: Path,
    chunks: Iterable[bytes],
    *,
    max_bytes: int,
    allowed: frozenset[str] | None = None,
) -> Received:
    """Write ``chunks`` to a part file under ``root/tmp``, computing both digests; refuse (413)
    above ``max_bytes`` as soon as it is passed and (415) a sniffed type outside ``allowed``.
    On refusal (or any error, a client gone mid-body included) the part file is removed."""
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    part = tmp_dir / f"{uuid.uuid4().hex}{PART_SUFFIX}"
    sha, sm3 = hashlib.sha256(), hashes.Hash(hashes.SM3())
    size, head = 0, b""
    try:
        with part.open("wb") as fh:
            for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                sha.update(chunk)
                sm3.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        media_type = _check_type(size, head, allowed)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return Received(part, sha.hexdigest(), sm3.finalize().hex(), size, media_type)


def keep(session: Session, root: Path, received: Received) -> Stored:
    """Move received bytes into the store (or drop them when the store already holds them) and
    make sure their ``blob`` row exists in the session's transaction."""
    final = path_for(root, received.sha256)
    created = not final.exists()
    if created:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(received.part, final)
        _fsync_dir(final.parent)
    else:
        received.discard()
    return Stored(blob=_blob_row(session, received), path=final, created=created)


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
    received = receive(root, chunks, max_bytes=max_bytes, allowed=allowed)
    try:
        return keep(session, root, received)
    finally:
        received.discard()


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


def sweep_partials(root: Path, *, older_than: timedelta = timedelta(hours=24)) -> int:
    """Remove part files left in ``root/tmp`` by uploads that died (a killed server, a crash)
    and untouched for ``older_than``; an upload still arriving keeps its file's time fresh.
    Returns how many were removed."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for part in (root / "tmp").glob(f"*{PART_SUFFIX}"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
                removed += 1
        except FileNotFoundError:  # finished or swept meanwhile
            continue
    return removed


def _check_type(size: int, head: bytes, allowed: frozenset[str] | None) -> str:
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
    return media_type


def too_large(max_bytes: int) -> PayloadTooLarge:
    """The refusal of a file above ``max_bytes`` (also for a declared length, before reading)."""
    return PayloadTooLarge(
        "The file is larger than {limit} MB; send a shorter recording or a smaller photo.",
        detail={"field": "file", "limit_bytes": max_bytes},
        limit=_megabytes(max_bytes),
    )


def _blob_row(session: Session, received: Received) -> Blob:
    """The blob row of ``received``, inserted unless present. Another transaction inserting the
    same bytes at the same time is waited for and then agreed with (no duplicate-key error)."""
    blob = session.get(Blob, received.sha256)
    if blob is not None:
        return blob
    values: dict[str, Any] = {
        "sha256": received.sha256,
        "sm3": received.sm3,
        "size": received.size,
        "media_type": received.media_type,
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        blob = Blob(**values)
        session.add(blob)
        return blob
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Blob).values(values).on_conflict_do_nothing(index_elements=["sha256"]))
    stored = session.get(Blob, received.sha256)
    assert stored is not None  # inserted now, or by the transaction we waited for
    return stored


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
