"""Builders for the Open311 tests: an integration with its api_key, complaints and timeline steps
written through the ORM (the builders are not the thing under test), and reading XML answers."""

from __future__ import annotations

import secrets
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy.orm import Session

from tests.complaints.world import IN_WG01, ComplaintWorld
from zhifa.config import Settings
from zhifa.integrations.service import INBOUND_KEY_PREFIX, box
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintEvent,
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
)
from zhifa.models.integrations import Integration, IntegrationKind

BASE = "/open311/v2"


def integration(
    session: Session, settings: Settings, district_code: str, code: str = "wlz"
) -> tuple[Integration, str]:
    """An active integration of the district (the city platform) and its inbound api_key."""
    key = INBOUND_KEY_PREFIX + secrets.token_urlsafe(32)
    row = Integration(
        district_code=district_code,
        code=code,
        name="网络理政平台",
        kind=IntegrationKind.OPEN311,
        endpoint_url="",
        send_updates=False,
        inbound_key_digest=box(settings).digest(key),
        inbound_key_prefix=key[:10],
    )
    session.add(row)
    session.flush()
    return row, key


def complaint(
    session: Session,
    world: ComplaintWorld,
    category: str,
    *,
    received_at: datetime | None = None,
    status: ComplaintStatus = ComplaintStatus.RECEIVED,
    **values: Any,
) -> Complaint:
    """A complaint row as intake would leave it (no ledger, no clocks unless given)."""
    serial = uuid.uuid4().hex[:8].upper()
    row = Complaint(
        district_code=world.district_code,
        tracking_no=values.pop("tracking_no", f"TS-{serial}"),
        token=str(uuid.uuid4()),
        source=values.pop("source", ComplaintSource.WEB),
        category_id=world.categories[category].id,
        hotline_type=values.pop("hotline_type", HotlineType.COMPLAINT),
        description=values.pop("description", "路口有流动摊贩占道经营"),
        address=values.pop("address", "崇州市唐安西路 1 号"),
        lon=values.pop("lon", IN_WG01[0]),
        lat=values.pop("lat", IN_WG01[1]),
        department_id=values.pop("department_id", world.chengguan.id),
        unit_id=values.pop("unit_id", world.field.squad.id),
        status=status,
        received_at=received_at or utcnow() - timedelta(hours=1),
        **values,
    )
    session.add(row)
    session.flush()
    return row


def step(
    session: Session,
    row: Complaint,
    kind: str,
    *,
    at: datetime,
    status: ComplaintStatus | None = None,
    public: bool = True,
    note: str = "",
) -> ComplaintEvent:
    event = ComplaintEvent(
        complaint_id=row.id,
        district_code=row.district_code,
        kind=kind,
        status=status or row.status,
        at=at,
        public=public,
        note=note,
        data={},
    )
    session.add(event)
    session.flush()
    return event


def xml_of(response: httpx2.Response) -> ET.Element:
    """The parsed XML body, after checking it is UTF-8 XML with its declaration."""
    assert response.headers["content-type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def xml_errors(response: httpx2.Response) -> list[tuple[str, str]]:
    root = xml_of(response)
    assert root.tag == "errors"
    return [(e.findtext("code") or "", e.findtext("description") or "") for e in root]


def json_errors(response: httpx2.Response) -> list[tuple[int, str]]:
    assert response.headers["content-type"].startswith("application/json")
    return [(e["code"], e["description"]) for e in response.json()]
