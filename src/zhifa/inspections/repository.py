"""Every query of field inspection, scoped in one place.

A task is visible to an actor when it lies in their data scope (district, then the squad subtree
through ``InspectionTask.unit_id``) or when they are one of its officers (an officer lent to
another squad still sees the task they were assigned). Check-ins, inspections, answers and case
leads are seen through their task. A row outside the scope is None here and 404 for the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from zhifa.models.documents import Document
from zhifa.models.inspections import (
    CaseLead,
    CaseLeadStatus,
    CheckIn,
    CheckInOutcome,
    Evidence,
    Inspection,
    InspectionAmendment,
    InspectionAnswer,
    InspectionTask,
    TaskKind,
    TaskStatus,
)
from zhifa.models.org import Officer
from zhifa.models.subjects import Subject
from zhifa.org.actor import Actor
from zhifa.org.scope import DataScope

PRESENT = (CheckInOutcome.ACCEPTED, CheckInOutcome.EXCEPTION_APPROVED)
_CHECK_IN_TASK = CheckIn.task_id == InspectionTask.id
Ts = TypeVarTuple("Ts")


def scoped_tasks(scope: DataScope) -> Select[InspectionTask]:
    return through_task(scope, select(InspectionTask))


def through_task(scope: DataScope, stmt: Select[*Ts]) -> Select[*Ts]:
    """``stmt`` (which selects from or joins ``InspectionTask``) narrowed to the actor's scope."""
    stmt = scope.where_district(stmt, InspectionTask.district_code)
    return scope.where_unit(stmt, InspectionTask.unit_id)


def task(
    session: Session, actor: Actor, task_id: int, *, lock: bool = False
) -> InspectionTask | None:
    """The task when the actor may see it: in scope, or assigned to them. ``lock`` takes its row
    lock (PostgreSQL) so check-ins, decisions and the submission of one task run one at a time."""
    stmt = actor.scope.where_district(select(InspectionTask), InspectionTask.district_code)
    stmt = stmt.where(InspectionTask.id == task_id)
    if lock:
        stmt = stmt.with_for_update()
    row: InspectionTask | None = session.scalar(stmt)
    if row is None:
        return None
    if actor.officer_id in row.officer_ids:
        return row
    visible = session.scalar(
        through_task(actor.scope, select(InspectionTask.id)).where(InspectionTask.id == task_id)
    )
    return row if visible is not None else None


def tasks(
    session: Session,
    scope: DataScope,
    *,
    status: TaskStatus | None = None,
    between: tuple[datetime, datetime] | None = None,
    subject_id: int | None = None,
    kind: TaskKind | None = None,
    limit: int = 500,
) -> list[InspectionTask]:
    """Tasks in scope; ``between`` keeps those whose window overlaps [start, end)."""
    stmt = scoped_tasks(scope)
    if status is not None:
        stmt = stmt.where(InspectionTask.status == status)
    if between is not None:
        stmt = stmt.where(
            InspectionTask.window_start < between[1], InspectionTask.window_end > between[0]
        )
    if subject_id is not None:
        stmt = stmt.where(InspectionTask.subject_id == subject_id)
    if kind is not None:
        stmt = stmt.where(InspectionTask.kind == kind)
    stmt = stmt.order_by(InspectionTask.window_start, InspectionTask.id).limit(limit)
    return list(session.scalars(stmt))


def tasks_of_officer(
    session: Session, actor: Actor, between: tuple[datetime, datetime]
) -> list[InspectionTask]:
    """The actor's own tasks (not cancelled) whose window overlaps ``between``. The officer list is
    JSON, so the district and window narrow in SQL and the assignment is checked here."""
    stmt = actor.scope.where_district(select(InspectionTask), InspectionTask.district_code).where(
        InspectionTask.status != TaskStatus.CANCELLED,
        InspectionTask.window_start < between[1],
        InspectionTask.window_end > between[0],
    )
    rows = session.scalars(stmt.order_by(InspectionTask.window_start, InspectionTask.id))
    return [t for t in rows if actor.officer_id in t.officer_ids]


def subject(session: Session, scope: DataScope, subject_id: int) -> Subject | None:
    stmt = scope.where_district(select(Subject), Subject.district_code)
    stmt = scope.where_unit(stmt, Subject.unit_id).where(Subject.id == subject_id)
    row: Subject | None = session.scalar(stmt)
    return row


def subjects_by_id(session: Session, ids: Iterable[int]) -> dict[int, Subject]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(wanted)))}


def officers_by_id(session: Session, ids: Iterable[int]) -> dict[int, Officer]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {o.id: o for o in session.scalars(select(Officer).where(Officer.id.in_(wanted)))}


def check_ins(session: Session, task_ids: Sequence[int]) -> list[CheckIn]:
    if not task_ids:
        return []
    stmt = select(CheckIn).where(CheckIn.task_id.in_(sorted(set(task_ids))))
    return list(session.scalars(stmt.order_by(CheckIn.server_time, CheckIn.id)))


def check_in(session: Session, scope: DataScope, check_in_id: int) -> CheckIn | None:
    stmt = through_task(scope, select(CheckIn).join(InspectionTask, _CHECK_IN_TASK))
    row: CheckIn | None = session.scalar(stmt.where(CheckIn.id == check_in_id))
    return row


def pending_check_ins(session: Session, scope: DataScope) -> list[CheckIn]:
    stmt = through_task(scope, select(CheckIn).join(InspectionTask, _CHECK_IN_TASK))
    stmt = stmt.where(CheckIn.outcome == CheckInOutcome.EXCEPTION_PENDING)
    return list(session.scalars(stmt.order_by(CheckIn.server_time, CheckIn.id)))


def present_officer_ids(session: Session, task_row: InspectionTask) -> list[int]:
    """The task's officers with an accepted or approved check-in, in the task's order."""
    stmt = select(CheckIn.officer_id).where(
        CheckIn.task_id == task_row.id, CheckIn.outcome.in_(PRESENT)
    )
    present = set(session.scalars(stmt))
    return [o for o in task_row.officer_ids if o in present]


def inspection_of_task(session: Session, task_id: int) -> Inspection | None:
    row: Inspection | None = session.scalar(select(Inspection).where(Inspection.task_id == task_id))
    return row


def inspections_of_tasks(session: Session, task_ids: Sequence[int]) -> dict[int, Inspection]:
    if not task_ids:
        return {}
    stmt = select(Inspection).where(Inspection.task_id.in_(sorted(set(task_ids))))
    return {i.task_id: i for i in session.scalars(stmt)}


def answers(session: Session, inspection_id: int) -> list[InspectionAnswer]:
    stmt = select(InspectionAnswer).where(InspectionAnswer.inspection_id == inspection_id)
    return list(session.scalars(stmt.order_by(InspectionAnswer.id)))


def amendments(session: Session, inspection_id: int) -> list[InspectionAmendment]:
    stmt = select(InspectionAmendment).where(InspectionAmendment.inspection_id == inspection_id)
    return list(session.scalars(stmt.order_by(InspectionAmendment.id)))


def case_leads_of(session: Session, inspection_id: int) -> list[CaseLead]:
    stmt = select(CaseLead).where(CaseLead.inspection_id == inspection_id)
    return list(session.scalars(stmt.order_by(CaseLead.id)))


def case_leads(
    session: Session, scope: DataScope, *, status: CaseLeadStatus | None = None
) -> list[tuple[CaseLead, InspectionTask]]:
    joined = (
        select(CaseLead, InspectionTask)
        .join(Inspection, CaseLead.inspection_id == Inspection.id)
        .join(InspectionTask, Inspection.task_id == InspectionTask.id)
    )
    stmt = through_task(scope, joined)
    if status is not None:
        stmt = stmt.where(CaseLead.status == status)
    rows = session.execute(stmt.order_by(CaseLead.created_at.desc(), CaseLead.id.desc()))
    return [(lead, task_row) for lead, task_row in rows]


def follow_ups_of(session: Session, task_id: int) -> list[InspectionTask]:
    stmt = select(InspectionTask).where(
        InspectionTask.origin_task_id == task_id, InspectionTask.kind == TaskKind.FOLLOW_UP
    )
    return list(session.scalars(stmt.order_by(InspectionTask.id)))


def evidence_of_task(session: Session, task_id: int) -> list[Evidence]:
    stmt = select(Evidence).where(Evidence.task_id == task_id)
    return list(session.scalars(stmt.order_by(Evidence.received_at, Evidence.id)))


def documents_of_task(session: Session, task_id: int) -> list[Document]:
    stmt = select(Document).where(Document.task_id == task_id)
    return list(session.scalars(stmt.order_by(Document.issued_at, Document.id)))


def inspection_in_scope(
    session: Session, actor: Actor, inspection_id: int
) -> tuple[Inspection, InspectionTask] | None:
    row = session.get(Inspection, inspection_id)
    if row is None:
        return None
    task_row = task(session, actor, row.task_id)
    return (row, task_row) if task_row is not None else None


def tasks_by_id(session: Session, ids: Iterable[int]) -> list[InspectionTask]:
    """Tasks by id, unscoped: only for rows already reached through the scope."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(session.scalars(select(InspectionTask).where(InspectionTask.id.in_(wanted))))
