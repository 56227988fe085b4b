"""Helpers for the handling-loop tests (no tests here): actors, complaints taken in through the real
intake, officers on duty, photos, and the loop driven step by step through the services.

The world is ``tests.complaints.world`` (district 510184; 李明 and 王芳 of squad ZD01 are the usual
pair, 吴强 a third ZD01 officer, 孙丽 of ZD02, the dispatcher 周敏).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.complaints.world import IN_WG01, VENDING, ComplaintWorld
from zhifa.complaints import handling
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.media import add_media
from zhifa.complaints.schemas import ComplaintIn
from zhifa.config import Settings
from zhifa.dispatch import live
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintEvent,
    ComplaintMedia,
    ComplaintSource,
    DisposalMeasure,
    MediaRole,
)
from zhifa.models.dispatch import DutyStatus, OfficerLive
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for

DISTRICT = "510184"


def new_uuid() -> str:
    return str(uuid.uuid4())


def actor(session: Session, officer: Officer) -> Actor:
    return actor_for(session, officer, via="token")


def take_in(
    session: Session,
    world: ComplaintWorld,
    *,
    category: str = VENDING,
    point: tuple[float, float] | None = IN_WG01,
    description: str = "蜀州中路人行道上有三个流动摊贩占道经营，行人只能走机动车道",
    address: str = "崇州市蜀州中路 88 号门前",
) -> Complaint:
    """A complaint taken in by the hotline (real intake: routing, SLA clocks, step received)."""
    lon, lat = point if point is not None else (None, None)
    attributes = {"blocking": "yes"} if category == VENDING else {}
    data = ComplaintIn(
        category_code=category,
        description=description,
        lon=lon,
        lat=lat,
        address=address,
        attributes=attributes,
    )
    result = create_complaint(
        session,
        district_code=DISTRICT,
        data=data,
        source=ComplaintSource.HOTLINE,
        actor_id=world.dispatcher.id,
    )
    session.flush()
    return result.complaint


def on_duty(session: Session, *officers: Officer) -> None:
    for officer in officers:
        live.set_status(
            session, officer_id=officer.id, status=DutyStatus.AVAILABLE, actor_id=officer.id
        )


def jpeg(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, format="JPEG")
    return out.getvalue()


def photo(
    session: Session,
    complaint: Complaint,
    officer: Officer | None,
    role: MediaRole,
    settings: Settings,
    colour: str = "red",
) -> ComplaintMedia:
    """A photo of ``complaint``: an officer's (with a client UUID) or, officer None, the
    citizen's."""
    return add_media(
        session,
        complaint=complaint,
        role=role,
        content=jpeg(colour),
        officer_id=officer.id if officer is not None else None,
        client_uuid=new_uuid() if officer is not None else None,
        settings=settings,
    )


# --- Driving the loop through the services ---


def dispatched(session: Session, world: ComplaintWorld, **kwargs: Any) -> Complaint:
    complaint = take_in(session, world, **kwargs)
    on_duty(session, world.officer, world.second)
    handling.dispatch(
        session,
        actor(session, world.dispatcher),
        complaint_id=complaint.id,
        officer_ids=[world.officer.id, world.second.id],
    )
    return complaint


def taken(session: Session, world: ComplaintWorld, **kwargs: Any) -> Complaint:
    complaint = dispatched(session, world, **kwargs)
    lead = actor(session, world.officer)
    handling.take(session, lead, complaint_id=complaint.id, client_uuid=new_uuid())
    return complaint


def on_scene(session: Session, world: ComplaintWorld, **kwargs: Any) -> Complaint:
    complaint = taken(session, world, **kwargs)
    lon, lat = (complaint.lon or 0.0, complaint.lat or 0.0)
    handling.arrive(
        session,
        actor(session, world.officer),
        complaint_id=complaint.id,
        client_uuid=new_uuid(),
        lon=lon,
        lat=lat,
        accuracy_m=10.0,
        device_time=utcnow(),
    )
    return complaint


def disposed(
    session: Session, world: ComplaintWorld, settings: Settings, **kwargs: Any
) -> Complaint:
    complaint = on_scene(session, world, **kwargs)
    after = photo(session, complaint, world.officer, MediaRole.AFTER, settings)
    handling.dispose(
        session,
        actor(session, world.officer),
        complaint_id=complaint.id,
        client_uuid=new_uuid(),
        measure=DisposalMeasure.PERSUADED,
        note="劝离摊贩三处",
        media_ids=[after.id],
    )
    return complaint


def fed_back(
    session: Session, world: ComplaintWorld, settings: Settings, **kwargs: Any
) -> Complaint:
    complaint = disposed(session, world, settings, **kwargs)
    handling.feed_back(
        session,
        actor(session, world.officer),
        complaint_id=complaint.id,
        client_uuid=new_uuid(),
        result="现场摊贩已劝离，道路恢复通行",
    )
    return complaint


def verified(
    session: Session, world: ComplaintWorld, settings: Settings, **kwargs: Any
) -> Complaint:
    complaint = fed_back(session, world, settings, **kwargs)
    handling.verify(
        session, actor(session, world.dispatcher), complaint_id=complaint.id, passed=True
    )
    return complaint


# --- Reading outcomes ---


def steps(session: Session, complaint: Complaint) -> list[str]:
    return list(
        session.scalars(
            select(ComplaintEvent.kind)
            .where(ComplaintEvent.complaint_id == complaint.id)
            .order_by(ComplaintEvent.id)
        )
    )


def last_event(session: Session, complaint: Complaint) -> ComplaintEvent:
    return session.scalars(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint.id)
        .order_by(ComplaintEvent.id.desc())
        .limit(1)
    ).one()


def ledger_kinds(session: Session, prefix: str = "complaint.") -> list[str]:
    return [
        k
        for k in session.scalars(select(LedgerEvent.kind).order_by(LedgerEvent.seq))
        if k.startswith(prefix)
    ]


def live_row(session: Session, officer: Officer) -> OfficerLive | None:
    return session.get(OfficerLive, officer.id, populate_existing=True)


def duty(session: Session, officer: Officer) -> tuple[str, int | None]:
    row = live_row(session, officer)
    assert row is not None
    return str(row.status), row.complaint_id
