"""Every query on integrations and their outbox. Reads for people go through ``DataScope`` (an
integration belongs to a district: a row of another district is not found); the workers'
queries (claims, due polls) see every district and are marked as such."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from zhifa.models.complaints import Complaint
from zhifa.models.integrations import Integration, OutboxMessage, OutboxStatus
from zhifa.org.scope import DataScope


def integrations(session: Session, scope: DataScope) -> list[Integration]:
    stmt = scope.where_district(select(Integration), Integration.district_code)
    return list(session.scalars(stmt.order_by(Integration.district_code, Integration.code)))


def integration(session: Session, scope: DataScope, integration_id: int) -> Integration | None:
    stmt = scope.where_district(select(Integration), Integration.district_code)
    return session.scalar(stmt.where(Integration.id == integration_id))


def code_taken(
    session: Session, district_code: str, code: str, *, except_id: int | None = None
) -> bool:
    stmt = select(Integration.id).where(
        Integration.district_code == district_code, Integration.code == code
    )
    if except_id is not None:
        stmt = stmt.where(Integration.id != except_id)
    return session.scalar(stmt.limit(1)) is not None


def by_inbound_digest(session: Session, digest: str) -> Integration | None:
    """The integration whose inbound api_key has this digest (deployment-wide: the key says who)."""
    return session.scalar(select(Integration).where(Integration.inbound_key_digest == digest))


def message(session: Session, scope: DataScope, message_id: int) -> OutboxMessage | None:
    stmt = scope.where_district(select(OutboxMessage), OutboxMessage.district_code)
    return session.scalar(stmt.where(OutboxMessage.id == message_id))


def _messages_of(
    integration_id: int, *, status: OutboxStatus | None, stuck_after: int | None
) -> Select[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.integration_id == integration_id)
    if status is not None:
        stmt = stmt.where(OutboxMessage.status == status)
    if stuck_after is not None:
        stmt = stmt.where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts >= stuck_after
        )
    return stmt


def messages(
    session: Session,
    integration_id: int,
    *,
    status: OutboxStatus | None = None,
    stuck_after: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[OutboxMessage], int]:
    """One integration's messages, newest first, and how many match in all (the caller has
    checked the integration is in scope)."""
    stmt = _messages_of(integration_id, status=status, stuck_after=stuck_after)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def outbox_summary(
    session: Session, integration_ids: Sequence[int], stuck_after: int
) -> dict[int, dict[str, Any]]:
    """Per integration: pending and stuck counts, and the last delivery time."""
    if not integration_ids:
        return {}
    pending = OutboxMessage.status == OutboxStatus.PENDING
    stmt = (
        select(
            OutboxMessage.integration_id,
            func.count().filter(pending),
            func.count().filter(and_(pending, OutboxMessage.attempts >= stuck_after)),
            func.max(OutboxMessage.delivered_at),
        )
        .where(OutboxMessage.integration_id.in_(list(integration_ids)))
        .group_by(OutboxMessage.integration_id)
    )
    return {
        row[0]: {"pending": row[1], "stuck": row[2], "last_delivered_at": row[3]}
        for row in session.execute(stmt)
    }


def failing(
    session: Session, integration_ids: Sequence[int], *, limit: int = 50
) -> list[OutboxMessage]:
    """Pending messages that have failed at least once, the most tried first."""
    if not integration_ids:
        return []
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.integration_id.in_(list(integration_ids)),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.attempts > 0,
        )
        .order_by(OutboxMessage.attempts.desc(), OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def dedupe_key_exists(session: Session, dedupe_key: str) -> bool:
    stmt = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    return session.scalar(stmt) is not None


def claimable(now: datetime, *, skip_integrations: Sequence[int] = ()) -> Select[OutboxMessage]:
    """Worker query (every district): pending messages due now, not leased, of an active
    integration, with no earlier pending message of the same complaint on the same integration
    (messages of one complaint go in order), oldest first."""
    earlier = aliased(OutboxMessage)
    blocked = (
        select(earlier.id)
        .where(
            earlier.integration_id == OutboxMessage.integration_id,
            earlier.complaint_id == OutboxMessage.complaint_id,
            earlier.status == OutboxStatus.PENDING,
            earlier.id < OutboxMessage.id,
        )
        .exists()
    )
    active = select(Integration.id).where(Integration.active.is_(True))
    stmt = select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        OutboxMessage.integration_id.in_(active),
        ~blocked,
    )
    if skip_integrations:
        stmt = stmt.where(OutboxMessage.integration_id.not_in(list(skip_integrations)))
    return stmt.order_by(OutboxMessage.id)


def due_polls(session: Session, now: datetime) -> list[int]:
    """Worker query (every district): active polling integrations whose interval has passed."""
    stmt = select(Integration.id, Integration.last_polled_at, Integration.poll_interval_seconds)
    stmt = stmt.where(Integration.active.is_(True), Integration.poll_enabled.is_(True))
    due = []
    for integration_id, last, interval in session.execute(stmt.order_by(Integration.id)):
        if last is None or (now - last).total_seconds() >= interval:
            due.append(integration_id)
    return due


def tracking_numbers(session: Session, complaint_ids: Sequence[int | None]) -> dict[int, str]:
    """Complaint id → tracking number, for the messages shown on the integration page."""
    wanted = sorted({i for i in complaint_ids if i is not None})
    if not wanted:
        return {}
    stmt = select(Complaint.id, Complaint.tracking_no).where(Complaint.id.in_(wanted))
    return {row[0]: row[1] for row in session.execute(stmt)}
