"""The desk's complaint pages (受理台, htmx, large type): the list in scope, the hotline operator's
entry form with possible duplicates, one complaint's full picture with the actions the actor may
take (``desk_context``; the action routes are ``desk_actions``), and the 12345 / 网络理政 import
(``desk_import``).

Thin: every rule lives in the services these pages call (``complaints.intake``, ``handling``,
``clock``, ``duplicates``, ``reporter``). A refused action is shown in the flash area (htmx) or as
an error page, and the request's transaction is rolled back, so nothing of it is saved; a refused
entry form is shown again with what was typed and each message beside its field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.catalog.presenters import Posted
from zhifa.complaints import duplicates, intake, page_forms, reads
from zhifa.complaints import repository as repo
from zhifa.complaints.desk_actions import router as actions_router
from zhifa.complaints.desk_context import (
    ComplaintsIntake,
    ComplaintsRead,
    app_settings,
    detail_context,
    sla_colours,
)
from zhifa.complaints.desk_import import router as import_router
from zhifa.errors import AppError
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintSource,
    ComplaintStatus,
    Priority,
    SlaState,
)
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.org.forms import done
from zhifa.org.grids import repository as grid_repo
from zhifa.org.roles import Permission
from zhifa.subjects.maps import grid_collection
from zhifa.web.errors import is_htmx
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
router.include_router(actions_router)
router.include_router(import_router)
PAGE_SIZE = 50
Search = Annotated[str, Query(max_length=100)]
Code = Annotated[str, Query(max_length=40)]


# ---- the list ---------------------------------------------------------------------------------


def _enum_or_none(enum: Any, value: str) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@router.get("/complaints")
def list_complaints(
    request: Request,
    session: DbSession,
    actor: ComplaintsRead,
    q: Search = "",
    status: Code = "",
    category: Code = "",
    sla_state: Code = "",
    open: Code = "1",  # noqa: A002 - the API's parameter name
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The complaints in scope (owning squad), newest first, searched as you type."""
    chosen = _enum_or_none(ComplaintStatus, status)
    f = repo.ComplaintFilter(
        statuses=(chosen,) if chosen is not None else (),
        category_code=category or None,
        sla_state=_enum_or_none(SlaState, sla_state),
        open={"1": True, "0": False}.get(open),
        q=q.strip(),
    )
    page = reads.complaint_page(
        session, actor, f, limit=PAGE_SIZE, offset=offset, locale=request_locale(request)
    )
    ctx = {
        "rows": page.items,
        "total": page.total,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "query": {
            "q": q,
            "status": status,
            "category": category,
            "sla_state": sla_state,
            "open": open,
        },
        "statuses": list(ComplaintStatus),
        "sla_states": list(SlaState),
        "sla_colours": sla_colours(),
        "categories": repo.categories(session, actor.district_code),
        "can_intake": actor.can(Permission.COMPLAINTS_INTAKE),
    }
    fragment = is_htmx(request) and request.headers.get("hx-target") == "complaint-results"
    template = "complaints/_results.html" if fragment else "complaints/list.html"
    return render(request, template, ctx)


# ---- the hotline operator's entry -------------------------------------------------------------


def _views(session: Session, district_code: str) -> list[page_forms.CategoryView]:
    rows = repo.categories(session, district_code, active=True)
    return [page_forms.category_view(row) for row in rows]


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    views = _views(session, actor.district_code)
    chosen = page_forms.chosen_category(views, str(values.get("category", "")))
    grids = grid_repo.grids(session, actor.scope, district_code=actor.district_code, active=True)
    ctx = {
        "categories": views,
        "chosen": chosen,
        "priorities": list(Priority),
        "values": values,
        "errors": errors,
        "grids": grid_collection(grids),
    }
    return render(request, "complaints/new.html", ctx, status_code=status_code)


@router.get("/complaints/new")
def new_complaint(
    request: Request, session: DbSession, actor: ComplaintsIntake, category: Code = ""
) -> Response:
    """The hotline operator's form (热线受理)."""
    values = {"category": category, "anonymous": "", "priority": ""}
    return _new_page(request, session, actor, values=values, errors={})


@router.get("/complaints/new/fields")
def category_fields(
    request: Request, session: DbSession, actor: ComplaintsIntake, category: Code = ""
) -> Response:
    """The chosen category's questions (swapped into the form by htmx)."""
    chosen = page_forms.chosen_category(_views(session, actor.district_code), category)
    ctx: dict[str, Any] = {"chosen": chosen, "values": {}, "errors": {}}
    return render(request, "complaints/_category_fields.html", ctx)


@router.get("/complaints/new/duplicates")
def possible_duplicates(
    request: Request,
    session: DbSession,
    actor: ComplaintsIntake,
    category: Code = "",
    lon: Code = "",
    lat: Code = "",
) -> Response:
    """Open complaints of the same category near the pin, before the entry is saved."""
    found: list[Any] = []
    row = repo.category_by_code(session, actor.district_code, category) if category else None
    try:
        point = page_forms.point({"lon": lon, "lat": lat})
    except AppError:
        point = (None, None)
    if row is not None and point[0] is not None:
        probe = Complaint(
            district_code=actor.district_code,
            category_id=row.id,
            lon=point[0],
            lat=point[1],
            received_at=utcnow(),
        )
        found = duplicates.candidates(session, probe, settings=app_settings(request))
    ctx = {"duplicates": found, "probed": row is not None and point[0] is not None}
    return render(request, "complaints/_duplicates.html", ctx)


FORM_FIELDS = (
    "category",
    "priority",
    "lon",
    "lat",
    "address",
    "description",
    "reporter_name",
    "reporter_phone",
    "anonymous",
)


@router.post("/complaints/new")
def create_complaint(
    request: Request, session: DbSession, actor: ComplaintsIntake, posted: Posted
) -> Response:
    """Save the phone call as a complaint and open it."""
    views = _views(session, actor.district_code)
    chosen = page_forms.chosen_category(views, posted.text("category"))
    values: dict[str, Any] = {name: posted.text(name) for name in FORM_FIELDS}
    answers, shown = page_forms.attribute_answers(posted, chosen)
    values |= shown
    try:
        data = page_forms.complaint_in(values, answers=answers, priority=values["priority"])
        result = intake.create_complaint(
            session,
            district_code=actor.district_code,
            data=data,
            source=ComplaintSource.HOTLINE,
            actor_id=actor.officer_id,
            settings=app_settings(request),
        )
    except AppError as exc:
        if exc.status_code >= 500:
            raise
        session.rollback()
        errors = page_forms.field_errors(
            request_locale(request), exc, category_code=chosen.code if chosen else ""
        )
        return _new_page(
            request, session, actor, values=values, errors=errors, status_code=exc.status_code
        )
    return done(request, f"/complaints/{result.complaint.id}")


# ---- one complaint ----------------------------------------------------------------------------


@router.get("/complaints/{complaint_id:int}")
def show_complaint(
    request: Request, session: DbSession, actor: ComplaintsRead, complaint_id: int
) -> Response:
    """Everything about one complaint, and the actions the actor may take on it."""
    ctx = detail_context(request, session, actor, complaint_id)
    return render(request, "complaints/detail.html", ctx)
