"""Pausing, resuming and extending a complaint's SLA clocks (计时暂停 / 恢复 / 延期).

- ``pause`` (complaints:dispatch): only while a clock runs and not twice; the citizen reads
  「等待当事人，计时暂停」. ``resume`` ends it; ``sla.resume`` moves the deadlines by the paused
  time.
- ``request_extension`` (complaints:handle): for one stage whose clock runs and whose deadline has
  not passed yet (12345 practice: an extension is applied for before expiry), one pending request
  per stage.
- ``decide_extension`` (complaints:approve): by someone other than the requester; an approval
  needs the stage's clock still running and adds the amount to its deadline.

Invariants: every change is a ``workflow.advance`` step (``paused``, ``resumed``,
``extension_requested``, ``extended``, ``extension_refused``) in the caller's transaction, so it
is on the timeline and in the ledger; the complaint row is locked while its clocks change.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.complaints import repository, sla, workflow
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintExtension,
    ComplaintStatus,
    ExtensionStatus,
    SlaStage,
)
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission

N_ = workflow.N_
# What the citizen reads (public notes, Chinese: they are shown as written).
PAUSE_NOTE = "等待当事人，计时暂停"
RESUME_NOTE = "计时恢复"
REASON_MAX = 500

NOT_FOUND = N_("Complaint {complaint_id} does not exist or is outside your data scope.")
FINISHED = N_("This complaint is finished; its clocks no longer run.")


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise PermissionDenied(
            "Your role does not allow this action.", detail={"permission": str(permission)}
        )


def _reason(value: str, field: str = "reason") -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("Give a reason (a few words are enough).", detail={"field": field})
    if len(text) > REASON_MAX:
        raise InvalidInput(
            "The reason is too long (at most {max} characters).",
            detail={"field": field},
            max=REASON_MAX,
        )
    return text


def amount_of(value: Any) -> sla.Limit:
    """An extension amount (``{"minutes": n}`` or ``{"workdays": n}``); 422 otherwise."""
    try:
        return sla.parse_limit(value)
    except ValueError:
        raise InvalidInput(
            "The amount must be a whole number of minutes (1 to {minutes}) or of working days "
            "(1 to {workdays}).",
            detail={"field": "amount"},
            minutes=sla.MAX_MINUTES,
            workdays=sla.MAX_WORKDAYS,
        ) from None


def _open_complaint(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    row = repository.complaint(session, actor, complaint_id, lock=True)
    if row is None:
        raise NotFound(NOT_FOUND, detail={"complaint_id": complaint_id}, complaint_id=complaint_id)
    if ComplaintStatus(row.status) not in workflow.OPEN:
        raise Conflict(FINISHED, detail={"status": str(row.status)}, error_code="complaint_final")
    return row


def _extension(session: Session, actor: Actor, extension_id: int) -> ComplaintExtension:
    row = session.scalar(
        select(ComplaintExtension)
        .where(ComplaintExtension.id == extension_id)
        .where(ComplaintExtension.district_code.in_(sorted(actor.scope.district_codes)))
        .with_for_update()
    )
    if row is None or repository.complaint(session, actor, row.complaint_id) is None:
        raise NotFound("The extension request does not exist or is outside your data scope.")
    return row


def pending_for(session: Session, complaint_id: int, stage: SlaStage) -> ComplaintExtension | None:
    row: ComplaintExtension | None = session.scalar(
        select(ComplaintExtension).where(
            ComplaintExtension.complaint_id == complaint_id,
            ComplaintExtension.stage == str(stage),
            ComplaintExtension.status == str(ExtensionStatus.PENDING),
        )
    )
    return row


class ClockService:
    def pause(self, session: Session, actor: Actor, *, complaint_id: int, reason: str) -> Complaint:
        """Stop every running clock until ``resume`` (waiting for the party)."""
        _require(actor, Permission.COMPLAINTS_DISPATCH)
        text = _reason(reason)
        complaint = _open_complaint(session, actor, complaint_id)
        if complaint.paused_at is not None:
            raise Conflict(
                "The clocks of this complaint are already paused.", error_code="already_paused"
            )
        now = utcnow()
        if not any(c.running for c in sla.clocks(complaint, now)):
            raise Conflict(
                "No clock is running on this complaint, so there is nothing to pause.",
                error_code="no_clock_running",
            )
        complaint.pause_reason = text
        workflow.advance(
            session,
            complaint,
            "paused",
            actor_id=actor.officer_id,
            at=now,
            public=True,
            note=PAUSE_NOTE,
            data={"reason": text},
        )
        return complaint

    def resume(
        self, session: Session, actor: Actor, *, complaint_id: int, note: str = ""
    ) -> Complaint:
        """Restart the clocks; their deadlines move by the time they stood still."""
        _require(actor, Permission.COMPLAINTS_DISPATCH)
        complaint = _open_complaint(session, actor, complaint_id)
        if complaint.paused_at is None:
            raise Conflict("The clocks of this complaint are not paused.", error_code="not_paused")
        data = {
            "paused_at": complaint.paused_at.isoformat(),
            "reason": complaint.pause_reason,
            "note": (note or "").strip()[:REASON_MAX],
        }
        complaint.pause_reason = ""
        workflow.advance(
            session,
            complaint,
            "resumed",
            actor_id=actor.officer_id,
            at=utcnow(),
            public=True,
            note=RESUME_NOTE,
            data=data,
        )
        return complaint

    def request_extension(
        self,
        session: Session,
        actor: Actor,
        *,
        complaint_id: int,
        stage: SlaStage,
        amount: Any,
        reason: str,
    ) -> ComplaintExtension:
        """Ask for more time on one running clock, before its deadline (延期申请)."""
        _require(actor, Permission.COMPLAINTS_HANDLE)
        limit, text = amount_of(amount), _reason(reason)
        complaint = _open_complaint(session, actor, complaint_id)
        now = utcnow()
        current = sla.clock(complaint, stage, now)
        if current is None or not current.running:
            raise Conflict(
                "This stage's clock is not running; only a running clock can be extended.",
                detail={"stage": str(stage)},
                error_code="clock_not_running",
            )
        if current.late:
            raise Conflict(
                "This stage's deadline has already passed; an extension must be asked for "
                "before the deadline.",
                detail={"stage": str(stage), "due": current.due},
                error_code="deadline_passed",
            )
        if pending_for(session, complaint.id, stage) is not None:
            raise Conflict(
                "An extension of this stage is already waiting for a decision.",
                detail={"stage": str(stage)},
                error_code="extension_pending",
            )
        row = ComplaintExtension(
            district_code=complaint.district_code,
            complaint_id=complaint.id,
            stage=stage,
            amount=limit.as_json(),
            reason=text,
            requested_by_id=actor.officer_id,
            requested_at=now,
        )
        session.add(row)
        session.flush()
        workflow.advance(
            session,
            complaint,
            "extension_requested",
            actor_id=actor.officer_id,
            at=now,
            data={
                "extension_id": row.id,
                "stage": str(stage),
                "amount": limit.as_json(),
                "reason": text,
            },
        )
        return row

    def decide_extension(
        self, session: Session, actor: Actor, *, extension_id: int, approve: bool, note: str = ""
    ) -> ComplaintExtension:
        """Approve (the deadline moves) or refuse (a note says why) a pending extension."""
        _require(actor, Permission.COMPLAINTS_APPROVE)
        row = _extension(session, actor, extension_id)
        if row.status != ExtensionStatus.PENDING:
            raise Conflict(
                "This extension request has already been decided.",
                detail={"status": str(row.status)},
                error_code="extension_decided",
            )
        if row.requested_by_id == actor.officer_id:
            raise PermissionDenied(
                "You asked for this extension yourself; another leader must decide it.",
                detail={"reason": "own_request"},
            )
        text = (note or "").strip() if approve else _reason(note, "note")
        complaint = _open_complaint(session, actor, row.complaint_id)
        stage, now = SlaStage(row.stage), utcnow()
        if approve and not sla.running(complaint, stage):
            raise Conflict(
                "This stage's clock has stopped, so the extension can only be refused now.",
                detail={"stage": str(stage)},
                error_code="clock_not_running",
            )
        row.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
        row.decided_by_id, row.decided_at, row.decision_note = actor.officer_id, now, text
        workflow.advance(
            session,
            complaint,
            "extended" if approve else "extension_refused",
            actor_id=actor.officer_id,
            at=now,
            data={
                "extension_id": row.id,
                "stage": str(stage),
                "amount": dict(row.amount),
                "note": text,
                "requested_by_id": row.requested_by_id,
            },
        )
        return row

    def pending(self, session: Session, actor: Actor) -> builtins.list[ComplaintExtension]:
        """Pending extension requests of open complaints in the actor's scope, oldest first."""
        visible = repository.scoped(actor.scope).where(
            Complaint.status.in_([str(s) for s in workflow.OPEN])
        )
        stmt = (
            select(ComplaintExtension)
            .where(ComplaintExtension.status == str(ExtensionStatus.PENDING))
            .where(ComplaintExtension.complaint_id.in_(visible.with_only_columns(Complaint.id)))
            .order_by(ComplaintExtension.requested_at, ComplaintExtension.id)
        )
        return list(session.scalars(stmt))


clock_service = ClockService()


def officer_names(session: Session, ids: builtins.list[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Officer.id, Officer.name).where(Officer.id.in_(wanted)))
    return {oid: str(name) for oid, name in rows}
