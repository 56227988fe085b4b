"""The complaint configuration pages (complaints:configure): ``/admin/complaints`` with the
categories, the deadline profiles, the working-day exceptions and the district settings, and the
category form (create / change through ``complaints.categories``).

Thin: forms are turned into the services' inputs (``org.forms.parse``: a bad field is a 422 shown
in the page's flash area) and the services do the rest.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.responses import Response

from zhifa.complaints.categories import category_reads, category_service
from zhifa.complaints.schemas import CategoryIn, CategoryUpdate
from zhifa.complaints.settings_service import (
    ComplaintSettingsIn,
    SlaProfileIn,
    WorkdayOverrideIn,
    settings_service,
)
from zhifa.complaints.sla_endpoints import ComplaintsConfigure
from zhifa.complaints.workflow import N_
from zhifa.errors import InvalidInput
from zhifa.kit.clock import today_local
from zhifa.kit.workdays import known_year
from zhifa.models.complaints import HotlineType, Priority, SlaStage
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.org.forms import done, parse
from zhifa.org.service import department_service, unit_service
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/admin/complaints"
TextField = Annotated[str, Form()]
UNITS = (("minutes", N_("Limit in minutes")), ("workdays", N_("Limit in working days")))
# 数字城管 event classes (GB/T 30428.2), the Open311 group of a category.
GROUPS = ("街面秩序", "市容环境", "宣传广告", "施工管理", "突发事件", "其他事件")
LABELS: dict[str, dict[str, str]] = {
    "stage": {s.value: s.label for s in SlaStage},
    "priority": {p.value: p.label for p in Priority},
    "hotline_type": {h.value: h.label for h in HotlineType},
}


def _words(text: str) -> list[str]:
    """A list typed as text: separated by commas (either kind), semicolons or new lines."""
    for separator in ("，", "；", ";", "\n", "、"):
        text = text.replace(separator, ",")
    return [w.strip() for w in text.split(",") if w.strip()]


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "The field {field} is not valid JSON: {error}.",
            detail={"field": field},
            field=field,
            error=str(exc),
        ) from None


def _number(text: str, field: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise InvalidInput(
            "The field {field} must be a number.", detail={"field": field}, field=field
        ) from None


# --- the page ------------------------------------------------------------------------------------


def _context(session: DbSession, actor: Actor) -> dict[str, Any]:
    today = today_local()
    profiles = settings_service.profiles(session, actor)
    return {
        "categories": category_reads(session, category_service.list(session, actor)),
        "profiles": profiles,
        "profile_codes": sorted({p.code for p in profiles}),
        "overrides": settings_service.overrides(session, actor),
        "unknown_years": [y for y in (today.year, today.year + 1) if not known_year(y)],
        "current": settings_service.get(session, actor),
        "unit_options": [
            (u.id, u.name)
            for u in unit_service.list(session, actor, district_code=actor.district_code)
            if u.active
        ],
        "stages": list(SlaStage),
        "priorities": [(p.value, p.label) for p in Priority],
        "limit_units": UNITS,
        "labels": LABELS,
        "today": today,
    }


@router.get(PAGE)
def show_complaint_settings(
    request: Request, session: DbSession, actor: ComplaintsConfigure
) -> Response:
    return render(request, "complaints/admin/index.html", _context(session, actor))


# --- deadline profiles ---------------------------------------------------------------------------


@router.post(f"{PAGE}/profiles")
def save_sla_profile(
    request: Request,
    session: DbSession,
    actor: ComplaintsConfigure,
    code: TextField,
    name: TextField,
    priority: TextField = Priority.NORMAL.value,
    warn_percent: TextField = "80",
    dispatch_amount: TextField = "",
    dispatch_unit: TextField = "minutes",
    arrive_amount: TextField = "",
    arrive_unit: TextField = "minutes",
    handle_amount: TextField = "",
    handle_unit: TextField = "minutes",
    feedback_amount: TextField = "",
    feedback_unit: TextField = "minutes",
) -> Response:
    given = {
        SlaStage.DISPATCH: (dispatch_amount, dispatch_unit),
        SlaStage.ARRIVE: (arrive_amount, arrive_unit),
        SlaStage.HANDLE: (handle_amount, handle_unit),
        SlaStage.FEEDBACK: (feedback_amount, feedback_unit),
    }
    limits = {
        stage.value: {unit: amount.strip()}
        for stage, (amount, unit) in given.items()
        if amount.strip()
    }
    data = parse(
        SlaProfileIn,
        {
            "code": code,
            "name": name,
            "priority": priority,
            "limits": limits,
            "warn_ratio": _number(warn_percent, "warn_percent") / 100,
        },
    )
    settings_service.save_profile(session, actor, data=data)
    return done(request, f"{PAGE}?saved=profile#profiles")


# --- working days --------------------------------------------------------------------------------


@router.post(f"{PAGE}/workdays")
def save_workday_override(
    request: Request,
    session: DbSession,
    actor: ComplaintsConfigure,
    day: TextField,
    is_workday: TextField,
    note: TextField = "",
) -> Response:
    data = parse(WorkdayOverrideIn, {"day": day, "is_workday": is_workday, "note": note})
    settings_service.save_override(session, actor, data=data)
    return done(request, f"{PAGE}?saved=workday#workdays")


@router.post(PAGE + "/workdays/{day}/remove")
def remove_workday_override(
    request: Request, session: DbSession, actor: ComplaintsConfigure, day: date
) -> Response:
    settings_service.remove_override(session, actor, day=day)
    return done(request, f"{PAGE}?saved=workday#workdays")


# --- district settings ---------------------------------------------------------------------------


def _boundary(
    session: DbSession, actor: Actor, text: str, file: UploadFile | None, clear: str
) -> Any:
    if clear:
        return None
    uploaded = ""
    if file is not None and file.filename:
        uploaded = file.file.read().decode("utf-8-sig", errors="replace")
    source = uploaded or text
    if source.strip():
        return _json(source, "boundary")
    return settings_service.get(session, actor).boundary


@router.post(f"{PAGE}/settings")
def save_district_settings(
    request: Request,
    session: DbSession,
    actor: ComplaintsConfigure,
    duplicate_radius_m: TextField,
    duplicate_window_hours: TextField,
    position_stale_seconds: TextField,
    tracking_prefix: TextField,
    default_unit_id: TextField = "",
    boundary_text: TextField = "",
    clear_boundary: TextField = "",
    boundary_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    data = parse(
        ComplaintSettingsIn,
        {
            "duplicate_radius_m": duplicate_radius_m,
            "duplicate_window_hours": duplicate_window_hours,
            "position_stale_seconds": position_stale_seconds,
            "tracking_prefix": tracking_prefix,
            "default_unit_id": default_unit_id.strip() or None,
            "boundary": _boundary(session, actor, boundary_text, boundary_file, clear_boundary),
        },
    )
    settings_service.put(session, actor, data=data)
    return done(request, f"{PAGE}?saved=settings#settings")


# --- categories ----------------------------------------------------------------------------------


def _category_form(session: DbSession, actor: Actor, **extra: Any) -> dict[str, Any]:
    departments = department_service.list(
        session, actor, district_code=actor.district_code, active=True
    )
    codes = sorted({p.code for p in settings_service.profiles(session, actor)})
    return {
        "departments": [(d.code, d.name) for d in departments],
        "profile_options": [(code, code) for code in codes],
        "groups": GROUPS,
        "hotline_types": [(h.value, h.label) for h in HotlineType],
        "priorities": [(p.value, p.label) for p in Priority],
        **extra,
    }


class CategoryFields(BaseModel):
    """The category form as posted (text as typed; ``CategoryIn`` checks it)."""

    code: str = ""
    name: str = ""
    description: str = ""
    group: str = ""
    hotline_type: str = HotlineType.COMPLAINT.value
    department_code: str = ""
    transfer_to: str = ""
    power_codes: str = ""
    keywords: str = ""
    sla_profile: str = "street"
    priority: str = Priority.NORMAL.value
    auto_dispatch: str = ""
    subject_type_code: str = ""
    sort_order: str = "0"
    active: str = ""
    attributes: str = ""


def _category_values(form: CategoryFields) -> dict[str, Any]:
    return {
        "name": form.name,
        "description": form.description,
        "group": form.group,
        "hotline_type": form.hotline_type,
        "department_code": form.department_code.strip() or None,
        "transfer_to": form.transfer_to,
        "power_codes": _words(form.power_codes),
        "keywords": _words(form.keywords),
        "sla_profile": form.sla_profile,
        "priority": form.priority,
        "auto_dispatch": bool(form.auto_dispatch),
        "subject_type_code": form.subject_type_code,
        "sort_order": form.sort_order.strip() or "0",
        "active": bool(form.active),
        "attributes": _json(form.attributes, "attributes") if form.attributes.strip() else [],
    }


@router.get(f"{PAGE}/categories/new")
def new_category(request: Request, session: DbSession, actor: ComplaintsConfigure) -> Response:
    return render(
        request,
        "complaints/admin/category_form.html",
        _category_form(session, actor, category=None),
    )


@router.get(PAGE + "/categories/{category_id}")
def edit_category(
    request: Request, session: DbSession, actor: ComplaintsConfigure, category_id: int
) -> Response:
    row = category_service.get(session, actor, category_id=category_id)
    (read,) = category_reads(session, [row])
    return render(
        request,
        "complaints/admin/category_form.html",
        _category_form(session, actor, category=read),
    )


@router.post(f"{PAGE}/categories")
def create_category(
    request: Request,
    session: DbSession,
    actor: ComplaintsConfigure,
    form: Annotated[CategoryFields, Form()],
) -> Response:
    data = parse(CategoryIn, {"code": form.code.strip(), **_category_values(form)})
    category_service.create(session, actor, data=data)
    return done(request, f"{PAGE}?saved=category#categories")


@router.post(PAGE + "/categories/{category_id}")
def update_category(
    request: Request,
    session: DbSession,
    actor: ComplaintsConfigure,
    category_id: int,
    form: Annotated[CategoryFields, Form()],
) -> Response:
    data = parse(CategoryUpdate, _category_values(form))
    category_service.update(session, actor, category_id=category_id, data=data)
    return done(request, f"{PAGE}?saved=category#categories")
