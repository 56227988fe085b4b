"""Every query on complaints, their events, media, categories and district settings.

Data scope: a complaint belongs to its owning squad (``unit_id``); an actor sees the complaints
of the districts and the unit subtree of its scope (``org.scope``), plus those it is dispatched
to (``officer_ids``) wherever they are owned. Anything else does not exist for it (None → 404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from zhifa.models.complaints import (
    FINAL_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintMedia,
    ComplaintSettings,
    ComplaintSource,
    ComplaintStatus,
    MediaRole,
    SlaState,
)
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.scope import DataScope


def scoped(scope: DataScope) -> Select[Complaint]:
    stmt = scope.where_district(select(Complaint), Complaint.district_code)
    return scope.where_unit(stmt, Complaint.unit_id)


def complaint(
    session: Session, actor: Actor, complaint_id: int, *, lock: bool = False
) -> Complaint | None:
    """The complaint if ``actor`` may see it: in its scope, or dispatched to it."""
    stmt = scoped(actor.scope).where(Complaint.id == complaint_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is not None:
        return row
    stmt = actor.scope.where_district(select(Complaint), Complaint.district_code)
    stmt = stmt.where(Complaint.id == complaint_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is not None and actor.officer_id in (row.officer_ids or []):
        return row
    return None


def by_source_ref(
    session: Session, district_code: str, source: ComplaintSource, source_ref: str
) -> Complaint | None:
    row: Complaint | None = session.scalar(
        select(Complaint).where(
            Complaint.district_code == district_code,
            Complaint.source == source,
            Complaint.source_ref == source_ref,
        )
    )
    return row


def tracking_taken(session: Session, tracking_no: str) -> bool:
    return (
        session.scalar(select(Complaint.id).where(Complaint.tracking_no == tracking_no)) is not None
    )


def by_tracking_no(session: Session, tracking_no: str) -> Complaint | None:
    """A complaint by its public number (no scope: the citizen's own look-up)."""
    row: Complaint | None = session.scalar(
        select(Complaint).where(Complaint.tracking_no == tracking_no)
    )
    return row


@dataclass(frozen=True)
class ComplaintFilter:
    statuses: tuple[ComplaintStatus, ...] = ()
    category_code: str | None = None
    sla_state: SlaState | None = None
    open: bool | None = None
    q: str = ""


def _filtered(scope: DataScope, f: ComplaintFilter) -> Select[Complaint]:
    stmt = scoped(scope)
    if f.statuses:
        stmt = stmt.where(Complaint.status.in_([str(s) for s in f.statuses]))
    if f.category_code:
        codes = select(ComplaintCategory.id).where(ComplaintCategory.code == f.category_code)
        stmt = stmt.where(Complaint.category_id.in_(codes))
    if f.sla_state is not None:
        stmt = stmt.where(Complaint.sla_state == str(f.sla_state))
    final = [str(s) for s in FINAL_STATUSES]
    if f.open is True:
        stmt = stmt.where(Complaint.status.not_in(final))
    elif f.open is False:
        stmt = stmt.where(Complaint.status.in_(final))
    words = f.q.strip()
    if words:
        like = f"%{_escape_like(words)}%"
        stmt = stmt.where(
            or_(
                Complaint.tracking_no.ilike(like, escape="\\"),
                Complaint.description.ilike(like, escape="\\"),
                Complaint.address.ilike(like, escape="\\"),
            )
        )
    return stmt


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page(
    session: Session, scope: DataScope, f: ComplaintFilter, *, limit: int, offset: int
) -> tuple[list[Complaint], int]:
    """One page of the complaints in scope matching ``f``, newest first, and the total."""
    stmt = _filtered(scope, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total)


def events(session: Session, complaint_id: int) -> list[ComplaintEvent]:
    stmt = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id)
    return list(session.scalars(stmt.order_by(ComplaintEvent.at, ComplaintEvent.id)))


def media(session: Session, complaint_id: int) -> list[ComplaintMedia]:
    stmt = select(ComplaintMedia).where(ComplaintMedia.complaint_id == complaint_id)
    return list(session.scalars(stmt.order_by(ComplaintMedia.id)))


def media_row(session: Session, complaint_id: int, media_id: int) -> ComplaintMedia | None:
    row: ComplaintMedia | None = session.scalar(
        select(ComplaintMedia).where(
            ComplaintMedia.id == media_id, ComplaintMedia.complaint_id == complaint_id
        )
    )
    return row


def media_by_uuid(session: Session, client_uuid: str) -> ComplaintMedia | None:
    row: ComplaintMedia | None = session.scalar(
        select(ComplaintMedia)
        .where(ComplaintMedia.client_uuid == client_uuid)
        .execution_options(populate_existing=True)
    )
    return row


def media_count(session: Session, complaint_id: int, role: MediaRole) -> int:
    stmt = select(func.count(ComplaintMedia.id)).where(
        ComplaintMedia.complaint_id == complaint_id, ComplaintMedia.role == str(role)
    )
    return int(session.scalar(stmt) or 0)


def settings_row(session: Session, district_code: str) -> ComplaintSettings | None:
    row: ComplaintSettings | None = session.scalar(
        select(ComplaintSettings).where(ComplaintSettings.district_code == district_code)
    )
    return row


def category_by_code(session: Session, district_code: str, code: str) -> ComplaintCategory | None:
    row: ComplaintCategory | None = session.scalar(
        select(ComplaintCategory).where(
            ComplaintCategory.district_code == district_code, ComplaintCategory.code == code
        )
    )
    return row


def category(session: Session, district_code: str, category_id: int) -> ComplaintCategory | None:
    row: ComplaintCategory | None = session.scalar(
        select(ComplaintCategory).where(
            ComplaintCategory.district_code == district_code, ComplaintCategory.id == category_id
        )
    )
    return row


def categories(
    session: Session, district_code: str, *, active: bool | None = None
) -> list[ComplaintCategory]:
    stmt = select(ComplaintCategory).where(ComplaintCategory.district_code == district_code)
    if active is not None:
        stmt = stmt.where(ComplaintCategory.active.is_(active))
    order = (ComplaintCategory.sort_order, ComplaintCategory.code)
    return list(session.scalars(stmt.order_by(*order)))


def categories_by_id(session: Session, ids: Iterable[int]) -> dict[int, ComplaintCategory]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(ComplaintCategory).where(ComplaintCategory.id.in_(wanted)))
    return {row.id: row for row in rows}


@dataclass(frozen=True)
class Box:
    """A search box around a point, in degrees, and a time window."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    since: datetime
    until: datetime


def open_near(
    session: Session, *, district_code: str, category_id: int, box: Box, exclude_id: int | None
) -> list[Complaint]:
    """Not-final complaints of one category with a point inside ``box`` received in its window."""
    stmt = select(Complaint).where(
        Complaint.district_code == district_code,
        Complaint.category_id == category_id,
        Complaint.status.not_in([str(s) for s in FINAL_STATUSES]),
        Complaint.lon.is_not(None),
        Complaint.lat.is_not(None),
        Complaint.lon.between(box.min_lon, box.max_lon),
        Complaint.lat.between(box.min_lat, box.max_lat),
        Complaint.received_at.between(box.since, box.until),
    )
    if exclude_id is not None:
        stmt = stmt.where(Complaint.id != exclude_id)
    return list(session.scalars(stmt.order_by(Complaint.id)))


def merged_into(session: Session, ids: Iterable[int]) -> list[Complaint]:
    """Complaints merged (status merged) directly into any of ``ids``."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = select(Complaint).where(
        Complaint.duplicate_of_id.in_(wanted), Complaint.status == str(ComplaintStatus.MERGED)
    )
    return list(session.scalars(stmt.order_by(Complaint.id)))


def category_names(session: Session, district_code: str) -> dict[int, str]:
    rows = session.execute(
        select(ComplaintCategory.id, ComplaintCategory.name).where(
            ComplaintCategory.district_code == district_code
        )
    ).all()
    return {r.id: r.name for r in rows}


def officer_names(session: Session, officer_ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(officer_ids))
    return {o.id: o.name for o in session.scalars(select(Officer).where(Officer.id.in_(wanted)))}


def media_of(session: Session, complaint_ids: Iterable[int]) -> dict[int, list[ComplaintMedia]]:
    """Each complaint's photos in upload order."""
    found: dict[int, list[ComplaintMedia]] = {}
    for m in session.scalars(
        select(ComplaintMedia)
        .where(ComplaintMedia.complaint_id.in_(list(complaint_ids)))
        .order_by(ComplaintMedia.id)
    ):
        found.setdefault(m.complaint_id, []).append(m)
    return found
