"""HTML pages of the documents domain: the list of issued documents, one document (metadata,
signatures, PDF and verify links), the number register of a year (every serial, so a gap would
show) and the numbering rule's form (documents:configure). Thin: the services do the work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from zhifa import blobs
from zhifa.config import Settings
from zhifa.documents import numbering, repository
from zhifa.documents import settings as numbering_settings
from zhifa.documents.auth import DocumentsConfigure, InspectionsRead
from zhifa.documents.presenters import register_read
from zhifa.documents.schemas import SettingsIn
from zhifa.documents.service import document_service, verify_url
from zhifa.errors import NotFound
from zhifa.kit.clock import today_local
from zhifa.models.documents import DocumentStatus, DocumentType, NumberStatus, SignerRole
from zhifa.org.auth import DbSession
from zhifa.org.forms import done, parse
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

STATUS_COLOURS = {
    NumberStatus.USED: "green",
    NumberStatus.RESERVED: "blue",
    NumberStatus.VOIDED: "grey",
}
TYPES = [(t.value, t.label) for t in DocumentType]
LABELS = {
    "type": {t.value: t.label for t in DocumentType},
    "status": {s.value: s.label for s in DocumentStatus},
    "role": {r.value: r.label for r in SignerRole},
}
TextField = Annotated[str, Form()]


def _config(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/documents")
def show_documents(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    task_id: int | None = None,
    subject_id: int | None = None,
) -> Response:
    rows = document_service.list(session, actor, task_id=task_id, subject_id=subject_id)
    base = _config(request).public_base_url
    context = {
        "documents": rows,
        "verify_urls": {d.id: verify_url(base, d.public_id) for d in rows},
        "task_id": task_id,
        "subject_id": subject_id,
        "labels": LABELS,
    }
    return render(request, "documents/list.html", context)


@router.get("/documents/numbers")
def show_number_register(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    doc_type: DocumentType = DocumentType.ON_SPOT_PENALTY,
    year: Annotated[int | None, Query(ge=2000, le=2999)] = None,
) -> Response:
    chosen = year or today_local().year
    found = register_read(session, actor.district_code, request_locale(request), doc_type, chosen)
    years = sorted(
        {chosen, today_local().year, *numbering.years(session, actor.district_code, doc_type)}
    )
    context = {
        "register": found,
        "types": TYPES,
        "years": list(reversed(years)),
        "colours": STATUS_COLOURS,
    }
    return render(request, "documents/numbers.html", context)


@router.get("/documents/settings")
def edit_document_settings(
    request: Request, session: DbSession, actor: DocumentsConfigure
) -> Response:
    current = numbering_settings.settings_service.get(session, actor)
    return render(request, "documents/settings.html", {"current": current, "types": TYPES})


@router.post("/documents/settings")
def save_document_settings(
    request: Request,
    session: DbSession,
    actor: DocumentsConfigure,
    agency_name: TextField,
    agency_short: TextField,
    pattern: TextField,
    code_inspection_record: TextField = "",
    code_rectification_notice: TextField = "",
    code_on_spot_penalty: TextField = "",
    code_service_receipt: TextField = "",
    width: TextField = "0",
) -> Response:
    codes = {
        DocumentType.INSPECTION_RECORD.value: code_inspection_record,
        DocumentType.RECTIFICATION_NOTICE.value: code_rectification_notice,
        DocumentType.ON_SPOT_PENALTY.value: code_on_spot_penalty,
        DocumentType.SERVICE_RECEIPT.value: code_service_receipt,
    }
    data = parse(
        SettingsIn,
        {
            "agency_name": agency_name,
            "agency_short": agency_short,
            "codes": codes,
            "pattern": pattern,
            "width": width or "0",
        },
    )
    numbering_settings.settings_service.put(session, actor, data=data)
    return done(request, "/documents/settings?saved=1")


@router.get("/documents/{document_id}")
def show_document(
    request: Request, session: DbSession, actor: InspectionsRead, document_id: int
) -> Response:
    doc = document_service.get(session, actor, document_id=document_id)
    context = {
        "doc": doc,
        "fields": doc.fields,
        "signatures": repository.signatures(session, [doc.id]).get(doc.id, []),
        "verify_url": verify_url(_config(request).public_base_url, doc.public_id),
        "labels": LABELS,
    }
    return render(request, "documents/detail.html", context)


@router.get("/documents/{document_id}/signatures/{signature_id}.png")
def get_signature_image(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    document_id: int,
    signature_id: int,
) -> Response:
    doc = document_service.get(session, actor, document_id=document_id)
    rows = repository.signatures(session, [doc.id]).get(doc.id, [])
    row = next((s for s in rows if s.id == signature_id and s.image_sha256), None)
    if row is None or row.image_sha256 is None:
        raise NotFound("The signature {id} does not exist.", id=signature_id)
    path = blobs.open_path(_config(request).blob_dir, row.image_sha256)
    return Response(path.read_bytes(), media_type="image/png")
