"""JSON API of field inspection (``docs/field-api.md`` §Tasks and check-in, §Submission).

Thin: parse, call the service, present in the request's language. Device submissions (patrol
task, check-in, inspection submission) answer with the reply kept under their client UUID, so a
repeat gets the same status and body.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse

from zhifa.inspections import bundle, checkin, read, runs
from zhifa.inspections import repository as repo
from zhifa.inspections.auth import Inspect, InspectionsRead, TasksManage
from zhifa.inspections.common import Reply, once
from zhifa.inspections.schemas import (
    AdHocTaskIn,
    AmendmentIn,
    CaseLeadRead,
    CheckInDecision,
    CheckInIn,
    CheckInRead,
    InspectionRead,
    SubmissionIn,
    TaskBundle,
    TaskCancel,
    TaskCreate,
    TaskRead,
    TaskReassign,
)
from zhifa.inspections.tasks import task_service
from zhifa.models.inspections import CaseLeadStatus, TaskKind, TaskStatus
from zhifa.org.auth import DbSession, get_db
from zhifa.web.templating import request_locale

router = APIRouter(prefix="/api/v1", tags=["inspections"])


def _json(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body, status_code=reply.status_code)


@router.get("/tasks/today", response_model=list[TaskRead])
def list_todays_tasks(
    request: Request,
    session: DbSession,
    actor: Inspect,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
) -> list[TaskRead]:
    """Your tasks whose window touches today (local), not cancelled; nearest first when a
    position is given, else by window start."""
    found = task_service.today(session, actor, lon=lon, lat=lat)
    distances = {t.id: d for t, d in found}
    rows = [t for t, _ in found]
    return read.task_reads(session, actor, rows, request_locale(request), distances)


@router.get("/tasks", response_model=list[TaskRead])
def list_tasks(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    status: TaskStatus | None = None,
    on: date | None = None,
    officer_id: int | None = None,
    subject_id: int | None = None,
    kind: TaskKind | None = None,
) -> list[TaskRead]:
    """Tasks in your data scope; ``on`` keeps those whose window touches that local day."""
    rows = task_service.list(
        session,
        actor,
        status=status,
        on=on,
        officer_id=officer_id,
        subject_id=subject_id,
        kind=kind,
    )
    return read.task_reads(session, actor, rows, request_locale(request))


@router.post("/tasks", response_model=TaskRead, status_code=201)
def create_task(
    request: Request, session: DbSession, actor: TasksManage, body: TaskCreate
) -> TaskRead:
    """Plan an inspection task: a subject, a time window, at least two officers (lead first)."""
    row = task_service.create_planned(session, actor, data=body)
    return read.task_read(session, actor, row, request_locale(request))


@router.post(
    "/tasks/ad-hoc", response_model=None, status_code=201, responses={201: {"model": TaskRead}}
)
def create_ad_hoc_task(
    request: Request, session: DbSession, actor: Inspect, body: AdHocTaskIn
) -> JSONResponse:
    """Start a patrol inspection on a subject of your grid, you leading (exactly once per
    ``client_uuid``)."""
    locale = request_locale(request)

    def apply() -> Reply:
        row = task_service.create_ad_hoc(session, actor, data=body)
        return Reply(201, read.task_read(session, actor, row, locale).model_dump(mode="json"))

    request_body = body.model_dump(mode="json", exclude={"client_uuid"})
    reply = once(
        session,
        actor,
        client_uuid=body.client_uuid,
        operation="task.ad_hoc",
        request=request_body,
        apply=apply,
    )
    return _json(reply)


@router.get("/tasks/{task_id}", response_model=TaskBundle)
def get_task(
    request: Request, session: DbSession, actor: InspectionsRead, task_id: int
) -> TaskBundle:
    """Everything the device needs offline: the task, the subject with its fence, the checklist
    and its SHA-256, the fine quotes, check-ins, the inspection and its documents."""
    row = task_service.get(session, actor, task_id=task_id)
    return bundle.task_bundle(session, actor, row, request_locale(request))


@router.post("/tasks/{task_id}/cancel", response_model=TaskRead)
def cancel_task(
    request: Request, session: DbSession, actor: TasksManage, task_id: int, body: TaskCancel
) -> TaskRead:
    """Cancel a task that is not submitted yet, with a reason."""
    row = task_service.cancel(session, actor, task_id=task_id, reason=body.reason)
    return read.task_read(session, actor, row, request_locale(request))


@router.post("/tasks/{task_id}/reassign", response_model=TaskRead)
def reassign_task(
    request: Request, session: DbSession, actor: TasksManage, task_id: int, body: TaskReassign
) -> TaskRead:
    """Give a task to other officers (at least two, lead first)."""
    row = task_service.reassign(session, actor, task_id=task_id, officer_ids=body.officer_ids)
    return read.task_read(session, actor, row, request_locale(request))


@router.post(
    "/tasks/{task_id}/check-ins",
    response_model=None,
    status_code=201,
    responses={201: {"model": CheckInRead}, 202: {"model": CheckInRead}},
)
def check_in(
    request: Request, session: DbSession, actor: Inspect, task_id: int, body: CheckInIn
) -> JSONResponse:
    """Check in on site with a GPS fix: 201 accepted, 202 exception awaiting a squad leader,
    422 ``check_in_refused`` (the refused attempt is kept on record)."""
    reply = checkin.submit(
        session, get_db(request), actor, task_id=task_id, data=body, locale=request_locale(request)
    )
    return _json(reply)


@router.get("/check-ins/pending", response_model=list[CheckInRead])
def list_pending_check_ins(
    request: Request, session: DbSession, actor: TasksManage
) -> list[CheckInRead]:
    """Exception check-ins waiting for a decision, in your data scope."""
    rows = checkin.pending(session, actor)
    tasks = {t.id: t for t in repo.tasks_by_id(session, [r.task_id for r in rows])}
    return read.check_in_reads(session, rows, tasks, request_locale(request))


@router.post("/check-ins/{check_in_id}/decision", response_model=CheckInRead)
def decide_check_in(
    request: Request,
    session: DbSession,
    actor: TasksManage,
    check_in_id: int,
    body: CheckInDecision,
) -> CheckInRead:
    """Approve or reject an exception check-in (a note is required to reject)."""
    row, task = checkin.decide(session, actor, check_in_id=check_in_id, data=body)
    return read.check_in_reads(session, [row], {task.id: task}, request_locale(request))[0]


@router.post(
    "/tasks/{task_id}/inspection/submit",
    response_model=None,
    status_code=201,
    responses={201: {"model": InspectionRead}},
)
def submit_inspection(
    request: Request, session: DbSession, actor: Inspect, task_id: int, body: SubmissionIn
) -> JSONResponse:
    """Submit every answer of the checklist run, with measures and evidence (exactly once per
    ``client_uuid``)."""
    reply = runs.submit(session, actor, task_id=task_id, data=body, locale=request_locale(request))
    return _json(reply)


@router.get("/inspections/{inspection_id}", response_model=InspectionRead)
def get_inspection(
    request: Request, session: DbSession, actor: InspectionsRead, inspection_id: int
) -> InspectionRead:
    """One checklist run with its current answers (the latest amendment of each), amendments,
    evidence and documents."""
    row, task = runs.get(session, actor, inspection_id=inspection_id)
    return read.inspection_read(session, row, task, request_locale(request))


@router.post(
    "/inspections/{inspection_id}/amendments", response_model=InspectionRead, status_code=201
)
def amend_inspection(
    request: Request, session: DbSession, actor: Inspect, inspection_id: int, body: AmendmentIn
) -> InspectionRead:
    """Correct one submitted answer with a reason; the original answer stays on record."""
    runs.amend(session, actor, inspection_id=inspection_id, data=body)
    row, task = runs.get(session, actor, inspection_id=inspection_id)
    return read.inspection_read(session, row, task, request_locale(request))


@router.get("/case-leads", response_model=list[CaseLeadRead])
def list_case_leads(
    request: Request,
    session: DbSession,
    actor: InspectionsRead,
    status: CaseLeadStatus | None = None,
) -> list[CaseLeadRead]:
    """案源 recorded from inspections, newest first, in your data scope."""
    rows = repo.case_leads(session, actor.scope, status=status)
    subjects = repo.subjects_by_id(session, [lead.subject_id for lead, _ in rows])
    locale = request_locale(request)
    return [read.case_lead_read(lead, t, subjects.get(lead.subject_id), locale) for lead, t in rows]
