"""JSON API of the handling loop (``docs/complaints-api.md``, the "handling" rows).

Thin: parse, call ``complaints.handling``, present in the request's language. The command
centre's steps need complaints:dispatch (verification also an officer with complaints:handle who
did not handle it); the officer's steps need complaints:handle and answer with the reply kept
under their ``client_uuid`` (a repeat gets the same status and body). ``/me/complaints`` lists the
caller's open assignments; ``/me/stream`` pushes them (server-sent events).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, StreamingResponse

from zhifa.complaints import handling, sla
from zhifa.complaints import repository as repo
from zhifa.complaints.device_stream import Follower, assignment_stream
from zhifa.complaints.handling_schemas import (
    AnswerIn,
    ArriveIn,
    AssignmentRead,
    ClockRead,
    DeclineIn,
    DispatchIn,
    DisposeIn,
    FeedbackIn,
    FileIn,
    MediaBrief,
    OfficerBrief,
    RejectIn,
    StepRead,
    TakeIn,
    TransferIn,
    VerifyIn,
)
from zhifa.complaints.sla import Clock
from zhifa.errors import PermissionDenied
from zhifa.inspections.common import Reply
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    MediaRole,
    Priority,
)
from zhifa.org.actor import Actor
from zhifa.org.auth import CurrentActor, DbSession, get_db, require
from zhifa.org.roles import Permission
from zhifa.web.i18n import translate
from zhifa.web.templating import request_locale

router = APIRouter(prefix="/api/v1", tags=["complaints"])

ComplaintsDispatch = Annotated[Actor, require(Permission.COMPLAINTS_DISPATCH)]
ComplaintsHandle = Annotated[Actor, require(Permission.COMPLAINTS_HANDLE)]


def _verifier(actor: CurrentActor) -> Actor:
    if not (actor.can(Permission.COMPLAINTS_DISPATCH) or actor.can(Permission.COMPLAINTS_HANDLE)):
        raise PermissionDenied(
            "Your role does not allow this action.",
            detail={"permission": str(Permission.COMPLAINTS_DISPATCH)},
        )
    return actor


Verifier = Annotated[Actor, Depends(_verifier)]


def _read(request: Request, step: handling.Step) -> StepRead:
    return StepRead.model_validate(handling.step_body(step, request_locale(request)))


def _json(reply: Reply) -> JSONResponse:
    return JSONResponse(reply.body, status_code=reply.status_code)


# --- Command centre ---


@router.post("/complaints/{complaint_id}/file", response_model=StepRead)
def file_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: FileIn | None = None,
) -> StepRead:
    """立案: accept the complaint for handling."""
    note = body.note if body is not None else ""
    return _read(request, handling.file(session, actor, complaint_id=complaint_id, note=note))


@router.post("/complaints/{complaint_id}/reject", response_model=StepRead)
def reject_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: RejectIn,
) -> StepRead:
    """不予受理, with the reason the citizen reads."""
    step = handling.reject(session, actor, complaint_id=complaint_id, reason=body.reason)
    return _read(request, step)


@router.post("/complaints/{complaint_id}/transfer", response_model=StepRead)
def transfer_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: TransferIn,
) -> StepRead:
    """转办 to another agency, with the reason the citizen reads."""
    step = handling.transfer(
        session, actor, complaint_id=complaint_id, to=body.to, reason=body.reason
    )
    return _read(request, step)


@router.post("/complaints/{complaint_id}/dispatch", response_model=StepRead)
def dispatch_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: DispatchIn,
) -> StepRead:
    """派遣 to officers, the lead first (from 受理 it files first); ``subject_id`` creates the
    dispatched inspection task."""
    step = handling.dispatch(
        session,
        actor,
        complaint_id=complaint_id,
        officer_ids=body.officer_ids,
        note=body.note,
        subject_id=body.subject_id,
    )
    return _read(request, step)


@router.post("/complaints/{complaint_id}/verify", response_model=StepRead)
def verify_complaint(
    request: Request, session: DbSession, actor: Verifier, complaint_id: int, body: VerifyIn
) -> StepRead:
    """核查: passed → verified; failed (with a note) → 返工 to the same officers."""
    step = handling.verify(
        session, actor, complaint_id=complaint_id, passed=body.passed, note=body.note
    )
    return _read(request, step)


@router.post("/complaints/{complaint_id}/close", response_model=StepRead)
def close_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: AnswerIn,
) -> StepRead:
    """结案 after verification, with the answer to the citizen (and to merged duplicates)."""
    step = handling.close(session, actor, complaint_id=complaint_id, answer=body.answer)
    return _read(request, step)


@router.post("/complaints/{complaint_id}/answer", response_model=StepRead)
def answer_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: AnswerIn,
) -> StepRead:
    """Answer a 咨询 / 求助 / 意见建议 directly and close it."""
    step = handling.answer_directly(session, actor, complaint_id=complaint_id, answer=body.answer)
    return _read(request, step)


# --- The officer's device ---

DEVICE_RESPONSES: dict[int | str, dict[str, object]] = {200: {"model": StepRead}}


@router.post("/complaints/{complaint_id}/take", response_model=None, responses=DEVICE_RESPONSES)
def take_complaint(
    request: Request, session: DbSession, actor: ComplaintsHandle, complaint_id: int, body: TakeIn
) -> JSONResponse:
    """接单 (exactly once per ``client_uuid``)."""
    reply = handling.take(
        session,
        actor,
        complaint_id=complaint_id,
        client_uuid=body.client_uuid,
        locale=request_locale(request),
    )
    return _json(reply)


@router.post("/complaints/{complaint_id}/decline", response_model=None, responses=DEVICE_RESPONSES)
def decline_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsHandle,
    complaint_id: int,
    body: DeclineIn,
) -> JSONResponse:
    """拒单 with a reason: back to the dispatcher (exactly once per ``client_uuid``)."""
    reply = handling.decline(
        session,
        actor,
        complaint_id=complaint_id,
        client_uuid=body.client_uuid,
        reason=body.reason,
        locale=request_locale(request),
    )
    return _json(reply)


@router.post("/complaints/{complaint_id}/arrive", response_model=None, responses=DEVICE_RESPONSES)
def arrive_at_complaint(
    request: Request, session: DbSession, actor: ComplaintsHandle, complaint_id: int, body: ArriveIn
) -> JSONResponse:
    """到场, checked against the complaint's point (exactly once per ``client_uuid``)."""
    reply = handling.arrive(
        session,
        actor,
        complaint_id=complaint_id,
        client_uuid=body.client_uuid,
        lon=body.lon,
        lat=body.lat,
        accuracy_m=body.accuracy_m,
        device_time=body.device_time,
        locale=request_locale(request),
    )
    return _json(reply)


@router.post("/complaints/{complaint_id}/dispose", response_model=None, responses=DEVICE_RESPONSES)
def dispose_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsHandle,
    complaint_id: int,
    body: DisposeIn,
) -> JSONResponse:
    """处置: a quick disposal with photos, or the submitted inspection (exactly once)."""
    reply = handling.dispose(
        session,
        actor,
        complaint_id=complaint_id,
        client_uuid=body.client_uuid,
        measure=body.measure,
        note=body.note,
        media_ids=body.media_ids,
        locale=request_locale(request),
    )
    return _json(reply)


@router.post("/complaints/{complaint_id}/feedback", response_model=None, responses=DEVICE_RESPONSES)
def feed_back_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsHandle,
    complaint_id: int,
    body: FeedbackIn,
) -> JSONResponse:
    """反馈: the result of the handling, the draft answer (exactly once per ``client_uuid``)."""
    reply = handling.feed_back(
        session,
        actor,
        complaint_id=complaint_id,
        client_uuid=body.client_uuid,
        result=body.result,
        locale=request_locale(request),
    )
    return _json(reply)


# --- The caller's assignments ---


@router.get("/me/complaints", response_model=list[AssignmentRead])
def list_my_complaints(
    request: Request, session: DbSession, actor: ComplaintsHandle
) -> list[AssignmentRead]:
    """Your open assignments, with what the phone needs to go and handle them."""
    rows = handling.assignments(session, actor)
    return assignment_reads(session, rows, actor.officer_id, request_locale(request))


@router.get("/me/stream")
def stream_my_complaints(
    request: Request, session: DbSession, actor: ComplaintsHandle
) -> StreamingResponse:
    """Server-sent events: your assignments as they are dispatched, changed or taken away."""
    follower = Follower(actor.officer_id, {c.id for c in handling.assignments(session, actor)})
    names = repo.category_names(session, actor.district_code)
    db = get_db(request)

    def load(category_id: int) -> str:
        with db.sessionmaker() as s:
            row = s.get(ComplaintCategory, category_id)
            return row.name if row is not None else ""

    return StreamingResponse(
        assignment_stream(
            request,
            follower=follower,
            district_code=actor.district_code,
            category_names=names,
            load_category_name=load,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def assignment_reads(
    session: Session, rows: list[Complaint], officer_id: int, locale: str
) -> list[AssignmentRead]:
    names = repo.category_names(session, rows[0].district_code) if rows else {}
    officers = repo.officer_names(session, (i for r in rows for i in r.officer_ids or []))
    media = repo.media_of(session, (r.id for r in rows))
    now = utcnow()
    return [
        AssignmentRead(
            complaint_id=r.id,
            tracking_no=r.tracking_no,
            category_id=r.category_id,
            category_name=names.get(r.category_id, ""),
            description=r.description,
            address=r.address,
            lon=r.lon,
            lat=r.lat,
            priority=str(r.priority),
            priority_label=translate(locale, Priority(r.priority).label),
            status=str(r.status),
            status_label=translate(locale, ComplaintStatus(r.status).label),
            sla_state=str(r.sla_state),
            clocks=[_clock(c, locale) for c in sla.clocks(r, now)],
            dispatched_at=r.dispatched_at,
            officers=[
                OfficerBrief(id=i, name=officers.get(i, ""), lead=n == 0)
                for n, i in enumerate(r.officer_ids or [])
            ],
            other_officers=[officers.get(i, "") for i in r.officer_ids or [] if i != officer_id],
            media=[
                MediaBrief(
                    id=m.id,
                    role=str(m.role),
                    role_label=translate(locale, MediaRole(m.role).label),
                )
                for m in media.get(r.id, [])
            ],
            task_id=r.task_id,
            subject_id=r.subject_id,
            notice=handling.SECOND_OFFICER_NOTICE if len(r.officer_ids or []) < 2 else "",
        )
        for r in rows
    ]


def _clock(clock: Clock, locale: str) -> ClockRead:
    return ClockRead(
        stage=str(clock.stage),
        label=translate(locale, clock.label),
        due=clock.due,
        started_at=clock.started_at,
        stopped_at=clock.stopped_at,
        remaining_seconds=clock.remaining_seconds,
        state=str(clock.state),
    )
