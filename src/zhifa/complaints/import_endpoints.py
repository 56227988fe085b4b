"""The JSON route of the 12345 / 网络理政 import (``complaints.importer``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from zhifa.complaints.importer import ImportReport, import_file
from zhifa.errors import InvalidInput, PayloadTooLarge
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission
from zhifa.web.i18n import translate
from zhifa.web.templating import request_locale

MAX_IMPORT_BYTES = 20_000_000

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])

ComplaintsIntake = Annotated[Actor, require(Permission.COMPLAINTS_INTAKE)]


def localised(request: Request, exc: InvalidInput) -> InvalidInput:
    """The refusal with each listed problem's message in the reader's language."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    problems = detail.get("problems")
    if isinstance(problems, list):
        locale = request_locale(request)
        detail["problems"] = [
            {k: v for k, v in p.items() if k != "params"}
            | {"message": translate(locale, p["message"], **(p.get("params") or {}))}
            for p in problems
        ]
    return exc


def read_upload(file: UploadFile) -> bytes:
    content = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            "The file is larger than {limit} MB.",
            detail={"field": "file"},
            limit=MAX_IMPORT_BYTES // 1_000_000,
        )
    if not content:
        raise InvalidInput("Choose a file to import.", detail={"field": "file"})
    return content


@router.post("/import", response_model=ImportReport)
def import_work_orders(
    request: Request,
    session: DbSession,
    actor: ComplaintsIntake,
    file: Annotated[UploadFile, File(description="A 12345 export: .xlsx, or CSV (UTF-8/GB18030)")],
    dry_run: bool = False,
) -> ImportReport:
    """Import 12345 / 网络理政 work orders: every row or none; problems by row and column; work
    orders already taken in are counted, not repeated. With ``dry_run`` nothing is saved."""
    content = read_upload(file)
    try:
        return import_file(
            session,
            actor,
            filename=file.filename or "12345.xlsx",
            content=content,
            dry_run=dry_run,
            settings=request.app.state.settings,
        )
    except InvalidInput as exc:
        raise localised(request, exc) from None
