"""The handling loop (处置闭环): one function per step, from 立案 to 回访.

Command-centre steps (``file``, ``reject``, ``transfer``, ``dispatch``, ``verify``, ``close``,
``answer_directly``) return the ``Step`` taken. The officer's device steps (``take``, ``decline``,
``arrive``, ``dispose``, ``feed_back``) are applied exactly once per ``client_uuid``
(``inspections.common.once``) and return the ``Reply`` kept for a repeat. ``rate`` is public (the
citizen's page and Open311). ``auto_dispatch`` is called by intake. The device steps are written
in ``handling_device`` and what the steps share in ``handling_base``; this module exports them all.

Invariants:
- Every step goes through ``workflow.advance`` (status check → 409, time column, timeline event,
  SLA clocks, ledger ``complaint.<step>``, outbox, bus) in the caller's transaction.
- A complaint outside the actor's data scope is 404; an officer may also reach a complaint they
  were dispatched to. Device steps are for the dispatched officers only (403 for another).
- The dispatched officers are committed to the complaint (``OfficerLive.complaint_id``) from
  dispatch until feedback, decline or re-dispatch to others; their duty status follows the steps
  (taken → en_route, arrived → on_scene, disposed → handling, fed back → available).
- At least one officer is dispatched; on-site enforcement (责令改正, an inspection) needs two
  (行政处罚法 art. 42): a dispatch of one says so, and such a disposal is refused with one.
- Public notes are written in Chinese: they are what the citizen reads (status page, Open311).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.complaints import workflow
from zhifa.complaints.handling_base import (
    ASSIGNED,
    N_,
    SECOND_OFFICER_NOTICE,
    S,
    Step,
    check_status,
    commit_officers,
    free_officers,
    load,
    required,
    step_body,
    step_reply,
)
from zhifa.complaints.handling_device import arrive, decline, dispose, feed_back, take
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.inspections.common import today, whole_day
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintCategory, HotlineType
from zhifa.models.dispatch import OfficerLive
from zhifa.models.inspections import InspectionTask, TaskStatus
from zhifa.models.org import Officer, OfficerStatus
from zhifa.org.actor import Actor

__all__ = [
    "SECOND_OFFICER_NOTICE",
    "Step",
    "answer_directly",
    "arrive",
    "assignments",
    "auto_dispatch",
    "close",
    "decline",
    "dispatch",
    "dispose",
    "feed_back",
    "file",
    "reject",
    "rate",
    "step_body",
    "step_reply",
    "take",
    "transfer",
    "verify",
]

# What the citizen reads (public notes).
FILED_NOTE = "您反映的问题已立案，正在安排执法队员处置。"
DISPATCHED_NOTE = "已派遣执法队员前往处置。"
REWORK_NOTE = "核查未通过，重新处置"
# For the dispatcher (not public).
AUTO_DISPATCH_NOTE = "自动派遣未找到两名可派队员，请指挥中心人工派遣。"

# From 受理 a dispatch files first; from 派遣 / 接单 it re-dispatches.
DISPATCHABLE = frozenset({S.RECEIVED, S.FILED, S.DISPATCHED, S.TAKEN})
DIRECT_ANSWER_TYPES = frozenset({HotlineType.CONSULT, HotlineType.HELP, HotlineType.SUGGESTION})
COMMENT_MAX = 500


# --- Command centre ---


def file(session: Session, actor: Actor, *, complaint_id: int, note: str = "") -> Step:
    """立案: the complaint is accepted for handling."""
    complaint = load(session, actor, complaint_id)
    return _file(session, complaint, actor.officer_id, note)


def _file(session: Session, complaint: Complaint, actor_id: int | None, note: str) -> Step:
    data = {"remark": note.strip()} if note.strip() else {}
    event = workflow.advance(
        session, complaint, "filed", actor_id=actor_id, note=FILED_NOTE, data=data
    )
    return Step(complaint, event)


def reject(session: Session, actor: Actor, *, complaint_id: int, reason: str) -> Step:
    """不予受理, with the reason the citizen reads."""
    complaint = load(session, actor, complaint_id)
    reason = required(reason, "reason", N_("Give the reason for not accepting the complaint."))
    event = workflow.advance(
        session,
        complaint,
        "rejected",
        actor_id=actor.officer_id,
        note=f"不予受理：{reason}",
        data={"reason": reason},
    )
    return Step(complaint, event)


def transfer(session: Session, actor: Actor, *, complaint_id: int, to: str, reason: str) -> Step:
    """转办 to another agency, with the reason the citizen reads."""
    complaint = load(session, actor, complaint_id)
    to = required(to, "to", N_("Name the agency the complaint is transferred to."))
    reason = required(reason, "reason", N_("Give the reason for the transfer."))
    complaint.transfer_to = to
    event = workflow.advance(
        session,
        complaint,
        "transferred",
        actor_id=actor.officer_id,
        note=f"已转 {to} 办理：{reason}",
        data={"to": to, "reason": reason},
    )
    return Step(complaint, event)


def dispatch(
    session: Session,
    actor: Actor,
    *,
    complaint_id: int,
    officer_ids: Sequence[int],
    note: str = "",
    subject_id: int | None = None,
) -> Step:
    """派遣 to one or more officers (lead first); from 受理 it files first (one click)."""
    complaint = load(session, actor, complaint_id)
    return _dispatch(
        session, complaint, actor, officer_ids=officer_ids, note=note, subject_id=subject_id
    )


def _dispatch(
    session: Session,
    complaint: Complaint,
    actor: Actor | None,
    *,
    officer_ids: Sequence[int],
    note: str,
    subject_id: int | None,
) -> Step:
    actor_id = actor.officer_id if actor is not None else None
    check_status(complaint, DISPATCHABLE, "dispatch")
    ids = _check_officers(session, complaint, officer_ids)
    if complaint.status == S.RECEIVED:
        _file(session, complaint, actor_id, "")
    previous = [i for i in complaint.officer_ids or [] if i not in ids]
    complaint.officer_ids = ids
    task_id = _dispatch_task(session, complaint, actor, ids, subject_id)
    notice = SECOND_OFFICER_NOTICE if len(ids) < 2 else ""
    data: dict[str, Any] = {"officer_ids": ids, "auto": actor is None}
    data |= {"remark": note.strip()} if note.strip() else {}
    data |= {"task_id": task_id} if task_id is not None else {}
    data |= {"notice": notice} if notice else {}
    data |= {"released": previous} if previous else {}
    free_officers(session, previous, actor_id)
    commit_officers(session, complaint, ids, actor_id)
    event = workflow.advance(
        session, complaint, "dispatched", actor_id=actor_id, note=DISPATCHED_NOTE, data=data
    )
    return Step(complaint, event, notice)


def _check_officers(
    session: Session, complaint: Complaint, officer_ids: Sequence[int]
) -> list[int]:
    """The distinct ids in order, each an active field officer of the district, not committed
    to another open complaint."""
    from zhifa.dispatch import live

    ids = list(dict.fromkeys(officer_ids))
    if not ids:
        raise InvalidInput(
            "Choose at least one officer to dispatch, the lead first.",
            detail={"field": "officer_ids"},
        )
    for officer_id in ids:
        officer = session.get(Officer, officer_id)
        if (
            officer is None
            or officer.district_code != complaint.district_code
            or officer.status != OfficerStatus.ACTIVE
            or not live.is_handler(officer.roles)
        ):
            raise InvalidInput(
                "Officer {officer_id} is not an active field officer of this district.",
                detail={"field": "officer_ids", "officer_id": officer_id},
                officer_id=officer_id,
            )
        _check_uncommitted(session, officer, complaint)
    return ids


def _check_uncommitted(session: Session, officer: Officer, complaint: Complaint) -> None:
    live = session.get(OfficerLive, officer.id)
    if live is None or live.complaint_id in (None, complaint.id):
        return
    other = session.get(Complaint, live.complaint_id)
    if other is not None and other.status in ASSIGNED and officer.id in (other.officer_ids or []):
        raise Conflict(
            "{name} is already handling complaint {tracking_no}; choose another officer.",
            detail={"field": "officer_ids", "officer_id": officer.id, "complaint_id": other.id},
            name=officer.name,
            tracking_no=other.tracking_no,
        )


def _dispatch_task(
    session: Session,
    complaint: Complaint,
    actor: Actor | None,
    ids: list[int],
    subject_id: int | None,
) -> int | None:
    """The dispatched inspection task when the handling needs one; a task of earlier officers
    not yet submitted is cancelled and replaced."""
    from zhifa.inspections.tasks import create_dispatched_task, task_service

    subject_id = subject_id or complaint.subject_id
    current = session.get(InspectionTask, complaint.task_id) if complaint.task_id else None
    if subject_id is None or actor is None:
        return complaint.task_id
    if current is not None:
        if current.status == TaskStatus.SUBMITTED or (
            current.subject_id == subject_id and list(current.officer_ids) == ids
        ):
            return current.id
        if current.status != TaskStatus.CANCELLED:
            task_service.cancel(
                session, actor, task_id=current.id, reason="投诉改派，另行派发检查任务"
            )
    now = utcnow()
    task = create_dispatched_task(
        session,
        actor,
        subject_id=subject_id,
        officer_ids=ids,
        window=(now, whole_day(today())[1]),
        origin_ref=f"complaint:{complaint.tracking_no}",
    )
    complaint.task_id, complaint.subject_id = task.id, subject_id
    return task.id


def verify(
    session: Session, actor: Actor, *, complaint_id: int, passed: bool, note: str = ""
) -> Step:
    """核查 by the command centre or an officer who did not handle it: passed → verified,
    failed → 返工 (back to the same officers)."""
    complaint = load(session, actor, complaint_id)
    if actor.officer_id in (complaint.officer_ids or []):
        raise PermissionDenied(
            "You handled this complaint; the command centre or another officer verifies it.",
            detail={"complaint_id": complaint.id, "permission": "verifier"},
        )
    if complaint.verified_at is not None:  # verified once already: the next step is closing
        check_status(complaint, frozenset(), "verify")
    if passed:
        data = {"passed": True} | ({"note": note.strip()} if note.strip() else {})
        event = workflow.advance(
            session, complaint, "verified", actor_id=actor.officer_id, data=data
        )
        return Step(complaint, event)
    reason = required(note, "note", N_("Say what is still wrong, so the officers can rework it."))
    check_status(complaint, frozenset({S.FED_BACK}), "rework")
    commit_officers(session, complaint, list(complaint.officer_ids or []), actor.officer_id)
    event = workflow.advance(
        session,
        complaint,
        "rework",
        actor_id=actor.officer_id,
        public=True,
        note=REWORK_NOTE,
        data={"passed": False, "note": reason, "officer_ids": list(complaint.officer_ids or [])},
    )
    return Step(complaint, event)


def close(session: Session, actor: Actor, *, complaint_id: int, answer: str) -> Step:
    """结案 after 核查: the answer to the citizen, also given to every complaint merged into it."""
    from zhifa.complaints import duplicates

    complaint = load(session, actor, complaint_id)
    check_status(complaint, frozenset({S.FED_BACK}), "close")
    if complaint.verified_at is None:
        raise Conflict(
            "The handling has not been verified yet; verify it before closing.",
            detail={"step": "close"},
            error_code="not_verified",
        )
    answer = required(answer, "answer", N_("Write the answer to the citizen."))
    complaint.answer = answer
    event = workflow.advance(session, complaint, "closed", actor_id=actor.officer_id, note=answer)
    for merged in duplicates.merged_into(session, complaint):
        merged.answer = answer
        workflow.advance(
            session,
            merged,
            "note",
            actor_id=actor.officer_id,
            public=True,
            note=answer,
            data={"answer_of": complaint.tracking_no, "into_id": complaint.id},
        )
    return Step(complaint, event)


def answer_directly(session: Session, actor: Actor, *, complaint_id: int, answer: str) -> Step:
    """A 咨询 / 求助 / 意见建议 answered without dispatch: 受理 or 立案 → 结案."""
    complaint = load(session, actor, complaint_id)
    if HotlineType(complaint.hotline_type) not in DIRECT_ANSWER_TYPES:
        raise Conflict(
            "Only a consultation, a request for help or a suggestion can be answered directly; "
            "a complaint is dispatched.",
            detail={"hotline_type": str(complaint.hotline_type)},
            error_code="not_answerable",
        )
    check_status(complaint, frozenset({S.RECEIVED, S.FILED}), "answer")
    answer = required(answer, "answer", N_("Write the answer to the citizen."))
    complaint.answer = answer
    event = workflow.advance(
        session,
        complaint,
        "closed",
        actor_id=actor.officer_id,
        note=answer,
        data={"direct": True},
    )
    return Step(complaint, event)


def rate(session: Session, *, tracking_no: str, rating: int, comment: str = "") -> Step:
    """回访: the citizen's rating of a closed complaint (1–5), once."""
    complaint = session.scalars(
        select(Complaint).where(Complaint.tracking_no == tracking_no.strip()).with_for_update()
    ).one_or_none()
    if complaint is None:
        raise NotFound(
            "No complaint has the tracking number {tracking_no}.", tracking_no=tracking_no
        )
    if not 1 <= rating <= 5:
        raise InvalidInput("Give a rating from 1 to 5.", detail={"field": "rating"})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            "The comment may have at most {max} characters.",
            detail={"field": "comment"},
            max=COMMENT_MAX,
        )
    if complaint.rated_at is not None:
        raise Conflict("This complaint has already been rated.", error_code="already_rated")
    if complaint.status != S.CLOSED:
        raise Conflict("Only a closed complaint can be rated.", error_code="not_closed")
    complaint.rating, complaint.rating_comment = rating, comment
    event = workflow.advance(
        session,
        complaint,
        "rated",
        actor_id=None,
        public=True,
        note=f"群众评价：{rating} 星",
        data={"rating": rating, "comment": comment},
    )
    return Step(complaint, event)


def auto_dispatch(session: Session, complaint: Complaint) -> Step | None:
    """Dispatch the recommended pair as the system when the category says so; else leave the
    complaint to the dispatcher with a note (not public). None when nothing was dispatched."""
    from zhifa.dispatch import recommend

    category = session.get(ComplaintCategory, complaint.category_id)
    if category is None or not category.auto_dispatch:
        return None
    if complaint.status not in (S.RECEIVED, S.FILED):
        return None
    found = recommend.recommend(session, complaint)
    pair = [c.officer_id for c in found.pair]
    if len(pair) < 2:
        workflow.advance(
            session,
            complaint,
            "note",
            actor_id=None,
            public=False,
            note=AUTO_DISPATCH_NOTE,
            data={"auto": True, "explanation": list(found.explanation)},
        )
        return None
    return _dispatch(session, complaint, None, officer_ids=pair, note="", subject_id=None)


def assignments(session: Session, actor: Actor) -> list[Complaint]:
    """The caller's open assignments (dispatched … disposed), the most recently dispatched
    first."""
    rows = session.scalars(
        select(Complaint)
        .where(
            Complaint.district_code == actor.district_code,
            Complaint.status.in_(sorted(ASSIGNED)),
        )
        .order_by(Complaint.dispatched_at.desc(), Complaint.id.desc())
    ).all()
    return [r for r in rows if actor.officer_id in (r.officer_ids or [])]
