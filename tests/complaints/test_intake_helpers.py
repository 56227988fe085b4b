"""Helpers for the intake tests (no tests here): the world, actors, a complaint taken in through
the real intake, bearer headers, photos and what a transaction wrote.

The world is ``tests.complaints.world`` (district 510184, squads ZD01 with grid WG01 and ZD02
with WG02, the dispatcher 周敏, categories 占道经营 / 暴露垃圾 / 政策咨询 / 食品安全).
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime
from typing import Any

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, VENDING, ComplaintWorld
from zhifa.complaints.intake import IntakeResult, create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.config import Settings
from zhifa.kit.events import PENDING_KEY, BusEvent
from zhifa.ledger import store
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintMedia, ComplaintSource
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for

DISTRICT = "510184"
TRACKING_PATTERN = re.compile(r"TS\d{8}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}")
DESCRIPTION = "蜀州中路人行道上有三个流动摊贩占道经营，行人只能走机动车道"
ADDRESS = "崇州市蜀州中路 88 号门前"


def new_uuid() -> str:
    return str(uuid.uuid4())


def actor(session: Session, officer: Officer) -> Actor:
    return actor_for(session, officer, via="token")


def headers(session: Session, officer: Officer) -> dict[str, str]:
    """Bearer headers for ``officer`` (committed, so the app sees them)."""
    value = factories.bearer(session, officer)
    session.commit()
    return value


def complaint_in(**overrides: Any) -> ComplaintIn:
    values: dict[str, Any] = {
        "category_code": VENDING,
        "description": DESCRIPTION,
        "lon": IN_WG01[0],
        "lat": IN_WG01[1],
        "address": ADDRESS,
        "attributes": {"blocking": "yes"},
    }
    values.update(overrides)
    return ComplaintIn(**values)


def payload(**overrides: Any) -> dict[str, Any]:
    """A hotline entry as JSON."""
    return complaint_in(**overrides).model_dump(mode="json", exclude_none=True)


def take_in(
    session: Session,
    world: ComplaintWorld,
    settings: Settings,
    *,
    source: ComplaintSource = ComplaintSource.HOTLINE,
    source_ref: str | None = None,
    received_at: datetime | None = None,
    **overrides: Any,
) -> IntakeResult:
    """A complaint through the real intake (flushed, not committed)."""
    result = create_complaint(
        session,
        district_code=DISTRICT,
        data=complaint_in(**overrides),
        source=source,
        actor_id=world.dispatcher.id if source == ComplaintSource.HOTLINE else None,
        source_ref=source_ref,
        received_at=received_at,
        settings=settings,
    )
    session.flush()
    return result


def jpeg(colour: str = "red", size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def png(colour: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, format="PNG")
    return out.getvalue()


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def counts(session: Session) -> tuple[int, int, int, int]:
    """(complaints, their events, photos, ledger events) as stored."""
    return (
        count(session, Complaint),
        count(session, ComplaintEvent),
        count(session, ComplaintMedia),
        count(session, LedgerEvent),
    )


def ledger_events(session: Session, prefix: str = "complaint.") -> list[LedgerEvent]:
    stmt = select(LedgerEvent).where(LedgerEvent.kind.startswith(prefix)).order_by(LedgerEvent.seq)
    return list(session.scalars(stmt))


def pending_kinds(session: Session) -> list[str]:
    """Ledger kinds recorded in the session's open transaction."""
    return [p.kind for p in store.pending_events(session)]


def pending_bus(session: Session) -> list[BusEvent]:
    return list(session.info.get(PENDING_KEY, []))


def events_of(session: Session, complaint: Complaint) -> list[ComplaintEvent]:
    stmt = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
    return list(session.scalars(stmt.order_by(ComplaintEvent.id)))
