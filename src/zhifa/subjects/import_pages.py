"""The import page: upload an .xlsx, check it (dry run) or import it, see every problem by row and
column; and the empty template workbook with the expected header."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from zhifa.catalog.presenters import Posted
from zhifa.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from zhifa.org.auth import DbSession
from zhifa.subjects import importer, workbook
from zhifa.subjects.auth import Keys, SubjectsManage
from zhifa.subjects.endpoints import MAX_IMPORT_BYTES, read_upload
from zhifa.web.i18n import translate
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXAMPLE_ROW = [
    "崇州市示例餐饮管理有限公司",
    "企业",
    "",
    "",
    "王某",
    "028-00000000",
    "崇州市崇阳街道示例路1号",
    "restaurant",
    "中",
    "103.6501",
    "30.6402",
    "50",
    "示例行，导入前请删除",
]


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "columns": list(workbook.COLUMNS),
        "required": workbook.REQUIRED,
        "report": None,
        "problems": None,
        "errors": {},
        "max_mb": MAX_IMPORT_BYTES // 1_000_000,
        **extra,
    }


@router.get("/subjects/import")
def show_import(request: Request, actor: SubjectsManage) -> Response:
    return render(request, "subjects/import.html", _context())


@router.get("/subjects/import/template.xlsx")
def import_template(actor: SubjectsManage) -> Response:
    """An empty sheet with the expected header and one example row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "执法对象"
    sheet.append(list(workbook.COLUMNS))
    sheet.append(EXAMPLE_ROW)
    buffer = io.BytesIO()
    book.save(buffer)
    headers = {"Content-Disposition": 'attachment; filename="subjects-template.xlsx"'}
    return Response(buffer.getvalue(), media_type=XLSX, headers=headers)


@router.post("/subjects/import")
def import_subjects(
    request: Request, posted: Posted, session: DbSession, actor: SubjectsManage, keys: Keys
) -> Response:
    """Check (dry run) or import: all rows, or nothing. (The form comes first so that its
    uploaded file is closed even when the permission check refuses the request.)"""
    dry_run = posted.text("mode") != "import"
    files = posted.files("file")
    ctx = _context()
    status = 200
    try:
        if not files:
            raise InvalidInput("Choose a file to import.", detail={"field": "file"})
        content = read_upload(files[0])
        ctx["report"] = importer.import_workbook(
            session,
            actor,
            name=files[0].filename or "subjects.xlsx",
            content=content,
            keys=keys,
            dry_run=dry_run,
        )
    except (InvalidInput, PayloadTooLarge, UnsupportedMediaType) as exc:
        session.rollback()
        locale = request_locale(request)
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        ctx["errors"] = {"": translate(locale, exc.message, **exc.params)}
        ctx["problems"] = [
            p | {"text": translate(locale, p["message"], **(p.get("params") or {}))}
            for p in detail.get("problems") or []
        ]
        ctx["total_problems"] = detail.get("total", len(ctx["problems"]))
        status = exc.status_code
    fragment = request.headers.get("hx-request") == "true"
    template = "subjects/_import_result.html" if fragment else "subjects/import.html"
    return render(request, template, ctx, status_code=status)
