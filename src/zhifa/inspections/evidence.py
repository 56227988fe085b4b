"""Evidence (证据): photos, video and audio an officer attaches to a task or to one of its checklist
items, and the rules for adding and reading them.

Invariants:
- The file's type is judged by its content (``blobs.sniff``) against the kind's accepted types, and
  its size against the kind's limit (settings ``evidence_max_*_bytes``): 415 / 413, nothing stored.
- Each upload carries the device's client UUID and is applied once (``kit.idempotency``,
  operation ``evidence.add``): the same UUID with the same bytes and metadata answers the first
  answer again (200); with anything else 409, and the bytes are not kept. The digest is only known
  once the body has arrived, so the UUID is claimed after receiving and before storing.
- Evidence is added only by one of the task's officers, while the task is not cancelled and its
  inspection not submitted (409); ``item_code`` must be an item of the task's checklist (the
  frozen one once the inspection exists, else the one assembled for the subject type today).
- SHA-256 and SM3 are computed on arrival; EXIF time and GPS are read when present; the device's
  time is kept as claimed and ``received_at`` is the server's. One ledger event
  ``inspection.evidence.added`` per evidence row, carrying its digests.
- Reading is scoped like the task: a task (and its evidence) outside the actor's data scope does not
  exist (404), except for the officers assigned to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import blobs, ledger
from zhifa.catalog import assembly
from zhifa.config import Settings
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.inspections import exif, repository
from zhifa.kit import idempotency
from zhifa.kit.clock import as_utc, today_local, utcnow
from zhifa.models.inspections import (
    Evidence,
    EvidenceKind,
    Inspection,
    InspectionStatus,
    InspectionTask,
    TaskStatus,
)
from zhifa.models.subjects import Subject
from zhifa.org.actor import Actor

OPERATION = "evidence.add"
UploadKind = Literal["photo", "video", "audio"]

# A recording made in a browser (MediaRecorder) or a phone's recorder is a WebM, MP4 or 3GPP
# container, which sniffs as video whatever it holds: the officer's choice of kind decides.
ACCEPTED: dict[str, frozenset[str]] = {
    "photo": blobs.PHOTO_TYPES,
    "video": blobs.VIDEO_TYPES,
    "audio": blobs.AUDIO_TYPES | {"video/webm", "video/mp4", "video/3gpp"},
}


def max_bytes(settings: Settings, kind: UploadKind) -> int:
    """The size limit of one file of ``kind``."""
    return {
        "photo": settings.evidence_max_photo_bytes,
        "video": settings.evidence_max_video_bytes,
        "audio": settings.evidence_max_audio_bytes,
    }[kind]


@dataclass(frozen=True)
class Upload:
    """The metadata of an evidence upload (the query string of the PUT)."""

    kind: UploadKind
    item_code: str | None = None
    caption: str = ""
    device_time: datetime | None = None
    name: str = ""

    def normalised(self, tz: ZoneInfo) -> Upload:
        """Blank item code as none; a device time without an offset read as local time."""
        device_time = self.device_time
        if device_time is not None:
            device_time = (
                as_utc(device_time)
                if device_time.tzinfo is not None
                else device_time.replace(tzinfo=tz).astimezone(UTC)
            )
        return Upload(
            kind=self.kind,
            item_code=(self.item_code or "").strip() or None,
            caption=self.caption.strip(),
            device_time=device_time,
            name=self.name.strip()[:255],
        )

    def request(self, task_id: int, sha256: str) -> dict[str, Any]:
        """What a retry under the same UUID must repeat exactly (the idempotency request)."""
        return {
            "task_id": task_id,
            "kind": self.kind,
            "item_code": self.item_code,
            "caption": self.caption,
            "device_time": self.device_time.isoformat() if self.device_time else None,
            "name": self.name,
            "sha256": sha256,
        }


class EvidenceRead(BaseModel):
    id: int
    client_uuid: str
    task_id: int
    kind: EvidenceKind
    kind_label: str
    sha256: str
    sm3: str
    size: int
    media_type: str
    item_code: str | None
    caption: str
    name: str
    exif_time: datetime | None
    exif_lon: float | None
    exif_lat: float | None
    device_time: datetime | None
    received_at: datetime
    uploaded_by_id: int
    # Where the bytes are served (``GET``, scoped like the task).
    url: str


def file_url(evidence_id: int) -> str:
    return f"/api/v1/evidence/{evidence_id}/file"


def evidence_read(row: Evidence) -> EvidenceRead:
    return EvidenceRead(
        id=row.id,
        client_uuid=row.client_uuid,
        task_id=row.task_id,
        kind=row.kind,
        kind_label=EvidenceKind(row.kind).label,
        sha256=row.sha256,
        sm3=row.sm3,
        size=row.size,
        media_type=row.media_type,
        item_code=row.item_code,
        caption=row.caption,
        name=row.original_name,
        exif_time=row.exif_time,
        exif_lon=row.exif_lon,
        exif_lat=row.exif_lat,
        device_time=row.device_time,
        received_at=row.received_at,
        uploaded_by_id=row.uploaded_by_id,
        url=file_url(row.id),
    )


@dataclass(frozen=True)
class Answer:
    """The answer to an upload: 201 when applied now, 200 with the first body for a retry."""

    status_code: int
    body: dict[str, Any]


class EvidenceService:
    def admit(
        self, session: Session, actor: Actor, *, task_id: int, client_uuid: str, upload: Upload
    ) -> None:
        """The refusals that need no byte of the body, made before it is read. An upload already
        applied under ``client_uuid`` is let through: its retry gets the first answer."""
        uuid = idempotency.parse_uuid(client_uuid)
        task = _task(session, actor, task_id)
        if session.scalar(select(Evidence.id).where(Evidence.client_uuid == uuid)) is not None:
            return
        self._check_open(session, actor, task)
        self._check_item(session, task, upload.item_code)

    def add(
        self,
        session: Session,
        actor: Actor,
        *,
        settings: Settings,
        task_id: int,
        client_uuid: str,
        upload: Upload,
        chunks: Iterable[bytes],
    ) -> Answer:
        """Receive the file from ``chunks`` and add it to the task once."""
        uuid = idempotency.parse_uuid(client_uuid)
        received = blobs.receive(
            settings.blob_dir,
            chunks,
            max_bytes=max_bytes(settings, upload.kind),
            allowed=ACCEPTED[upload.kind],
        )
        try:
            prior = idempotency.claim(
                session,
                client_uuid=uuid,
                district_code=actor.district_code,
                officer_id=actor.officer_id,
                operation=OPERATION,
                request=upload.request(task_id, received.sha256),
            )
            if prior is not None:
                return Answer(200, prior.response)
            return self._apply(session, actor, settings, task_id, uuid, upload, received)
        finally:
            received.discard()  # nothing left once kept; the bytes of a refusal go

    def _apply(
        self,
        session: Session,
        actor: Actor,
        settings: Settings,
        task_id: int,
        uuid: str,
        upload: Upload,
        received: blobs.Received,
    ) -> Answer:
        # The task row is locked (PostgreSQL) so a cancellation or submission committing now
        # is seen, not raced.
        task = _task(session, actor, task_id, lock=True)
        inspection = self._check_open(session, actor, task)
        self._check_item(session, task, upload.item_code)
        stored = blobs.keep(session, settings.blob_dir, received)
        facts = exif.read(stored.path, tz=settings.tz) if upload.kind == "photo" else exif.NONE
        row = Evidence(
            district_code=task.district_code,
            client_uuid=uuid,
            task_id=task.id,
            inspection_id=inspection.id if inspection is not None else None,
            item_code=upload.item_code,
            kind=EvidenceKind(upload.kind),
            sha256=stored.blob.sha256,
            sm3=stored.blob.sm3,
            size=stored.blob.size,
            media_type=stored.blob.media_type,
            original_name=upload.name,
            caption=upload.caption,
            exif_time=facts.taken_at,
            exif_lon=facts.lon,
            exif_lat=facts.lat,
            device_time=upload.device_time,
            received_at=utcnow(),
            uploaded_by_id=actor.officer_id,
        )
        session.add(row)
        session.flush()
        _record_added(session, actor, row)
        body = evidence_read(row).model_dump(mode="json")
        idempotency.complete(session, client_uuid=uuid, status_code=201, response=body)
        return Answer(201, body)

    def list(self, session: Session, actor: Actor, *, task_id: int) -> list[Evidence]:
        return repository.evidence_of_task(session, _task(session, actor, task_id).id)

    def file(self, session: Session, actor: Actor, *, evidence_id: int, root: Path) -> FileOf:
        """An evidence row and its stored file, when its task is visible to ``actor``."""
        stmt = actor.scope.where_district(select(Evidence), Evidence.district_code)
        row = session.scalar(stmt.where(Evidence.id == evidence_id))
        if row is None or repository.task(session, actor, row.task_id) is None:
            raise NotFound(
                "Evidence {evidence_id} does not exist or is outside your data scope.",
                evidence_id=evidence_id,
            )
        return FileOf(row, blobs.open_path(root, row.sha256))

    def _check_open(
        self, session: Session, actor: Actor, task: InspectionTask
    ) -> Inspection | None:
        """The task's inspection (if started) when evidence may still be added; else 409."""
        if actor.officer_id not in task.officer_ids:
            raise Conflict(
                "You are not one of the officers of task {task_id}, so you cannot add evidence "
                "to it. Ask your squad leader.",
                detail={"field": "task_id"},
                error_code="not_assigned",
                task_id=task.id,
            )
        if task.status == TaskStatus.CANCELLED:
            raise Conflict(
                "Task {task_id} was cancelled; evidence can no longer be added to it.",
                detail={"field": "task_id"},
                error_code="task_cancelled",
                task_id=task.id,
            )
        inspection = repository.inspection_of_task(session, task.id)
        if inspection is not None:
            session.refresh(inspection)
        if task.status == TaskStatus.SUBMITTED or (
            inspection is not None and inspection.status == InspectionStatus.SUBMITTED
        ):
            raise Conflict(
                "The inspection of task {task_id} has been submitted; evidence can no longer be "
                "added to it.",
                detail={"field": "task_id"},
                error_code="inspection_submitted",
                task_id=task.id,
            )
        return inspection

    def _check_item(self, session: Session, task: InspectionTask, item_code: str | None) -> None:
        if item_code is not None and item_code not in _checklist_codes(session, task):
            raise InvalidInput(
                "Item {item_code} is not on the checklist of task {task_id}.",
                detail={"field": "item_code"},
                item_code=item_code,
                task_id=task.id,
            )


@dataclass(frozen=True)
class FileOf:
    evidence: Evidence
    path: Path


def _record_added(session: Session, actor: Actor, row: Evidence) -> None:
    ledger.record(
        session,
        "inspection.evidence.added",
        row,
        {
            "task_id": row.task_id,
            "kind": row.kind,
            "item_code": row.item_code,
            "sha256": row.sha256,
            "sm3": row.sm3,
            "size": row.size,
            "media_type": row.media_type,
        },
        actor_id=actor.officer_id,
        district_code=row.district_code,
        evidence=(row.sha256,),
    )


def _task(session: Session, actor: Actor, task_id: int, *, lock: bool = False) -> InspectionTask:
    """The task when the actor may see it (in scope, or one of its officers), read afresh."""
    task = repository.task(session, actor, task_id, lock=lock)
    if task is None:
        raise NotFound(
            "The task {task_id} of this evidence does not exist or is outside your data scope.",
            detail={"field": "task_id"},
            task_id=task_id,
        )
    # The row may be in the session from an earlier, committed read: take what is stored now.
    session.refresh(task)
    return task


def _checklist_codes(session: Session, task: InspectionTask) -> set[str]:
    """Item codes of the task's checklist: frozen in its inspection, else assembled today."""
    inspection = repository.inspection_of_task(session, task.id)
    if inspection is not None:
        return {str(item.get("code")) for item in inspection.checklist.get("items", [])}
    subject = session.get(Subject, task.subject_id)
    if subject is None:
        return set()
    try:
        checklist = assembly.for_subject_type(
            session, task.district_code, subject.subject_type_code, on=today_local()
        )
    except NotFound:  # the subject type is gone: no item can be named
        return set()
    return {item.code for item in checklist.items}


evidence_service = EvidenceService()
