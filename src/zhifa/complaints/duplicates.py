"""Possible duplicates (重复件) and merging them.

A candidate is a complaint of the same district and category, not final, not the complaint
itself, with a point within ``duplicate_radius_m`` (great-circle distance) and received within
``duplicate_window_hours`` before or after it; both limits come from the district's
``ComplaintSettings``, else the environment defaults. Complaints without a point have none.

Merging (``complaints:dispatch``) ends the duplicate with the step ``merged`` (public:
「与 {tracking_no} 为同一问题，已合并处理」) and records a non-public note on the survivor. Each
reporter is still answered: when the survivor is closed, ``merged_into`` gives every complaint
merged into it, directly or through another merged one, and the handling answers them too.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy.orm import Session

from zhifa.complaints import repository as repo
from zhifa.complaints import workflow
from zhifa.complaints.schemas import DuplicateCandidate
from zhifa.config import Settings, get_settings
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.clock import as_utc
from zhifa.kit.geo import haversine_m
from zhifa.models.complaints import FINAL_STATUSES, Complaint, ComplaintStatus
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission

METRES_PER_DEGREE = 111_320.0
MERGED_NOTE = "与 {tracking_no} 为同一问题，已合并处理"


def limits(
    session: Session, district_code: str, settings: Settings | None = None
) -> tuple[float, int]:
    """(radius in metres, window in hours) for the district."""
    row = repo.settings_row(session, district_code)
    if row is not None:
        return float(row.duplicate_radius_m), int(row.duplicate_window_hours)
    env = settings or get_settings()
    return env.complaint_duplicate_radius_m, env.complaint_duplicate_window_hours


def _box(complaint: Complaint, radius_m: float, hours: int) -> repo.Box:
    assert complaint.lon is not None
    assert complaint.lat is not None
    dlat = radius_m / METRES_PER_DEGREE * 1.01
    cos = max(math.cos(math.radians(complaint.lat)), 0.01)
    dlon = radius_m / (METRES_PER_DEGREE * cos) * 1.01
    at = as_utc(complaint.received_at)
    return repo.Box(
        complaint.lon - dlon,
        complaint.lat - dlat,
        complaint.lon + dlon,
        complaint.lat + dlat,
        at - timedelta(hours=hours),
        at + timedelta(hours=hours),
    )


def candidates(
    session: Session, complaint: Complaint, *, settings: Settings | None = None
) -> list[DuplicateCandidate]:
    """Open complaints that may report the same problem, nearest first."""
    if complaint.lon is None or complaint.lat is None:
        return []
    radius_m, hours = limits(session, complaint.district_code, settings)
    rows = repo.open_near(
        session,
        district_code=complaint.district_code,
        category_id=complaint.category_id,
        box=_box(complaint, radius_m, hours),
        exclude_id=complaint.id,
    )
    found: list[DuplicateCandidate] = []
    for row in rows:
        assert row.lon is not None
        assert row.lat is not None
        distance = haversine_m(complaint.lon, complaint.lat, row.lon, row.lat)
        if distance > radius_m:
            continue
        age = as_utc(complaint.received_at) - as_utc(row.received_at)
        found.append(
            DuplicateCandidate(
                id=row.id,
                tracking_no=row.tracking_no,
                status=ComplaintStatus(row.status),
                status_label=ComplaintStatus(row.status).label,
                description=row.description[:200],
                address=row.address,
                lon=row.lon,
                lat=row.lat,
                distance_m=round(distance, 1),
                received_at=as_utc(row.received_at),
                age_hours=round(age.total_seconds() / 3600, 2),
            )
        )
    return sorted(found, key=lambda c: (c.distance_m, c.id))


def merge(
    session: Session, actor: Actor, *, complaint_id: int, into_id: int, note: str = ""
) -> Complaint:
    """Merge complaint ``complaint_id`` into ``into_id`` (the survivor); returns the duplicate."""
    if not actor.can(Permission.COMPLAINTS_DISPATCH):
        raise PermissionDenied(
            "Your role does not allow this action.",
            detail={"permission": str(Permission.COMPLAINTS_DISPATCH)},
        )
    if complaint_id == into_id:
        raise InvalidInput(
            "A complaint cannot be merged into itself; choose the complaint it duplicates.",
            detail={"field": "into_id"},
        )
    duplicate = _get(session, actor, complaint_id)
    into = _get(session, actor, into_id)
    _check(duplicate, into)
    text = note.strip()
    duplicate.duplicate_of_id = into.id
    workflow.advance(
        session,
        duplicate,
        "merged",
        actor_id=actor.officer_id,
        note=MERGED_NOTE.format(tracking_no=into.tracking_no),
        data={"into_id": into.id, "into_tracking_no": into.tracking_no, "note": text},
    )
    workflow.advance(
        session,
        into,
        "note",
        actor_id=actor.officer_id,
        public=False,
        data={"merged_id": duplicate.id, "merged_tracking_no": duplicate.tracking_no},
    )
    return duplicate


def _get(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    row = repo.complaint(session, actor, complaint_id, lock=True)
    if row is None:
        raise NotFound(
            "Complaint {complaint_id} does not exist or is outside your data scope.",
            complaint_id=complaint_id,
        )
    return row


def _check(duplicate: Complaint, into: Complaint) -> None:
    if duplicate.district_code != into.district_code:
        raise Conflict(
            "Complaints of different districts cannot be merged.", error_code="other_district"
        )
    if ComplaintStatus(into.status) in FINAL_STATUSES:
        raise Conflict(
            "Complaint {tracking_no} is already finished; merge into an open complaint.",
            detail={"field": "into_id", "status": str(into.status)},
            error_code="into_finished",
            tracking_no=into.tracking_no,
        )
    if not workflow.allowed(duplicate, "merged"):
        raise Conflict(
            workflow.STEP_REFUSED,
            detail={"status": str(duplicate.status), "step": "merged"},
            error_code="step_not_allowed",
        )


def merged_into(session: Session, complaint: Complaint) -> list[Complaint]:
    """Every complaint merged into ``complaint``, directly or through another merged one."""
    found: list[Complaint] = []
    seen = {complaint.id}
    frontier = [complaint.id]
    while frontier:
        children = [c for c in repo.merged_into(session, frontier) if c.id not in seen]
        seen.update(c.id for c in children)
        found.extend(children)
        frontier = [c.id for c in children]
    return found
