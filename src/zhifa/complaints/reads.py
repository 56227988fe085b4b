"""Reading complaints: the list in scope and one complaint's full picture (timeline, photos,
clocks, possible duplicates), with labels in the reader's language.

Scope as in ``complaints.repository`` (outside: 404). Nothing here returns the reporter's
identity: a read has ``reporter_masked`` only (``complaints.reporter.reveal`` is the way to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.complaints import duplicates, media
from zhifa.complaints import repository as repo
from zhifa.complaints.schemas import (
    ComplaintDetail,
    ComplaintEventRead,
    ComplaintPage,
    ComplaintRead,
)
from zhifa.errors import NotFound
from zhifa.kit.clock import utcnow
from zhifa.ledger.kinds import label as event_label
from zhifa.models.complaints import (
    FINAL_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintStatus,
)
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.web.i18n import DEFAULT_LOCALE, translate


def get(session: Session, actor: Actor, complaint_id: int, *, lock: bool = False) -> Complaint:
    """The complaint if ``actor`` may see it (its scope, or dispatched to it); else 404."""
    row = repo.complaint(session, actor, complaint_id, lock=lock)
    if row is None:
        raise NotFound(
            "Complaint {complaint_id} does not exist or is outside your data scope.",
            complaint_id=complaint_id,
        )
    return row


def complaint_read(
    row: Complaint, category: ComplaintCategory | None, locale: str = DEFAULT_LOCALE
) -> ComplaintRead:
    return ComplaintRead.model_validate(row).model_copy(update=_labels(row, category, locale))


def _labels(row: Complaint, category: ComplaintCategory | None, locale: str) -> dict[str, Any]:
    status = ComplaintStatus(row.status)
    return {
        "category_code": category.code if category is not None else "",
        "category_name": category.name if category is not None else "",
        "status_label": translate(locale, status.label),
        "is_open": status.is_open,
    }


def complaint_reads(
    session: Session, rows: Sequence[Complaint], locale: str = DEFAULT_LOCALE
) -> list[ComplaintRead]:
    categories = repo.categories_by_id(session, (r.category_id for r in rows))
    return [complaint_read(r, categories.get(r.category_id), locale) for r in rows]


def complaint_page(
    session: Session,
    actor: Actor,
    f: repo.ComplaintFilter,
    *,
    limit: int,
    offset: int,
    locale: str = DEFAULT_LOCALE,
) -> ComplaintPage:
    rows, total = repo.page(session, actor.scope, f, limit=limit, offset=offset)
    return ComplaintPage(items=complaint_reads(session, rows, locale), total=total)


def event_reads(
    session: Session, events: Sequence[ComplaintEvent], locale: str = DEFAULT_LOCALE
) -> list[ComplaintEventRead]:
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    names: dict[int, str] = {}
    if actor_ids:
        stmt = select(Officer.id, Officer.name).where(Officer.id.in_(actor_ids))
        names = {row.id: row.name for row in session.execute(stmt)}
    return [
        ComplaintEventRead.model_validate(e).model_copy(
            update={
                "kind_label": event_label(f"complaint.{e.kind}", locale),
                "status_label": translate(locale, ComplaintStatus(e.status).label),
                "actor_name": names.get(e.actor_id, "") if e.actor_id is not None else "",
            }
        )
        for e in events
    ]


def clocks(complaint: Complaint, now: datetime) -> list[dict[str, Any]]:
    """``complaints.sla.clocks`` as JSON, when the SLA module provides it."""
    from zhifa.complaints import sla

    compute = getattr(sla, "clocks", None)
    if compute is None:
        return []
    return [dict(to_jsonable_python(c)) for c in compute(complaint, now)]


def complaint_detail(
    session: Session, actor: Actor, complaint_id: int, *, locale: str = DEFAULT_LOCALE
) -> ComplaintDetail:
    row = get(session, actor, complaint_id)
    category = repo.categories_by_id(session, [row.category_id]).get(row.category_id)
    base = complaint_read(row, category, locale)
    final = ComplaintStatus(row.status) in FINAL_STATUSES
    return ComplaintDetail(
        **base.model_dump(),
        events=event_reads(session, repo.events(session, row.id), locale),
        media=[media.media_read(m, locale) for m in repo.media(session, row.id)],
        clocks=clocks(row, utcnow()),
        duplicates=[] if final else duplicates.candidates(session, row),
        merged=[c.tracking_no for c in duplicates.merged_into(session, row)],
    )
