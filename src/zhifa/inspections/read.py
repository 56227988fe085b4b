"""Presenting inspection rows as the API shapes (``schemas``), in the reader's language.

Lists are presented in batches (one query per table, not per task). The current answer of an item
is its latest amendment, or the submitted answer when it has none (``current_answers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from zhifa.config import get_settings
from zhifa.inspections import repository as repo
from zhifa.inspections.common import N_
from zhifa.inspections.evidence import evidence_read
from zhifa.inspections.schemas import (
    AmendmentRead,
    AnswerRead,
    CaseLeadRead,
    CheckInRead,
    CitationText,
    DocumentRef,
    InspectionRead,
    OfficerBrief,
    PenaltyRead,
    RangeRead,
    SubjectBrief,
    TaskRead,
)
from zhifa.kit.clock import local
from zhifa.kit.money import yuan_fixed
from zhifa.ledger.envelope import ledger_state
from zhifa.models.documents import Document, DocumentStatus, DocumentType
from zhifa.models.inspections import (
    AnswerResult,
    CaseLead,
    CaseLeadStatus,
    CheckIn,
    CheckInOutcome,
    Inspection,
    InspectionAmendment,
    InspectionAnswer,
    InspectionStatus,
    InspectionTask,
    Measure,
    TaskKind,
    TaskStatus,
)
from zhifa.models.org import Officer
from zhifa.models.subjects import Subject
from zhifa.org.actor import Actor
from zhifa.web.i18n import translate

# What an officer reads about a check-in, by refusal (``""``: not refused).
CHECK_IN_MESSAGES: dict[str, str] = {
    "outside_fence": N_(
        "You are about {distance} m from the subject's geofence, not on site, so you cannot "
        "check in. If you are on site, you can ask for an exception check-in."
    ),
    "outside_window": N_(
        "The task's time window is {start} to {end}; it is {now} now, so you cannot check in. "
        "If the inspection must happen now, you can ask for an exception check-in."
    ),
    "imprecise_fix": N_(
        "The position is not precise enough (about {accuracy} m; at most {limit} m is "
        "accepted). Move into the open, wait for a better fix and try again."
    ),
    "no_fence": N_(
        "The subject has no geofence, so your position cannot be checked. You can ask for an "
        "exception check-in, or ask for the subject's fence to be drawn."
    ),
    "too_few_officers": N_(
        "The task has fewer than two officers (Administrative Penalty Law art. 42). Ask the "
        "squad leader to assign a second officer, then check in."
    ),
    "not_assigned": N_("You are not one of this task's officers, so you cannot check in to it."),
    "task_closed": N_("This task is closed ({status}); check-in is no longer possible."),
    "device_time_in_future": N_(
        "The device's clock is more than {minutes} minutes ahead of the server's. Set the "
        "device's time correctly and try again."
    ),
}
OUTCOME_MESSAGES: dict[CheckInOutcome, str] = {
    CheckInOutcome.ACCEPTED: N_("Checked in on site, {distance} m from the fence."),
    CheckInOutcome.EXCEPTION_PENDING: N_(
        "Your exception check-in was sent to the squad leader for approval."
    ),
    CheckInOutcome.EXCEPTION_APPROVED: N_("The exception check-in was approved."),
    CheckInOutcome.EXCEPTION_REJECTED: N_("The exception check-in was rejected."),
}


def _fmt_local(value: datetime) -> str:
    return local(value, get_settings().tz).strftime("%m-%d %H:%M")


def check_in_message(row: CheckIn, task: InspectionTask, locale: str) -> str:
    """The sentence the officer reads about ``row`` (its refusal, or its outcome)."""
    settings = get_settings()
    if row.refusal and row.outcome in (CheckInOutcome.REFUSED, CheckInOutcome.EXCEPTION_PENDING):
        judged = row.device_time if row.offline else row.server_time
        params = {
            "distance": f"{round(row.distance_m):,}",
            "accuracy": f"{round(row.accuracy_m):,}",
            "limit": f"{round(settings.checkin_max_accuracy_m):,}",
            "start": _fmt_local(task.window_start),
            "end": _fmt_local(task.window_end),
            "now": _fmt_local(judged),
            "minutes": str(settings.checkin_clock_skew_seconds // 60),
            "status": translate(locale, TaskStatus(task.status).label),
        }
        refusal = translate(locale, CHECK_IN_MESSAGES.get(row.refusal, row.refusal), **params)
        if row.outcome == CheckInOutcome.REFUSED:
            return refusal
        pending = translate(locale, OUTCOME_MESSAGES[CheckInOutcome.EXCEPTION_PENDING])
        return f"{refusal} {pending}" if locale == "en" else refusal + pending
    message = OUTCOME_MESSAGES.get(CheckInOutcome(row.outcome), "")
    return translate(locale, message, distance=f"{round(row.distance_m):,}")


def check_in_read(
    row: CheckIn, task: InspectionTask, officer: Officer | None, locale: str
) -> CheckInRead:
    outcome = CheckInOutcome(row.outcome)
    return CheckInRead(
        id=row.id,
        task_id=row.task_id,
        officer_id=row.officer_id,
        officer_name=officer.name if officer is not None else "",
        outcome=outcome.value,
        outcome_label=translate(locale, outcome.label),
        refusal=row.refusal,
        message=check_in_message(row, task, locale),
        distance_m=round(row.distance_m, 1),
        accuracy_m=row.accuracy_m,
        lon=row.lon,
        lat=row.lat,
        server_time=row.server_time,
        device_time=row.device_time,
        offline=row.offline,
        exception_reason=row.exception_reason,
        decided_by_id=row.decided_by_id,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
    )


def check_in_reads(
    session: Session, rows: Sequence[CheckIn], tasks: dict[int, InspectionTask], locale: str
) -> list[CheckInRead]:
    officers = repo.officers_by_id(session, [r.officer_id for r in rows])
    return [
        check_in_read(r, tasks[r.task_id], officers.get(r.officer_id), locale)
        for r in rows
        if r.task_id in tasks
    ]


# --- Tasks ---


def subject_brief(subject: Subject) -> SubjectBrief:
    return SubjectBrief(
        id=subject.id,
        name=subject.name,
        address=subject.address,
        lon=subject.lon,
        lat=subject.lat,
        kind=str(subject.kind),
        subject_type=subject.subject_type_code,
    )


def my_check_in(rows: Sequence[CheckIn], officer_id: int) -> str | None:
    """The caller's standing on the task: a present check-in if any, else their latest one."""
    mine = [r for r in rows if r.officer_id == officer_id]
    present = [r for r in mine if CheckInOutcome(r.outcome).present]
    chosen = present or mine
    return str(chosen[-1].outcome) if chosen else None


def present_ids(task: InspectionTask, rows: Sequence[CheckIn]) -> list[int]:
    present = {r.officer_id for r in rows if CheckInOutcome(r.outcome).present}
    return [o for o in task.officer_ids if o in present]


@dataclass(frozen=True)
class _Batch:
    subjects: dict[int, Subject]
    officers: dict[int, Officer]
    check_ins: dict[int, list[CheckIn]]
    inspections: dict[int, Inspection]


def _batch(session: Session, rows: Sequence[InspectionTask]) -> _Batch:
    ids = [t.id for t in rows]
    by_task: dict[int, list[CheckIn]] = {i: [] for i in ids}
    for c in repo.check_ins(session, ids):
        by_task[c.task_id].append(c)
    return _Batch(
        subjects=repo.subjects_by_id(session, [t.subject_id for t in rows]),
        officers=repo.officers_by_id(session, [o for t in rows for o in t.officer_ids]),
        check_ins=by_task,
        inspections=repo.inspections_of_tasks(session, ids),
    )


def task_reads(
    session: Session,
    actor: Actor,
    rows: Sequence[InspectionTask],
    locale: str,
    distances: dict[int, float | None] | None = None,
) -> list[TaskRead]:
    batch = _batch(session, rows)
    return [_task_read(t, batch, actor, locale, distances or {}) for t in rows]


def task_read(session: Session, actor: Actor, row: InspectionTask, locale: str) -> TaskRead:
    return task_reads(session, actor, [row], locale)[0]


def _task_read(
    t: InspectionTask,
    batch: _Batch,
    actor: Actor,
    locale: str,
    distances: dict[int, float | None],
) -> TaskRead:
    kind, status = TaskKind(t.kind), TaskStatus(t.status)
    check_ins = batch.check_ins.get(t.id, [])
    inspection = batch.inspections.get(t.id)
    return TaskRead(
        id=t.id,
        kind=kind.value,
        kind_label=translate(locale, kind.label),
        status=status.value,
        status_label=translate(locale, status.label),
        title=t.title,
        window_start=t.window_start,
        window_end=t.window_end,
        subject=subject_brief(batch.subjects[t.subject_id]),
        officers=[
            OfficerBrief(id=o.id, name=o.name, cert_no=o.cert_no)
            for oid in t.officer_ids
            if (o := batch.officers.get(oid)) is not None
        ],
        lead_officer_id=t.lead_officer_id,
        distance_m=distances.get(t.id),
        my_check_in=my_check_in(check_ins, actor.officer_id),
        present_officer_ids=present_ids(t, check_ins),
        unit_id=t.unit_id,
        origin_task_id=t.origin_task_id,
        origin_ref=t.origin_ref,
        note=t.note,
        cancel_reason=t.cancel_reason,
        inspection_id=inspection.id if inspection is not None else None,
    )


# --- Answers ---


@dataclass(frozen=True)
class CurrentAnswer:
    """An item's answer as it stands: the answer's ledgered fields (JSON), or the latest
    amendment's ``amended`` fields."""

    fields: dict[str, Any]
    amended: bool


def answer_fields(row: InspectionAnswer) -> dict[str, Any]:
    state = ledger_state(row)
    assert state is not None
    return state


def current_answers(
    answers: Sequence[InspectionAnswer], amendments: Sequence[InspectionAmendment]
) -> dict[str, CurrentAnswer]:
    current = {a.item_code: CurrentAnswer(answer_fields(a), False) for a in answers}
    for amendment in amendments:  # oldest first: the last one wins
        current[amendment.item_code] = CurrentAnswer(dict(amendment.amended), True)
    return current


def penalty_read(penalty: dict[str, Any] | None) -> PenaltyRead | None:
    if not penalty:
        return None
    amount = int(penalty.get("amount_fen", 0))
    recommended = penalty.get("recommended_fen")
    act_date = penalty.get("input", {}).get("act_date")
    return PenaltyRead(
        amount_fen=amount,
        amount_yuan=yuan_fixed(amount),
        recommended_fen=recommended,
        recommended_yuan=yuan_fixed(recommended) if recommended is not None else None,
        deviation=str(penalty.get("deviation", "none")),
        reason=str(penalty.get("reason", "")),
        party_type=str(penalty.get("party_type", "")),
        act_date=date.fromisoformat(act_date) if act_date else None,
        power_code=str(penalty.get("power_code", "")),
        power_name=str(penalty.get("power_name", "")),
        level=str(penalty.get("level", "")),
        tier_range=_range(penalty.get("tier_range")),
        statutory_range=_range(penalty.get("statutory_range")),
        simple_procedure_cap_fen=penalty.get("simple_procedure_cap_fen"),
        citations=[CitationText.model_validate(c) for c in penalty.get("citations", [])],
    )


def _range(value: Any) -> RangeRead | None:
    return RangeRead.model_validate(value) if isinstance(value, dict) else None


def checklist_items(checklist: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["code"]: item for item in checklist.get("items", [])}


def _power_name(item: dict[str, Any] | None, code: str | None) -> str | None:
    if item is None or code is None:
        return None
    return next((p["name"] for p in item.get("powers", []) if p["code"] == code), None)


def answer_read(
    code: str, answer: CurrentAnswer, item: dict[str, Any] | None, locale: str
) -> AnswerRead:
    f = answer.fields
    result, measure = AnswerResult(f["result"]), Measure(f.get("measure") or Measure.NONE)
    deadline, answered_at = f.get("rectify_deadline"), f.get("answered_at")
    return AnswerRead(
        item_code=code,
        item_text=item["text"] if item is not None else "",
        item_version=int(f.get("item_version") or 0),
        result=result.value,
        result_label=translate(locale, result.label),
        reason=f.get("reason") or "",
        note=f.get("note") or "",
        measure=measure.value,
        measure_label=translate(locale, measure.label),
        power_code=f.get("power_code"),
        power_name=_power_name(item, f.get("power_code")),
        rectify_deadline=date.fromisoformat(deadline) if deadline else None,
        penalty=penalty_read(f.get("penalty")),
        amended=answer.amended,
        answered_by_id=f.get("answered_by_id"),
        answered_at=datetime.fromisoformat(answered_at) if answered_at else None,
    )


# --- Inspections ---


def verify_url(public_id: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/verify/{public_id}"


def document_ref(row: Document, locale: str) -> DocumentRef:
    return DocumentRef(
        id=row.id,
        public_id=row.public_id,
        doc_type=str(row.doc_type),
        doc_type_label=translate(locale, DocumentType(row.doc_type).label),
        number_text=row.number_text,
        status=DocumentStatus(row.status).value,
        issued_at=row.issued_at,
        pdf_sha256=row.pdf_sha256,
        verify_url=verify_url(row.public_id),
        pdf_url=f"/api/v1/documents/{row.id}/pdf",
    )


def inspection_read(
    session: Session, row: Inspection, task: InspectionTask, locale: str
) -> InspectionRead:
    items = checklist_items(row.checklist)
    answers = repo.answers(session, row.id)
    amendments = repo.amendments(session, row.id)
    current = current_answers(answers, amendments)
    order = [code for code in items if code in current] + [c for c in current if c not in items]
    follow_ups = repo.follow_ups_of(session, task.id)
    status = InspectionStatus(row.status)
    return InspectionRead(
        id=row.id,
        task_id=row.task_id,
        subject_id=row.subject_id,
        status=status.value,
        status_label=translate(locale, status.label),
        started_by_id=row.started_by_id,
        submitted_by_id=row.submitted_by_id,
        submitted_at=row.submitted_at,
        summary=row.summary,
        checklist_on=row.checklist_on,
        checklist_sha256=row.checklist_sha256,
        content_sha256=row.content_sha256,
        answers=[answer_read(c, current[c], items.get(c), locale) for c in order],
        amendments=[amendment_read(a) for a in amendments],
        follow_up_task_id=follow_ups[-1].id if follow_ups else None,
        case_lead_ids=[c.id for c in repo.case_leads_of(session, row.id)],
        evidence=[evidence_read(e) for e in repo.evidence_of_task(session, task.id)],
        documents=[document_ref(d, locale) for d in repo.documents_of_task(session, task.id)],
    )


def amendment_read(row: InspectionAmendment) -> AmendmentRead:
    return AmendmentRead(
        id=row.id,
        item_code=row.item_code,
        previous=row.previous,
        amended=row.amended,
        reason=row.reason,
        amended_by_id=row.amended_by_id,
        created_at=row.created_at,
    )


def case_lead_read(
    lead: CaseLead, task: InspectionTask, subject: Subject | None, locale: str
) -> CaseLeadRead:
    status = CaseLeadStatus(lead.status)
    return CaseLeadRead(
        id=lead.id,
        inspection_id=lead.inspection_id,
        task_id=task.id,
        subject_id=lead.subject_id,
        subject_name=subject.name if subject is not None else "",
        item_code=lead.item_code,
        power_code=lead.power_code,
        facts=lead.facts,
        status=status.value,
        status_label=translate(locale, status.label),
        created_by_id=lead.created_by_id,
        created_at=lead.created_at,
    )
