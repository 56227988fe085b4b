"""A subject's history (执法对象历史): its inspections with the officers and result counts, the
findings (不合格 items with the reason and measure), on-the-spot penalties, documents issued and
case leads (案源), newest first.

Read straight from the inspection and document models (other parts of the product write them).
An answer shown here is the current one: the latest amendment of it, or the answer as submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from zhifa.kit.clock import local
from zhifa.kit.money import yuan_fixed
from zhifa.models.documents import Document, DocumentType
from zhifa.models.inspections import (
    AnswerResult,
    CaseLead,
    CaseLeadStatus,
    Inspection,
    InspectionAmendment,
    InspectionAnswer,
    InspectionStatus,
    InspectionTask,
    Measure,
    TaskKind,
)
from zhifa.models.org import Officer
from zhifa.models.subjects import Subject
from zhifa.subjects.schemas import (
    HistoryCaseLead,
    HistoryDocument,
    HistoryFinding,
    HistoryInspection,
    HistoryOfficer,
    HistoryPenalty,
    SubjectHistory,
)
from zhifa.web.i18n import translate

ANSWER_FIELDS = ("result", "reason", "measure", "power_code", "rectify_deadline", "penalty")


@dataclass(frozen=True)
class Context:
    locale: str
    tz: Any  # zoneinfo.ZoneInfo of the bureau
    base_url: str  # public address for the documents' verify links


@dataclass
class CurrentAnswer:
    inspection_id: int
    item_code: str
    values: dict[str, Any]
    amended: bool


def current_answers(session: Session, inspection_ids: list[int]) -> list[CurrentAnswer]:
    """Each answer as it stands: the latest amendment's values over the submitted answer."""
    if not inspection_ids:
        return []
    answers = session.scalars(
        select(InspectionAnswer)
        .where(InspectionAnswer.inspection_id.in_(inspection_ids))
        .order_by(InspectionAnswer.inspection_id, InspectionAnswer.id)
    )
    current = {
        (a.inspection_id, a.item_code): CurrentAnswer(
            a.inspection_id,
            a.item_code,
            {name: getattr(a, name) for name in ANSWER_FIELDS},
            amended=False,
        )
        for a in answers
    }
    amendments = session.scalars(
        select(InspectionAmendment)
        .where(InspectionAmendment.inspection_id.in_(inspection_ids))
        .order_by(InspectionAmendment.id)
    )
    for m in amendments:
        key = (m.inspection_id, m.item_code)
        if key in current:
            amended = {k: m.amended[k] for k in ANSWER_FIELDS if k in m.amended}
            current[key].values |= amended
            current[key].amended = True
    return list(current.values())


def _day(value: datetime, ctx: Context) -> date:
    return local(value, ctx.tz).date()


def _officers(session: Session, tasks: list[InspectionTask]) -> dict[int, Officer]:
    ids = {i for t in tasks for i in (t.officer_ids or [])}
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Officer).where(Officer.id.in_(ids)))}


def _item_texts(inspections: list[Inspection]) -> dict[tuple[int, str], str]:
    texts: dict[tuple[int, str], str] = {}
    for row in inspections:
        for item in (row.checklist or {}).get("items", []):
            if isinstance(item, dict) and "code" in item:
                texts[(row.id, str(item["code"]))] = str(item.get("text", ""))
    return texts


def _counts(answers: list[CurrentAnswer]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for a in answers:
        tally = counts.setdefault(a.inspection_id, {r.value: 0 for r in AnswerResult})
        result = str(a.values.get("result") or "")
        if result in tally:
            tally[result] += 1
    return counts


def _deadline(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def subject_history(session: Session, subject: Subject, ctx: Context) -> SubjectHistory:
    stmt = (
        select(Inspection, InspectionTask)
        .join(InspectionTask, InspectionTask.id == Inspection.task_id)
        .where(Inspection.subject_id == subject.id)
    )
    pairs = [(i, t) for i, t in session.execute(stmt).all()]
    pairs.sort(key=lambda p: (p[0].submitted_at or p[0].created_at, p[0].id), reverse=True)
    inspections = [p[0] for p in pairs]
    answers = current_answers(session, [i.id for i in inspections])
    when = {i.id: _day(i.submitted_at or i.created_at, ctx) for i in inspections}
    return SubjectHistory(
        subject_id=subject.id,
        inspections=_inspections(session, pairs, answers, when, ctx),
        findings=_findings(answers, _item_texts(inspections), when, ctx),
        penalties=_penalties(answers, when),
        documents=_documents(session, subject, [i.id for i in inspections], ctx),
        case_leads=_case_leads(session, subject, ctx),
    )


def _inspections(
    session: Session,
    pairs: list[tuple[Inspection, InspectionTask]],
    answers: list[CurrentAnswer],
    when: dict[int, date],
    ctx: Context,
) -> list[HistoryInspection]:
    officers = _officers(session, [task for _, task in pairs])
    counts = _counts(answers)
    out = []
    for inspection, task in pairs:
        tally = counts.get(inspection.id, {})
        people = [officers[i] for i in task.officer_ids or [] if i in officers]
        out.append(
            HistoryInspection(
                id=inspection.id,
                task_id=task.id,
                task_kind=task.kind,
                task_kind_label=translate(ctx.locale, TaskKind(task.kind).label),
                status=inspection.status,
                status_label=translate(ctx.locale, InspectionStatus(inspection.status).label),
                date=when[inspection.id],
                submitted_at=inspection.submitted_at,
                officers=[HistoryOfficer(id=o.id, name=o.name, cert_no=o.cert_no) for o in people],
                passed=tally.get(AnswerResult.PASS.value, 0),
                failed=tally.get(AnswerResult.FAIL.value, 0),
                not_applicable=tally.get(AnswerResult.NOT_APPLICABLE.value, 0),
            )
        )
    return out


def _findings(
    answers: list[CurrentAnswer],
    texts: dict[tuple[int, str], str],
    when: dict[int, date],
    ctx: Context,
) -> list[HistoryFinding]:
    found = [a for a in answers if a.values.get("result") == AnswerResult.FAIL.value]
    found.sort(key=lambda a: (when[a.inspection_id], a.inspection_id), reverse=True)
    out = []
    for a in found:
        measure = Measure(a.values.get("measure") or Measure.NONE.value)
        out.append(
            HistoryFinding(
                inspection_id=a.inspection_id,
                date=when[a.inspection_id],
                item_code=a.item_code,
                item_text=texts.get((a.inspection_id, a.item_code), ""),
                reason=str(a.values.get("reason") or ""),
                measure=measure.value,
                measure_label=translate(ctx.locale, measure.label),
                power_code=a.values.get("power_code"),
                rectify_deadline=_deadline(a.values.get("rectify_deadline")),
                amended=a.amended,
            )
        )
    return out


def _penalties(answers: list[CurrentAnswer], when: dict[int, date]) -> list[HistoryPenalty]:
    out = []
    for a in answers:
        if a.values.get("result") != AnswerResult.FAIL.value:
            continue
        if a.values.get("measure") != Measure.ON_SPOT_PENALTY.value:
            continue
        penalty = a.values.get("penalty") or {}
        fen = penalty.get("amount_fen") if isinstance(penalty, dict) else None
        amount = int(fen) if isinstance(fen, int | float) else None
        out.append(
            HistoryPenalty(
                inspection_id=a.inspection_id,
                date=when[a.inspection_id],
                item_code=a.item_code,
                power_code=a.values.get("power_code"),
                amount_fen=amount,
                amount_yuan=yuan_fixed(amount) if amount is not None else None,
            )
        )
    out.sort(key=lambda p: (p.date, p.inspection_id), reverse=True)
    return out


def _documents(
    session: Session, subject: Subject, inspection_ids: list[int], ctx: Context
) -> list[HistoryDocument]:
    about = Document.subject_id == subject.id
    if inspection_ids:
        about = or_(about, Document.inspection_id.in_(inspection_ids))
    rows = session.scalars(select(Document).where(about).order_by(Document.issued_at.desc()))
    base = ctx.base_url.rstrip("/")
    return [
        HistoryDocument(
            id=d.id,
            public_id=d.public_id,
            doc_type=d.doc_type,
            doc_type_label=translate(ctx.locale, DocumentType(d.doc_type).label),
            number_text=d.number_text,
            issued_at=d.issued_at,
            status=d.status,
            inspection_id=d.inspection_id,
            verify_url=f"{base}/verify/{d.public_id}",
        )
        for d in rows
    ]


def _case_leads(session: Session, subject: Subject, ctx: Context) -> list[HistoryCaseLead]:
    rows = session.scalars(
        select(CaseLead)
        .where(CaseLead.subject_id == subject.id)
        .order_by(CaseLead.created_at.desc(), CaseLead.id.desc())
    )
    return [
        HistoryCaseLead(
            id=c.id,
            inspection_id=c.inspection_id,
            item_code=c.item_code,
            power_code=c.power_code,
            facts=c.facts,
            status=c.status,
            status_label=translate(ctx.locale, CaseLeadStatus(c.status).label),
            created_at=c.created_at,
        )
        for c in rows
    ]
