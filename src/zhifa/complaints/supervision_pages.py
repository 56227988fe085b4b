"""The supervision page (监督, command:view): open alerts to acknowledge, overdue complaints and by
how much, extension requests to decide (complaints:approve) and paused clocks. Thin: the queries
are in ``complaints.escalation`` and ``complaints.clock``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from zhifa.complaints import escalation, repository
from zhifa.complaints.clock import clock_service, officer_names
from zhifa.complaints.sla_endpoints import CommandView, ComplaintsApprove
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import AlertKind, SlaStage
from zhifa.org.auth import DbSession
from zhifa.org.forms import done
from zhifa.org.roles import Permission
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/supervision"
LABELS: dict[str, dict[str, str]] = {
    "stage": {s.value: s.label for s in SlaStage},
    "kind": {k.value: k.label for k in AlertKind},
}


def duration(seconds: int) -> dict[str, int]:
    """Days, hours and minutes of a duration (for "late by 2 h 5 min")."""
    minutes = max(seconds, 0) // 60
    return {"days": minutes // 1440, "hours": minutes % 1440 // 60, "minutes": minutes % 60}


@router.get(PAGE)
def show_supervision(request: Request, session: DbSession, actor: CommandView) -> Response:
    now = utcnow()
    alerts = escalation.alerts(session, actor, acknowledged=False, limit=200)
    late = escalation.overdue(session, actor, now)
    extensions = clock_service.pending(session, actor)
    paused = escalation.paused(session, actor)
    context: dict[str, Any] = {
        "alerts": alerts,
        "tracking": escalation.tracking_numbers(session, alerts),
        "overdue": late,
        "extensions": extensions,
        "extension_complaints": {
            c.id: c
            for c in escalation.complaints_by_id(session, [e.complaint_id for e in extensions])
        },
        "requesters": officer_names(session, [e.requested_by_id for e in extensions]),
        "paused": paused,
        "categories": repository.categories_by_id(
            session, [o.complaint.category_id for o in late] + [c.category_id for c in paused]
        ),
        "can_approve": actor.can(Permission.COMPLAINTS_APPROVE),
        "labels": LABELS,
        "duration": duration,
        "now": now,
    }
    return render(request, "complaints/supervision/index.html", context)


@router.post(PAGE + "/alerts/{alert_id}/ack")
def acknowledge_alert(
    request: Request, session: DbSession, actor: CommandView, alert_id: int
) -> Response:
    escalation.acknowledge(session, actor, alert_id=alert_id)
    return done(request, f"{PAGE}#alerts")


@router.post(PAGE + "/extensions/{extension_id}/decision")
def decide_extension(
    request: Request,
    session: DbSession,
    actor: ComplaintsApprove,
    extension_id: int,
    approve: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    clock_service.decide_extension(
        session, actor, extension_id=extension_id, approve=approve == "1", note=note
    )
    return done(request, f"{PAGE}#extensions")
