"""Helpers for the SLA tests (no tests here): the complaint world with a fresh working-day cache,
complaints created and moved through ``workflow.advance`` (which calls ``sla.on_event``), actors,
bearer headers and the ledger kinds recorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, VENDING, ComplaintWorld, complaint_world
from zhifa.complaints import sla, workflow
from zhifa.kit import workdays
from zhifa.kit.clock import SHANGHAI
from zhifa.models.complaints import (
    Complaint,
    ComplaintEvent,
    ComplaintSource,
    Priority,
    SlaStage,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for

# Monday 12 October 2026, 09:00 in Chengdu (an ordinary working day after 国庆).
T0 = datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 15, 59, 59, 999999, tzinfo=UTC)


def sla_world(session: Session) -> ComplaintWorld:
    workdays.invalidate()
    return complaint_world(session)


def new_complaint(
    session: Session,
    world: ComplaintWorld,
    *,
    category: str = VENDING,
    priority: Priority = Priority.NORMAL,
    at: datetime = T0,
    unit_id: int | None = None,
) -> Complaint:
    """A complaint received at ``at`` in WG01 (owned by squad ZD01 unless told)."""
    row = world.categories[category]
    complaint = Complaint(
        district_code=world.district_code,
        tracking_no=f"TS20261012-{uuid.uuid4().hex[:6].upper()}",
        token=str(uuid.uuid4()),
        source=ComplaintSource.HOTLINE,
        category_id=row.id,
        hotline_type=row.hotline_type,
        priority=priority,
        description="占道经营，影响通行",
        lon=IN_WG01[0],
        lat=IN_WG01[1],
        unit_id=world.field.squad.id if unit_id is None else unit_id,
        received_at=at,
    )
    workflow.advance(session, complaint, "received", actor_id=None, at=at)
    return complaint


def step(
    session: Session, complaint: Complaint, kind: str, at: datetime, **data: object
) -> ComplaintEvent:
    return workflow.advance(session, complaint, kind, actor_id=None, at=at, data=dict(data))


def walk(session: Session, complaint: Complaint, *steps: tuple[str, datetime]) -> None:
    for kind, at in steps:
        step(session, complaint, kind, at)


def dispatched(
    session: Session, world: ComplaintWorld, at: datetime = T0 + minutes(5)
) -> Complaint:
    complaint = new_complaint(session, world)
    walk(session, complaint, ("filed", at - minutes(1)), ("dispatched", at))
    return complaint


def by_stage(complaint: Complaint, now: datetime) -> dict[SlaStage, sla.Clock]:
    return {c.stage: c for c in sla.clocks(complaint, now)}


def actor(session: Session, officer: Officer) -> Actor:
    return actor_for(session, officer, via="session")


def headers(session: Session, officer: Officer) -> dict[str, str]:
    """Bearer-token headers for ``officer`` (committed, so the app sees them)."""
    value = factories.bearer(session, officer)
    session.commit()
    return value


def events(session: Session, complaint: Complaint, kind: str | None = None) -> list[ComplaintEvent]:
    stmt = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
    if kind is not None:
        stmt = stmt.where(ComplaintEvent.kind == kind)
    return list(session.scalars(stmt.order_by(ComplaintEvent.id)))


def ledger_kinds(session: Session, prefix: str = "complaint.") -> list[str]:
    return [
        k
        for k in session.scalars(select(LedgerEvent.kind).order_by(LedgerEvent.seq))
        if k.startswith(prefix)
    ]
