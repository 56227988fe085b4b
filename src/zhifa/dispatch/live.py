"""Officers on duty, live: positions from their devices, duty status (在岗状态), the live list and
the track.

Invariants:
- A batch of fixes is all or nothing: one bad fix (out of range, negative accuracy, ahead of the
  server's clock by more than ``checkin_clock_skew_seconds``, older than 24 hours) refuses the
  batch with its index, and nothing is written. Fixes are always the caller's own.
- The track (``PositionFix``) gets every accepted fix in one bulk insert; ``OfficerLive`` keeps the
  newest fix by device time, upserted in one statement (``ON CONFLICT … WHERE newer``), so a late
  older fix goes into the track only, and two batches at once cannot both insert the row.
- Positions are telemetry, not ledgered; a change of duty status or commitment is (one
  ``dispatch.status.changed`` event, only when something changed). Both announce the officer's
  live row on the bus (topic ``officer``) once the transaction commits: once per batch, once per
  change.
- An officer sets only 在岗可派 (available) and 离岗 (off duty) themselves; the other states follow
  the complaint's steps (``complaints.handling`` calls ``set_status``). While committed to a
  complaint they cannot go off duty, nor leave a step's state; off duty clears nothing else.
- A row never written has status off duty: sending positions does not put anyone on duty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import cache
from typing import Any, Final, cast

from sqlalchemy import Table, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import Settings, get_settings
from zhifa.dispatch.schemas import FixIn
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.inspections.common import aware
from zhifa.kit.clock import as_utc, utcnow
from zhifa.kit.events import publish_after_commit
from zhifa.models.complaints import Complaint, ComplaintSettings
from zhifa.models.dispatch import DutyStatus, OfficerLive, PositionFix
from zhifa.models.org import Officer, OfficerStatus, Unit
from zhifa.org.actor import Actor
from zhifa.org.roles import ROLE_PERMISSIONS, Permission

BUS_TOPIC = "officer"
LEDGER_KIND = "dispatch.status.changed"
SELF_SET = frozenset({DutyStatus.AVAILABLE, DutyStatus.OFF_DUTY})
STEP_STATES = frozenset({DutyStatus.EN_ROUTE, DutyStatus.ON_SCENE, DutyStatus.HANDLING})
MAX_FIX_AGE = timedelta(hours=24)
MAX_TRACK_WINDOW = timedelta(hours=24)
# Roles whose holders go out on complaints (permission complaints:handle).
HANDLER_ROLES: Final = frozenset(
    str(role)
    for role, granted in ROLE_PERMISSIONS.items()
    if Permission.COMPLAINTS_HANDLE in granted
)


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


def is_handler(roles: Sequence[str] | None) -> bool:
    """Whether an officer with ``roles`` is a field officer (holds complaints:handle)."""
    return not HANDLER_ROLES.isdisjoint(roles or ())


def stale_after_seconds(
    session: Session, district_code: str, settings: Settings | None = None
) -> int:
    """A fix older than this is stale: the district's own setting, else the environment's."""
    own = session.scalar(
        select(ComplaintSettings.position_stale_seconds).where(
            ComplaintSettings.district_code == district_code
        )
    )
    return int(own) if own else (settings or get_settings()).position_stale_seconds


def fix_age_seconds(live: OfficerLive | None, now: datetime) -> int | None:
    """Seconds since the device took the last fix (0 for a clock a little ahead); None: no fix."""
    if live is None or live.fix_at is None:
        return None
    return max(0, int((now - as_utc(live.fix_at)).total_seconds()))


# --- Positions ---


@dataclass(frozen=True)
class FixesRecorded:
    accepted: int
    live: OfficerLive


def _refuse(index: int, field: str, reason: str, message: str, **params: Any) -> InvalidInput:
    return InvalidInput(
        message,
        detail={"field": f"fixes.{index}.{field}", "index": index, "reason": reason},
        error_code="invalid_fix",
        number=index + 1,
        **params,
    )


def _check_fix(index: int, fix: FixIn, now: datetime, skew: timedelta) -> None:
    if not (-180.0 <= fix.lon <= 180.0 and -90.0 <= fix.lat <= 90.0):
        raise _refuse(
            index,
            "lon" if not -180.0 <= fix.lon <= 180.0 else "lat",
            "out_of_range",
            "Fix {number}: the longitude must lie between -180 and 180 and the latitude between "
            "-90 and 90.",
        )
    if fix.accuracy_m < 0:
        raise _refuse(
            index, "accuracy_m", "negative", "Fix {number}: the accuracy cannot be negative."
        )
    if fix.speed_mps is not None and fix.speed_mps < 0:
        raise _refuse(index, "speed_mps", "negative", "Fix {number}: the speed cannot be negative.")
    if fix.heading_deg is not None and not 0.0 <= fix.heading_deg < 360.0:
        raise _refuse(
            index,
            "heading_deg",
            "out_of_range",
            "Fix {number}: the heading must be at least 0 and less than 360 degrees.",
        )
    taken = aware(fix.fix_at)
    if taken > now + skew:
        raise _refuse(
            index,
            "fix_at",
            "in_future",
            "Fix {number} was taken later than the server's time: check the device's clock.",
        )
    if taken < now - MAX_FIX_AGE:
        raise _refuse(
            index,
            "fix_at",
            "too_old",
            "Fix {number} is more than 24 hours old and is not accepted.",
        )


def check_fixes(fixes: Sequence[FixIn], *, now: datetime, settings: Settings) -> None:
    """Refuse the whole batch (422) at its first bad fix; see the module's invariants."""
    if not 1 <= len(fixes) <= settings.position_batch_max:
        raise InvalidInput(
            "Send between 1 and {maximum} fixes at a time (this batch has {count}).",
            detail={"field": "fixes", "reason": "batch_size"},
            error_code="invalid_batch",
            maximum=settings.position_batch_max,
            count=len(fixes),
        )
    skew = timedelta(seconds=settings.checkin_clock_skew_seconds)
    for index, fix in enumerate(fixes):
        _check_fix(index, fix, now, skew)


def _insert(session: Session) -> Any:
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL both have it)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


LIVE_POSITION = ("lon", "lat", "accuracy_m", "fix_at", "received_at", "unit_id")


@cache
def _upsert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (officer_id) DO UPDATE the position WHERE the fix is newer; built once
    per dialect (the values are parameters), so each batch reuses the compiled statement."""
    table = cast(Table, OfficerLive.__table__)
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    newer = or_(table.c.fix_at.is_(None), stmt.excluded.fix_at > table.c.fix_at)
    return stmt.on_conflict_do_update(
        index_elements=["officer_id"],
        set_={name: stmt.excluded[name] for name in LIVE_POSITION},
        where=newer,
    )


def _upsert_latest(session: Session, actor: Actor, newest: FixIn, now: datetime) -> None:
    """Write the newest fix to the officer's live row unless the row holds a newer one."""
    session.execute(
        _upsert_statement(session.get_bind().dialect.name),
        {
            "officer_id": actor.officer_id,
            "district_code": actor.district_code,
            "status": str(DutyStatus.OFF_DUTY),
            "status_at": now,
            "lon": newest.lon,
            "lat": newest.lat,
            "accuracy_m": newest.accuracy_m,
            "fix_at": aware(newest.fix_at),
            "received_at": now,
            "unit_id": actor.unit_id,
            "complaint_id": None,
        },
    )


def record_fixes(
    session: Session,
    actor: Actor,
    fixes: Sequence[FixIn],
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> FixesRecorded:
    """Store the caller's ``fixes`` in the track and the newest in their live row (module doc)."""
    settings = settings or get_settings()
    now = now or utcnow()
    check_fixes(fixes, now=now, settings=settings)
    session.flush()
    session.execute(
        insert(PositionFix),
        [
            {
                "district_code": actor.district_code,
                "officer_id": actor.officer_id,
                "lon": f.lon,
                "lat": f.lat,
                "accuracy_m": f.accuracy_m,
                "speed_mps": f.speed_mps,
                "heading_deg": f.heading_deg,
                "fix_at": aware(f.fix_at),
                "received_at": now,
            }
            for f in fixes
        ],
    )
    _upsert_latest(session, actor, max(fixes, key=lambda f: aware(f.fix_at)), now)
    live = _reload(session, actor.officer_id)
    assert live is not None  # just upserted
    _announce(session, live, actor.name)
    return FixesRecorded(len(fixes), live)


# --- Duty status ---


def _reload(session: Session, officer_id: int, *, lock: bool = False) -> OfficerLive | None:
    """The live row as stored now (an upsert bypasses the identity map); ``lock``: FOR UPDATE on
    PostgreSQL, so two status changes of one officer take turns (SQLite has one writer anyway)."""
    return session.get(OfficerLive, officer_id, populate_existing=True, with_for_update=lock)


def _live_row(session: Session, officer_id: int, now: datetime) -> tuple[OfficerLive, Officer]:
    """The officer's live row, created (off duty, no fix) when they have none yet."""
    session.flush()
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(
            "The officer does not exist, or is outside your data scope.",
            detail={"officer_id": officer_id},
        )
    live = _reload(session, officer_id, lock=True)
    if live is None:
        session.execute(
            _insert(session)(OfficerLive)
            .values(
                officer_id=officer_id,
                district_code=officer.district_code,
                unit_id=officer.unit_id,
                status=DutyStatus.OFF_DUTY,
                status_at=now,
            )
            .on_conflict_do_nothing(index_elements=["officer_id"])
        )
        live = _reload(session, officer_id, lock=True)
    assert live is not None  # inserted now, or by the transaction we waited for
    return live, officer


def set_status(
    session: Session,
    *,
    officer_id: int,
    status: DutyStatus,
    actor_id: int | None,
    complaint_id: int | None | _Unset = UNSET,
    at: datetime | None = None,
) -> OfficerLive:
    """Set an officer's duty status and, when ``complaint_id`` is given, their commitment (None
    frees them). Ledgered and announced only when the status or the commitment changes."""
    when = at or utcnow()
    live, officer = _live_row(session, officer_id, when)
    before = (DutyStatus(live.status), live.complaint_id)
    after = (status, before[1] if isinstance(complaint_id, _Unset) else complaint_id)
    if before == after:
        return live
    if before[0] != status:
        live.status, live.status_at = status, when
    live.complaint_id = after[1]
    session.flush()
    ledger.record(
        session,
        LEDGER_KIND,
        ("officer", officer_id),
        {
            "officer_id": officer_id,
            "from": str(before[0]),
            "to": str(status),
            "complaint_id": after[1],
            "previous_complaint_id": before[1],
            "at": when,
        },
        actor_id=actor_id,
        district_code=live.district_code,
    )
    _announce(session, live, officer.name)
    return live


def _tracking_no(session: Session, complaint_id: int) -> str:
    return session.scalar(select(Complaint.tracking_no).where(Complaint.id == complaint_id)) or ""


def set_own_status(session: Session, actor: Actor, *, status: DutyStatus) -> OfficerLive:
    """The caller goes on duty (available) or off duty (see the module's invariants)."""
    if status not in SELF_SET:
        raise InvalidInput(
            "You can set only 在岗可派 or 离岗 yourself; the other states follow the steps of "
            "the complaint you handle.",
            detail={"field": "status", "status": str(status)},
            error_code="status_not_settable",
        )
    live, _ = _live_row(session, actor.officer_id, utcnow())
    current = DutyStatus(live.status)
    if live.complaint_id is not None and status != current:
        if status == DutyStatus.OFF_DUTY:
            raise Conflict(
                "You are handling complaint {tracking_no}: report back or have it handed to "
                "someone else before going off duty.",
                detail={"complaint_id": live.complaint_id, "status": str(current)},
                error_code="committed",
                tracking_no=_tracking_no(session, live.complaint_id),
            )
        if current in STEP_STATES:
            raise Conflict(
                "You are handling complaint {tracking_no}: your status follows its steps until "
                "you report back.",
                detail={"complaint_id": live.complaint_id, "status": str(current)},
                error_code="committed",
                tracking_no=_tracking_no(session, live.complaint_id),
            )
    return set_status(
        session, officer_id=actor.officer_id, status=status, actor_id=actor.officer_id
    )


def bus_data(live: OfficerLive, name: str) -> dict[str, Any]:
    """What the command centre hears about an officer (contract: topic ``officer``)."""
    return {
        "officer_id": live.officer_id,
        "name": name,
        "unit_id": live.unit_id,
        "status": str(live.status),
        "lon": live.lon,
        "lat": live.lat,
        "accuracy_m": live.accuracy_m,
        "fix_at": as_utc(live.fix_at).isoformat() if live.fix_at is not None else None,
        "complaint_id": live.complaint_id,
    }


def _announce(session: Session, live: OfficerLive, name: str) -> None:
    publish_after_commit(session, BUS_TOPIC, bus_data(live, name), district_code=live.district_code)


# --- Reads ---


@dataclass(frozen=True)
class LiveLine:
    """An officer in scope with their unit and live row (None: never reported)."""

    officer: Officer
    unit: Unit | None
    live: OfficerLive | None
    fix_age_seconds: int | None
    stale: bool


def live_officers(
    session: Session, actor: Actor, *, now: datetime | None = None, settings: Settings | None = None
) -> list[LiveLine]:
    """Every active field officer in the actor's scope, with status, last fix and stale flag."""
    now = now or utcnow()
    stmt = (
        select(Officer, Unit, OfficerLive)
        .outerjoin(Unit, Unit.id == Officer.unit_id)
        .outerjoin(OfficerLive, OfficerLive.officer_id == Officer.id)
        .where(Officer.status == OfficerStatus.ACTIVE)
    )
    stmt = actor.scope.where_unit(
        actor.scope.where_district(stmt, Officer.district_code), Officer.unit_id
    )
    stmt = stmt.order_by(Unit.path, Officer.name, Officer.id)
    limits: dict[str, int] = {}
    lines = []
    for officer, unit, live in session.execute(stmt):
        if not is_handler(officer.roles):
            continue
        if officer.district_code not in limits:
            limits[officer.district_code] = stale_after_seconds(
                session, officer.district_code, settings
            )
        age = fix_age_seconds(live, now)
        stale = age is None or age > limits[officer.district_code]
        lines.append(LiveLine(officer, unit, live, age, stale))
    return lines


def officer_in_scope(session: Session, actor: Actor, officer_id: int) -> Officer:
    stmt = actor.scope.where_district(
        select(Officer).where(Officer.id == officer_id), Officer.district_code
    )
    officer = session.scalar(actor.scope.where_unit(stmt, Officer.unit_id))
    if officer is None:
        raise NotFound(
            "The officer does not exist, or is outside your data scope.",
            detail={"officer_id": officer_id},
        )
    return officer


def track(
    session: Session,
    actor: Actor,
    *,
    officer_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[datetime, datetime, list[PositionFix]]:
    """An officer's fixes taken in [since, until] (at most 24 hours; default the last 24 hours),
    in the order they were taken."""
    officer = officer_in_scope(session, actor, officer_id)
    end = aware(until) if until is not None else utcnow()
    start = aware(since) if since is not None else end - MAX_TRACK_WINDOW
    if start >= end or end - start > MAX_TRACK_WINDOW:
        raise InvalidInput(
            "The window must end after it starts and span at most 24 hours.",
            detail={"field": "since", "reason": "window"},
            error_code="invalid_window",
        )
    fixes = session.scalars(
        select(PositionFix)
        .where(
            PositionFix.officer_id == officer.id,
            PositionFix.fix_at >= start,
            PositionFix.fix_at <= end,
        )
        .order_by(PositionFix.fix_at, PositionFix.id)
    )
    return start, end, list(fixes)
