"""The command centre's reads: today's inspection tasks in scope with their subject, officers,
不合格 count and documents, and the latest documents. Scope: the task's district and squad
(``InspectionTask.unit_id``); a document is seen through its task."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.models.documents import Document
from zhifa.models.inspections import AnswerResult, Inspection, InspectionTask, TaskStatus
from zhifa.models.org import Officer, Unit
from zhifa.models.subjects import Subject
from zhifa.org.scope import DataScope
from zhifa.subjects.history import current_answers

LIVE = (TaskStatus.IN_PROGRESS, TaskStatus.SUBMITTED)


@dataclass
class TaskLine:
    task: InspectionTask
    subject: Subject
    officers: list[Officer]
    inspection: Inspection | None
    failed: int
    documents: list[Document] = field(default_factory=list)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tz)
    return start, start + timedelta(days=1)


def todays_tasks(session: Session, scope: DataScope, *, day: date, tz: ZoneInfo) -> list[TaskLine]:
    """Tasks whose window touches ``day`` (local), not cancelled, with what the page shows."""
    start, end = day_bounds(day, tz)
    stmt = scope.where_district(
        select(InspectionTask, Subject).join(Subject, Subject.id == InspectionTask.subject_id),
        InspectionTask.district_code,
    )
    stmt = scope.where_unit(stmt, InspectionTask.unit_id).where(
        InspectionTask.window_start < end,
        InspectionTask.window_end >= start,
        InspectionTask.status != TaskStatus.CANCELLED,
    )
    pairs = list(session.execute(stmt.order_by(InspectionTask.window_start, InspectionTask.id)))
    tasks = [t for t, _ in pairs]
    inspections = _inspections(session, [t.id for t in tasks])
    failed = _failed(session, [i.id for i in inspections.values()])
    officers = _officers(session, tasks)
    documents = _documents(session, [t.id for t in tasks])
    return [
        TaskLine(
            task=t,
            subject=s,
            officers=[officers[i] for i in t.officer_ids or [] if i in officers],
            inspection=inspections.get(t.id),
            failed=failed.get(inspections[t.id].id, 0) if t.id in inspections else 0,
            documents=documents.get(t.id, []),
        )
        for t, s in pairs
    ]


def _inspections(session: Session, task_ids: list[int]) -> dict[int, Inspection]:
    if not task_ids:
        return {}
    rows = session.scalars(select(Inspection).where(Inspection.task_id.in_(task_ids)))
    return {i.task_id: i for i in rows}


def _failed(session: Session, inspection_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for answer in current_answers(session, inspection_ids):
        if answer.values.get("result") == AnswerResult.FAIL.value:
            counts[answer.inspection_id] = counts.get(answer.inspection_id, 0) + 1
    return counts


def _officers(session: Session, tasks: list[InspectionTask]) -> dict[int, Officer]:
    ids = {i for t in tasks for i in t.officer_ids or []}
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Officer).where(Officer.id.in_(ids)))}


def _documents(session: Session, task_ids: list[int]) -> dict[int, list[Document]]:
    if not task_ids:
        return {}
    found: dict[int, list[Document]] = {}
    stmt = select(Document).where(Document.task_id.in_(task_ids)).order_by(Document.issued_at)
    for d in session.scalars(stmt):
        found.setdefault(d.task_id or 0, []).append(d)
    return found


def latest_documents(
    session: Session, scope: DataScope, *, limit: int = 20
) -> list[tuple[Document, Subject | None]]:
    """The newest documents in scope (district; for a squad, through the document's task)."""
    stmt = scope.where_district(
        select(Document, Subject)
        .outerjoin(InspectionTask, InspectionTask.id == Document.task_id)
        .outerjoin(Subject, Subject.id == Document.subject_id),
        Document.district_code,
    )
    stmt = scope.where_unit(stmt, InspectionTask.unit_id)
    stmt = stmt.order_by(Document.issued_at.desc(), Document.id.desc()).limit(limit)
    rows = session.execute(stmt)
    return [(d, s) for d, s in rows]


def unit_ids_in_scope(session: Session, scope: DataScope) -> frozenset[int] | None:
    """The squads whose events a narrowed viewer may see; None for district and city scope."""
    if scope.unit_path is None:
        return None
    if not scope.unit_path:
        return frozenset()
    stmt = select(Unit.id).where(Unit.path.startswith(scope.unit_path))
    return frozenset(int(i) for i in session.scalars(stmt))
