"""Check-in on site (现场签到): the server decides, from the fix, the fence and the task window.

Rules (``docs/field-api.md`` §Check-in rules):
- Accepted when the fix is within min(accuracy, ``checkin_tolerance_m``) of the subject's fence
  (0 inside it), its accuracy is at most ``checkin_max_accuracy_m``, and the judged time lies in
  ``[window_start − grace, window_end + grace]``. The judged time is the server's receipt, or for an
  offline fix the device's time, which may not be later than receipt plus the allowed clock skew.
- Refusals, checked in this order: ``task_closed``, ``not_assigned``, ``too_few_officers`` (art.
  42), ``device_time_in_future``, ``no_fence``, ``imprecise_fix``, ``outside_fence``,
  ``outside_window``. A refusal is a 422 (``check_in_refused``); the refused attempt is stored and
  ledgered in a transaction of its own (``record_refusal``), since the request itself fails.
- With an ``exception_reason``, a fix refused for its place or time (no fence, imprecise, outside
  the fence or the window) is stored as ``exception_pending`` (202) for a squad leader of the
  task's squad (or anyone managing tasks with the district in scope) to approve or reject.
- An officer is present once they have an accepted or approved check-in. The first time: a planned
  task goes in progress; the lead's presence starts the checklist run (``Inspection``, with the
  checklist frozen); when two officers are present, ``inspection.presence_confirmed``.
- Every stored attempt is ledgered and announced on the event bus (topic ``check_in``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhifa.config import Settings, get_settings
from zhifa.db import Database
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.inspections import bundle, read
from zhifa.inspections import repository as repo
from zhifa.inspections.common import Reply, aware, once, record, today
from zhifa.inspections.geofence import distance_m, fence_of
from zhifa.inspections.schemas import CheckInDecision, CheckInIn
from zhifa.inspections.tasks import CLOSED, check_open, task_service
from zhifa.kit import idempotency
from zhifa.kit.clock import utcnow
from zhifa.kit.events import publish_after_commit
from zhifa.models.inspections import (
    CheckIn,
    CheckInOutcome,
    Inspection,
    InspectionTask,
    TaskStatus,
)
from zhifa.models.subjects import Subject
from zhifa.org.actor import Actor

OPERATION = "check_in"
# Refusals an officer on site may ask a squad leader to overrule (异常签到).
EXCEPTIONABLE = frozenset({"no_fence", "imprecise_fix", "outside_fence", "outside_window"})


@dataclass(frozen=True)
class Judgement:
    refusal: str  # "" when accepted
    distance_m: float


def judge(
    *,
    task: InspectionTask,
    subject: Subject,
    officer_id: int,
    fix: CheckInIn,
    now: datetime,
    settings: Settings,
) -> Judgement:
    """The server's decision on one fix (pure: no database, no clock)."""
    fence = fence_of(subject.geofence, subject.lon, subject.lat, subject.geofence_radius_m)
    distance = round(distance_m(fence, fix.lon, fix.lat), 1) if fence is not None else 0.0
    device = aware(fix.device_time)
    judged = device if fix.offline else now
    grace = timedelta(minutes=settings.checkin_grace_minutes)
    checks = (
        ("task_closed", task.status in CLOSED),
        ("not_assigned", officer_id not in task.officer_ids),
        ("too_few_officers", len(set(task.officer_ids)) < 2),
        (
            "device_time_in_future",
            fix.offline and device > now + timedelta(seconds=settings.checkin_clock_skew_seconds),
        ),
        ("no_fence", fence is None),
        ("imprecise_fix", fix.accuracy_m > settings.checkin_max_accuracy_m),
        ("outside_fence", distance > min(fix.accuracy_m, settings.checkin_tolerance_m)),
        (
            "outside_window",
            not task.window_start - grace <= judged <= task.window_end + grace,
        ),
    )
    refusal = next((name for name, failed in checks if failed), "")
    return Judgement(refusal, distance)


@dataclass(frozen=True)
class Attempt:
    """A refused fix, kept to be stored after the request's own transaction is rolled back."""

    task_id: int
    district_code: str
    officer_id: int
    fix: CheckInIn
    server_time: datetime
    judgement: Judgement
    request: dict[str, Any]


class CheckInRefused(InvalidInput):
    code = "check_in_refused"

    def __init__(self, attempt: Attempt) -> None:
        super().__init__(
            "Check-in refused: {refusal}.",
            detail={"refusal": attempt.judgement.refusal},
            refusal=attempt.judgement.refusal,
        )
        self.attempt = attempt


def request_of(task_id: int, data: CheckInIn) -> dict[str, Any]:
    return data.model_dump(mode="json", exclude={"client_uuid"}) | {"task_id": task_id}


def _row(attempt: Attempt, outcome: CheckInOutcome, reason: str = "") -> CheckIn:
    fix = attempt.fix
    return CheckIn(
        district_code=attempt.district_code,
        task_id=attempt.task_id,
        officer_id=attempt.officer_id,
        lon=fix.lon,
        lat=fix.lat,
        accuracy_m=fix.accuracy_m,
        device_time=aware(fix.device_time),
        server_time=attempt.server_time,
        offline=fix.offline,
        distance_m=attempt.judgement.distance_m,
        outcome=outcome,
        refusal=attempt.judgement.refusal,
        exception_reason=reason,
    )


def _announce(session: Session, row: CheckIn, task: InspectionTask) -> None:
    publish_after_commit(
        session,
        "check_in",
        {
            "check_in_id": row.id,
            "task_id": row.task_id,
            "unit_id": task.unit_id,
            "subject_id": task.subject_id,
            "officer_id": row.officer_id,
            "outcome": str(row.outcome),
            "refusal": row.refusal,
            "lon": row.lon,
            "lat": row.lat,
            "distance_m": row.distance_m,
            "server_time": row.server_time.isoformat(),
        },
        district_code=row.district_code,
    )


def _reply(session: Session, status: int, row: CheckIn, task: InspectionTask, locale: str) -> Reply:
    officer = repo.officers_by_id(session, [row.officer_id]).get(row.officer_id)
    body = read.check_in_read(row, task, officer, locale).model_dump(mode="json")
    return Reply(status, body)


def check_in(
    session: Session, actor: Actor, *, task_id: int, data: CheckInIn, locale: str
) -> Reply:
    """Judge and store one fix, exactly once per client UUID. A refusal raises
    ``CheckInRefused`` (see ``submit``, which stores it)."""
    return once(
        session,
        actor,
        client_uuid=data.client_uuid,
        operation=OPERATION,
        request=request_of(task_id, data),
        apply=lambda: _apply(session, actor, task_id, data, locale),
    )


def _apply(session: Session, actor: Actor, task_id: int, data: CheckInIn, locale: str) -> Reply:
    task = task_service.get(session, actor, task_id=task_id, lock=True)
    subject = session.get(Subject, task.subject_id)
    assert subject is not None
    now = utcnow()
    judgement = judge(
        task=task, subject=subject, officer_id=actor.officer_id, fix=data, now=now,
        settings=get_settings(),
    )  # fmt: skip
    attempt = Attempt(
        task.id, task.district_code, actor.officer_id, data, now, judgement,
        request_of(task_id, data),
    )  # fmt: skip
    reason = (data.exception_reason or "").strip()
    if judgement.refusal and not (reason and judgement.refusal in EXCEPTIONABLE):
        raise CheckInRefused(attempt)
    if judgement.refusal:
        row = _row(attempt, CheckInOutcome.EXCEPTION_PENDING, reason)
        session.add(row)
        session.flush()
        record(
            session,
            actor.officer_id,
            "inspection.check_in.exception_requested",
            row,
            {"refusal": judgement.refusal, "reason": reason},
            district_code=row.district_code,
        )
        _announce(session, row, task)
        return _reply(session, 202, row, task, locale)
    before = repo.present_officer_ids(session, task)
    row = _row(attempt, CheckInOutcome.ACCEPTED)
    session.add(row)
    session.flush()
    record(
        session,
        actor.officer_id,
        "inspection.check_in.accepted",
        row,
        {"distance_m": row.distance_m},
        district_code=row.district_code,
    )
    became_present(session, actor.officer_id, task, subject, row.officer_id, before)
    _announce(session, row, task)
    return _reply(session, 201, row, task, locale)


def record_refusal(db: Database, actor: Actor, attempt: Attempt, locale: str) -> Reply:
    """Store and ledger a refused attempt in a transaction of its own, with its 422 reply kept
    under the client UUID (a repeat gets the same refusal)."""
    with db.unit_of_work() as session:
        client_uuid = attempt.fix.client_uuid
        prior = idempotency.claim(
            session,
            client_uuid=client_uuid,
            district_code=actor.district_code,
            officer_id=actor.officer_id,
            operation=OPERATION,
            request=attempt.request,
        )
        if prior is not None:
            return Reply(prior.status_code, prior.response)
        task = session.get(InspectionTask, attempt.task_id)
        assert task is not None
        row = _row(attempt, CheckInOutcome.REFUSED)
        session.add(row)
        session.flush()
        record(
            session,
            actor.officer_id,
            "inspection.check_in.refused",
            row,
            {"refusal": row.refusal, "distance_m": row.distance_m},
            district_code=row.district_code,
        )
        _announce(session, row, task)
        body = {
            "error": {
                "code": CheckInRefused.code,
                "message": read.check_in_message(row, task, locale),
                "detail": {
                    "refusal": row.refusal,
                    "distance_m": row.distance_m,
                    "accuracy_m": row.accuracy_m,
                    "check_in_id": row.id,
                },
            }
        }
        idempotency.complete(session, client_uuid=client_uuid, status_code=422, response=body)
    return Reply(422, body)


def submit(
    session: Session, db: Database, actor: Actor, *, task_id: int, data: CheckInIn, locale: str
) -> Reply:
    """The endpoint's check-in: on a refusal, the request's work is rolled back (only the
    claim of the UUID) and the refused attempt is stored on its own."""
    try:
        return check_in(session, actor, task_id=task_id, data=data, locale=locale)
    except CheckInRefused as refused:
        session.rollback()
        return record_refusal(db, actor, refused.attempt, locale)


def became_present(
    session: Session,
    actor_id: int,
    task: InspectionTask,
    subject: Subject,
    officer_id: int,
    before: list[int],
) -> None:
    """What follows an officer's (accepted or approved) presence; ``before``: who was present."""
    if officer_id in before:
        return
    if task.status == TaskStatus.PLANNED:
        task.status = TaskStatus.IN_PROGRESS
        record(
            session,
            actor_id,
            "inspection.task.updated",
            task,
            {"changes": {"status": {"before": "planned", "after": "in_progress"}}},
            district_code=task.district_code,
        )
    if officer_id == task.lead_officer_id and repo.inspection_of_task(session, task.id) is None:
        start_inspection(session, actor_id, task, subject, officer_id)
    present = [o for o in task.officer_ids if o in {*before, officer_id}]
    if len(present) >= 2:
        record(
            session,
            actor_id,
            "inspection.presence_confirmed",
            task,
            {"officer_id": officer_id, "present_officer_ids": present},
            district_code=task.district_code,
        )


def start_inspection(
    session: Session, actor_id: int, task: InspectionTask, subject: Subject, lead_id: int
) -> Inspection:
    """The checklist run, with today's assembled checklist frozen in it (``inspection.started``)."""
    on = today()
    checklist = bundle.assemble(session, task.district_code, subject.subject_type_code, on)
    row = Inspection(
        district_code=task.district_code,
        task_id=task.id,
        subject_id=subject.id,
        checklist=checklist,
        checklist_on=on,
        checklist_sha256=bundle.checklist_sha256(checklist),
        started_by_id=lead_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor_id,
        "inspection.started",
        row,
        {"task_id": task.id, "items": len(checklist.get("items", []))},
        district_code=row.district_code,
    )
    return row


# --- Exceptions (异常签到) ---


def pending(session: Session, actor: Actor) -> list[CheckIn]:
    return repo.pending_check_ins(session, actor.scope)


def decide(
    session: Session, actor: Actor, *, check_in_id: int, data: CheckInDecision
) -> tuple[CheckIn, InspectionTask]:
    """A squad leader's approval or rejection of an exception check-in (either is recorded)."""
    row = repo.check_in(session, actor.scope, check_in_id)
    task = repo.task(session, actor, row.task_id, lock=True) if row is not None else None
    if row is None or task is None:
        raise NotFound("The check-in does not exist or is outside your data scope.")
    if row.officer_id == actor.officer_id:
        raise PermissionDenied(
            "You cannot decide on your own exception check-in.",
            detail={"check_in_id": row.id},
        )
    if row.outcome != CheckInOutcome.EXCEPTION_PENDING:
        raise Conflict(
            "This check-in is not waiting for a decision.",
            detail={"check_in_id": row.id, "outcome": str(row.outcome)},
        )
    note = data.note.strip()
    if not data.approve and not note:
        raise InvalidInput("Give a reason for rejecting the exception.", detail={"field": "note"})
    if data.approve:
        check_open(task)
    before = repo.present_officer_ids(session, task)
    row.outcome = (
        CheckInOutcome.EXCEPTION_APPROVED if data.approve else CheckInOutcome.EXCEPTION_REJECTED
    )
    row.decided_by_id, row.decided_at, row.decision_note = actor.officer_id, utcnow(), note
    record(
        session,
        actor.officer_id,
        "inspection.check_in.exception_decided",
        row,
        {"approve": data.approve, "note": note},
        district_code=row.district_code,
    )
    if data.approve:
        subject = session.get(Subject, task.subject_id)
        assert subject is not None
        became_present(session, actor.officer_id, task, subject, row.officer_id, before)
    _announce(session, row, task)
    return row, task
