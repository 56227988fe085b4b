"""Catalog editing pages for the catalog admin (清单管理员, catalog:manage; anyone else gets 403):
a power and a new version of it, check items, checklists, subject types, and the import page
(upload with progress, dry run, error report) with the export.

Every save is a new version through the catalog services (which ledger it); nothing is edited in
place. A refused form (422, or 409 for a code already taken) is shown again with what was typed and
each message beside its field; the request's transaction is rolled back first, so nothing of it is
saved. Forms post normally and, with htmx, in place (success → ``HX-Redirect``). The benchmark
editor (a new benchmark version) is in ``benchmark_editor``, included here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.catalog import benchmark_editor, browse, versions
from zhifa.catalog import repository as repo
from zhifa.catalog.auth import CatalogManage, CatalogRead
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.exchange import exporter, importer
from zhifa.catalog.presenters import (
    LABELS,
    Posted,
    catalog_context,
    day,
    error_messages,
    parse_form,
    translator,
)
from zhifa.catalog.schemas import (
    CheckItemCreate,
    CheckItemVersionIn,
    ChecklistCreate,
    ChecklistVersionIn,
    PowerCreate,
    PowerVersionIn,
    SubjectTypeIn,
)
from zhifa.catalog.service import Author, power_service
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.kit.clock import today_local
from zhifa.models.catalog import PowerKind, PowerStatus
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.org.forms import done
from zhifa.org.roles import Role
from zhifa.org.service import unit_service
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(benchmark_editor.router)  # the benchmark editor (its own module)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POWER_FIELDS = (
    "code",
    "name",
    "kind",
    "department",
    "party_types",
    "violated",
    "penalty",
    "penalty_text",
    "responsibility.unit_code",
    "responsibility.role",
    "responsibility.act_within_days",
    "responsibility.duties",
    "status",
    "effective_from",
    "note",
)
ITEM_FIELDS = (
    "code",
    "text",
    "guidance",
    "evidence",
    "department",
    "power_codes",
    "effective_from",
    "note",
)
LIST_FIELDS = ("code", "name", "subject_type", "item_codes", "active", "effective_from", "note")


def _split(text: str) -> list[str]:
    """Codes typed one per line or separated by 、，,；; (in that order, without repeats)."""
    for mark in "、，,；;":
        text = text.replace(mark, "\n")
    return list(dict.fromkeys(part.strip() for part in text.splitlines() if part.strip()))


def _refused(
    request: Request,
    session: Session,
    exc: InvalidInput | Conflict,
    fields: tuple[str, ...],
    template: str,
    ctx: Callable[[], dict[str, Any]],
) -> Response:
    """The form again, with the messages beside the fields; nothing of this request is kept (the
    transaction is rolled back before the page is read)."""
    session.rollback()
    page = ctx() | {"errors": error_messages(request, exc, fields)}
    return render(request, template, page, status_code=exc.status_code)


def _save(
    request: Request,
    session: Session,
    action: Callable[[], str],
    fields: tuple[str, ...],
    template: str,
    ctx: Callable[[], dict[str, Any]],
) -> Response:
    try:
        target = action()
    except (InvalidInput, Conflict) as exc:
        return _refused(request, session, exc, fields, template, ctx)
    return done(request, target)


# ---- powers ---------------------------------------------------------------------------------


def _power_options(session: Session, actor: Actor) -> dict[str, Any]:
    return {
        "departments": repo.departments(session, actor.district_code),
        "units": [
            u
            for u in unit_service.list(session, actor, district_code=actor.district_code)
            if u.active
        ],
        "kinds": list(PowerKind),
        "statuses": list(PowerStatus),
        "roles": list(Role),
    }


def _power_values(session: Session, district_code: str, code: str) -> dict[str, Any]:
    """The latest version of the power as form values (citations written out)."""
    power = power_service.get_power(session, district_code, code)
    latest = versions.latest(repo.power_versions(session, power.id))
    if latest is None:
        return {"code": code}
    cited = browse.citations_as_on(session, latest.citations, latest.effective_from)
    departments = {d.id: d.code for d in repo.departments(session, district_code)}
    return {
        "code": code,
        "name": latest.name,
        "kind": latest.kind,
        "department": departments.get(latest.department_id, ""),
        "party_types": list(latest.party_types),
        "violated": "；".join(c.label for c in cited if c.role == "violated"),
        "penalty": "；".join(c.label for c in cited if c.role == "penalty"),
        "penalty_text": latest.penalty_text,
        "responsibility": dict(latest.responsibility),
        "status": latest.status,
        "effective_from": "",
        "note": "",
    }


def _power_input(form: Any) -> dict[str, Any]:
    days = form.text("act_within_days").strip()
    return {
        "code": form.text("code").strip(),
        "name": form.text("name"),
        "kind": form.text("kind"),
        "department": form.text("department"),
        "party_types": form.texts("party_types"),
        "violated": form.text("violated"),
        "penalty": form.text("penalty"),
        "penalty_text": form.text("penalty_text"),
        "responsibility": {
            "unit_code": form.text("unit_code").strip() or None,
            "role": form.text("role") or Role.OFFICER.value,
            "act_within_days": days or None,
            "duties": form.text("duties"),
        },
        "status": form.text("status") or PowerStatus.ACTIVE.value,
        "effective_from": form.text("effective_from").strip() or None,
        "note": form.text("note"),
    }


def _power_page(
    session: Session, actor: Actor, values: dict[str, Any], *, new: bool
) -> dict[str, Any]:
    return catalog_context(
        session,
        actor,
        values=values,
        new=new,
        errors={},
        tab="powers",
        **_power_options(session, actor),
    )


@router.get("/catalog/powers/new")
def new_power(request: Request, session: DbSession, actor: CatalogManage) -> Response:
    values = {"kind": PowerKind.PENALTY.value, "party_types": [], "responsibility": {}}
    values["effective_from"] = today_local().isoformat()
    ctx = _power_page(session, actor, values, new=True)
    return render(request, "catalog/power_form.html", ctx)


@router.post("/catalog/powers")
def create_power(
    request: Request, session: DbSession, actor: CatalogManage, form: Posted
) -> Response:
    """Create a power with its first version."""
    values = _power_input(form)

    def action() -> str:
        written = power_service.create(session, actor, data=parse_form(PowerCreate, values))
        return f"/catalog/powers/{written.code}"

    return _save(
        request,
        session,
        action,
        POWER_FIELDS,
        "catalog/power_form.html",
        lambda: _power_page(session, actor, values, new=True),
    )


@router.get("/catalog/powers/{code}/edit")
def edit_power(request: Request, session: DbSession, actor: CatalogManage, code: str) -> Response:
    values = _power_values(session, actor.district_code, code)
    values["effective_from"] = today_local().isoformat()
    return render(
        request, "catalog/power_form.html", _power_page(session, actor, values, new=False)
    )


@router.post("/catalog/powers/{code}/edit")
def revise_power(
    request: Request, session: DbSession, actor: CatalogManage, code: str, form: Posted
) -> Response:
    """Record a new version of the power from its effective date (the note says why)."""
    values = _power_input(form) | {"code": code}
    power_service.get_power(session, actor.district_code, code)

    def action() -> str:
        data = parse_form(PowerVersionIn, {k: v for k, v in values.items() if k != "code"})
        power_service.revise(session, actor, code=code, data=data)
        return f"/catalog/powers/{code}"

    return _save(
        request,
        session,
        action,
        POWER_FIELDS,
        "catalog/power_form.html",
        lambda: _power_page(session, actor, values, new=False),
    )


# ---- check items ----------------------------------------------------------------------------


def _item_page(
    session: Session, actor: Actor, values: dict[str, Any], *, new: bool
) -> dict[str, Any]:
    departments = repo.departments(session, actor.district_code)
    return catalog_context(
        session,
        actor,
        values=values,
        new=new,
        errors={},
        departments=departments,
        evidence=list(LABELS["evidence"]),
        tab="check_items",
    )


def _item_input(form: Any) -> dict[str, Any]:
    return {
        "code": form.text("code").strip(),
        "text": form.text("text"),
        "guidance": form.text("guidance"),
        "evidence": form.texts("evidence"),
        "department": form.text("department"),
        "power_codes": _split(form.text("power_codes")),
        "effective_from": form.text("effective_from").strip() or None,
        "note": form.text("note"),
    }


def _item_action(
    session: Session, actor: Actor, code: str, values: dict[str, Any], *, new: bool
) -> Callable[[], str]:
    def action() -> str:
        exists = repo.check_item(session, actor.district_code, code) is not None
        if new and exists:
            raise Conflict(
                "Check item {code} already exists; record a new version instead.",
                detail={"field": "code"},
                code=code,
            )
        model = CheckItemCreate if new else CheckItemVersionIn
        data = parse_form(
            model, values if new else {k: v for k, v in values.items() if k != "code"}
        )
        content = CheckItemVersionIn.model_validate(data.model_dump(exclude={"code"}))
        check_item_service.put(session, Author.of(actor), code=code, data=content)
        return f"/catalog/check-items?q={code}"

    return action


@router.get("/catalog/check-items/new")
def new_check_item(request: Request, session: DbSession, actor: CatalogManage) -> Response:
    values = {"effective_from": today_local().isoformat(), "evidence": ["photo"]}
    ctx = _item_page(session, actor, values, new=True)
    return render(request, "catalog/check_item_form.html", ctx)


@router.post("/catalog/check-items")
def create_check_item(
    request: Request, session: DbSession, actor: CatalogManage, form: Posted
) -> Response:
    """Create a check item with its first version."""
    values = _item_input(form)
    action = _item_action(session, actor, values["code"], values, new=True)
    return _save(
        request,
        session,
        action,
        ITEM_FIELDS,
        "catalog/check_item_form.html",
        lambda: _item_page(session, actor, values, new=True),
    )


@router.get("/catalog/check-items/{code}/edit")
def edit_check_item(
    request: Request, session: DbSession, actor: CatalogManage, code: str
) -> Response:
    found = [
        i
        for i in browse.check_items(session, actor.district_code, on=today_local())
        if i.code == code
    ]
    if not found:
        raise NotFound("Check item {code} does not exist in this district.", code=code)
    item = found[0]
    values = item.model_dump() | {
        "department": item.department_code,
        "power_codes": item.power_codes,
        "effective_from": today_local().isoformat(),
        "note": "",
    }
    ctx = _item_page(session, actor, values, new=False)
    return render(request, "catalog/check_item_form.html", ctx)


@router.post("/catalog/check-items/{code}/edit")
def revise_check_item(
    request: Request, session: DbSession, actor: CatalogManage, code: str, form: Posted
) -> Response:
    """Record a new version of a check item."""
    if repo.check_item(session, actor.district_code, code) is None:
        raise NotFound("Check item {code} does not exist in this district.", code=code)
    values = _item_input(form) | {"code": code}
    action = _item_action(session, actor, code, values, new=False)
    return _save(
        request,
        session,
        action,
        ITEM_FIELDS,
        "catalog/check_item_form.html",
        lambda: _item_page(session, actor, values, new=False),
    )


# ---- checklists and subject types ----------------------------------------------------------


def _list_page(
    session: Session, actor: Actor, values: dict[str, Any], *, new: bool
) -> dict[str, Any]:
    types = [t for t in repo.subject_types(session, actor.district_code) if t.active]
    return catalog_context(
        session,
        actor,
        values=values,
        new=new,
        errors={},
        subject_types=types,
        tab="checklists",
    )


def _list_input(form: Any) -> dict[str, Any]:
    return {
        "code": form.text("code").strip(),
        "name": form.text("name"),
        "subject_type": form.text("subject_type"),
        "item_codes": _split(form.text("item_codes")),
        "active": bool(form.text("active")),
        "effective_from": form.text("effective_from").strip() or None,
        "note": form.text("note"),
    }


def _list_action(
    session: Session, actor: Actor, code: str, values: dict[str, Any], *, new: bool
) -> Callable[[], str]:
    def action() -> str:
        if new and repo.checklist(session, actor.district_code, code) is not None:
            raise Conflict(
                "Checklist {code} already exists; record a new version instead.",
                detail={"field": "code"},
                code=code,
            )
        model = ChecklistCreate if new else ChecklistVersionIn
        data = parse_form(
            model, values if new else {k: v for k, v in values.items() if k != "code"}
        )
        content = ChecklistVersionIn.model_validate(data.model_dump(exclude={"code"}))
        checklist_service.put(session, Author.of(actor), code=code, data=content)
        return f"/catalog/checklists/{code}"

    return action


@router.get("/catalog/checklists/new")
def new_checklist(request: Request, session: DbSession, actor: CatalogManage) -> Response:
    values = {"effective_from": today_local().isoformat(), "active": True, "item_codes": []}
    return render(
        request, "catalog/checklist_form.html", _list_page(session, actor, values, new=True)
    )


@router.post("/catalog/checklists")
def create_checklist(
    request: Request, session: DbSession, actor: CatalogManage, form: Posted
) -> Response:
    """Create a checklist template with its first version."""
    values = _list_input(form)
    action = _list_action(session, actor, values["code"], values, new=True)
    return _save(
        request,
        session,
        action,
        LIST_FIELDS,
        "catalog/checklist_form.html",
        lambda: _list_page(session, actor, values, new=True),
    )


@router.get("/catalog/checklists/{code}/edit")
def edit_checklist(
    request: Request, session: DbSession, actor: CatalogManage, code: str
) -> Response:
    current = browse.checklist_detail(session, actor.district_code, code, on=today_local())
    values = {
        "code": code,
        "name": current.name,
        "subject_type": current.subject_type,
        "item_codes": current.item_codes,
        "active": True,
        "effective_from": today_local().isoformat(),
        "note": "",
    }
    return render(
        request, "catalog/checklist_form.html", _list_page(session, actor, values, new=False)
    )


@router.post("/catalog/checklists/{code}/edit")
def revise_checklist(
    request: Request, session: DbSession, actor: CatalogManage, code: str, form: Posted
) -> Response:
    """Record a new version of a checklist template."""
    if repo.checklist(session, actor.district_code, code) is None:
        raise NotFound(
            "Checklist {code} does not exist in this district or is not in force on {date}.",
            code=code,
            date=today_local().isoformat(),
        )
    values = _list_input(form) | {"code": code}
    action = _list_action(session, actor, code, values, new=False)
    return _save(
        request,
        session,
        action,
        LIST_FIELDS,
        "catalog/checklist_form.html",
        lambda: _list_page(session, actor, values, new=False),
    )


@router.post("/catalog/subject-types")
def create_subject_type(
    request: Request, session: DbSession, actor: CatalogManage, form: Posted
) -> Response:
    """Add a subject type (建筑工地, 网吧 …); refusals are shown in the page's message area."""
    data = parse_form(SubjectTypeIn, {"code": form.text("code").strip(), "name": form.text("name")})
    subject_type_service.create(session, Author.of(actor), data=data)
    return done(request, "/catalog/checklists")


# ---- import and export ----------------------------------------------------------------------


@router.get("/catalog/import")
def show_import(request: Request, session: DbSession, actor: CatalogManage) -> Response:
    ctx = catalog_context(session, actor, report=None, problems=None, tab="import")
    return render(request, "catalog/import.html", ctx)


@router.post("/catalog/import")
def import_catalog(
    request: Request, session: DbSession, actor: CatalogManage, form: Posted
) -> Response:
    """Check (dry run) or import an .xlsx workbook or CSV files: all of it, or nothing."""
    dry_run = form.text("mode") != "import"
    files = [(f.filename or "file", f.file.read()) for f in form.files("files")]
    ctx = catalog_context(session, actor, report=None, problems=None, errors={}, tab="import")
    status = 200
    try:
        if not files:
            raise InvalidInput("Choose a file to import.", detail={"field": "files"})
        ctx["report"] = importer.import_files(session, Author.of(actor), files, dry_run=dry_run)
    except InvalidInput as exc:
        session.rollback()
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        ctx["errors"] = error_messages(request, exc)
        t = translator(request)
        problems = detail.get("problems") or []
        ctx["problems"] = [
            p | {"text": t(p["message"], **(p.get("params") or {}))} for p in problems
        ]
        ctx["total_problems"] = detail.get("total", len(problems))
        status = exc.status_code
    fragment = request.headers.get("hx-request") == "true"
    template = "catalog/_import_result.html" if fragment else "catalog/import.html"
    return render(request, template, ctx, status_code=status)


@router.get("/catalog/export.xlsx")
def export_catalog(session: DbSession, actor: CatalogRead, on: str = "") -> Response:
    """The district's catalog as the import workbook (versions in force on the date and later
    ones). Reading the catalog is enough: it is what the bureau publishes."""
    when: date = day(on)
    content = exporter.export_xlsx(session, actor.district_code, when)
    name = f"catalog-{actor.district_code}-{when.isoformat()}.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=XLSX, headers=headers)
