"""Builders for the integration tests: a peer of the city platform, complaints that came from it,
steps of their handling. Integrations are written through the ORM (sealed like the service does);
complaints go through the real intake and steps through ``complaints.workflow.advance``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import GARBAGE, IN_WG01, ComplaintWorld, complaint_world
from zhifa.complaints import workflow
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.config import Settings
from zhifa.integrations.service import box
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintSource
from zhifa.models.integrations import Integration, IntegrationKind, OutboxMessage, OutboxStatus
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for
from zhifa.org.roles import Role

SECRET = "shared-secret-of-the-city-platform"
UPSTREAM_KEY = "upstream-api-key-0001"


@dataclass
class IntegrationWorld:
    complaints: ComplaintWorld
    admin: Officer  # system administrator (integrations:manage), district scope

    @property
    def district_code(self) -> str:
        return self.complaints.district_code

    @property
    def dispatcher(self) -> Officer:
        return self.complaints.dispatcher


def integration_world(session: Session) -> IntegrationWorld:
    complaints = complaint_world(session)
    admin = factories.officer(
        session,
        complaints.district_code,
        "admin.li",
        [Role.SYSTEM_ADMIN],
        unit=complaints.field.bureau,
        name="李管理",
    )
    return IntegrationWorld(complaints=complaints, admin=admin)


def actor(session: Session, officer: Officer) -> Actor:
    return actor_for(session, officer, via="token")


def peer(
    session: Session,
    settings: Settings,
    *,
    endpoint_url: str,
    kind: IntegrationKind = IntegrationKind.WEBHOOK,
    code: str = "wlzz",
    secret: str | None = SECRET,
    district_code: str = "510184",
    **values: Any,
) -> Integration:
    """An integration row, its secret sealed as the service seals it."""
    row = Integration(
        district_code=district_code,
        code=code,
        name=values.pop("name", "网络理政平台"),
        kind=kind,
        endpoint_url=endpoint_url,
        secret_cipher=box(settings).seal(secret) if secret is not None else None,
        **values,
    )
    session.add(row)
    session.flush()
    return row


def complaint_from(
    session: Session,
    settings: Settings,
    integration: Integration | None,
    *,
    source_ref: str | None = None,
    description: str = "小区门口垃圾堆了三天没人清运",
    category: str = GARBAGE,
) -> Complaint:
    """A complaint taken in from ``integration`` (queues its ``received`` step)."""
    result = create_complaint(
        session,
        district_code="510184",
        data=ComplaintIn(
            category_code=category, description=description, lon=IN_WG01[0], lat=IN_WG01[1]
        ),
        source=ComplaintSource.UPSTREAM if source_ref else ComplaintSource.OPEN311,
        actor_id=None,
        integration_id=integration.id if integration is not None else None,
        source_ref=source_ref,
        settings=settings,
    )
    return result.complaint


def step(
    session: Session,
    complaint: Complaint,
    kind: str,
    note: str = "",
    *,
    public: bool | None = None,
    **data: Any,
) -> ComplaintEvent:
    return workflow.advance(
        session, complaint, kind, actor_id=None, note=note, public=public, data=data
    )


def messages(session: Session, integration: Integration | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if integration is not None:
        stmt = stmt.where(OutboxMessage.integration_id == integration.id)
    session.expire_all()
    return list(session.scalars(stmt))


def make_due(session: Session, *rows: OutboxMessage) -> None:
    """Move the clock: every pending message (or the ones given) is due now."""
    targets = rows or tuple(m for m in messages(session) if m.status == OutboxStatus.PENDING)
    for row in targets:
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.commit()


def ledger_kinds(session: Session, prefix: str) -> list[str]:
    stmt = select(LedgerEvent.kind).where(LedgerEvent.kind.startswith(prefix))
    return list(session.scalars(stmt.order_by(LedgerEvent.id)))


def ledger_payloads(session: Session, kind: str) -> list[dict[str, Any]]:
    stmt = select(LedgerEvent).where(LedgerEvent.kind == kind).order_by(LedgerEvent.id)
    return [event.payload for event in session.scalars(stmt)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
