"""JSON API of evidence: the streamed upload (``PUT``, the body is the file), the task's list and
the file itself. Contract: ``docs/field-api.md`` §Evidence.

The upload is an ``async`` route so the body can be read as it arrives (``request.stream()``);
the rules run in a worker thread that pulls the chunks from the event loop one at a time, so a
300 MB video never sits in memory and the size limit stops it at the first chunk past the limit.
Before the body is read, the route commits the little the authentication wrote (a session's
"last seen"): a long upload must hold no transaction, no write lock (SQLite) and no pooled
connection while the bytes trickle in. The upload's own rows are written, and committed by the
request, once the body is in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, JSONResponse

from zhifa import blobs
from zhifa.config import Settings
from zhifa.errors import BadRequest, UnsupportedMediaType
from zhifa.inspections.auth import Inspect, InspectionsRead
from zhifa.inspections.evidence import (
    EvidenceRead,
    Upload,
    UploadKind,
    evidence_read,
    evidence_service,
    max_bytes,
)
from zhifa.org.auth import DbSession

router = APIRouter(prefix="/api/v1", tags=["evidence"])

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put(
    "/tasks/{task_id}/evidence/{client_uuid}",
    response_model=EvidenceRead,
    status_code=201,
    responses={200: {"model": EvidenceRead, "description": "A retry: the first answer again"}},
    openapi_extra=BINARY_BODY,
)
async def put_evidence(
    request: Request,
    session: DbSession,
    actor: Inspect,
    task_id: int,
    client_uuid: str,
    kind: UploadKind,
    item_code: Annotated[str | None, Query(max_length=60)] = None,
    caption: Annotated[str, Query(max_length=2000)] = "",
    device_time: datetime | None = None,
    name: Annotated[str, Query(max_length=255)] = "",
) -> JSONResponse:
    """Add a photo, video or audio file (the raw body) to a task, once per client UUID."""
    settings: Settings = request.app.state.settings
    upload = Upload(kind, item_code, caption, device_time, name).normalised(settings.tz)
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        await request.close()  # the files of a form parsed for its CSRF field
        raise UnsupportedMediaType(
            "Send the file's bytes as the request body, not as a form.",
            detail={"field": "file"},
        )
    _refuse_declared_size(request, max_bytes(settings, kind))
    await run_in_threadpool(
        evidence_service.admit,
        session,
        actor,
        task_id=task_id,
        client_uuid=client_uuid,
        upload=upload,
    )
    await run_in_threadpool(session.commit)
    try:
        answer = await run_in_threadpool(
            lambda: evidence_service.add(
                session,
                actor,
                settings=settings,
                task_id=task_id,
                client_uuid=client_uuid,
                upload=upload,
                chunks=_pulled(request.stream()),
            )
        )
    except ClientDisconnect:
        raise BadRequest(
            "The upload was interrupted before the whole file arrived; send it again.",
            detail={"field": "file"},
            error_code="upload_interrupted",
        ) from None
    return JSONResponse(answer.body, status_code=answer.status_code)


@router.get("/tasks/{task_id}/evidence", response_model=list[EvidenceRead])
def list_task_evidence(
    session: DbSession, actor: InspectionsRead, task_id: int
) -> list[EvidenceRead]:
    """The evidence of a task, oldest first."""
    rows = evidence_service.list(session, actor, task_id=task_id)
    return [evidence_read(row) for row in rows]


@router.get("/evidence/{evidence_id}/file", response_class=FileResponse)
def get_evidence_file(
    request: Request, session: DbSession, actor: InspectionsRead, evidence_id: int
) -> FileResponse:
    """The evidence file's bytes, with the media type sniffed from its content."""
    settings: Settings = request.app.state.settings
    found = evidence_service.file(session, actor, evidence_id=evidence_id, root=settings.blob_dir)
    row = found.evidence
    return FileResponse(
        found.path,
        media_type=row.media_type,
        filename=row.original_name or f"evidence-{row.id}",
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=86400", "ETag": f'"{row.sha256}"'},
    )


def _refuse_declared_size(request: Request, limit: int) -> None:
    """413 on a declared length above the limit, before reading a byte of the body."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise blobs.too_large(limit)


def _pulled(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body's chunks, pulled from the event loop by a worker thread."""
    iterator = aiter(stream)
    while True:
        try:
            chunk: bytes = anyio.from_thread.run(_next, iterator)
        except StopAsyncIteration:
            return
        yield chunk


async def _next(iterator: AsyncIterator[bytes]) -> bytes:
    return await anext(iterator)
