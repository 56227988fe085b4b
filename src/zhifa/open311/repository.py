"""Every query of the Open311 server. Scope is the jurisdiction: one district, public data only.

Invariant: nothing here reads the reporter's cipher texts; what these queries return is what the
public may see of a complaint (its timeline's public steps, the citizen's own photos).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhifa.models.complaints import (
    FINAL_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintMedia,
    ComplaintStatus,
    MediaRole,
)
from zhifa.models.org import Department


def categories(session: Session, district_code: str) -> dict[int, ComplaintCategory]:
    """Every category of the district (inactive ones too: old complaints still name them)."""
    rows = session.scalars(
        select(ComplaintCategory).where(ComplaintCategory.district_code == district_code)
    ).all()
    return {row.id: row for row in rows}


def active_services(session: Session, district_code: str) -> Sequence[ComplaintCategory]:
    return session.scalars(
        select(ComplaintCategory)
        .where(
            ComplaintCategory.district_code == district_code,
            ComplaintCategory.active.is_(True),
        )
        .order_by(ComplaintCategory.sort_order, ComplaintCategory.code)
    ).all()


def service(session: Session, district_code: str, code: str) -> ComplaintCategory | None:
    return session.scalar(
        select(ComplaintCategory).where(
            ComplaintCategory.district_code == district_code,
            ComplaintCategory.code == code,
            ComplaintCategory.active.is_(True),
        )
    )


def last_service_change(session: Session, district_code: str) -> datetime | None:
    return session.scalar(
        select(func.max(ComplaintCategory.updated_at)).where(
            ComplaintCategory.district_code == district_code
        )
    )


def department_names(session: Session, district_code: str) -> dict[int, str]:
    rows = session.execute(
        select(Department.id, Department.name).where(Department.district_code == district_code)
    ).all()
    return {row.id: row.name for row in rows}


@dataclass(frozen=True)
class RequestQuery:
    """GET requests: ids override every other filter; the rest combine."""

    tracking_nos: list[str]
    service_codes: list[str]
    statuses: set[str]  # "open" / "closed"
    start: datetime
    end: datetime
    limit: int


def _status_filter(stmt: Select[Complaint], statuses: set[str]) -> Select[Complaint]:
    final = sorted(str(s) for s in FINAL_STATUSES)
    if statuses == {"open"}:
        return stmt.where(Complaint.status.not_in(final))
    if statuses == {"closed"}:
        return stmt.where(Complaint.status.in_(final))
    return stmt


def complaints(session: Session, district_code: str, query: RequestQuery) -> Sequence[Complaint]:
    """The newest complaints matching ``query`` (at most ``query.limit``)."""
    stmt = select(Complaint).where(Complaint.district_code == district_code)
    if query.tracking_nos:
        stmt = stmt.where(Complaint.tracking_no.in_(query.tracking_nos))
    else:
        if query.service_codes:
            codes = select(ComplaintCategory.id).where(
                ComplaintCategory.district_code == district_code,
                ComplaintCategory.code.in_(query.service_codes),
            )
            stmt = stmt.where(Complaint.category_id.in_(codes))
        stmt = _status_filter(stmt, query.statuses)
        stmt = stmt.where(Complaint.received_at >= query.start, Complaint.received_at <= query.end)
    stmt = stmt.order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(query.limit)
    return session.scalars(stmt).all()


def by_tracking_no(session: Session, district_code: str, tracking_no: str) -> Complaint | None:
    return session.scalar(
        select(Complaint).where(
            Complaint.district_code == district_code, Complaint.tracking_no == tracking_no
        )
    )


def by_token(session: Session, district_code: str, token: str) -> Complaint | None:
    return session.scalar(
        select(Complaint).where(Complaint.district_code == district_code, Complaint.token == token)
    )


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """Ids in slices (a deployment may raise ``open311_max_requests`` past a database's limit of
    bound parameters)."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def public_events(session: Session, complaint_ids: list[int]) -> dict[int, list[ComplaintEvent]]:
    """The public steps of each complaint, oldest first."""
    found: dict[int, list[ComplaintEvent]] = {cid: [] for cid in complaint_ids}
    for chunk in _chunks(complaint_ids):
        rows = session.scalars(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id.in_(chunk), ComplaintEvent.public.is_(True))
            .order_by(ComplaintEvent.at, ComplaintEvent.id)
        ).all()
        for row in rows:
            found[row.complaint_id].append(row)
    return found


def first_citizen_photos(session: Session, complaint_ids: list[int]) -> dict[int, int]:
    """complaint id → the id of the citizen's first photo, for the complaints that have one."""
    found: dict[int, int] = {}
    for chunk in _chunks(complaint_ids):
        rows = session.execute(
            select(ComplaintMedia.complaint_id, func.min(ComplaintMedia.id))
            .where(
                ComplaintMedia.complaint_id.in_(chunk),
                ComplaintMedia.role == MediaRole.REPORT,
            )
            .group_by(ComplaintMedia.complaint_id)
        ).all()
        found.update({int(row[0]): int(row[1]) for row in rows})
    return found


def updates_between(
    session: Session, district_code: str, start: datetime, end: datetime, limit: int
) -> Sequence[tuple[ComplaintEvent, str]]:
    """Public steps in ``[start, end]``, oldest first, each with its complaint's tracking number
    (a client pages on by asking again from the last ``updated_datetime`` it saw)."""
    rows = session.execute(
        select(ComplaintEvent, Complaint.tracking_no)
        .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .where(
            ComplaintEvent.district_code == district_code,
            ComplaintEvent.public.is_(True),
            ComplaintEvent.at >= start,
            ComplaintEvent.at <= end,
        )
        .order_by(ComplaintEvent.at, ComplaintEvent.id)
        .limit(limit)
    ).all()
    return [(event, tracking_no) for event, tracking_no in rows]


def citizen_notes(session: Session, complaint_id: int) -> Sequence[ComplaintEvent]:
    """The notes posted on a complaint (to find a repeated update from the city platform)."""
    return session.scalars(
        select(ComplaintEvent).where(
            ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.kind == "note"
        )
    ).all()


def is_open(status: str) -> bool:
    return ComplaintStatus(status).is_open
