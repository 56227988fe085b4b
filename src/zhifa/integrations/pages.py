"""The integration page (/integrations): each peer of the city platform, its outbox (what waits,
what fails and why, when it is tried next), a retry-now button, and its polling state. Thin: the
service reads and retries; the page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.integrations import repository as repo
from zhifa.integrations.endpoints import IntegrationsManage, IntegrationsRead
from zhifa.integrations.schemas import STUCK_AFTER_ATTEMPTS
from zhifa.integrations.service import integration_service
from zhifa.models.integrations import Integration, IntegrationKind, OutboxMessage
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession
from zhifa.org.forms import done
from zhifa.org.roles import Permission
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {k.value: k.label for k in IntegrationKind}


@dataclass(frozen=True)
class PeerRow:
    integration: Integration
    pending: int
    stuck: int
    last_delivered_at: datetime | None


@dataclass(frozen=True)
class FailureRow:
    message: OutboxMessage
    integration: Integration
    tracking_no: str
    stuck: bool


def _page(session: Session, actor: Actor) -> dict[str, Any]:
    peers = integration_service.list(session, actor)
    by_id = {p.id: p for p in peers}
    summary = repo.outbox_summary(session, list(by_id), STUCK_AFTER_ATTEMPTS)
    empty: dict[str, Any] = {"pending": 0, "stuck": 0, "last_delivered_at": None}
    rows = [PeerRow(p, **summary.get(p.id, empty)) for p in peers]
    failing = repo.failing(session, list(by_id))
    tracking = repo.tracking_numbers(session, [m.complaint_id for m in failing])
    failures = [
        FailureRow(
            message=m,
            integration=by_id[m.integration_id],
            tracking_no=tracking.get(m.complaint_id or 0, ""),
            stuck=m.attempts >= STUCK_AFTER_ATTEMPTS,
        )
        for m in failing
    ]
    return {
        "peers": rows,
        "failures": failures,
        "kind_labels": KIND_LABELS,
        "stuck_after": STUCK_AFTER_ATTEMPTS,
        "can_manage": actor.can(Permission.INTEGRATIONS_MANAGE),
    }


@router.get("/integrations")
def show_integrations(request: Request, session: DbSession, actor: IntegrationsRead) -> Response:
    return render(request, "integrations/index.html", _page(session, actor))


@router.post("/integrations/outbox/{message_id}/retry")
def retry_message(
    request: Request, session: DbSession, actor: IntegrationsManage, message_id: int
) -> Response:
    integration_service.retry(session, actor, message_id=message_id)
    return done(request, "/integrations")
