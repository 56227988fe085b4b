"""Desk pages of field inspection (HTML, Jinja2 + htmx; large type, big buttons):

- ``/inspections/tasks``: the day's tasks (or another date, a status), the form for a planned
  task (inspections:manage: subject search, lead and second officers, window) and cancelling;
- ``/inspections/tasks/{id}``: one task: check-ins on a map with their outcome, answers with their
  legal basis, measures, evidence, documents with their verify links, amendments;
- ``/inspections/exceptions``: exception check-ins waiting for a squad leader (approve / reject);
- ``/inspections/case-leads``: 案源 recorded from inspections.

Thin: parse the form, call the service, redirect (``HX-Redirect`` with htmx).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.errors import InvalidInput
from zhifa.inspections import checkin, read
from zhifa.inspections import repository as repo
from zhifa.inspections.auth import InspectionsRead, TasksManage
from zhifa.inspections.common import today as local_today
from zhifa.inspections.common import tz
from zhifa.inspections.evidence import evidence_read
from zhifa.inspections.schemas import CheckInDecision, TaskCreate
from zhifa.inspections.tasks import can_inspect, task_service
from zhifa.models.inspections import CaseLeadStatus, CheckInOutcome, TaskStatus
from zhifa.models.org import Officer, OfficerStatus
from zhifa.models.subjects import Subject
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.org.forms import done, parse
from zhifa.org.officers import repository as officer_repo
from zhifa.org.officers.repository import OfficerFilter
from zhifa.org.roles import Permission
from zhifa.subjects import repository as subject_repo
from zhifa.subjects.repository import Filters as SubjectFilters
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


def _date(value: str | None) -> date:
    if not value:
        return local_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Not a date: {value}.", detail={"field": "on"}, value=value) from None


def field_officers(session: Session, actor: Actor) -> list[Officer]:
    """Active field officers the actor may assign: those in their data scope."""
    rows = officer_repo.officers(
        session, actor.scope, OfficerFilter(status=OfficerStatus.ACTIVE), limit=10_000
    )
    return sorted((o for o in rows if can_inspect(o)), key=lambda o: (o.name, o.id))


@router.get("/inspections/tasks")
def show_tasks(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    on: str | None = None,
    status: str | None = None,
) -> Response:
    day = _date(on)
    chosen = TaskStatus(status) if status and status in set(TaskStatus) else None
    rows = task_service.list(session, actor, on=day, status=chosen)
    can_manage = actor.can(Permission.TASKS_MANAGE)
    ctx: dict[str, Any] = {
        "day": day,
        "status": chosen.value if chosen else "",
        "statuses": list(TaskStatus),
        "tasks": read.task_reads(session, actor, rows, request_locale(request)),
        "can_manage": can_manage,
        "officers": field_officers(session, actor) if can_manage else [],
        "pending": len(checkin.pending(session, actor)) if can_manage else 0,
    }
    return render(request, "inspections/tasks.html", ctx)


@router.get("/inspections/subject-choices")
def subject_choices(
    request: Request, session: DbSession, actor: TasksManage, q: str = ""
) -> Response:
    """The subject picker of the task form: subjects in scope matching the name or address."""
    rows: list[Subject] = []
    text = q.strip()
    if text:
        rows, _ = subject_repo.search(
            session, actor.scope, SubjectFilters(q=text), limit=12, offset=0
        )
    return render(request, "inspections/_subject_choices.html", {"subjects": rows, "q": text})


def _window(day: str, start: str, end: str) -> tuple[datetime, datetime]:
    try:
        on = date.fromisoformat(day)
        first = time.fromisoformat(start or "00:00")
        last = time.fromisoformat(end or "23:59")
    except ValueError:
        raise InvalidInput(
            "The date or a time of the window is not valid.", detail={"field": "window_start"}
        ) from None
    return datetime.combine(on, first, tz()), datetime.combine(on, last, tz())


@router.post("/inspections/tasks")
def create_task(
    request: Request,
    session: DbSession,
    actor: TasksManage,
    subject_id: Annotated[str, Form()] = "",
    lead_id: Annotated[str, Form()] = "",
    second_id: Annotated[str, Form()] = "",
    day: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    window = _window(day, start, end)
    officers = [v for v in (lead_id, second_id) if v.strip()]
    data = parse(
        TaskCreate,
        {
            "subject_id": subject_id or None,
            "window_start": window[0],
            "window_end": window[1],
            "officer_ids": officers,
            "title": title,
            "note": note,
        },
    )
    row = task_service.create_planned(session, actor, data=data)
    return done(request, f"/inspections/tasks/{row.id}")


@router.post("/inspections/tasks/{task_id}/cancel")
def cancel_task(
    request: Request, session: DbSession, actor: TasksManage, task_id: int, reason: Text = ""
) -> Response:
    task_service.cancel(session, actor, task_id=task_id, reason=reason)
    return done(request, f"/inspections/tasks/{task_id}")


def _detail_context(session: Session, actor: Actor, task_id: int, locale: str) -> dict[str, Any]:
    task = task_service.get(session, actor, task_id=task_id)
    subject = session.get(Subject, task.subject_id)
    inspection = repo.inspection_of_task(session, task.id)
    check_ins = read.check_in_reads(
        session, repo.check_ins(session, [task.id]), {task.id: task}, locale
    )
    inspection_read = (
        read.inspection_read(session, inspection, task, locale) if inspection else None
    )
    officers = repo.officers_by_id(session, task.officer_ids)
    return {
        "task": read.task_read(session, actor, task, locale),
        "subject": subject,
        "check_ins": check_ins,
        "inspection": inspection_read,
        "items": read.checklist_items(inspection.checklist) if inspection else {},
        "officer_names": {o.id: o.name for o in officers.values()},
        "evidence": [evidence_read(e) for e in repo.evidence_of_task(session, task.id)],
        "documents": [
            read.document_ref(d, locale) for d in repo.documents_of_task(session, task.id)
        ],
        "case_leads": repo.case_leads_of(session, inspection.id) if inspection else [],
        "can_manage": actor.can(Permission.TASKS_MANAGE),
        "map_data": _map_data(subject, check_ins),
    }


def _map_data(subject: Subject | None, check_ins: list[Any]) -> dict[str, Any]:
    """The subject's fence and point and the check-in fixes, for the page's Leaflet map."""
    if subject is None:
        return {}
    return {
        "fence": subject.geofence,
        "point": [subject.lon, subject.lat] if subject.lon is not None else None,
        "radius_m": subject.geofence_radius_m,
        "fixes": [
            {
                "lon": c.lon,
                "lat": c.lat,
                "accuracy_m": c.accuracy_m,
                "ok": c.outcome in (CheckInOutcome.ACCEPTED, CheckInOutcome.EXCEPTION_APPROVED),
                "pending": c.outcome == CheckInOutcome.EXCEPTION_PENDING,
                "label": f"{c.officer_name} · {c.outcome_label}",
            }
            for c in check_ins
        ],
    }


@router.get("/inspections/tasks/{task_id}")
def show_task(
    request: Request, session: DbSession, actor: InspectionsRead, task_id: int
) -> Response:
    ctx = _detail_context(session, actor, task_id, request_locale(request))
    return render(request, "inspections/task.html", ctx)


@router.get("/inspections/exceptions")
def show_exceptions(request: Request, session: DbSession, actor: TasksManage) -> Response:
    rows = checkin.pending(session, actor)
    tasks = {t.id: t for t in repo.tasks_by_id(session, [r.task_id for r in rows])}
    subjects = repo.subjects_by_id(session, [t.subject_id for t in tasks.values()])
    ctx = {
        "check_ins": read.check_in_reads(session, rows, tasks, request_locale(request)),
        "tasks": tasks,
        "subjects": subjects,
    }
    return render(request, "inspections/exceptions.html", ctx)


@router.post("/inspections/exceptions/{check_in_id}/decision")
def decide_exception(
    request: Request,
    session: DbSession,
    actor: TasksManage,
    check_in_id: int,
    approve: Text = "",
    note: Text = "",
) -> Response:
    data = CheckInDecision(approve=approve == "1", note=note)
    checkin.decide(session, actor, check_in_id=check_in_id, data=data)
    return done(request, "/inspections/exceptions")


@router.get("/inspections/case-leads")
def show_case_leads(
    request: Request, session: DbSession, actor: InspectionsRead, status: str | None = None
) -> Response:
    chosen = CaseLeadStatus(status) if status and status in set(CaseLeadStatus) else None
    rows = repo.case_leads(session, actor.scope, status=chosen)
    subjects = repo.subjects_by_id(session, [lead.subject_id for lead, _ in rows])
    locale = request_locale(request)
    leads = [
        read.case_lead_read(lead, t, subjects.get(lead.subject_id), locale) for lead, t in rows
    ]
    ctx = {
        "leads": leads,
        "status": chosen.value if chosen else "",
        "statuses": list(CaseLeadStatus),
    }
    return render(request, "inspections/case_leads.html", ctx)
