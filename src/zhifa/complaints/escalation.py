"""The SLA sweep and escalation (督办): as time passes, clocks turn amber and red and someone is
told.

``sweep(session, now)`` looks at every open, unpaused complaint with a deadline and, per running
clock:

- approaching (``warning``): a level-1 warning alert to the owning squad's leader
  (``unit_id`` = the complaint's squad);
- missed (``overdue``): a level-1 overdue alert to the squad leader, then a level-2 overdue alert
  to the bureau leader (``unit_id`` None: the bureau), in that order. A clock found already
  overdue gets no warning alert (it would only be noise).

Each alert is raised once per (complaint, stage, kind, level) — the unique constraint holds that
even when two processes sweep at once: each alert is inserted in its own SAVEPOINT and a
duplicate is dropped. Each alert is a non-public ``escalated`` step (data stage / kind / level)
that raises ``escalation_level``. The sweep also stores each complaint's ``sla_state``; the bus
hears ``sla`` when it changed and ``alert`` for each new alert (after commit).

``sweep_once(db)`` runs one sweep in its own unit of work (the periodic job). On PostgreSQL it
locks the complaints it works on with ``FOR UPDATE SKIP LOCKED``, so a complaint a request is
changing is left for the next round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.complaints import repository, sla, workflow
from zhifa.db import Database
from zhifa.errors import Conflict, NotFound
from zhifa.kit.clock import utcnow
from zhifa.kit.events import publish_after_commit
from zhifa.models.complaints import (
    AlertKind,
    Complaint,
    SlaAlert,
    SlaState,
)
from zhifa.org.actor import Actor

log = logging.getLogger("zhifa.escalation")

ALERT_TOPIC = "alert"
SLA_TOPIC = "sla"
BATCH = 500
SQUAD_LEVEL, BUREAU_LEVEL = 1, 2

AlertKey = tuple[int, str, str, int]  # complaint id, stage, kind, level


DUES = (
    Complaint.dispatch_due,
    Complaint.arrive_due,
    Complaint.handle_due,
    Complaint.feedback_due,
)


def _candidates(session: Session) -> list[Complaint]:
    """Open, unpaused complaints with a deadline, locked (PostgreSQL skips those locked
    elsewhere), in batches of ``BATCH``."""
    found: list[Complaint] = []
    after = 0
    while True:
        stmt = (
            select(Complaint)
            .where(Complaint.status.in_([str(s) for s in workflow.OPEN]))
            .where(Complaint.paused_at.is_(None))
            .where(or_(*(d.is_not(None) for d in DUES)))
            .where(Complaint.id > after)
            .order_by(Complaint.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        batch = list(session.scalars(stmt))
        if not batch:
            return found
        found.extend(batch)
        after = batch[-1].id


def _existing(session: Session, ids: list[int]) -> set[AlertKey]:
    found: set[AlertKey] = set()
    for start in range(0, len(ids), BATCH):
        rows = session.execute(
            select(SlaAlert.complaint_id, SlaAlert.stage, SlaAlert.kind, SlaAlert.level).where(
                SlaAlert.complaint_id.in_(ids[start : start + BATCH])
            )
        )
        found |= {(c, str(s), str(k), int(lv)) for c, s, k, lv in rows}
    return found


def wanted(clock: sla.Clock) -> list[tuple[AlertKind, int]]:
    """The alerts a running clock calls for, in the order they are raised."""
    if clock.state is SlaState.WARNING:
        return [(AlertKind.WARNING, SQUAD_LEVEL)]
    if clock.state is SlaState.OVERDUE:
        return [(AlertKind.OVERDUE, SQUAD_LEVEL), (AlertKind.OVERDUE, BUREAU_LEVEL)]
    return []


def _insert(
    session: Session, complaint: Complaint, clock: sla.Clock, kind: AlertKind, level: int
) -> SlaAlert | None:
    """Insert one alert in a SAVEPOINT; None when another sweep raised it first."""
    alert = SlaAlert(
        district_code=complaint.district_code,
        complaint_id=complaint.id,
        stage=clock.stage,
        kind=kind,
        level=level,
        unit_id=complaint.unit_id if level == SQUAD_LEVEL else None,
        due=clock.due,
    )
    try:
        with ledger.savepoint(session):
            session.add(alert)
            session.flush()
    except IntegrityError:
        log.info("alert %s/%s/%s/%s already raised", complaint.id, clock.stage, kind, level)
        return None
    return alert


def _escalate(session: Session, complaint: Complaint, alert: SlaAlert, now: datetime) -> None:
    """The alert's ``escalated`` step, the complaint's escalation level and the bus."""
    complaint.escalation_level = max(complaint.escalation_level or 0, alert.level)
    workflow.advance(
        session,
        complaint,
        "escalated",
        actor_id=None,
        at=now,
        public=False,
        data={
            "alert_id": alert.id,
            "stage": str(alert.stage),
            "kind": str(alert.kind),
            "level": alert.level,
            "due": alert.due.isoformat(),
        },
    )
    publish_after_commit(
        session, ALERT_TOPIC, alert_data(alert, complaint), district_code=complaint.district_code
    )


def alert_data(alert: SlaAlert, complaint: Complaint) -> dict[str, Any]:
    """What the command centre hears about a new alert."""
    return {
        "alert_id": alert.id,
        "complaint_id": complaint.id,
        "tracking_no": complaint.tracking_no,
        "stage": str(alert.stage),
        "kind": str(alert.kind),
        "level": alert.level,
        "unit_id": alert.unit_id,
        "due": alert.due.isoformat(),
    }


def _new_alerts(
    session: Session, complaint: Complaint, now: datetime, existing: set[AlertKey]
) -> list[SlaAlert]:
    inserted: list[SlaAlert] = []
    for clock in sla.clocks(complaint, now):
        if not clock.running:
            continue
        for kind, level in wanted(clock):
            if (complaint.id, str(clock.stage), str(kind), level) not in existing:
                alert = _insert(session, complaint, clock, kind, level)
                if alert is not None:
                    inserted.append(alert)
    return inserted


def _refresh_state(session: Session, complaint: Complaint, now: datetime, before: str) -> None:
    complaint.sla_state = sla.state(complaint, now)
    if str(complaint.sla_state) == before:
        return
    publish_after_commit(
        session,
        SLA_TOPIC,
        {
            "complaint_id": complaint.id,
            "sla_state": str(complaint.sla_state),
            "unit_id": complaint.unit_id,
        },
        district_code=complaint.district_code,
    )


def sweep(session: Session, now: datetime) -> list[SlaAlert]:
    """One pass over the open complaints (see the module docstring); the alerts raised.

    The alerts are inserted first (each in its SAVEPOINT), the steps taken and the bus told after
    that: a SAVEPOINT's release counts as a commit for the session's events, so no SAVEPOINT may
    follow an announcement in the same transaction."""
    complaints = _candidates(session)
    existing = _existing(session, [c.id for c in complaints])
    before = {c.id: str(c.sla_state) for c in complaints}
    inserted = {c.id: _new_alerts(session, c, now, existing) for c in complaints}
    raised: list[SlaAlert] = []
    for complaint in complaints:
        for alert in inserted[complaint.id]:
            _escalate(session, complaint, alert, now)
            raised.append(alert)
        _refresh_state(session, complaint, now, before[complaint.id])
    return raised


def sweep_once(db: Database) -> int:
    """One sweep in its own unit of work; the number of alerts raised."""
    with db.unit_of_work() as session:
        return len(sweep(session, utcnow()))


# --- the alerts as people see them (supervision) --------------------------------------------------


def _scoped_alerts(actor: Actor) -> Select[SlaAlert]:
    """Alerts in the actor's scope: a squad leader sees its squad's (level 1); the bureau's
    (level 2, no unit) only district-wide actors."""
    stmt = actor.scope.where_district(select(SlaAlert), SlaAlert.district_code)
    return actor.scope.where_unit(stmt, SlaAlert.unit_id)


def alerts(
    session: Session,
    actor: Actor,
    *,
    acknowledged: bool | None = None,
    complaint_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SlaAlert]:
    """Alerts in scope, newest first."""
    stmt = _scoped_alerts(actor)
    if acknowledged is True:
        stmt = stmt.where(SlaAlert.acknowledged_at.is_not(None))
    elif acknowledged is False:
        stmt = stmt.where(SlaAlert.acknowledged_at.is_(None))
    if complaint_id is not None:
        stmt = stmt.where(SlaAlert.complaint_id == complaint_id)
    stmt = stmt.order_by(SlaAlert.created_at.desc(), SlaAlert.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def acknowledge(session: Session, actor: Actor, *, alert_id: int) -> SlaAlert:
    """Mark an alert as seen (签收): who and when, a ``note`` step on the complaint's timeline."""
    row = session.scalar(_scoped_alerts(actor).where(SlaAlert.id == alert_id).with_for_update())
    if row is None:
        raise NotFound("The alert does not exist or is outside your data scope.")
    if row.acknowledged_at is not None:
        raise Conflict(
            "This alert has already been acknowledged.",
            detail={"acknowledged_by_id": row.acknowledged_by_id},
            error_code="alert_acknowledged",
        )
    now = utcnow()
    row.acknowledged_by_id, row.acknowledged_at = actor.officer_id, now
    complaint = session.get(Complaint, row.complaint_id)
    if complaint is not None:
        workflow.advance(
            session,
            complaint,
            "note",
            actor_id=actor.officer_id,
            at=now,
            public=False,
            data={
                "alert_id": row.id,
                "acknowledged": True,
                "stage": str(row.stage),
                "kind": str(row.kind),
                "level": row.level,
            },
        )
    return row


def tracking_numbers(session: Session, rows: list[SlaAlert]) -> dict[int, str]:
    ids = sorted({r.complaint_id for r in rows})
    if not ids:
        return {}
    found = session.execute(
        select(Complaint.id, Complaint.tracking_no).where(Complaint.id.in_(ids))
    )
    return {cid: str(no) for cid, no in found}


@dataclass(frozen=True)
class Overdue:
    """An open complaint with at least one running clock past its deadline."""

    complaint: Complaint
    clocks: list[sla.Clock]  # the overdue ones, most late first

    @property
    def late_seconds(self) -> int:
        return -min(c.remaining_seconds or 0 for c in self.clocks)


def overdue(session: Session, actor: Actor, now: datetime, *, limit: int = 200) -> list[Overdue]:
    """Open, unpaused complaints in scope with a clock past its deadline, most late first."""
    stmt = (
        repository.scoped(actor.scope)
        .where(Complaint.status.in_([str(s) for s in workflow.OPEN]))
        .where(Complaint.paused_at.is_(None))
        .where(or_(*(due < now for due in DUES)))
        .order_by(Complaint.id)
    )
    found: list[Overdue] = []
    for complaint in session.scalars(stmt):
        late = [c for c in sla.clocks(complaint, now) if c.state is SlaState.OVERDUE]
        if late:
            late.sort(key=lambda c: c.remaining_seconds or 0)
            found.append(Overdue(complaint, late))
    found.sort(key=lambda o: -o.late_seconds)
    return found[:limit]


def paused(session: Session, actor: Actor, *, limit: int = 200) -> list[Complaint]:
    """Open complaints in scope whose clocks are paused, longest paused first."""
    stmt = (
        repository.scoped(actor.scope)
        .where(Complaint.status.in_([str(s) for s in workflow.OPEN]))
        .where(Complaint.paused_at.is_not(None))
        .order_by(Complaint.paused_at, Complaint.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def complaints_by_id(session: Session, ids: list[int]) -> list[Complaint]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(session.scalars(select(Complaint).where(Complaint.id.in_(wanted))))
