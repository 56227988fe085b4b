"""Every query of the documents domain, scoped in one place.

A document belongs to its task's squad: an actor sees it when the task's unit lies in their data
scope (``where_unit`` on ``InspectionTask.unit_id``) and the district is theirs; any other document
does not exist for them (404). The public verify page looks documents up by ``public_id`` alone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhifa.documents.compose import Answer, Officer
from zhifa.models.documents import Document, DocumentSignature, DocumentStatus, DocumentType
from zhifa.models.inspections import (
    AnswerResult,
    CheckIn,
    CheckInOutcome,
    Evidence,
    EvidenceKind,
    Inspection,
    InspectionAmendment,
    InspectionAnswer,
    InspectionTask,
    Measure,
)
from zhifa.models.org import Officer as OfficerRow
from zhifa.org.scope import DataScope

PRESENT = (CheckInOutcome.ACCEPTED, CheckInOutcome.EXCEPTION_APPROVED)


def task(session: Session, scope: DataScope, task_id: int) -> InspectionTask | None:
    stmt = scope.where_district(select(InspectionTask), InspectionTask.district_code)
    stmt = scope.where_unit(stmt, InspectionTask.unit_id)
    return session.scalar(stmt.where(InspectionTask.id == task_id))


def _scoped(scope: DataScope) -> Select[Document]:
    stmt = select(Document).join(InspectionTask, InspectionTask.id == Document.task_id)
    stmt = scope.where_district(stmt, Document.district_code)
    return scope.where_unit(stmt, InspectionTask.unit_id)


def document(session: Session, scope: DataScope, document_id: int) -> Document | None:
    return session.scalar(_scoped(scope).where(Document.id == document_id))


def documents(
    session: Session,
    scope: DataScope,
    *,
    task_id: int | None = None,
    inspection_id: int | None = None,
    subject_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Document]:
    stmt = _scoped(scope)
    if task_id is not None:
        stmt = stmt.where(Document.task_id == task_id)
    if inspection_id is not None:
        stmt = stmt.where(Document.inspection_id == inspection_id)
    if subject_id is not None:
        stmt = stmt.where(Document.subject_id == subject_id)
    stmt = stmt.order_by(Document.issued_at.desc(), Document.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def for_task(session: Session, task_id: int) -> list[Document]:
    """The documents issued for a task, oldest first (the caller has checked the task's scope)."""
    stmt = select(Document).where(Document.task_id == task_id).order_by(Document.id)
    return list(session.scalars(stmt))


def by_public_id(session: Session, public_id: str) -> Document | None:
    return session.scalar(select(Document).where(Document.public_id == public_id))


def signatures(session: Session, document_ids: list[int]) -> dict[int, list[DocumentSignature]]:
    found: dict[int, list[DocumentSignature]] = defaultdict(list)
    if not document_ids:
        return found
    stmt = (
        select(DocumentSignature)
        .where(DocumentSignature.document_id.in_(document_ids))
        .order_by(DocumentSignature.id)
    )
    for row in session.scalars(stmt):
        found[row.document_id].append(row)
    return found


def inspection_of(session: Session, task_id: int) -> Inspection | None:
    return session.scalar(select(Inspection).where(Inspection.task_id == task_id))


def present_officers(session: Session, task: InspectionTask) -> list[Officer]:
    """Officers of the task on site (accepted or approved check-in), in the task's order."""
    stmt = select(CheckIn.officer_id).where(
        CheckIn.task_id == task.id, CheckIn.outcome.in_([str(o) for o in PRESENT])
    )
    present = set(session.scalars(stmt))
    ordered = [oid for oid in task.officer_ids if oid in present]
    rows = {o.id: o for o in session.scalars(select(OfficerRow).where(OfficerRow.id.in_(ordered)))}
    return [Officer(oid, rows[oid].name, rows[oid].cert_no or "") for oid in ordered if oid in rows]


def first_presence(session: Session, task_id: int) -> datetime | None:
    stmt = select(func.min(CheckIn.server_time)).where(
        CheckIn.task_id == task_id, CheckIn.outcome.in_([str(o) for o in PRESENT])
    )
    return session.scalar(stmt)


def evidence_counts(session: Session, task_id: int) -> dict[str, int]:
    stmt = (
        select(Evidence.kind, func.count())
        .where(Evidence.task_id == task_id, Evidence.kind != EvidenceKind.SIGNATURE)
        .group_by(Evidence.kind)
    )
    return {str(kind): int(count) for kind, count in session.execute(stmt)}


def current_answers(session: Session, inspection_id: int) -> dict[str, Answer]:
    """Each item's current answer: its latest amendment, else the submitted answer."""
    answers = {
        a.item_code: _answer(
            a.item_code,
            {
                "result": a.result,
                "reason": a.reason,
                "note": a.note,
                "measure": a.measure,
                "power_code": a.power_code,
                "rectify_deadline": a.rectify_deadline,
                "penalty": a.penalty,
            },
        )
        for a in session.scalars(
            select(InspectionAnswer).where(InspectionAnswer.inspection_id == inspection_id)
        )
    }
    amendments = select(InspectionAmendment).where(
        InspectionAmendment.inspection_id == inspection_id
    )
    for amendment in session.scalars(amendments.order_by(InspectionAmendment.id)):
        answers[amendment.item_code] = _answer(amendment.item_code, amendment.amended)
    return answers


def _answer(code: str, values: dict[str, Any]) -> Answer:
    deadline = values.get("rectify_deadline")
    if isinstance(deadline, str) and deadline:
        deadline = date.fromisoformat(deadline[:10])
    return Answer(
        item_code=code,
        result=AnswerResult(values.get("result") or AnswerResult.NOT_APPLICABLE),
        reason=str(values.get("reason") or ""),
        note=str(values.get("note") or ""),
        measure=Measure(values.get("measure") or Measure.NONE),
        power_code=values.get("power_code") or None,
        rectify_deadline=deadline if isinstance(deadline, date) else None,
        penalty=values.get("penalty") if isinstance(values.get("penalty"), dict) else None,
    )


def covered_items(session: Session, task_id: int, doc_type: DocumentType) -> set[str]:
    """Item codes already carried out by an issued document of ``doc_type`` for the task."""
    stmt = select(Document.fields).where(
        Document.task_id == task_id,
        Document.doc_type == str(doc_type),
        Document.status == DocumentStatus.ISSUED,
    )
    return {code for fields in session.scalars(stmt) for code in fields.get("item_codes", [])}


def issued_of_type(session: Session, task_id: int, doc_type: DocumentType) -> int:
    stmt = select(func.count()).where(
        Document.task_id == task_id,
        Document.doc_type == str(doc_type),
        Document.status == DocumentStatus.ISSUED,
    )
    return int(session.scalar(stmt.select_from(Document)) or 0)
