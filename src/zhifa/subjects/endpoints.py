"""JSON API of the subject registry (/api/v1/subjects, ``docs/field-api.md`` §Subjects). Thin:
parse, call the service, present in the request's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from starlette.datastructures import UploadFile as StarletteUpload

from zhifa.errors import InvalidInput, PayloadTooLarge
from zhifa.models.subjects import RiskLevel, SubjectKind
from zhifa.org.auth import DbSession
from zhifa.subjects import importer
from zhifa.subjects.auth import Keys, SubjectsManage, SubjectsRead, SubjectsReveal, app_settings
from zhifa.subjects.history import Context, subject_history
from zhifa.subjects.repository import Filters, Near
from zhifa.subjects.schemas import (
    ImportReport,
    RevealIn,
    RevealRead,
    SubjectHistory,
    SubjectIn,
    SubjectPage,
    SubjectRead,
    SubjectUpdate,
)
from zhifa.subjects.service import subject_service
from zhifa.web.i18n import translate
from zhifa.web.templating import request_locale

router = APIRouter(prefix="/api/v1/subjects", tags=["subjects"])
MAX_IMPORT_BYTES = 5_000_000
DEFAULT_RADIUS_M = 2_000.0
SearchText = Annotated[
    str, Query(max_length=100, description="Words of the name, USCC or address; or an ID number")
]


def parse_near(value: str, radius_m: float | None) -> Near | None:
    """``near=lon,lat`` (WGS-84) with ``radius_m`` (default 2,000 m)."""
    if not value.strip():
        return None
    try:
        lon, lat = (float(part) for part in value.replace("，", ",").split(","))
    except ValueError:
        raise InvalidInput(
            "Give near as longitude,latitude (e.g. 103.67,30.63).", detail={"field": "near"}
        ) from None
    return Near(lon=lon, lat=lat, radius_m=radius_m or DEFAULT_RADIUS_M)


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


@router.get("", response_model=SubjectPage)
def list_subjects(
    request: Request,
    session: DbSession,
    actor: SubjectsRead,
    keys: Keys,
    q: SearchText = "",
    subject_type: str | None = None,
    kind: SubjectKind | None = None,
    risk_level: RiskLevel | None = None,
    near: Annotated[str, Query(description="lon,lat: nearest first, within radius_m")] = "",
    radius_m: Annotated[float | None, Query(gt=0, le=50_000)] = None,
    active: bool | None = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SubjectPage:
    """Search the subjects in your data scope; with ``near``, nearest first within the radius."""
    filters = Filters(
        q=q.strip(), subject_type=subject_type, kind=kind, risk_level=risk_level, active=active
    )
    pairs, total = subject_service.search(
        session,
        actor,
        filters=filters,
        near=parse_near(near, radius_m),
        keys=keys,
        limit=limit,
        offset=offset,
    )
    items = subject_service.present(
        session,
        [s for s, _ in pairs],
        locale=request_locale(request),
        distances=[d for _, d in pairs],
    )
    return SubjectPage(items=items, total=total)


@router.post("", response_model=SubjectRead, status_code=201)
def create_subject(
    request: Request, session: DbSession, actor: SubjectsManage, keys: Keys, body: SubjectIn
) -> SubjectRead:
    """Register a subject (its grid and squad follow from its location)."""
    try:
        row = subject_service.create(session, actor, data=body, keys=keys)
    except InvalidInput as exc:
        raise localised(request, exc) from None
    return subject_service.present(session, [row], locale=request_locale(request))[0]


@router.post("/import", response_model=ImportReport)
def import_subjects(
    request: Request,
    session: DbSession,
    actor: SubjectsManage,
    keys: Keys,
    file: Annotated[UploadFile, File(description="An .xlsx workbook (see docs/subjects.md)")],
    dry_run: bool = False,
) -> ImportReport:
    """Import an Excel sheet of subjects: every row or none; problems by row and column."""
    content = read_upload(file)
    try:
        return importer.import_workbook(
            session,
            actor,
            name=file.filename or "subjects.xlsx",
            content=content,
            keys=keys,
            dry_run=dry_run,
        )
    except InvalidInput as exc:
        raise localised(request, exc) from None


def read_upload(file: StarletteUpload) -> bytes:
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


@router.get("/{subject_id}", response_model=SubjectRead)
def get_subject(
    request: Request, session: DbSession, actor: SubjectsRead, subject_id: int
) -> SubjectRead:
    """One subject in your data scope."""
    row = subject_service.get(session, actor, subject_id=subject_id)
    return subject_service.present(session, [row], locale=request_locale(request))[0]


@router.patch("/{subject_id}", response_model=SubjectRead)
def update_subject(
    request: Request,
    session: DbSession,
    actor: SubjectsManage,
    keys: Keys,
    subject_id: int,
    body: SubjectUpdate,
) -> SubjectRead:
    """Change fields of a subject; ``active: false`` deactivates it (it stays on record)."""
    try:
        row = subject_service.update(session, actor, subject_id=subject_id, data=body, keys=keys)
    except InvalidInput as exc:
        raise localised(request, exc) from None
    return subject_service.present(session, [row], locale=request_locale(request))[0]


@router.post("/{subject_id}/reveal-id", response_model=RevealRead)
def reveal_id(
    session: DbSession, actor: SubjectsReveal, keys: Keys, subject_id: int, body: RevealIn
) -> RevealRead:
    """The full 居民身份证号 of a person, for a stated reason (the reveal is ledgered)."""
    number = subject_service.reveal_id(
        session, actor, subject_id=subject_id, reason=body.reason, keys=keys
    )
    return RevealRead(id_card=number)


@router.get("/{subject_id}/history", response_model=SubjectHistory)
def get_history(
    request: Request, session: DbSession, actor: SubjectsRead, subject_id: int
) -> SubjectHistory:
    """Inspections, findings, penalties, documents and case leads of a subject, newest first."""
    row = subject_service.get(session, actor, subject_id=subject_id)
    return subject_history(session, row, history_context(request))


def history_context(request: Request) -> Context:
    settings = app_settings(request)
    return Context(
        locale=request_locale(request), tz=settings.tz, base_url=settings.public_base_url
    )
