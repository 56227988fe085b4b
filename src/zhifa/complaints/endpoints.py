"""JSON API of complaint intake and reading (contract ``docs/complaints-api.md``): categories,
hotline entry, the list and the detail, merging duplicates, revealing the reporter, and photos.

The photo upload is an ``async`` route so the body is read as it arrives: the refusals that need
no byte of it run first and what authentication wrote is committed, so a slow upload holds no
transaction; the bytes are then pulled chunk by chunk by a worker thread (as evidence uploads do).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio.from_thread
from fastapi import APIRouter, Query, Request
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, JSONResponse

from zhifa import blobs
from zhifa.complaints import duplicates, intake, media, reads, reporter
from zhifa.complaints import repository as repo
from zhifa.complaints.categories import category_reads, category_service
from zhifa.complaints.schemas import (
    CategoryIn,
    CategoryRead,
    CategoryUpdate,
    ComplaintCreate,
    ComplaintCreated,
    ComplaintDetail,
    ComplaintPage,
    ComplaintRead,
    MediaRead,
    MergeIn,
    RevealedReporter,
    RevealIn,
)
from zhifa.config import Settings
from zhifa.errors import BadRequest, InvalidInput, UnsupportedMediaType
from zhifa.inspections.common import Reply, once
from zhifa.models.complaints import ComplaintSource, ComplaintStatus, MediaRole, SlaState
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission
from zhifa.web.templating import request_locale

router = APIRouter(prefix="/api/v1", tags=["complaints"])

ComplaintsRead = Annotated[Actor, require(Permission.COMPLAINTS_READ)]
ComplaintsIntake = Annotated[Actor, require(Permission.COMPLAINTS_INTAKE)]
ComplaintsDispatch = Annotated[Actor, require(Permission.COMPLAINTS_DISPATCH)]
ComplaintsHandle = Annotated[Actor, require(Permission.COMPLAINTS_HANDLE)]
ComplaintsReveal = Annotated[Actor, require(Permission.COMPLAINTS_REVEAL)]
ComplaintsConfigure = Annotated[Actor, require(Permission.COMPLAINTS_CONFIGURE)]

CREATE_OPERATION = "complaint.create"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# ---- categories ---------------------------------------------------------------------------------


@router.get("/complaint-categories", response_model=list[CategoryRead])
def list_categories(
    session: DbSession, actor: ComplaintsRead, active: bool | None = None
) -> list[CategoryRead]:
    """The complaint categories of your district (Open311 services), with their attributes."""
    return category_reads(session, category_service.list(session, actor, active=active))


@router.post("/complaint-categories", response_model=CategoryRead, status_code=201)
def create_category(
    session: DbSession, actor: ComplaintsConfigure, body: CategoryIn
) -> CategoryRead:
    """Create a category: department (or the agency it is transferred to), powers, deadlines,
    attributes."""
    row = category_service.create(session, actor, data=body)
    return category_reads(session, [row])[0]


@router.patch("/complaint-categories/{category_id}", response_model=CategoryRead)
def update_category(
    session: DbSession, actor: ComplaintsConfigure, category_id: int, body: CategoryUpdate
) -> CategoryRead:
    """Change a category (only the fields sent)."""
    row = category_service.update(session, actor, category_id=category_id, data=body)
    return category_reads(session, [row])[0]


# ---- intake and reading -----------------------------------------------------------------------


@router.post("/complaints", response_model=ComplaintCreated, status_code=201)
def create_complaint(
    request: Request, session: DbSession, actor: ComplaintsIntake, body: ComplaintCreate
) -> ComplaintCreated | JSONResponse:
    """Enter a complaint taken by phone (热线受理); with ``client_uuid`` a retry gets the first
    answer. The answer lists possible duplicates."""
    if body.client_uuid is None:
        # Built here, not validated by FastAPI after the handler: that runs on another thread
        # while the request's transaction (SQLite's write lock) is still open.
        created = _hotline_entry(request, session, actor, body)
        return JSONResponse(created.model_dump(mode="json"), status_code=201)
    reply = once(
        session,
        actor,
        client_uuid=body.client_uuid,
        operation=CREATE_OPERATION,
        request=to_jsonable_python(body.model_dump(exclude={"client_uuid"})),
        apply=lambda: Reply(
            201, _hotline_entry(request, session, actor, body).model_dump(mode="json")
        ),
    )
    return JSONResponse(reply.body, status_code=reply.status_code)


def _hotline_entry(
    request: Request, session: Session, actor: Actor, body: ComplaintCreate
) -> ComplaintCreated:
    result = intake.create_complaint(
        session,
        district_code=actor.district_code,
        data=body,
        source=ComplaintSource.HOTLINE,
        actor_id=actor.officer_id,
        settings=_settings(request),
    )
    read = reads.complaint_reads(session, [result.complaint], request_locale(request))[0]
    return ComplaintCreated(
        **read.model_dump(), created=result.created, duplicates=result.duplicates
    )


def _statuses(status: str) -> tuple[ComplaintStatus, ...]:
    values = [s.strip() for s in status.split(",") if s.strip()]
    known = {str(s) for s in ComplaintStatus}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise InvalidInput(
            "Unknown status {value}; use one of: {choices}.",
            detail={"field": "status"},
            value=", ".join(unknown),
            choices=", ".join(sorted(known)),
        )
    return tuple(ComplaintStatus(v) for v in values)


@router.get("/complaints", response_model=ComplaintPage)
def list_complaints(
    request: Request,
    session: DbSession,
    actor: ComplaintsRead,
    status: Annotated[str, Query(max_length=300, description="One status or a comma list")] = "",
    category: Annotated[str, Query(max_length=40, description="Category code")] = "",
    sla_state: SlaState | None = None,
    open: bool | None = None,  # noqa: A002 - the contract's parameter name
    q: Annotated[str, Query(max_length=100, description="Tracking no, description, address")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ComplaintPage:
    """Complaints in your data scope (owning squad), newest first."""
    f = repo.ComplaintFilter(
        statuses=_statuses(status),
        category_code=category.strip() or None,
        sla_state=sla_state,
        open=open,
        q=q,
    )
    return reads.complaint_page(
        session, actor, f, limit=limit, offset=offset, locale=request_locale(request)
    )


@router.get("/complaints/{complaint_id}", response_model=ComplaintDetail)
def get_complaint(
    request: Request, session: DbSession, actor: ComplaintsRead, complaint_id: int
) -> ComplaintDetail:
    """One complaint: its timeline, photos, clocks and possible duplicates."""
    return reads.complaint_detail(session, actor, complaint_id, locale=request_locale(request))


@router.post("/complaints/{complaint_id}/merge", response_model=ComplaintRead)
def merge_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: MergeIn,
) -> ComplaintRead:
    """Merge this complaint into the one it duplicates; its reporter is answered with that one."""
    row = duplicates.merge(
        session, actor, complaint_id=complaint_id, into_id=body.into_id, note=body.note
    )
    return reads.complaint_reads(session, [row], request_locale(request))[0]


@router.post("/complaints/{complaint_id}/reveal", response_model=RevealedReporter)
def reveal_reporter(
    request: Request, session: DbSession, actor: ComplaintsReveal, complaint_id: int, body: RevealIn
) -> RevealedReporter:
    """The reporter's name, phone and e-mail (举报人信息), for a stated reason; kept on record."""
    return reporter.reveal(
        session, actor, complaint_id=complaint_id, reason=body.reason, settings=_settings(request)
    )


# ---- photos -----------------------------------------------------------------------------------


@router.put(
    "/complaints/{complaint_id}/media/{client_uuid}",
    response_model=MediaRead,
    status_code=201,
    responses={
        200: {"model": MediaRead, "description": "A retry: the photo stored the first time"}
    },
    openapi_extra=BINARY_BODY,
)
async def put_complaint_media(
    request: Request,
    session: DbSession,
    actor: ComplaintsHandle,
    complaint_id: int,
    client_uuid: str,
    role: MediaRole,
) -> JSONResponse:
    """Add a photo (the raw body: JPEG, PNG, WebP or HEIC) before or after handling or at the
    re-check, once per client UUID."""
    settings = _settings(request)
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        await request.close()
        raise UnsupportedMediaType(
            "Send the file's bytes as the request body, not as a form.", detail={"field": "file"}
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.complaint_photo_max_bytes:
        raise blobs.too_large(settings.complaint_photo_max_bytes)
    await run_in_threadpool(
        media.admit, session, actor, complaint_id=complaint_id, role=role, client_uuid=client_uuid
    )
    await run_in_threadpool(session.commit)
    try:
        received = await run_in_threadpool(
            lambda: media.receive(_pulled(request.stream()), settings=settings)
        )
    except ClientDisconnect:
        raise BadRequest(
            "The upload was interrupted before the whole file arrived; send it again.",
            detail={"field": "file"},
            error_code="upload_interrupted",
        ) from None
    added = await run_in_threadpool(
        lambda: media.attach(
            session,
            complaint=reads.get(session, actor, complaint_id, lock=True),
            role=role,
            received=received,
            officer_id=actor.officer_id,
            client_uuid=client_uuid,
            settings=settings,
        )
    )
    body = media.media_read(added.media, request_locale(request)).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if added.created else 200)


@router.get("/complaints/{complaint_id}/media/{media_id}", response_class=FileResponse)
def get_complaint_media(
    request: Request, session: DbSession, actor: ComplaintsRead, complaint_id: int, media_id: int
) -> FileResponse:
    """A photo's bytes, with the type sniffed from its content."""
    found = media.open_media(
        session,
        actor,
        complaint_id=complaint_id,
        media_id=media_id,
        root=_settings(request).blob_dir,
    )
    return FileResponse(
        found.path,
        media_type=found.media.media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=86400", "ETag": f'"{found.media.sha256}"'},
    )


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
