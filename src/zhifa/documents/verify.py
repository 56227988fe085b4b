"""The public verification of a document by its QR code: ``/verify/{public_id}`` (page, mobile,
Chinese by default), ``POST /verify/{public_id}`` (is this PDF byte-identical to the issued one?)
and ``GET /api/v1/verify/{public_id}`` (the same as JSON, with the proof's hashes).

Public on purpose: no login and no permission. A citizen holding a document must be able to check
it; nothing shown is secret (a person's name is masked to the surname; the ledger entry itself is
public). An unknown id is a 404 page. An upload is hashed as it streams in and never stored; it is
refused above ``MAX_UPLOAD_BYTES`` (20 MB).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from zhifa.config import Settings
from zhifa.db import Database
from zhifa.documents import proofs, repository
from zhifa.documents.compose import mask_name
from zhifa.documents.schemas import ProofRead, VerifyRead
from zhifa.errors import InvalidInput, NotFound, PayloadTooLarge
from zhifa.kit.clock import local
from zhifa.models.documents import Document, DocumentType
from zhifa.org.auth import DbSession
from zhifa.web.i18n import translate
from zhifa.web.templating import render, request_locale

router = APIRouter()

MAX_UPLOAD_BYTES = 20_000_000
# Room for the multipart envelope around the file.
MAX_FORM_BYTES = MAX_UPLOAD_BYTES + 64_000
CHUNK = 64 * 1024
PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


@dataclass(frozen=True)
class Upload:
    sha256: str
    size: int
    is_pdf: bool


def _services(request: Request) -> tuple[Database, Settings]:
    return request.app.state.db, request.app.state.settings


def _find(session: Session, public_id: str) -> Document | None:
    if not PUBLIC_ID.match(public_id):
        return None
    return repository.by_public_id(session, public_id)


def _facts(doc: Document, result: proofs.Verification, settings: Settings) -> dict[str, Any]:
    """What the page and the JSON show: the ledger's claims, else (failure) the stored row."""
    claims = result.claims
    if claims is not None:
        issued = claims.issued_at
        return {
            "agency": claims.agency,
            "doc_type": claims.doc_type,
            "doc_type_label": claims.doc_type_label,
            "number_text": claims.number_text,
            "issued_on": local(issued, settings.tz).date().isoformat() if issued else "",
            "party": claims.party,
            "pdf_sha256": claims.pdf_sha256,
        }
    party = doc.fields.get("party", {})
    name = str(party.get("name", ""))
    return {
        "agency": str(doc.fields.get("agency", "")),
        "doc_type": str(doc.doc_type),
        "doc_type_label": DocumentType(doc.doc_type).label,
        "number_text": doc.number_text,
        "issued_on": local(doc.issued_at, settings.tz).date().isoformat(),
        "party": mask_name(name) if party.get("kind") == "person" else name,
        "pdf_sha256": doc.pdf_sha256,
    }


def _page(
    request: Request,
    session: Session,
    public_id: str,
    upload: Upload | None = None,
) -> Response:
    db, settings = _services(request)
    doc = _find(session, public_id)
    if doc is None:
        return render(request, "documents/verify_missing.html", {}, status_code=404)
    result = proofs.verify(session, db, settings, doc)
    facts = _facts(doc, result, settings)
    context = {
        "doc": doc,
        "facts": facts,
        "result": result,
        "b64": proofs.b64,
        "upload": upload,
        "identical": upload is not None and upload.sha256 == facts["pdf_sha256"],
        "max_mb": MAX_UPLOAD_BYTES // 1_000_000,
    }
    return render(request, "documents/verify.html", context)


@router.get("/verify/{public_id}", include_in_schema=False)
def show_verification(request: Request, session: DbSession, public_id: str) -> Response:
    return _page(request, session, public_id)


@router.post("/verify/{public_id}", include_in_schema=False)
async def compare_upload(request: Request, public_id: str) -> Response:
    upload = await _read_upload(request)

    def answer() -> Response:
        db, _ = _services(request)
        with db.unit_of_work() as session:
            return _page(request, session, public_id, upload)

    return await run_in_threadpool(answer)


async def _read_upload(request: Request) -> Upload:
    """Hash the uploaded file as it arrives: a form's ``file`` field, or a raw PDF body."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise _too_large()
    digest, size, head = hashlib.sha256(), 0, b""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=5)
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput("Choose the PDF file to compare.", detail={"field": "file"})
        while chunk := await file.read(CHUNK):
            size, head = _take(digest, size, head, chunk)
        await form.close()
    else:
        async for chunk in request.stream():
            size, head = _take(digest, size, head, chunk)
    if size == 0:
        raise InvalidInput("Choose the PDF file to compare.", detail={"field": "file"})
    return Upload(digest.hexdigest(), size, head.startswith(b"%PDF-"))


def _take(digest: Any, size: int, head: bytes, chunk: bytes) -> tuple[int, bytes]:
    size += len(chunk)
    if size > MAX_UPLOAD_BYTES:
        raise _too_large()
    digest.update(chunk)
    return size, head if len(head) >= 8 else (head + chunk)[:8]


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        "The file is larger than {limit} MB; an issued document is much smaller.",
        detail={"field": "file", "limit_bytes": MAX_UPLOAD_BYTES},
        limit=MAX_UPLOAD_BYTES // 1_000_000,
    )


@router.get("/api/v1/verify/{public_id}", response_model=VerifyRead, tags=["verify"])
def get_verification(request: Request, session: DbSession, public_id: str) -> VerifyRead:
    """Who issued what and when, the PDF's SHA-256 and the ledger inclusion proof (public)."""
    doc = _find(session, public_id)
    if doc is None:
        raise NotFound("No document has this verification code.", detail={"field": "public_id"})
    db, settings = _services(request)
    result = proofs.verify(session, db, settings, doc)
    facts = _facts(doc, result, settings)
    locale = request_locale(request)
    return VerifyRead(
        public_id=doc.public_id,
        **(facts | {"doc_type_label": translate(locale, facts["doc_type_label"])}),
        proof=ProofRead(
            status=result.status,
            message=translate(locale, result.message),
            reason=result.reason,
            index=result.index,
            leaf_hash=proofs.b64(result.leaf_hash),
            tree_size=result.tree_size,
            root=proofs.b64(result.root),
            proof=[proofs.b64(h) or "" for h in result.proof],
            checkpoint=result.checkpoint,
        ),
    )
