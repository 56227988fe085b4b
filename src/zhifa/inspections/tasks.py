"""Inspection tasks (检查任务): planned, patrol (ad hoc), dispatched and follow-up (复查).

Invariants:
- A planned or patrol task names at least two different active field officers of the subject's
  district, the lead first (行政处罚法 art. 42). A dispatched task may start with one (the
  dispatcher's nearest officer); nobody can check in to it until a second is assigned.
- A task's squad (``unit_id``, its data scope) is the subject's squad.
- A patrol task is started by its lead, on a subject of the lead's own squad (grid), for the rest
  of the local day; it is applied once per client UUID (the endpoint wraps it in ``once``).
- A submitted or cancelled task is closed: it cannot be cancelled, reassigned or checked in to.
- Every change is one ledger event (``inspection.task.*``) carrying the task's state.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.inspections import repository as repo
from zhifa.inspections.common import aware, day_bounds, record, today, whole_day
from zhifa.inspections.schemas import AdHocTaskIn, TaskCreate
from zhifa.kit.clock import utcnow
from zhifa.kit.geo import haversine_m
from zhifa.models.inspections import InspectionTask, TaskKind, TaskStatus
from zhifa.models.org import Officer, OfficerStatus
from zhifa.models.subjects import Subject
from zhifa.org.actor import Actor
from zhifa.org.changes import apply_changes
from zhifa.org.roles import Permission, Role, permissions_for

CLOSED = (TaskStatus.SUBMITTED, TaskStatus.CANCELLED)


def can_inspect(officer: Officer) -> bool:
    roles = frozenset(Role(r) for r in officer.roles if r in Role.__members__.values())
    return Permission.INSPECT in permissions_for(roles)


def check_officers(
    session: Session, district_code: str, ids: Sequence[int], *, minimum: int = 2
) -> list[int]:
    """The distinct officer ids in order, each an active field officer of the district."""
    distinct = list(dict.fromkeys(ids))
    found = repo.officers_by_id(session, distinct)
    for officer_id in distinct:
        officer = found.get(officer_id)
        usable = (
            officer is not None
            and officer.district_code == district_code
            and officer.status == OfficerStatus.ACTIVE
            and can_inspect(officer)
        )
        if not usable:
            raise InvalidInput(
                "Officer {officer_id} is not an active field officer of this district.",
                detail={"field": "officer_ids", "officer_id": officer_id},
                officer_id=officer_id,
            )
    if len(distinct) < minimum:
        raise InvalidInput(
            "An inspection needs at least two different officers (Administrative Penalty Law "
            "art. 42); name the lead first.",
            detail={"field": "officer_ids"},
        )
    return distinct


def check_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = aware(start), aware(end)
    if end <= start:
        raise InvalidInput(
            "The end of the time window must be after its start.",
            detail={"field": "window_end"},
        )
    return start, end


def check_open(task: InspectionTask) -> None:
    if task.status == TaskStatus.CANCELLED:
        raise Conflict(
            "The task was cancelled.", detail={"task_id": task.id}, error_code="task_cancelled"
        )
    if task.status == TaskStatus.SUBMITTED:
        raise Conflict(
            "The inspection of this task was already submitted.",
            detail={"task_id": task.id},
            error_code="task_submitted",
        )


def new_task(
    session: Session,
    actor_id: int | None,
    *,
    kind: TaskKind,
    subject: Subject,
    officer_ids: list[int],
    window: tuple[datetime, datetime],
    title: str = "",
    note: str = "",
    origin_task_id: int | None = None,
    origin_ref: str = "",
    via: str = "",
) -> InspectionTask:
    """Insert a task and ledger it (``inspection.task.created``); the rules are checked before."""
    row = InspectionTask(
        district_code=subject.district_code,
        kind=kind,
        status=TaskStatus.PLANNED,
        subject_id=subject.id,
        title=title or subject.name,
        window_start=window[0],
        window_end=window[1],
        unit_id=subject.unit_id,
        lead_officer_id=officer_ids[0],
        officer_ids=list(officer_ids),
        created_by_id=actor_id,
        origin_task_id=origin_task_id,
        origin_ref=origin_ref,
        note=note,
    )
    session.add(row)
    session.flush()
    payload: dict[str, object] = {"kind": kind.value, "subject_id": subject.id}
    if via:
        payload["via"] = via
    record(
        session,
        actor_id,
        "inspection.task.created",
        row,
        payload,
        district_code=row.district_code,
    )
    return row


class TaskService:
    def get(
        self, session: Session, actor: Actor, *, task_id: int, lock: bool = False
    ) -> InspectionTask:
        row = repo.task(session, actor, task_id, lock=lock)
        if row is None:
            raise NotFound("The task does not exist or is outside your data scope.")
        return row

    def list(
        self,
        session: Session,
        actor: Actor,
        *,
        status: TaskStatus | None = None,
        on: date | None = None,
        officer_id: int | None = None,
        subject_id: int | None = None,
        kind: TaskKind | None = None,
    ) -> builtins.list[InspectionTask]:
        between = day_bounds(on) if on is not None else None
        rows = repo.tasks(
            session, actor.scope, status=status, between=between, subject_id=subject_id, kind=kind
        )
        if officer_id is not None:
            rows = [t for t in rows if officer_id in t.officer_ids]
        return rows

    def today(
        self, session: Session, actor: Actor, *, lon: float | None = None, lat: float | None = None
    ) -> builtins.list[tuple[InspectionTask, float | None]]:
        """The caller's tasks whose window touches today (local), not cancelled; nearest first
        when a position is given (tasks whose subject has no point last), else by window."""
        rows = repo.tasks_of_officer(session, actor, day_bounds(today()))
        if lon is None or lat is None:
            return [(t, None) for t in rows]
        subjects = repo.subjects_by_id(session, [t.subject_id for t in rows])
        measured: builtins.list[tuple[InspectionTask, float | None]] = []
        for t in rows:
            s = subjects.get(t.subject_id)
            far = None
            if s is not None and s.lon is not None and s.lat is not None:
                far = round(haversine_m(lon, lat, s.lon, s.lat), 1)
            measured.append((t, far))
        return sorted(measured, key=lambda p: (p[1] is None, p[1] or 0.0, p[0].window_start))

    def _subject(self, session: Session, actor: Actor, subject_id: int) -> Subject:
        subject = repo.subject(session, actor.scope, subject_id)
        if subject is None:
            raise NotFound(
                "This subject does not exist or is outside your data scope.",
                detail={"field": "subject_id"},
            )
        if not subject.active:
            raise Conflict(
                "The subject {name} is deactivated; no task can be planned on it.",
                detail={"field": "subject_id"},
                name=subject.name,
            )
        return subject

    def create_planned(self, session: Session, actor: Actor, *, data: TaskCreate) -> InspectionTask:
        subject = self._subject(session, actor, data.subject_id)
        window = check_window(data.window_start, data.window_end)
        officers = check_officers(session, subject.district_code, data.officer_ids)
        return new_task(
            session,
            actor.officer_id,
            kind=TaskKind.PLANNED,
            subject=subject,
            officer_ids=officers,
            window=window,
            title=data.title.strip(),
            note=data.note,
        )

    def create_ad_hoc(self, session: Session, actor: Actor, *, data: AdHocTaskIn) -> InspectionTask:
        """A patrol inspection: the caller leads, on a subject of their own squad's grid."""
        subject = self._subject(session, actor, data.subject_id)
        if actor.unit_id is None or subject.unit_id != actor.unit_id:
            raise InvalidInput(
                "{name} is not in your squad's grid; a patrol inspection can only be started "
                "on a subject of your own grid.",
                detail={"field": "subject_id"},
                name=subject.name,
            )
        officers = check_officers(
            session, subject.district_code, [actor.officer_id, data.second_officer_id]
        )
        now = utcnow()
        end = whole_day(today())[1]
        return new_task(
            session,
            actor.officer_id,
            kind=TaskKind.AD_HOC,
            subject=subject,
            officer_ids=officers,
            window=(now, max(end, now)),
            note=data.note,
        )

    def create_dispatched(
        self,
        session: Session,
        actor: Actor,
        *,
        subject_id: int,
        officer_ids: Sequence[int],
        window: tuple[datetime, datetime],
        origin_ref: str,
        title: str = "",
        note: str = "",
    ) -> InspectionTask:
        """A task from a complaint (``origin_ref`` e.g. ``complaint:123``); one officer is
        enough to create it, two are needed before check-in."""
        subject = self._subject(session, actor, subject_id)
        span = check_window(*window)
        officers = check_officers(session, subject.district_code, officer_ids, minimum=1)
        return new_task(
            session,
            actor.officer_id,
            kind=TaskKind.DISPATCHED,
            subject=subject,
            officer_ids=officers,
            window=span,
            title=title,
            note=note,
            origin_ref=origin_ref,
        )

    def create_follow_up(
        self, session: Session, actor_id: int, *, origin: InspectionTask, deadline: date
    ) -> InspectionTask:
        """The re-inspection after 责令改正: on the deadline day, with the same officers."""
        subject = session.get(Subject, origin.subject_id)
        assert subject is not None
        return new_task(
            session,
            actor_id,
            kind=TaskKind.FOLLOW_UP,
            subject=subject,
            officer_ids=list(origin.officer_ids),
            window=whole_day(deadline),
            title=origin.title,
            origin_task_id=origin.id,
        )

    def cancel(
        self, session: Session, actor: Actor, *, task_id: int, reason: str
    ) -> InspectionTask:
        row = self.get(session, actor, task_id=task_id, lock=True)
        check_open(row)
        if not reason.strip():
            raise InvalidInput("Give a reason for cancelling the task.", detail={"field": "reason"})
        row.status = TaskStatus.CANCELLED
        row.cancel_reason = reason.strip()
        record(
            session,
            actor.officer_id,
            "inspection.task.cancelled",
            row,
            {"reason": row.cancel_reason},
            district_code=row.district_code,
        )
        return row

    def reassign(
        self, session: Session, actor: Actor, *, task_id: int, officer_ids: Sequence[int]
    ) -> InspectionTask:
        row = self.get(session, actor, task_id=task_id, lock=True)
        check_open(row)
        officers = check_officers(session, row.district_code, officer_ids)
        changes = apply_changes(row, {"officer_ids": officers, "lead_officer_id": officers[0]})
        if changes:
            record(
                session,
                actor.officer_id,
                "inspection.task.updated",
                row,
                {"changes": changes, "via": "reassign"},
                district_code=row.district_code,
            )
        return row


task_service = TaskService()


def create_dispatched_task(
    session: Session,
    actor: Actor,
    *,
    subject_id: int,
    officer_ids: Sequence[int],
    window: tuple[datetime, datetime],
    origin_ref: str,
) -> InspectionTask:
    """For the complaints issue: a dispatched inspection task (see ``TaskService``)."""
    return task_service.create_dispatched(
        session,
        actor,
        subject_id=subject_id,
        officer_ids=officer_ids,
        window=window,
        origin_ref=origin_ref,
    )
