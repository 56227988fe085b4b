"""Photos of a complaint: the citizen's (role ``report``, from the public page) and the officers'
(``before``, ``after``, ``verify``), stored content-addressed in the blob store.

Invariants:
- Only photos: the type is sniffed from the bytes (JPEG, PNG, WebP, HEIC; else 415) and the size
  is limited by ``complaint_photo_max_bytes`` (413, stopped at the first chunk past it); at most
  ``complaint_photos_max`` photos per complaint and role (409). Refused bytes leave nothing.
- An officer's upload carries the device's client UUID and is applied once: the same UUID with
  the same bytes (same complaint and role) answers the row stored the first time; other bytes or
  another complaint under the UUID is a 409 and the first upload stands.
- Officers add photos only to a complaint they can see that is not finished; the citizen's photos
  come with the filing. Each photo is the step ``media_added`` (not public) whose data carries its
  SHA-256, which the ledger keeps as the event's evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhifa import blobs
from zhifa.complaints import repository as repo
from zhifa.complaints import workflow
from zhifa.complaints.schemas import MediaRead
from zhifa.config import Settings, get_settings
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.kit import idempotency
from zhifa.models.complaints import (
    FINAL_STATUSES,
    Complaint,
    ComplaintMedia,
    ComplaintStatus,
    MediaRole,
)
from zhifa.org.actor import Actor
from zhifa.web.i18n import DEFAULT_LOCALE, translate

OFFICER_ROLES = frozenset({MediaRole.BEFORE, MediaRole.AFTER, MediaRole.VERIFY})


@dataclass(frozen=True)
class Added:
    media: ComplaintMedia
    # False when a retry under the same client UUID found the first upload.
    created: bool


def media_url(row: ComplaintMedia) -> str:
    return f"/api/v1/complaints/{row.complaint_id}/media/{row.id}"


def media_read(row: ComplaintMedia, locale: str = DEFAULT_LOCALE) -> MediaRead:
    read = MediaRead.model_validate(row)
    read.role_label = translate(locale, MediaRole(row.role).label)
    read.url = media_url(row)
    return read


def _not_found(complaint_id: int) -> NotFound:
    return NotFound(
        "Complaint {complaint_id} does not exist or is outside your data scope.",
        complaint_id=complaint_id,
    )


def check_role(role: MediaRole, officer_id: int | None) -> None:
    if officer_id is None and role != MediaRole.REPORT:
        raise InvalidInput(
            "Photos from the public page are the reporter's (role report).",
            detail={"field": "role"},
        )
    if officer_id is not None and role not in OFFICER_ROLES:
        raise InvalidInput(
            "An officer's photo is taken before or after handling, or at the re-check (role "
            "before, after or verify).",
            detail={"field": "role"},
        )


def check_open(complaint: Complaint) -> None:
    if ComplaintStatus(complaint.status) in FINAL_STATUSES:
        raise Conflict(
            "Complaint {tracking_no} is finished; photos can no longer be added to it.",
            error_code="complaint_finished",
            tracking_no=complaint.tracking_no,
        )


def admit(
    session: Session, actor: Actor, *, complaint_id: int, role: MediaRole, client_uuid: str
) -> Complaint:
    """The refusals an officer's upload gets before a byte of it is read (404, 422, 409). An
    upload already stored under ``client_uuid`` is let through: its retry gets the first row."""
    uuid = idempotency.parse_uuid(client_uuid)
    complaint = repo.complaint(session, actor, complaint_id)
    if complaint is None:
        raise _not_found(complaint_id)
    check_role(role, actor.officer_id)
    if repo.media_by_uuid(session, uuid) is None:
        check_open(complaint)
    return complaint


def add_media(
    session: Session,
    *,
    complaint: Complaint,
    role: MediaRole,
    content: bytes | Iterable[bytes],
    officer_id: int | None,
    client_uuid: str | None,
    settings: Settings | None = None,
) -> ComplaintMedia:
    """Store a photo for ``complaint`` (see the module docstring) and return its row."""
    return store(
        session,
        complaint=complaint,
        role=role,
        content=content,
        officer_id=officer_id,
        client_uuid=client_uuid,
        settings=settings,
    ).media


def store(
    session: Session,
    *,
    complaint: Complaint,
    role: MediaRole,
    content: bytes | Iterable[bytes],
    officer_id: int | None,
    client_uuid: str | None,
    settings: Settings | None = None,
) -> Added:
    """``add_media``, telling a new photo from a retry."""
    env = settings or get_settings()
    check_role(MediaRole(role), officer_id)
    received = receive(content, settings=env)
    return attach(
        session,
        complaint=complaint,
        role=role,
        received=received,
        officer_id=officer_id,
        client_uuid=client_uuid,
        settings=env,
    )


def receive(
    content: bytes | Iterable[bytes], *, settings: Settings | None = None
) -> blobs.Received:
    """Take the bytes in (size limit, photo types) without touching the database."""
    env = settings or get_settings()
    chunks = [content] if isinstance(content, bytes) else content
    return blobs.receive(
        env.blob_dir, chunks, max_bytes=env.complaint_photo_max_bytes, allowed=blobs.PHOTO_TYPES
    )


def attach(
    session: Session,
    *,
    complaint: Complaint,
    role: MediaRole,
    received: blobs.Received,
    officer_id: int | None,
    client_uuid: str | None,
    settings: Settings | None = None,
) -> Added:
    """Keep received bytes as a photo of ``complaint`` (or find the first upload of a retry);
    the bytes of a refusal are dropped."""
    env = settings or get_settings()
    role = MediaRole(role)
    try:
        uuid = idempotency.parse_uuid(client_uuid) if client_uuid is not None else None
        check_role(role, officer_id)
        if uuid is not None:
            prior = repo.media_by_uuid(session, uuid)
            if prior is not None:
                return Added(_same(prior, complaint, role, received.sha256), False)
        if officer_id is not None:
            check_open(complaint)
        _check_count(session, complaint, role, env.complaint_photos_max)
        stored = blobs.keep(session, env.blob_dir, received)
        return _insert(session, complaint, role, stored.blob.sha256, received, officer_id, uuid)
    finally:
        received.discard()


def _same(
    prior: ComplaintMedia, complaint: Complaint, role: MediaRole, sha256: str
) -> ComplaintMedia:
    if prior.complaint_id != complaint.id or prior.sha256 != sha256 or prior.role != role:
        raise Conflict(
            "The upload ID {uuid} was already used for another photo; the first upload stands. "
            "Generate a new ID for a new photo.",
            detail={"field": "client_uuid"},
            error_code="client_uuid_reused",
            uuid=prior.client_uuid,
        )
    return prior


def _check_count(session: Session, complaint: Complaint, role: MediaRole, limit: int) -> None:
    if repo.media_count(session, complaint.id, role) >= limit:
        raise Conflict(
            "Complaint {tracking_no} already has {limit} photos of this kind, the most allowed.",
            detail={"field": "file", "role": str(role)},
            error_code="too_many_photos",
            tracking_no=complaint.tracking_no,
            limit=limit,
        )


def _insert(
    session: Session,
    complaint: Complaint,
    role: MediaRole,
    sha256: str,
    received: blobs.Received,
    officer_id: int | None,
    uuid: str | None,
) -> Added:
    row = ComplaintMedia(
        district_code=complaint.district_code,
        complaint_id=complaint.id,
        sha256=sha256,
        role=role,
        media_type=received.media_type,
        size=received.size,
        officer_id=officer_id,
        client_uuid=uuid,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # The same UUID committed by a concurrent request first: answer as its retry.
        prior = repo.media_by_uuid(session, uuid) if uuid is not None else None
        if prior is None:
            raise
        return Added(_same(prior, complaint, role, sha256), False)
    workflow.advance(
        session,
        complaint,
        "media_added",
        actor_id=officer_id,
        public=False,
        data={"media_id": row.id, "role": str(role), "media_sha256": [sha256]},
    )
    return Added(row, True)


@dataclass(frozen=True)
class MediaFile:
    media: ComplaintMedia
    path: Path


def open_media(
    session: Session, actor: Actor, *, complaint_id: int, media_id: int, root: Path
) -> MediaFile:
    """A photo of a complaint ``actor`` can see, and its stored file."""
    complaint = repo.complaint(session, actor, complaint_id)
    row = repo.media_row(session, complaint_id, media_id) if complaint is not None else None
    if row is None:
        raise NotFound(
            "Photo {media_id} of complaint {complaint_id} does not exist or is outside your data "
            "scope.",
            media_id=media_id,
            complaint_id=complaint_id,
        )
    return MediaFile(row, blobs.open_path(root, row.sha256))
