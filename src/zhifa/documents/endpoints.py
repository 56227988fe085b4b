"""JSON API of the documents domain (``docs/field-api.md`` §Documents): number blocks, the
numbering rule, the number register, issuing documents and reading them (metadata, PDF).

Thin: parse, call the service, shape the answer. Issue and block allotment answer with the status
and body the exactly-once record kept (a retry gets the first answer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, JSONResponse

from zhifa import blobs
from zhifa.config import Settings
from zhifa.documents import repository
from zhifa.documents import settings as numbering_settings
from zhifa.documents.auth import DocumentsConfigure, Inspect, InspectionsRead, InspectOrManage
from zhifa.documents.blocks import block_read, block_service
from zhifa.documents.presenters import register_read
from zhifa.documents.schemas import (
    BlockIn,
    BlockRead,
    BlockReturnIn,
    DocumentDetail,
    DocumentIn,
    DocumentRead,
    RegisterRead,
    SettingsIn,
    SettingsRead,
)
from zhifa.documents.service import document_service, read
from zhifa.kit.clock import today_local
from zhifa.models.documents import Document, DocumentType, NumberBlock
from zhifa.org.auth import DbSession
from zhifa.web.templating import request_locale

router = APIRouter(tags=["documents"])


def _config(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _document_read(
    request: Request, session: Session, doc: Document, *, detail: bool = False
) -> DocumentRead:
    rows = repository.signatures(session, [doc.id]).get(doc.id, [])
    base = read(doc, rows, request_locale(request), _config(request).public_base_url)
    if detail:
        return DocumentDetail(**base.model_dump(), fields=doc.fields)
    return base


@router.post("/api/v1/number-blocks", status_code=201, responses={201: {"model": BlockRead}})
def allot_number_block(
    request: Request, session: DbSession, actor: Inspect, body: BlockIn
) -> JSONResponse:
    """Allot a block of pre-numbered serials to the caller's device (exactly once per UUID)."""
    status, answer = block_service.allot(session, actor, data=body, locale=request_locale(request))
    return JSONResponse(answer, status_code=status)


@router.get("/api/v1/number-blocks/mine", response_model=list[BlockRead])
def list_my_number_blocks(request: Request, session: DbSession, actor: Inspect) -> list[BlockRead]:
    """The caller's open blocks and their unused serials."""
    locale = request_locale(request)
    return [block_read(session, b, locale) for b in block_service.mine(session, actor)]


@router.post("/api/v1/number-blocks/{block_id}/return", response_model=BlockRead)
def return_number_block(
    request: Request, session: DbSession, actor: InspectOrManage, block_id: int, body: BlockReturnIn
) -> BlockRead:
    """Return a block: its unused serials are voided for good, with the reason."""
    row: NumberBlock = block_service.return_block(
        session, actor, block_id=block_id, reason=body.reason
    )
    return block_read(session, row, request_locale(request))


@router.get("/api/v1/documents/settings", response_model=SettingsRead)
def get_document_settings(session: DbSession, actor: DocumentsConfigure) -> SettingsRead:
    """The district's numbering rule (the defaults when it was never saved)."""
    return numbering_settings.settings_service.get(session, actor)


@router.put("/api/v1/documents/settings", response_model=SettingsRead)
def put_document_settings(
    session: DbSession, actor: DocumentsConfigure, body: SettingsIn
) -> SettingsRead:
    """Save the district's numbering rule (ledgered)."""
    numbering_settings.settings_service.put(session, actor, data=body)
    return numbering_settings.read(session, actor.district_code)


@router.get("/api/v1/documents/numbers", response_model=RegisterRead)
def get_number_register(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    doc_type: DocumentType = DocumentType.ON_SPOT_PENALTY,
    year: Annotated[int | None, Query(ge=2000, le=2999)] = None,
) -> RegisterRead:
    """Every serial of the year handed out so far (used, reserved, voided): no gaps."""
    chosen = year or today_local().year
    return register_read(session, actor.district_code, request_locale(request), doc_type, chosen)


@router.post("/api/v1/documents", status_code=201, responses={201: {"model": DocumentRead}})
def issue_document(
    request: Request, session: DbSession, actor: Inspect, body: DocumentIn
) -> JSONResponse:
    """Issue a document of a submitted inspection: numbered, signed, rendered, ledgered."""
    status, answer = document_service.issue(
        session, actor, data=body, config=_config(request), locale=request_locale(request)
    )
    return JSONResponse(answer, status_code=status)


@router.get("/api/v1/documents", response_model=list[DocumentRead])
def list_documents(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    task_id: int | None = None,
    inspection_id: int | None = None,
    subject_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DocumentRead]:
    """Documents in your data scope, newest first."""
    rows = document_service.list(
        session,
        actor,
        task_id=task_id,
        inspection_id=inspection_id,
        subject_id=subject_id,
        limit=limit,
        offset=offset,
    )
    signatures = repository.signatures(session, [d.id for d in rows])
    locale, base = request_locale(request), _config(request).public_base_url
    return [read(d, signatures.get(d.id, []), locale, base) for d in rows]


@router.get("/api/v1/documents/{document_id}", response_model=DocumentDetail)
def get_document(
    request: Request, session: DbSession, actor: InspectionsRead, document_id: int
) -> DocumentRead:
    """One document with everything printed on it."""
    doc = document_service.get(session, actor, document_id=document_id)
    return _document_read(request, session, doc, detail=True)


@router.get("/api/v1/documents/{document_id}/pdf", response_class=FileResponse)
def get_document_pdf(
    request: Request, session: DbSession, actor: InspectionsRead, document_id: int
) -> FileResponse:
    """The issued PDF, as it was rendered and signed."""
    doc = document_service.get(session, actor, document_id=document_id)
    path = blobs.open_path(_config(request).blob_dir, doc.pdf_sha256)
    return FileResponse(path, media_type="application/pdf", filename=f"{doc.number_text}.pdf")
