"""HTML pages of the subject registry (htmx, large type): the searchable list, the map, the detail
page with history and the ID-card reveal, the new/edit form and the Excel import.

A refused form is shown again with what was typed and each message beside its field; the request's
transaction is rolled back first, so nothing of it is saved.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.catalog.presenters import Posted
from zhifa.errors import Conflict, InvalidInput
from zhifa.models.subjects import RiskLevel, Subject, SubjectKind
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.org.forms import done
from zhifa.org.roles import Permission
from zhifa.subjects import forms, maps
from zhifa.subjects import repository as repo
from zhifa.subjects.auth import Keys, SubjectsManage, SubjectsRead, SubjectsReveal
from zhifa.subjects.endpoints import history_context
from zhifa.subjects.history import subject_history
from zhifa.subjects.import_pages import router as import_router
from zhifa.subjects.service import subject_service
from zhifa.web.errors import is_htmx
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
router.include_router(import_router)  # before /subjects/{subject_id}: "import" is not an id
PAGE_SIZE = 50
RISK_COLOURS = {RiskLevel.LOW.value: "green", RiskLevel.MEDIUM.value: "amber", "high": "red"}


def page_context(session: Session, actor: Actor, **extra: Any) -> dict[str, Any]:
    return {
        "kinds": list(SubjectKind),
        "risks": list(RiskLevel),
        "risk_colours": RISK_COLOURS,
        "types": repo.subject_types(session, actor.district_code),
        "can_manage": actor.can(Permission.SUBJECTS_MANAGE),
        "can_reveal": actor.can(Permission.SUBJECTS_REVEAL),
        **extra,
    }


def _enum_or_none(enum: Any, value: str) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@router.get("/subjects")
def list_subjects(
    request: Request,
    session: DbSession,
    actor: SubjectsRead,
    keys: Keys,
    q: str = "",
    subject_type: str = "",
    kind: str = "",
    risk_level: str = "",
    status: str = "active",
    offset: int = 0,
) -> Response:
    """The subjects in scope, searched as you type."""
    active = {"active": True, "inactive": False}.get(status)
    filters = repo.Filters(
        q=q.strip()[:100],
        subject_type=subject_type or None,
        kind=_enum_or_none(SubjectKind, kind),
        risk_level=_enum_or_none(RiskLevel, risk_level),
        active=active,
    )
    start = max(offset, 0)
    pairs, total = subject_service.search(
        session, actor, filters=filters, near=None, keys=keys, limit=PAGE_SIZE, offset=start
    )
    rows = subject_service.present(session, [s for s, _ in pairs], locale=request_locale(request))
    query = {"q": q, "subject_type": subject_type, "kind": kind, "risk_level": risk_level}
    ctx = page_context(
        session,
        actor,
        rows=rows,
        total=total,
        offset=start,
        page_size=PAGE_SIZE,
        query=query | {"status": status},
        squads=repo.unit_names(session, {r.unit_id for r in rows if r.unit_id}),
    )
    fragment = is_htmx(request) and request.headers.get("hx-target") == "subject-results"
    return render(request, "subjects/_results.html" if fragment else "subjects/list.html", ctx)


@router.get("/subjects/map")
def show_map(request: Request, session: DbSession, actor: SubjectsRead) -> Response:
    """Every subject in scope with its fence, over the grids."""
    rows = repo.all_located(session, actor.scope)
    grids = repo.grids_in_scope(session, actor.scope)
    collection = maps.subjects_collection(rows, RISK_COLOURS)
    ctx = page_context(
        session, actor, count=len(rows), subjects=collection, grids=maps.grid_collection(grids)
    )
    return render(request, "subjects/map.html", ctx)


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    subject: Subject | None,
    status_code: int = 200,
) -> Response:
    ctx = page_context(
        session,
        actor,
        values=values,
        errors=errors,
        subject=subject,
        grids=maps.grid_collection(repo.grids_in_scope(session, actor.scope)),
    )
    return render(request, "subjects/form.html", ctx, status_code=status_code)


def _form_values(posted: Posted) -> dict[str, str]:
    return {name: posted.text(name) for name in forms.TEXT_FIELDS}


@router.get("/subjects/new")
def new_subject(
    request: Request, session: DbSession, actor: SubjectsManage, lon: str = "", lat: str = ""
) -> Response:
    values = {"kind": SubjectKind.ENTERPRISE.value, "risk_level": "low", "lon": lon, "lat": lat}
    return _form_page(request, session, actor, values=values, errors={}, subject=None)


@router.post("/subjects/new")
def create_subject(
    request: Request, session: DbSession, actor: SubjectsManage, keys: Keys, posted: Posted
) -> Response:
    values = _form_values(posted)
    try:
        row = subject_service.create(session, actor, data=forms.subject_in(values), keys=keys)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        errors = forms.field_errors(request_locale(request), exc)
        return _form_page(
            request,
            session,
            actor,
            values=values,
            errors=errors,
            subject=None,
            status_code=exc.status_code,
        )
    return done(request, f"/subjects/{row.id}")


@router.get("/subjects/{subject_id}")
def show_subject(
    request: Request, session: DbSession, actor: SubjectsRead, subject_id: int
) -> Response:
    row = subject_service.get(session, actor, subject_id=subject_id)
    subject = subject_service.present(session, [row], locale=request_locale(request))[0]
    squad = repo.unit_names(session, {row.unit_id} if row.unit_id else set())
    ctx = page_context(
        session,
        actor,
        subject=subject,
        squad=squad.get(row.unit_id or 0, ""),
        history=subject_history(session, row, history_context(request)),
        shape=maps.subjects_collection([row], RISK_COLOURS),
    )
    return render(request, "subjects/detail.html", ctx)


@router.get("/subjects/{subject_id}/edit")
def edit_subject(
    request: Request, session: DbSession, actor: SubjectsManage, subject_id: int
) -> Response:
    row = subject_service.get(session, actor, subject_id=subject_id)
    values = forms.form_values(row)
    return _form_page(request, session, actor, values=values, errors={}, subject=row)


@router.post("/subjects/{subject_id}/edit")
def update_subject(
    request: Request,
    session: DbSession,
    actor: SubjectsManage,
    keys: Keys,
    subject_id: int,
    posted: Posted,
) -> Response:
    values = _form_values(posted)
    try:
        data = forms.subject_update(values)
        subject_service.update(session, actor, subject_id=subject_id, data=data, keys=keys)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        row = subject_service.get(session, actor, subject_id=subject_id)
        errors = forms.field_errors(request_locale(request), exc)
        return _form_page(
            request,
            session,
            actor,
            values=values,
            errors=errors,
            subject=row,
            status_code=exc.status_code,
        )
    return done(request, f"/subjects/{subject_id}")


@router.post("/subjects/{subject_id}/deactivate")
def deactivate_subject(
    request: Request, session: DbSession, actor: SubjectsManage, subject_id: int
) -> Response:
    subject_service.deactivate(session, actor, subject_id=subject_id)
    return done(request, f"/subjects/{subject_id}")


@router.post("/subjects/{subject_id}/reveal-id")
def reveal_id(
    request: Request,
    session: DbSession,
    actor: SubjectsReveal,
    keys: Keys,
    subject_id: int,
    posted: Posted,
) -> Response:
    """Show the full number once, in place; the reveal and its reason are ledgered."""
    number = subject_service.reveal_id(
        session, actor, subject_id=subject_id, reason=posted.text("reason"), keys=keys
    )
    return render(request, "subjects/_revealed.html", {"number": number})
