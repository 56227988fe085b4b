"""The action forms of the desk's complaint page: each posts to its own route, calls the one
service function that takes the step (``complaints.handling``, ``clock``, ``duplicates``,
``reporter``) and goes back to the complaint (``HX-Redirect`` under htmx, else a 303).

A refusal (409 wrong status, 422 missing reason, 403, 404) is raised to the one error handler:
a flash message under htmx, an error page otherwise; the request's transaction is rolled back.
The reveal form answers with a fragment that shows the values once (and records the reveal).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from zhifa.catalog.presenters import Posted
from zhifa.complaints import duplicates, handling, reporter
from zhifa.complaints.clock import clock_service
from zhifa.complaints.desk_context import (
    ComplaintsDispatch,
    ComplaintsHandle,
    ComplaintsReveal,
    app_settings,
)
from zhifa.errors import InvalidInput
from zhifa.models.complaints import SlaStage
from zhifa.org.auth import DbSession
from zhifa.org.forms import done
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
BASE = "/complaints/{complaint_id:int}"


def back(request: Request, complaint_id: int) -> Response:
    return done(request, f"/complaints/{complaint_id}")


def _id(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput("Choose one of the options.", detail={"field": field})
    return int(text)


@router.post(BASE + "/file")
def file_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """立案."""
    handling.file(session, actor, complaint_id=complaint_id, note=posted.text("note"))
    return back(request, complaint_id)


@router.post(BASE + "/reject")
def reject_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """不予受理, with the reason the citizen reads."""
    handling.reject(session, actor, complaint_id=complaint_id, reason=posted.text("reason"))
    return back(request, complaint_id)


@router.post(BASE + "/transfer")
def transfer_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """转办 to another agency."""
    handling.transfer(
        session,
        actor,
        complaint_id=complaint_id,
        to=posted.text("to"),
        reason=posted.text("reason"),
    )
    return back(request, complaint_id)


@router.post(BASE + "/dispatch")
def dispatch_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """派遣 to the lead officer and, usually, a second one."""
    ids = [_id(posted.text("lead"), "lead"), _id(posted.text("second"), "second")]
    handling.dispatch(
        session,
        actor,
        complaint_id=complaint_id,
        officer_ids=[i for i in ids if i is not None],
        note=posted.text("note"),
    )
    return back(request, complaint_id)


@router.post(BASE + "/verify")
def verify_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """核查: passed, or sent back for rework with what is still wrong."""
    handling.verify(
        session,
        actor,
        complaint_id=complaint_id,
        passed=posted.text("passed") == "1",
        note=posted.text("note"),
    )
    return back(request, complaint_id)


@router.post(BASE + "/close")
def close_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """结案 with the answer to the citizen."""
    handling.close(session, actor, complaint_id=complaint_id, answer=posted.text("answer"))
    return back(request, complaint_id)


@router.post(BASE + "/answer")
def answer_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """A consultation or suggestion answered directly."""
    handling.answer_directly(
        session, actor, complaint_id=complaint_id, answer=posted.text("answer")
    )
    return back(request, complaint_id)


@router.post(BASE + "/pause")
def pause_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """Stop the clocks while waiting for the party."""
    clock_service.pause(session, actor, complaint_id=complaint_id, reason=posted.text("reason"))
    return back(request, complaint_id)


@router.post(BASE + "/resume")
def resume_complaint(
    request: Request, session: DbSession, actor: ComplaintsDispatch, complaint_id: int
) -> Response:
    """Start the clocks again."""
    clock_service.resume(session, actor, complaint_id=complaint_id)
    return back(request, complaint_id)


@router.post(BASE + "/extensions")
def request_extension(
    request: Request, session: DbSession, actor: ComplaintsHandle, complaint_id: int, posted: Posted
) -> Response:
    """Ask a leader for more time on one running clock (延期申请)."""
    stage = posted.text("stage")
    if stage not in set(SlaStage):
        raise InvalidInput("Choose one of the options.", detail={"field": "stage"})
    unit = "workdays" if posted.text("unit") == "workdays" else "minutes"
    amount = posted.text("amount").strip()
    clock_service.request_extension(
        session,
        actor,
        complaint_id=complaint_id,
        stage=SlaStage(stage),
        amount={unit: int(amount) if amount.isdigit() else amount},
        reason=posted.text("reason"),
    )
    return back(request, complaint_id)


@router.post(BASE + "/merge")
def merge_complaint(
    request: Request,
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    posted: Posted,
) -> Response:
    """Merge this complaint into the earlier one it duplicates."""
    into = _id(posted.text("into_id"), "into_id")
    if into is None:
        raise InvalidInput("Choose one of the options.", detail={"field": "into_id"})
    duplicates.merge(
        session, actor, complaint_id=complaint_id, into_id=into, note=posted.text("note")
    )
    return back(request, complaint_id)


@router.post(BASE + "/reveal")
def reveal_reporter(
    request: Request, session: DbSession, actor: ComplaintsReveal, complaint_id: int, posted: Posted
) -> Response:
    """The reporter's name and phone, once, for a stated reason (kept in the ledger)."""
    revealed = reporter.reveal(
        session,
        actor,
        complaint_id=complaint_id,
        reason=posted.text("reason"),
        settings=app_settings(request),
    )
    return render(request, "complaints/_revealed.html", {"revealed": revealed})
