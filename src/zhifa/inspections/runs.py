"""The checklist run (现场检查): submission and amendments.

Invariants:
- A submission is applied once per client UUID (operation ``inspection.submit``); a repeat gets
  the first reply, other content under the UUID is a 409.
- It needs the lead and the submitting officer on site and at least two officers present (行政处罚法
  art. 42), the frozen checklist the device answered (same SHA-256), every item answered once
  by the rules of ``measures``, and every piece of evidence it names already received.
- A task cancelled or reassigned away from the caller is a 409 saying so: the device keeps the
  answers. An inspection already submitted is a 409 too (a correction is an amendment).
- On success the answers are written once and never change (``answers_are_final`` refuses any
  later change of an answer row with a 409); a 责令改正 creates one follow-up task on the latest
  deadline day with the same officers; each 建议立案 creates a ``CaseLead``.
- The task's evidence belongs to the inspection through the task (one inspection per task):
  evidence rows are append-only (a database trigger refuses UPDATE), so they are not touched;
  the submission binds them instead: ``content_sha256`` is the SHA-256 of the canonical submitted
  content (answers, summary, checklist digest, and each evidence row's UUID, SHA-256 and SM3),
  and ``inspection.submitted`` is ledgered with the counts, the content digest and the evidence
  digests (the envelope's ``evidence``), then announced on the event bus for the command centre.
- Every row written or changed has a ledger event about it carrying its state: the inspection and
  the task, each answer (``inspection.answer.recorded``), each case lead,
  each follow-up task.
- An amendment keeps the answer as it stood (``previous``) beside the correction (``amended``),
  with a reason; the current answer is the latest amendment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.inspections import read
from zhifa.inspections import repository as repo
from zhifa.inspections.common import Reply, digest, once, record, today
from zhifa.inspections.measures import CheckedAnswer, Context, check_answer
from zhifa.inspections.schemas import AmendmentIn, AnswerIn, SubmissionIn
from zhifa.inspections.tasks import task_service
from zhifa.kit import idempotency
from zhifa.kit.clock import utcnow
from zhifa.kit.events import publish_after_commit
from zhifa.models.inspections import (
    AnswerResult,
    CaseLead,
    Evidence,
    Inspection,
    InspectionAmendment,
    InspectionAnswer,
    InspectionStatus,
    InspectionTask,
    Measure,
    TaskStatus,
)
from zhifa.models.subjects import Subject, SubjectKind
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission

OPERATION = "inspection.submit"


@event.listens_for(Session, "before_flush")
def answers_are_final(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """An answer is written once, at submission: changing or deleting it is refused (409)."""
    frozen = (InspectionAnswer, InspectionAmendment)
    changed = [o for o in session.dirty if isinstance(o, frozen) and session.is_modified(o)]
    deleted = [o for o in session.deleted if isinstance(o, frozen)]
    if changed or deleted:
        raise Conflict(
            "A submitted answer cannot be changed; record an amendment with a reason instead.",
            error_code="answer_frozen",
        )


# --- Submission ---


def submit(
    session: Session, actor: Actor, *, task_id: int, data: SubmissionIn, locale: str
) -> Reply:
    """Submit the checklist run of a task, exactly once per client UUID (201 InspectionRead)."""
    request = data.model_dump(mode="json", exclude={"client_uuid"}) | {"task_id": task_id}
    return once(
        session,
        actor,
        client_uuid=data.client_uuid,
        operation=OPERATION,
        request=request,
        apply=lambda: _apply(session, actor, task_id, data, locale),
    )


def _apply(session: Session, actor: Actor, task_id: int, data: SubmissionIn, locale: str) -> Reply:
    task = task_service.get(session, actor, task_id=task_id, lock=True)
    check_still_assigned(task, actor)
    inspection = repo.inspection_of_task(session, task.id)
    check_presence(session, task, actor, inspection)
    assert inspection is not None
    if inspection.status == InspectionStatus.SUBMITTED:
        raise _already_submitted(task)
    items = read.checklist_items(inspection.checklist)
    check_checklist(inspection, items, data)
    subject = session.get(Subject, task.subject_id)
    assert subject is not None
    checked = check_answers(session, task, subject, items, data.answers)
    evidence = check_evidence(session, task, data.evidence_uuids)
    _store(session, actor, task, subject, inspection, checked, evidence, data)
    return Reply(
        201, read.inspection_read(session, inspection, task, locale).model_dump(mode="json")
    )


def _already_submitted(task: InspectionTask) -> Conflict:
    return Conflict(
        "The inspection of this task was already submitted; a correction must be recorded as "
        "an amendment.",
        detail={"task_id": task.id},
        error_code="already_submitted",
    )


def check_still_assigned(task: InspectionTask, actor: Actor) -> None:
    """A task cancelled or handed to other officers meanwhile: the device keeps the answers."""
    if task.status == TaskStatus.CANCELLED:
        raise Conflict(
            "This task was cancelled ({reason}). Nothing was submitted; your answers stay on "
            "your device. Ask your squad leader what to do with them.",
            detail={"task_id": task.id},
            error_code="task_cancelled",
            reason=task.cancel_reason,
        )
    if actor.officer_id not in task.officer_ids:
        raise Conflict(
            "This task was reassigned to other officers. Nothing was submitted; your answers "
            "stay on your device. Ask your squad leader what to do with them.",
            detail={"task_id": task.id},
            error_code="task_reassigned",
        )
    if task.status == TaskStatus.SUBMITTED:
        raise _already_submitted(task)


def check_presence(
    session: Session, task: InspectionTask, actor: Actor, inspection: Inspection | None
) -> None:
    present = repo.present_officer_ids(session, task)
    if task.lead_officer_id not in present or inspection is None:
        raise InvalidInput(
            "The lead officer has not checked in on site; check in before submitting.",
            detail={"present_officer_ids": present},
            error_code="not_checked_in",
        )
    if actor.officer_id not in present:
        raise InvalidInput(
            "You have not checked in on site; check in before submitting.",
            detail={"present_officer_ids": present},
            error_code="not_checked_in",
        )
    if len(present) < 2:
        raise InvalidInput(
            "Only one officer has checked in on site. A second officer must confirm presence "
            "from their own device (Administrative Penalty Law art. 42).",
            detail={"present_officer_ids": present},
            error_code="too_few_officers",
        )


def check_checklist(
    inspection: Inspection, items: dict[str, dict[str, Any]], data: SubmissionIn
) -> None:
    """The device answered the frozen checklist, every item once and nothing else."""
    given = [a.item_code for a in data.answers]
    unknown = sorted({c for c in given if c not in items})
    missing = [c for c in items if c not in set(given)]
    if data.checklist_sha256 != inspection.checklist_sha256:
        raise Conflict(
            "The checklist has changed since your device loaded it. Reload the task and check "
            "the items again.",
            detail={"field": "checklist_sha256", "missing": missing, "unknown": unknown},
            error_code="checklist_changed",
        )
    twice = sorted(c for c, n in Counter(given).items() if n > 1)
    if twice:
        raise InvalidInput(
            "Items answered more than once: {codes}.",
            detail={"field": "answers", "twice": twice},
            codes=", ".join(twice),
        )
    if unknown:
        raise InvalidInput(
            "These items are not on the checklist: {codes}.",
            detail={"field": "answers", "unknown": unknown},
            codes=", ".join(unknown),
        )
    if missing:
        raise InvalidInput(
            "Every item must be answered; not answered yet: {codes}.",
            detail={"field": "answers", "missing": missing},
            error_code="unanswered_items",
            codes=", ".join(missing),
        )


def _context(session: Session, task: InspectionTask, subject: Subject, field: str) -> Context:
    party = SubjectKind(subject.kind).party_type
    return Context(session, task.district_code, party, today(), field)


def check_answers(
    session: Session,
    task: InspectionTask,
    subject: Subject,
    items: dict[str, dict[str, Any]],
    answers: Sequence[AnswerIn],
) -> list[CheckedAnswer]:
    by_code = {a.item_code: (n, a) for n, a in enumerate(answers)}
    checked = []
    for code, item in items.items():  # in checklist order
        n, answer = by_code[code]
        checked.append(
            check_answer(_context(session, task, subject, f"answers[{n}]"), item, answer)
        )
    return checked


def check_evidence(session: Session, task: InspectionTask, uuids: Sequence[str]) -> list[Evidence]:
    """The task's evidence; every UUID the device names must have arrived already."""
    rows = repo.evidence_of_task(session, task.id)
    have = {e.client_uuid for e in rows}
    named = [idempotency.parse_uuid(u, field="evidence_uuids") for u in uuids]
    missing = [u for u in dict.fromkeys(named) if u not in have]
    if missing:
        raise Conflict(
            "{count} pieces of evidence have not arrived yet. Send them first, then submit "
            "again; nothing was submitted.",
            detail={"field": "evidence_uuids", "missing": missing},
            error_code="evidence_missing",
            count=len(missing),
        )
    return rows


def content_of(
    inspection: Inspection,
    checked: Sequence[CheckedAnswer],
    evidence: Sequence[Evidence],
    summary: str,
) -> dict[str, Any]:
    """What ``content_sha256`` is computed over."""
    return {
        "task_id": inspection.task_id,
        "inspection_id": inspection.id,
        "checklist_sha256": inspection.checklist_sha256,
        "summary": summary,
        "answers": [c.fields() for c in checked],
        "evidence": sorted(
            ({"client_uuid": e.client_uuid, "sha256": e.sha256, "sm3": e.sm3} for e in evidence),
            key=lambda e: e["client_uuid"],
        ),
    }


def _store(
    session: Session,
    actor: Actor,
    task: InspectionTask,
    subject: Subject,
    inspection: Inspection,
    checked: list[CheckedAnswer],
    evidence: list[Evidence],
    data: SubmissionIn,
) -> None:
    now = utcnow()
    summary = data.summary.strip()
    _add_answers(session, actor, inspection, checked, now)
    inspection.status = InspectionStatus.SUBMITTED
    inspection.submitted_by_id, inspection.submitted_at = actor.officer_id, now
    inspection.summary = summary
    inspection.content_sha256 = digest(content_of(inspection, checked, evidence, summary))
    task.status = TaskStatus.SUBMITTED
    record(
        session,
        actor.officer_id,
        "inspection.task.updated",
        task,
        {"changes": {"status": {"before": "in_progress", "after": "submitted"}}},
        district_code=task.district_code,
    )
    follow_up = _follow_up(session, actor, task, checked)
    leads = [
        _case_lead(session, actor, inspection, c) for c in checked if c.measure == Measure.CASE_LEAD
    ]
    counts = _counts(checked, evidence)
    record(
        session,
        actor.officer_id,
        "inspection.submitted",
        inspection,
        {
            "counts": counts,
            "content_sha256": inspection.content_sha256,
            "follow_up_task_id": follow_up.id if follow_up is not None else None,
            "case_lead_ids": [c.id for c in leads],
        },
        district_code=inspection.district_code,
        evidence=tuple(sorted({e.sha256 for e in evidence})),
    )
    publish_after_commit(
        session,
        "inspection.submitted",
        {
            "inspection_id": inspection.id,
            "task_id": task.id,
            "unit_id": task.unit_id,
            "subject_id": subject.id,
            "subject_name": subject.name,
            "lon": subject.lon,
            "lat": subject.lat,
            "submitted_at": now.isoformat(),
            "submitted_by_id": actor.officer_id,
            "officer_ids": list(task.officer_ids),
            "counts": counts,
        },
        district_code=inspection.district_code,
    )


def _add_answers(
    session: Session, actor: Actor, inspection: Inspection, checked: list[CheckedAnswer], now: Any
) -> None:
    for c in checked:
        row = InspectionAnswer(
            district_code=inspection.district_code,
            inspection_id=inspection.id,
            item_code=c.item_code,
            item_version=c.item_version,
            result=c.result,
            reason=c.reason,
            note=c.note,
            measure=c.measure,
            power_code=c.power_code,
            rectify_deadline=c.rectify_deadline,
            penalty=c.penalty,
            answered_by_id=actor.officer_id,
            answered_at=now,
        )
        session.add(row)
        session.flush()
        record(
            session,
            actor.officer_id,
            "inspection.answer.recorded",
            row,
            {"inspection_id": inspection.id, "item_code": c.item_code},
            district_code=row.district_code,
        )


def _counts(checked: Sequence[CheckedAnswer], evidence: Sequence[Evidence]) -> dict[str, int]:
    results = Counter(c.result.value for c in checked)
    measures = Counter(c.measure.value for c in checked if c.measure != Measure.NONE)
    return {
        **{r.value: results.get(r.value, 0) for r in AnswerResult},
        **{m.value: measures.get(m.value, 0) for m in Measure if m != Measure.NONE},
        "items": len(checked),
        "evidence": len(evidence),
    }


def _follow_up(
    session: Session, actor: Actor, task: InspectionTask, checked: Sequence[CheckedAnswer]
) -> InspectionTask | None:
    deadlines = [c.rectify_deadline for c in checked if c.rectify_deadline is not None]
    if not deadlines:
        return None
    return task_service.create_follow_up(
        session, actor.officer_id, origin=task, deadline=max(deadlines)
    )


def _case_lead(
    session: Session, actor: Actor, inspection: Inspection, answer: CheckedAnswer
) -> CaseLead:
    row = CaseLead(
        district_code=inspection.district_code,
        inspection_id=inspection.id,
        subject_id=inspection.subject_id,
        item_code=answer.item_code,
        power_code=answer.power_code,
        facts=answer.reason,
        created_by_id=actor.officer_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor.officer_id,
        "inspection.case_lead.created",
        row,
        {"item_code": answer.item_code, "power_code": answer.power_code},
        district_code=row.district_code,
    )
    return row


# --- Reading ---


def get(session: Session, actor: Actor, *, inspection_id: int) -> tuple[Inspection, InspectionTask]:
    found = repo.inspection_in_scope(session, actor, inspection_id)
    if found is None:
        raise NotFound("The inspection does not exist or is outside your data scope.")
    return found


# --- Amendments ---


def amend(
    session: Session, actor: Actor, *, inspection_id: int, data: AmendmentIn
) -> InspectionAmendment:
    """Correct one submitted answer with a reasoned amendment; the answer stays as it was."""
    inspection, task = get(session, actor, inspection_id=inspection_id)
    if actor.officer_id not in task.officer_ids and not actor.can(Permission.TASKS_MANAGE):
        raise PermissionDenied(
            "Only the inspection's officers or a squad leader can amend its answers.",
            detail={"inspection_id": inspection.id},
        )
    if inspection.status != InspectionStatus.SUBMITTED:
        raise Conflict(
            "The inspection has not been submitted yet; answers are given with the submission.",
            detail={"inspection_id": inspection.id},
        )
    reason = data.amendment_reason.strip()
    if not reason:
        raise InvalidInput("An amendment needs a reason.", detail={"field": "amendment_reason"})
    items = read.checklist_items(inspection.checklist)
    item = items.get(data.item_code)
    if item is None:
        raise InvalidInput(
            "These items are not on the checklist: {codes}.",
            detail={"field": "item_code", "unknown": [data.item_code]},
            codes=data.item_code,
        )
    current = read.current_answers(
        repo.answers(session, inspection.id), repo.amendments(session, inspection.id)
    )
    previous = current[data.item_code].fields
    subject = session.get(Subject, inspection.subject_id)
    assert subject is not None
    answer = AnswerIn.model_validate(data.model_dump(exclude={"amendment_reason"}))
    checked = check_answer(
        _context(session, task, subject, "amendment"), item, answer, current=previous
    )
    amended = (
        previous
        | checked.fields()
        | {
            "answered_by_id": actor.officer_id,
            "answered_at": utcnow().isoformat(),
        }
    )
    if _same_answer(previous, amended):
        raise InvalidInput(
            "The amendment changes nothing in the answer of item {code}.",
            detail={"field": "item_code"},
            code=data.item_code,
        )
    row = InspectionAmendment(
        district_code=inspection.district_code,
        inspection_id=inspection.id,
        item_code=data.item_code,
        previous=previous,
        amended=amended,
        reason=reason,
        amended_by_id=actor.officer_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor.officer_id,
        "inspection.amended",
        row,
        {"item_code": data.item_code, "reason": reason},
        district_code=row.district_code,
    )
    _amendment_measures(session, actor, task, inspection, previous, checked)
    return row


ANSWER_CONTENT = (
    "result",
    "reason",
    "note",
    "measure",
    "power_code",
    "rectify_deadline",
    "penalty",
)


def _same_answer(previous: dict[str, Any], amended: dict[str, Any]) -> bool:
    return all(previous.get(k) == amended.get(k) for k in ANSWER_CONTENT)


def _amendment_measures(
    session: Session,
    actor: Actor,
    task: InspectionTask,
    inspection: Inspection,
    previous: dict[str, Any],
    checked: CheckedAnswer,
) -> None:
    """A measure the correction introduces takes effect as at submission: a new or moved
    deadline gets its follow-up task, a new case recommendation its case lead."""
    deadline = checked.rectify_deadline
    if deadline is not None and previous.get("rectify_deadline") != deadline.isoformat():
        task_service.create_follow_up(session, actor.officer_id, origin=task, deadline=deadline)
    was_lead = previous.get("measure") == Measure.CASE_LEAD.value
    if checked.measure == Measure.CASE_LEAD and not (
        was_lead and previous.get("power_code") == checked.power_code
    ):
        _case_lead(session, actor, inspection, checked)
