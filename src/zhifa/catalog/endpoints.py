"""JSON API of the catalog: powers and their benchmarks, subject types, check items, checklists
(with the merged checklist for a subject type) and the discretion policy. Reading needs
catalog:read (every role); recording a version needs catalog:manage. Rows are the actor's
district's. Laws and provisions are in ``catalog.laws.endpoints``; the fine calculator in
``catalog.discretion.endpoints``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from zhifa.catalog import assembly, browse
from zhifa.catalog import repository as repo
from zhifa.catalog.auth import CatalogManage, CatalogRead
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.exchange import exporter, importer
from zhifa.catalog.schemas import (
    BenchmarkVersionIn,
    BenchmarkVersionRead,
    CheckItemCreate,
    CheckItemRead,
    ChecklistCreate,
    ChecklistRead,
    ChecklistSummary,
    PolicyRead,
    PolicyVersionIn,
    PowerCreate,
    PowerDetail,
    PowerPage,
    PowerVersionIn,
    SubjectTypeIn,
    SubjectTypeRead,
    WriteResult,
)
from zhifa.catalog.service import Author, Written, benchmark_service, policy_service, power_service
from zhifa.errors import InvalidInput
from zhifa.kit.clock import today_local
from zhifa.models.catalog import PowerKind
from zhifa.org.auth import DbSession

router = APIRouter(prefix="/api/v1", tags=["catalog"])

On = Annotated[date | None, Query(description="Read as on this date (default today)")]


def _result(written: Written, response: Response) -> WriteResult:
    response.status_code = 201 if written.created else 200
    return WriteResult(**written.__dict__)


@router.get("/powers", response_model=PowerPage)
def list_powers(
    session: DbSession,
    actor: CatalogRead,
    q: Annotated[str, Query(max_length=100, description="Words in code, name or penalty")] = "",
    department: Annotated[str, Query(max_length=100)] = "",
    kind: PowerKind | None = None,
    on: On = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PowerPage:
    """The power list (权力清单) in force on a date, searchable."""
    return browse.power_page(
        session,
        actor.district_code,
        on=on or today_local(),
        q=q,
        department=department or None,
        kind=kind,
        limit=limit,
        offset=offset,
    )


@router.post("/powers", response_model=WriteResult, status_code=201)
def create_power(
    session: DbSession, actor: CatalogManage, body: PowerCreate, response: Response
) -> WriteResult:
    """Create a power item with its first version."""
    return _result(power_service.create(session, actor, data=body), response)


@router.get("/powers/{code}", response_model=PowerDetail)
def get_power(session: DbSession, actor: CatalogRead, code: str, on: On = None) -> PowerDetail:
    """A power with its legal texts in force on the date, its versions and its benchmark."""
    return browse.power_detail(session, actor.district_code, code, on=on or today_local())


@router.post("/powers/{code}/versions", response_model=WriteResult, status_code=201)
def revise_power(
    session: DbSession, actor: CatalogManage, code: str, body: PowerVersionIn, response: Response
) -> WriteResult:
    """Record a new version of a power from its effective date (200 if nothing changed)."""
    return _result(power_service.revise(session, actor, code=code, data=body), response)


@router.get("/benchmarks", response_model=PowerPage)
def list_benchmarks(
    session: DbSession,
    actor: CatalogRead,
    q: Annotated[str, Query(max_length=100)] = "",
    on: On = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PowerPage:
    """Penalty powers in force on a date, with whether each has a discretion benchmark."""
    return browse.power_page(
        session,
        actor.district_code,
        on=on or today_local(),
        q=q,
        kind=PowerKind.PENALTY,
        limit=limit,
        offset=offset,
    )


@router.get("/powers/{code}/benchmark", response_model=list[BenchmarkVersionRead])
def list_benchmark_versions(
    session: DbSession, actor: CatalogRead, code: str
) -> list[BenchmarkVersionRead]:
    """Every version of the power's discretion benchmark, oldest first."""
    power = power_service.get_power(session, actor.district_code, code)
    rows = repo.benchmark_versions(session, power.id)
    return [BenchmarkVersionRead.model_validate(r, from_attributes=True) for r in rows]


@router.post("/powers/{code}/benchmark", response_model=WriteResult, status_code=201)
def revise_benchmark(
    session: DbSession,
    actor: CatalogManage,
    code: str,
    body: BenchmarkVersionIn,
    response: Response,
) -> WriteResult:
    """Record a new version of the power's benchmark from its effective date."""
    return _result(benchmark_service.revise(session, actor, code=code, data=body), response)


@router.get("/subject-types", response_model=list[SubjectTypeRead])
def list_subject_types(session: DbSession, actor: CatalogRead) -> list[SubjectTypeRead]:
    """Kinds of regulated subject (建筑工地, 网吧 …) that select checklist templates."""
    rows = repo.subject_types(session, actor.district_code)
    return [SubjectTypeRead.model_validate(r) for r in rows]


@router.post("/subject-types", response_model=SubjectTypeRead, status_code=201)
def create_subject_type(
    session: DbSession, actor: CatalogManage, body: SubjectTypeIn
) -> SubjectTypeRead:
    """Create a subject type."""
    row = subject_type_service.create(session, Author.of(actor), data=body)
    return SubjectTypeRead.model_validate(row)


@router.get("/check-items", response_model=list[CheckItemRead])
def list_check_items(
    session: DbSession,
    actor: CatalogRead,
    q: Annotated[str, Query(max_length=100)] = "",
    on: On = None,
) -> list[CheckItemRead]:
    """Check items (检查事项) in force on a date, searchable."""
    return browse.check_items(session, actor.district_code, on=on or today_local(), q=q)


@router.post("/check-items", response_model=WriteResult, status_code=201)
def put_check_item(
    session: DbSession, actor: CatalogManage, body: CheckItemCreate, response: Response
) -> WriteResult:
    """Create a check item or record its new version (200 if nothing changed)."""
    written = check_item_service.put(session, Author.of(actor), code=body.code, data=body)
    return _result(written, response)


@router.get("/checklists", response_model=list[ChecklistSummary])
def list_checklists(
    session: DbSession,
    actor: CatalogRead,
    subject_type: Annotated[str | None, Query(max_length=64)] = None,
    on: On = None,
) -> list[ChecklistSummary]:
    """Checklist templates (巡查清单) in force on a date."""
    return browse.checklists(
        session, actor.district_code, on=on or today_local(), subject_type=subject_type
    )


@router.get(
    "/checklists/for-subject-type/{subject_type}", response_model=assembly.AssembledChecklist
)
def assemble_checklist(
    session: DbSession, actor: CatalogRead, subject_type: str, on: On = None
) -> assembly.AssembledChecklist:
    """The merged checklist for a subject type, each item with its powers' legal basis."""
    return assembly.for_subject_type(
        session, actor.district_code, subject_type, on=on or today_local()
    )


@router.get("/checklists/{code}", response_model=ChecklistRead)
def get_checklist(
    session: DbSession, actor: CatalogRead, code: str, on: On = None
) -> ChecklistRead:
    """A checklist template with its items and versions."""
    return browse.checklist_detail(session, actor.district_code, code, on=on or today_local())


@router.post("/checklists", response_model=WriteResult, status_code=201)
def put_checklist(
    session: DbSession, actor: CatalogManage, body: ChecklistCreate, response: Response
) -> WriteResult:
    """Create a checklist template or record its new version (200 if nothing changed)."""
    written = checklist_service.put(session, Author.of(actor), code=body.code, data=body)
    return _result(written, response)


@router.get("/discretion/policy", response_model=PolicyRead)
def get_policy(session: DbSession, actor: CatalogRead, on: On = None) -> PolicyRead:
    """The district's discretion policy in force on a date (the defaults if none is recorded)."""
    return policy_service.current(session, actor.district_code, on or today_local())


@router.post("/discretion/policy", response_model=WriteResult, status_code=201)
def revise_policy(
    session: DbSession, actor: CatalogManage, body: PolicyVersionIn, response: Response
) -> WriteResult:
    """Record a new version of the district's discretion policy."""
    return _result(policy_service.revise(session, actor, data=body), response)


MAX_UPLOAD = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_uploads(files: list[UploadFile]) -> list[tuple[str, bytes]]:
    """The uploaded files as (name, bytes), refusing an empty or oversized upload."""
    contents = []
    for upload in files:
        data = upload.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidInput(
                "{file} is larger than 20 MB.", detail={"field": "file"}, file=upload.filename
            )
        if data:
            contents.append((upload.filename or "upload", data))
    if not contents:
        raise InvalidInput("Choose a file to import.", detail={"field": "file"})
    return contents


@router.post("/catalog/import")
def import_catalog(
    session: DbSession,
    actor: CatalogManage,
    files: Annotated[list[UploadFile], File(description=".xlsx, or CSV files")],
    dry_run: Annotated[bool, Form()] = False,
) -> dict[str, object]:
    """Import powers, benchmarks, check items and checklists (docs/catalog-format.md): all or
    nothing; a refused file answers 422 with every problem by sheet, row and column."""
    report = importer.import_files(session, Author.of(actor), read_uploads(files), dry_run=dry_run)
    return report.as_dict()


@router.get("/catalog/export")
def export_catalog(
    session: DbSession,
    actor: CatalogRead,
    format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx",  # noqa: A002 - the API word
    on: On = None,
) -> Response:
    """The district's catalog in the import layout: a workbook, or a zip of CSV files."""
    day = on or today_local()
    name = f"catalog-{actor.district_code}-{day.isoformat()}"
    if format == "csv":
        content = exporter.export_zip(session, actor.district_code, day)
        return Response(content, media_type="application/zip", headers=_attachment(f"{name}.zip"))
    content = exporter.export_xlsx(session, actor.district_code, day)
    return Response(content, media_type=XLSX, headers=_attachment(f"{name}.xlsx"))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
