"""Today's demo inspection tasks: the demo ``officer`` account, with a partner of the same squad
(``officer02`` when it is there), gets planned tasks for the whole local day (00:00–23:59, so the
demo works at any hour) on the demo construction site of squad ZD01's grid and on up to two
other demo subjects of that squad.

Idempotent: a task already planned for that day, subject and lead is not planned again, so a
second run the same day adds nothing and a run on a new day adds that day's tasks. A missing
account, partner or subject is skipped quietly (the subjects come from ``demo.subjects``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from zhifa.inspections.common import whole_day
from zhifa.inspections.tasks import can_inspect, new_task
from zhifa.models.inspections import InspectionTask, TaskKind
from zhifa.models.org import Grid, Officer, OfficerStatus, Unit
from zhifa.models.subjects import Subject

SQUAD_CODE = "ZD01"
LEAD_USERNAME = "officer"
PARTNER_USERNAME = "officer02"
SITE_TYPE = "construction_site"
OTHER_SUBJECTS = 2


def _officer(session: Session, district_code: str, username: str) -> Officer | None:
    row: Officer | None = session.scalar(
        select(Officer).where(
            Officer.district_code == district_code,
            Officer.username == username,
            Officer.status == OfficerStatus.ACTIVE,
        )
    )
    return row


def _partner(session: Session, lead: Officer) -> Officer | None:
    """``officer02`` when it is in the lead's squad, else the first field officer there."""
    stmt = select(Officer).where(
        Officer.district_code == lead.district_code,
        Officer.unit_id == lead.unit_id,
        Officer.status == OfficerStatus.ACTIVE,
        Officer.id != lead.id,
    )
    mates = [o for o in session.scalars(stmt.order_by(Officer.username)) if can_inspect(o)]
    preferred = [o for o in mates if o.username == PARTNER_USERNAME]
    chosen = preferred or mates
    return chosen[0] if chosen else None


def _subjects(session: Session, squad: Unit) -> list[Subject]:
    """The construction site first, then other subjects of the squad's grid (by id)."""
    grids = select(Grid.id).where(Grid.unit_id == squad.id)
    stmt = select(Subject).where(
        Subject.district_code == squad.district_code,
        Subject.active.is_(True),
        or_(Subject.unit_id == squad.id, Subject.grid_id.in_(grids)),
    )
    rows = list(session.scalars(stmt.order_by(Subject.id)))
    sites = [s for s in rows if s.subject_type_code == SITE_TYPE][:1]
    others = [s for s in rows if s.subject_type_code != SITE_TYPE][:OTHER_SUBJECTS]
    return sites + others


def _planned(session: Session, subject: Subject, lead: Officer, start: datetime) -> bool:
    found = session.scalar(
        select(InspectionTask.id).where(
            InspectionTask.subject_id == subject.id,
            InspectionTask.kind == TaskKind.PLANNED,
            InspectionTask.lead_officer_id == lead.id,
            InspectionTask.window_start == start,
        )
    )
    return found is not None


def load(session: Session, district_code: str, *, today: date) -> int:
    """Create what is missing; return how many rows were created. Idempotent."""
    lead = _officer(session, district_code, LEAD_USERNAME)
    squad = session.scalar(
        select(Unit).where(Unit.district_code == district_code, Unit.code == SQUAD_CODE)
    )
    if lead is None or squad is None or lead.unit_id is None:
        return 0
    partner = _partner(session, lead)
    if partner is None:
        return 0
    window = whole_day(today)
    created = 0
    for subject in _subjects(session, squad):
        if _planned(session, subject, lead, window[0]):
            continue
        new_task(
            session,
            None,
            kind=TaskKind.PLANNED,
            subject=subject,
            officer_ids=[lead.id, partner.id],
            window=window,
            via="demo",
        )
        created += 1
    return created
