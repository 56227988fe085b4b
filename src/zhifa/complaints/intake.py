"""Intake (受理): every channel's complaint becomes one row, routed, on the record and answered.

``create_complaint`` is the one way in (hotline, public page, Open311, 12345 import, upstream
poll). In the caller's transaction it

1. answers a repeat of an upstream work order (same district, source and ``source_ref``) with
   the complaint first taken in (``created=False``), writing nothing;
2. checks the input and refuses with ``InvalidInput`` naming ``detail.field`` (nothing written):
   category active in the district; description 1–4,000 characters; a point in China (WGS-84) or
   an address; the category's attribute answers; the reporter's phone and e-mail; media links
   http(s), at most ``complaint_photos_max``;
3. seals the reporter (``complaints.reporter``), draws a tracking number and an Open311 token,
   routes it (``complaints.routing``) and takes the step ``received`` (public);
4. transfers it at once when routing says so (the reason is public), or, for a category with
   auto-dispatch on, hands it to ``complaints.handling.auto_dispatch``;
5. returns it with its possible duplicates (``complaints.duplicates``).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlparse

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhifa.complaints import duplicates, reporter, routing, tracking, workflow
from zhifa.complaints import repository as repo
from zhifa.complaints.categories import check_answers
from zhifa.complaints.schemas import ComplaintIn, DuplicateCandidate
from zhifa.config import Settings, get_settings
from zhifa.errors import InvalidInput
from zhifa.kit.clock import as_utc, utcnow
from zhifa.kit.geo import in_china
from zhifa.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
    Priority,
)

DESCRIPTION_MAX = 4000
ADDRESS_MAX = 300
URL_MAX = 1000
RECEIVED_NOTE = "您反映的问题已受理，受理编号 {tracking_no}"


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


NOT_IN_CHINA = N_("The point ({lon}, {lat}) is not in China (WGS-84 longitude and latitude).")
SWAPPED = N_("The point ({lon}, {lat}) is not in China; longitude comes first (WGS-84).")


@dataclass(frozen=True)
class IntakeResult:
    complaint: Complaint
    duplicates: list[DuplicateCandidate] = field(default_factory=list)
    # False when an upstream work order already taken in was handed in again.
    created: bool = True


@dataclass(frozen=True)
class Checked:
    """The input after the checks: what the row is made of."""

    category: ComplaintCategory
    description: str
    lon: float | None
    lat: float | None
    address: str
    attributes: dict[str, object]
    media_urls: list[str]
    sealed: reporter.SealedReporter


# Work orders made in another system: they cannot have answered our categories' questions.
FOREIGN_SOURCES = frozenset({ComplaintSource.IMPORT, ComplaintSource.UPSTREAM})


def create_complaint(
    session: Session,
    *,
    district_code: str,
    data: ComplaintIn,
    source: ComplaintSource,
    actor_id: int | None,
    integration_id: int | None = None,
    source_ref: str | None = None,
    received_at: datetime | None = None,
    settings: Settings | None = None,
) -> IntakeResult:
    """Take a complaint in (see the module docstring). ``settings`` defaults to the process's;
    a caller holding the app's settings (``request.app.state.settings``) passes them."""
    env = settings or get_settings()
    ref = source_ref.strip() if source_ref and source_ref.strip() else None
    if ref is not None:
        existing = repo.by_source_ref(session, district_code, ComplaintSource(source), ref)
        if existing is not None:
            return IntakeResult(existing, duplicates.candidates(session, existing), False)
    checked = check(
        session,
        district_code=district_code,
        data=data,
        settings=env,
        require_answers=ComplaintSource(source) not in FOREIGN_SOURCES,
    )
    complaint = _new_row(session, district_code, data, checked, source, integration_id, ref)
    complaint.received_at = as_utc(received_at) if received_at is not None else utcnow()
    complaint.tracking_no = tracking.new_tracking_no(
        session, prefix=_prefix(session, district_code), received_at=complaint.received_at
    )
    route = routing.route(
        session,
        district_code=district_code,
        category=checked.category,
        lon=checked.lon,
        lat=checked.lat,
    )
    _apply_route(complaint, route)
    # Looked up before the first write: on SQLite the write lock is held from the first INSERT to
    # the commit, and this search is the longest read of an intake.
    found = [] if route.transfer else duplicates.candidates(session, complaint, settings=env)
    if ref is not None:
        raced = _insert_once(session, complaint)
        if raced is not None:
            return IntakeResult(raced, duplicates.candidates(session, raced), False)
    _take_steps(session, complaint, checked.category, route, actor_id)
    return IntakeResult(complaint, found, True)


def check(
    session: Session,
    *,
    district_code: str,
    data: ComplaintIn,
    settings: Settings,
    require_answers: bool = True,
) -> Checked:
    """Every check of the input, in the order a person filling the form meets the fields.
    ``require_answers`` off: a work order made elsewhere (12345 export, upstream platform) never
    carries answers to our questions, so missing ones are not refused (given ones are checked)."""
    category = _category(session, district_code, data.category_code)
    description = _description(data.description)
    lon, lat, address = _place(data.lon, data.lat, data.address)
    answers = check_answers(category, dict(data.attributes or {}), require=require_answers)
    sealed = reporter.seal(
        name=data.reporter_name,
        phone=data.reporter_phone,
        email=data.reporter_email,
        settings=settings,
    )
    urls = _media_urls(data.media_urls, settings.complaint_photos_max)
    return Checked(category, description, lon, lat, address, answers, urls, sealed)


def _category(session: Session, district_code: str, code: str) -> ComplaintCategory:
    code = (code or "").strip()
    if not code:
        raise InvalidInput("Choose the category of the problem.", detail={"field": "category_code"})
    row = repo.category_by_code(session, district_code, code)
    if row is None or not row.active:
        raise InvalidInput(
            "There is no category {code} open for complaints in this district; choose another.",
            detail={"field": "category_code"},
            code=code,
        )
    return row


def _description(text: str) -> str:
    description = (text or "").strip()
    if not description:
        raise InvalidInput(
            "Describe the problem: what is happening, and since when.",
            detail={"field": "description"},
        )
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(
            "The description is {length} characters long; shorten it to at most {limit}.",
            detail={"field": "description"},
            length=len(description),
            limit=DESCRIPTION_MAX,
        )
    return description


def _place(
    lon: float | None, lat: float | None, address: str
) -> tuple[float | None, float | None, str]:
    text = " ".join((address or "").split())
    if len(text) > ADDRESS_MAX:
        raise InvalidInput(
            "The address is longer than {limit} characters.",
            detail={"field": "address"},
            limit=ADDRESS_MAX,
        )
    if lon is None and lat is None:
        if not text:
            raise InvalidInput(
                "Say where the problem is: put a pin on the map or write the address.",
                detail={"field": "address"},
            )
        return None, None, text
    if lon is None or lat is None:
        raise InvalidInput(
            "A place needs both longitude and latitude.",
            detail={"field": "lon" if lon is None else "lat"},
        )
    if not (math.isfinite(lon) and math.isfinite(lat)) or not in_china(lon, lat):
        swapped = math.isfinite(lon) and math.isfinite(lat) and in_china(lat, lon)
        raise InvalidInput(
            SWAPPED if swapped else NOT_IN_CHINA, detail={"field": "lon"}, lon=lon, lat=lat
        )
    return float(lon), float(lat), text


def _media_urls(urls: list[str], limit: int) -> list[str]:
    cleaned = [u.strip() for u in urls or [] if u and u.strip()]
    if len(cleaned) > limit:
        raise InvalidInput(
            "At most {limit} photos can be attached; {count} were sent.",
            detail={"field": "media_urls"},
            limit=limit,
            count=len(cleaned),
        )
    for url in cleaned:
        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > URL_MAX:
            raise InvalidInput(
                "The photo link {url} is not an http or https address.",
                detail={"field": "media_urls"},
                url=url[:100],
            )
    return list(dict.fromkeys(cleaned))


def _prefix(session: Session, district_code: str) -> str:
    row = repo.settings_row(session, district_code)
    return (
        row.tracking_prefix if row is not None and row.tracking_prefix else tracking.DEFAULT_PREFIX
    )


def _new_row(
    session: Session,
    district_code: str,
    data: ComplaintIn,
    checked: Checked,
    source: ComplaintSource,
    integration_id: int | None,
    source_ref: str | None,
) -> Complaint:
    category = checked.category
    complaint = Complaint(
        district_code=district_code,
        token=str(uuid.uuid4()),
        source=ComplaintSource(source),
        source_ref=source_ref,
        integration_id=integration_id,
        category_id=category.id,
        hotline_type=data.hotline_type or HotlineType(category.hotline_type),
        priority=data.priority or Priority(category.priority),
        description=checked.description,
        address=checked.address,
        lon=checked.lon,
        lat=checked.lat,
        status=ComplaintStatus.RECEIVED,
        attributes=checked.attributes,
        media_urls=checked.media_urls,
        officer_ids=[],
    )
    reporter.apply(complaint, checked.sealed)
    return complaint


def _apply_route(complaint: Complaint, route: routing.Route) -> None:
    complaint.unit_id = route.unit_id
    complaint.grid_id = route.grid_id
    complaint.department_id = route.department_id
    complaint.routing_note = route.note


def _insert_once(session: Session, complaint: Complaint) -> Complaint | None:
    """Insert the row of an upstream work order; when another transaction took the same work
    order in first (the unique constraint), the complaint it created."""
    try:
        with session.begin_nested():
            session.add(complaint)
            session.flush()
    except IntegrityError:
        assert complaint.source_ref is not None
        first = repo.by_source_ref(
            session,
            complaint.district_code,
            ComplaintSource(complaint.source),
            complaint.source_ref,
        )
        if first is None:
            raise
        return first
    return None


def _take_steps(
    session: Session,
    complaint: Complaint,
    category: ComplaintCategory,
    route: routing.Route,
    actor_id: int | None,
) -> None:
    workflow.advance(
        session,
        complaint,
        "received",
        actor_id=actor_id,
        at=complaint.received_at,
        note=RECEIVED_NOTE.format(tracking_no=complaint.tracking_no),
        data={"source": str(complaint.source), "routing_note": route.note},
    )
    if route.transfer:
        assert route.transfer_to is not None
        complaint.transfer_to = route.transfer_to
        workflow.advance(
            session,
            complaint,
            "transferred",
            actor_id=actor_id,
            note=route.transfer_reason or "",
            data={"to": route.transfer_to, "reason": route.transfer_reason, "auto": True},
        )
    elif category.auto_dispatch:
        from zhifa.complaints import handling

        handling.auto_dispatch(session, complaint)
