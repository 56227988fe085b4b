"""The desk's 12345 / 网络理政 import page (``/complaints/import``): upload an export, see the dry
run (the problems by row and column, or what would be created), then import the same file.

The uploaded file is kept in the content-addressed blob store between the two steps; the import
form names it by its SHA-256 with an HMAC over (officer, digest, file name) under the app secret,
so an operator can import only a file they uploaded themselves, and the file the ledger event
names (``complaint.imported``, with its SHA-256) stays on record. Rules: ``complaints.importer``.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from zhifa import blobs
from zhifa.catalog.presenters import Posted
from zhifa.complaints.desk_context import ComplaintsIntake, app_settings
from zhifa.complaints.import_endpoints import MAX_IMPORT_BYTES, localised
from zhifa.complaints.importer import ImportReport, import_file
from zhifa.errors import AppError, InvalidInput, PayloadTooLarge
from zhifa.kit.sealed import box_for
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.web.i18n import translate
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
PURPOSE = "complaint import"


def _signature(request: Request, actor: Actor, sha256: str, filename: str) -> str:
    box = box_for(app_settings(request).secret(), PURPOSE)
    return box.digest(f"{actor.officer_id}\n{sha256}\n{filename}")


def _read(upload: UploadFile) -> bytes:
    upload.file.seek(0)
    content = upload.file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            "The file is larger than {limit} MB.",
            detail={"field": "file"},
            limit=MAX_IMPORT_BYTES // 1_000_000,
        )
    if not content:
        raise InvalidInput("Choose a file to import.", detail={"field": "file"})
    return content


def _page(
    request: Request,
    *,
    report: ImportReport | None = None,
    problems: list[dict[str, Any]] | None = None,
    message: str = "",
    pending: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = {
        "report": report,
        "problems": problems or [],
        "message": message,
        "pending": pending,
        "max_mb": MAX_IMPORT_BYTES // 1_000_000,
    }
    return render(request, "complaints/import.html", ctx, status_code=status_code)


@router.get("/complaints/import")
def show_import(request: Request, actor: ComplaintsIntake) -> Response:
    """The upload form of a 12345 / 网络理政 export."""
    return _page(request)


def _refused(request: Request, session: Session, exc: AppError) -> Response:
    session.rollback()
    if isinstance(exc, InvalidInput):
        exc = localised(request, exc)
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    problems = detail.get("problems") if isinstance(detail.get("problems"), list) else []
    return _page(
        request,
        problems=problems,
        message=translate(request_locale(request), exc.message, **exc.params),
        status_code=exc.status_code,
    )


@router.post("/complaints/import")
def check_import(
    request: Request, session: DbSession, actor: ComplaintsIntake, posted: Posted
) -> Response:
    """Step 1, the dry run: nothing is saved but the uploaded file (for step 2)."""
    uploads = posted.files("file")
    settings = app_settings(request)
    try:
        if not uploads:
            raise InvalidInput("Choose a file to import.", detail={"field": "file"})
        content = _read(uploads[0])
        filename = uploads[0].filename or "12345.xlsx"
        report = import_file(
            session, actor, filename=filename, content=content, dry_run=True, settings=settings
        )
    except AppError as exc:
        if exc.status_code >= 500:
            raise
        return _refused(request, session, exc)
    # A dry run keeps nothing of the import, whatever the importer left in the session.
    session.rollback()
    stored = blobs.store_bytes(session, settings.blob_dir, content, max_bytes=MAX_IMPORT_BYTES)
    sha256 = stored.blob.sha256
    pending = {
        "sha256": sha256,
        "filename": filename,
        "signature": _signature(request, actor, sha256, filename),
    }
    return _page(request, report=report, pending=pending if report.created else None)


@router.post("/complaints/import/confirm")
def confirm_import(
    request: Request, session: DbSession, actor: ComplaintsIntake, posted: Posted
) -> Response:
    """Step 2: import the file the dry run checked."""
    sha256, filename = posted.text("sha256"), posted.text("filename")
    expected = _signature(request, actor, sha256, filename)
    if not sha256 or not hmac.compare_digest(posted.text("signature"), expected):
        raise InvalidInput(
            "This import was not checked from your account; upload the file again.",
            detail={"field": "file"},
        )
    settings = app_settings(request)
    content = blobs.open_path(settings.blob_dir, sha256).read_bytes()
    try:
        report = import_file(
            session, actor, filename=filename, content=content, dry_run=False, settings=settings
        )
    except AppError as exc:
        if exc.status_code >= 500:
            raise
        return _refused(request, session, exc)
    return _page(request, report=report)
