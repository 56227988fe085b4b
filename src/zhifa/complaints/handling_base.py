"""What the steps of the handling loop share: loading a complaint, checking who may take a step,
committing and releasing officers (``dispatch.live``), and the answer of a step.

See ``complaints.handling`` for the loop itself and its invariants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zhifa.complaints import repository as repo
from zhifa.complaints import workflow
from zhifa.complaints.handling_schemas import StepRead
from zhifa.config import get_settings
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.inspections.common import Reply, once
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintStatus
from zhifa.models.dispatch import DutyStatus, OfficerLive
from zhifa.org.actor import Actor
from zhifa.web.i18n import translate

N_ = workflow.N_
S = ComplaintStatus

# Statuses in which a complaint is an open job of its officers.
ASSIGNED = frozenset({S.DISPATCHED, S.TAKEN, S.ON_SCENE, S.DISPOSED})
# Duty states that follow a complaint's steps.
BUSY = frozenset({DutyStatus.EN_ROUTE, DutyStatus.ON_SCENE, DutyStatus.HANDLING})
# For the officers and the dispatcher (not public).
SECOND_OFFICER_NOTICE = (
    "仅派遣一名队员：实施现场执法（责令改正、现场检查）前须有第二名执法人员到场"
    "（《行政处罚法》第四十二条）。"
)


@dataclass(frozen=True)
class Step:
    """A step just taken: the complaint, its timeline event and what the caller must know."""

    complaint: Complaint
    event: ComplaintEvent
    notice: str = ""


# --- Loading and checks ---


def load(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    """The complaint, locked, if the actor's scope covers it or the actor was dispatched to it;
    else 404."""
    row = repo.complaint(session, actor, complaint_id, lock=True)
    if row is None:
        raise NotFound(
            "Complaint {complaint_id} does not exist or is outside your data scope.",
            detail={"complaint_id": complaint_id},
            complaint_id=complaint_id,
        )
    return row


def required(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message, detail={"field": field})
    return text


def check_assigned(actor: Actor, complaint: Complaint) -> None:
    if actor.officer_id not in (complaint.officer_ids or []):
        raise PermissionDenied(
            "This complaint was not dispatched to you.",
            detail={"complaint_id": complaint.id, "permission": "assigned officer"},
        )


def check_status(complaint: Complaint, allowed: frozenset[ComplaintStatus], step: str) -> None:
    if ComplaintStatus(complaint.status) not in allowed:
        raise Conflict(
            workflow.STEP_REFUSED,
            detail={"status": str(complaint.status), "step": step},
            error_code="step_not_allowed",
        )


def assigned(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    """The complaint for a device step: loaded as ``load`` does, dispatched to the actor."""
    complaint = load(session, actor, complaint_id)
    check_assigned(actor, complaint)
    return complaint


# --- Officers' commitment and duty status (dispatch.live) ---


def live_status(session: Session, officer_id: int) -> DutyStatus:
    """The officer's duty status; one who never reported is off duty (as ``dispatch.live``)."""
    row = session.get(OfficerLive, officer_id)
    return DutyStatus(row.status) if row is not None else DutyStatus.OFF_DUTY


def commit_officers(
    session: Session,
    complaint: Complaint,
    officer_ids: Sequence[int],
    actor_id: int | None,
    status: DutyStatus | None = None,
) -> None:
    """Commit the officers to the complaint; their status stays unless ``status`` is given."""
    from zhifa.dispatch import live

    for officer_id in officer_ids:
        live.set_status(
            session,
            officer_id=officer_id,
            status=status or live_status(session, officer_id),
            actor_id=actor_id,
            complaint_id=complaint.id,
        )


def free_officers(session: Session, officer_ids: Sequence[int], actor_id: int | None) -> None:
    """Release the officers: available again (unless off duty), committed to nothing."""
    from zhifa.dispatch import live

    for officer_id in officer_ids:
        current = live_status(session, officer_id)
        live.set_status(
            session,
            officer_id=officer_id,
            status=DutyStatus.AVAILABLE if current in BUSY else current,
            actor_id=actor_id,
            complaint_id=None,
        )


# --- Answers ---


def device_once(
    session: Session,
    actor: Actor,
    client_uuid: str,
    operation: str,
    complaint_id: int,
    request: dict[str, Any],
    apply: Callable[[], Reply],
) -> Reply:
    return once(
        session,
        actor,
        client_uuid=client_uuid,
        operation=operation,
        request={"complaint_id": complaint_id, **request},
        apply=apply,
    )


def step_reply(step: Step, locale: str, status_code: int = 200) -> Reply:
    return Reply(status_code, step_body(step, locale))


def step_body(step: Step, locale: str) -> dict[str, Any]:
    """The ``StepRead`` of a step as JSON (what the API answers and keeps for a replay)."""
    complaint, event = step.complaint, step.event
    status = ComplaintStatus(complaint.status)
    return StepRead(
        complaint_id=complaint.id,
        tracking_no=complaint.tracking_no,
        status=str(status),
        status_label=translate(locale or get_settings().default_locale, status.label),
        step=event.kind,
        event_id=event.id,
        at=event.at,
        public=event.public,
        note=event.note,
        officer_ids=list(complaint.officer_ids or []),
        task_id=complaint.task_id,
        notice=step.notice,
    ).model_dump(mode="json")
