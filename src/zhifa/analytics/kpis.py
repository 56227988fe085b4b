"""The first assessment indicators (考核指标) of the complaint loop, per squad or per officer.

``kpis(session, scope, *, start, end, by)`` counts over a period of local dates (both included,
Asia/Shanghai by default) from the complaints' append-only timelines (``ComplaintEvent``), so a
figure for a past month does not change when a complaint takes a later step. Definitions
(law-and-procedure.md §5.4, as used in 数字城管 assessment; ``docs/command-centre.md``):

- 按期处置率 = handled on time ÷ handled with a handling deadline. *Handled* (处置数): a result was
  reported (``fed_back``) within the period; *on time*: the last report in the period came no later
  than the complaint's handling deadline (``handle_due``). A complaint without a handling deadline
  is handled but not judged (outside this rate).
- 结案率 = closed ÷ (should close − deferred). *Should close* (应结案数): received in the period and
  not transferred, rejected or merged (those are answered elsewhere and excluded); *closed*: closed
  before the period ended; *deferred* (缓办数): not closed and its clocks paused when the period
  ended.
- 返工率 = handled complaints sent back at least once (``rework``) ÷ handled.
- Median minutes, wall clock (pauses included): received → first dispatch (complaints first
  dispatched in the period), the dispatch → first arrival on scene (arrived in the period),
  received → closed (closed in the period).

By squad: the complaint's owning squad (``unit_id``; every active squad in scope gets a row, with
zeros if nothing happened). By officer: each officer of the complaint's current assignment
(``officer_ids``) gets the complaint in their row. The total counts each complaint once. A rate or
median with nothing to divide is ``None`` (shown as "—"), never a division by zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from zhifa.errors import InvalidInput
from zhifa.kit.clock import SHANGHAI
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintStatus
from zhifa.models.org import Officer, Unit, UnitKind
from zhifa.org.scope import DataScope

# Complaints answered elsewhere: not counted among those that should be closed.
EXCLUDED = frozenset(
    {ComplaintStatus.TRANSFERRED, ComplaintStatus.REJECTED, ComplaintStatus.MERGED}
)
STEP_KINDS = ("dispatched", "arrived", "fed_back", "rework", "closed", "paused", "resumed")
ENDING_KINDS = ("dispatched", "arrived", "fed_back", "closed")
MAX_DAYS = 366


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


# The row of complaints owned by no squad (not routed yet).
NO_SQUAD = N_("No squad")


class Grouping(StrEnum):
    UNIT = "unit"
    OFFICER = "officer"


@dataclass
class KpiRow:
    """One squad's or officer's figures (``key`` None: complaints of no squad)."""

    key: int | None
    name: str
    received: int = 0
    excluded: int = 0  # received, then transferred, rejected or merged
    should_close: int = 0
    deferred: int = 0
    closed: int = 0
    dispatched: int = 0
    arrived: int = 0
    handled: int = 0
    handled_timed: int = 0  # handled with a handling deadline
    handled_on_time: int = 0
    reworked: int = 0
    on_time_rate: float | None = None  # 按期处置率, 0…1
    close_rate: float | None = None  # 结案率
    rework_rate: float | None = None  # 返工率
    median_dispatch_minutes: float | None = None
    median_arrive_minutes: float | None = None
    median_close_minutes: float | None = None


@dataclass
class KpiTable:
    start: date
    end: date
    by: Grouping
    rows: list[KpiRow]
    total: KpiRow


@dataclass
class _Facts:
    """What one complaint contributes to the period's figures."""

    received: bool = False
    excluded: bool = False
    closed: bool = False
    deferred: bool = False
    handled: bool = False
    on_time: bool | None = None  # None: handled without a deadline, or not handled
    reworked: bool = False
    to_dispatch: float | None = None
    to_arrive: float | None = None
    to_close: float | None = None


@dataclass
class _Tally:
    row: KpiRow
    dispatch: list[float] = field(default_factory=list)
    arrive: list[float] = field(default_factory=list)
    close: list[float] = field(default_factory=list)

    def add(self, f: _Facts) -> None:
        r = self.row
        r.received += f.received
        r.excluded += f.received and f.excluded
        r.should_close += f.received and not f.excluded
        r.closed += f.received and not f.excluded and f.closed
        r.deferred += f.received and not f.excluded and f.deferred
        r.handled += f.handled
        r.handled_timed += f.on_time is not None
        r.handled_on_time += f.on_time is True
        r.reworked += f.handled and f.reworked
        for values, value in (
            (self.dispatch, f.to_dispatch),
            (self.arrive, f.to_arrive),
            (self.close, f.to_close),
        ):
            if value is not None:
                values.append(value)

    def finish(self) -> KpiRow:
        r = self.row
        r.dispatched, r.arrived = len(self.dispatch), len(self.arrive)
        r.on_time_rate = _ratio(r.handled_on_time, r.handled_timed)
        r.close_rate = _ratio(r.closed, r.should_close - r.deferred)
        r.rework_rate = _ratio(r.reworked, r.handled)
        r.median_dispatch_minutes = _median(self.dispatch)
        r.median_arrive_minutes = _median(self.arrive)
        r.median_close_minutes = _median(self.close)
        return r


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _median(values: Sequence[float]) -> float | None:
    return float(median(values)) if values else None


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60.0


def this_month(today: date) -> tuple[date, date]:
    """The default period: the whole local month of ``today``."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def period(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The period asked for: this month by default; a start alone runs to the end of its month,
    an end alone from the first of its month."""
    if start is None:
        start = end.replace(day=1) if end is not None else this_month(today)[0]
    if end is None:
        end = this_month(start)[1]
    if start > end:
        raise InvalidInput(
            "The period starts ({start}) after it ends ({end}).",
            detail={"field": "start"},
            error_code="period_reversed",
            start=start.isoformat(),
            end=end.isoformat(),
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(
            "A period may be at most {days} days long.",
            detail={"field": "end"},
            error_code="period_too_long",
            days=MAX_DAYS,
        )
    return start, end


def bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The period as a half-open UTC-comparable window [start 00:00, end + 1 day 00:00) local."""
    return (
        datetime.combine(start, time(0, 0), tz),
        datetime.combine(end + timedelta(days=1), time(0, 0), tz),
    )


def kpis(
    session: Session,
    scope: DataScope,
    *,
    start: date,
    end: date,
    by: Grouping | str,
    tz: ZoneInfo = SHANGHAI,
) -> KpiTable:
    """The indicators of the complaints in ``scope`` over ``start``…``end`` (see the module)."""
    grouping = Grouping(by)
    lo, hi = bounds(start, end, tz)
    complaints = _complaints(session, scope, lo, hi)
    events = _events(session, [c.id for c in complaints], hi)
    facts = {c.id: _facts(c, events.get(c.id, []), lo, hi) for c in complaints}
    total = _Tally(KpiRow(key=None, name=""))
    tallies: dict[int | None, _Tally] = {}
    for key, name in _row_names(session, scope, grouping, complaints):
        tallies[key] = _Tally(KpiRow(key=key, name=name))
    for c in complaints:
        total.add(facts[c.id])
        for key in _keys(c, grouping):
            tallies.setdefault(key, _Tally(KpiRow(key=key, name=""))).add(facts[c.id])
    return KpiTable(
        start=start,
        end=end,
        by=grouping,
        rows=[t.finish() for t in tallies.values()],
        total=total.finish(),
    )


def _keys(c: Complaint, grouping: Grouping) -> list[int | None]:
    if grouping is Grouping.UNIT:
        return [c.unit_id]
    return list(dict.fromkeys(c.officer_ids or []))


def _complaints(session: Session, scope: DataScope, lo: datetime, hi: datetime) -> list[Complaint]:
    """Complaints in scope received in the window or with a counted step in it."""
    received = select(Complaint.id).where(Complaint.received_at >= lo, Complaint.received_at < hi)
    stepped = select(ComplaintEvent.complaint_id).where(
        ComplaintEvent.kind.in_(ENDING_KINDS), ComplaintEvent.at >= lo, ComplaintEvent.at < hi
    )
    ids = union(received, stepped).subquery()
    stmt = scope.where_district(
        select(Complaint).where(Complaint.id.in_(select(ids.c[0]))), Complaint.district_code
    )
    stmt = scope.where_unit(stmt, Complaint.unit_id)
    return list(session.scalars(stmt.order_by(Complaint.id)))


def _events(
    session: Session, complaint_ids: list[int], hi: datetime
) -> dict[int, list[ComplaintEvent]]:
    found: dict[int, list[ComplaintEvent]] = defaultdict(list)
    for chunk in _chunks(complaint_ids, 500):
        stmt = (
            select(ComplaintEvent)
            .where(
                ComplaintEvent.complaint_id.in_(chunk),
                ComplaintEvent.kind.in_(STEP_KINDS),
                ComplaintEvent.at < hi,
            )
            .order_by(ComplaintEvent.at, ComplaintEvent.id)
        )
        for e in session.scalars(stmt):
            found[e.complaint_id].append(e)
    return found


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _facts(c: Complaint, events: list[ComplaintEvent], lo: datetime, hi: datetime) -> _Facts:
    """One complaint's contribution; ``events`` are its steps before ``hi``, oldest first."""
    inside = [e for e in events if e.at >= lo]
    f = _Facts(received=lo <= c.received_at < hi, excluded=ComplaintStatus(c.status) in EXCLUDED)
    f.closed = any(e.kind == "closed" for e in events)
    f.deferred = not f.closed and _paused_at_end(events)
    f.reworked = any(e.kind == "rework" for e in events)
    reports = [e for e in inside if e.kind == "fed_back"]
    if reports:
        f.handled = True
        if c.handle_due is not None:
            f.on_time = reports[-1].at <= c.handle_due
    dispatches = [e for e in events if e.kind == "dispatched"]
    if dispatches and dispatches[0].at >= lo:
        f.to_dispatch = _minutes(dispatches[0].at, c.received_at)
    arrival = next((e for e in events if e.kind == "arrived"), None)
    if arrival is not None and arrival.at >= lo:
        sent = [d for d in dispatches if d.at <= arrival.at]
        if sent:
            f.to_arrive = _minutes(arrival.at, sent[-1].at)
    closing = next((e for e in inside if e.kind == "closed"), None)
    if closing is not None:
        f.to_close = _minutes(closing.at, c.received_at)
    return f


def _paused_at_end(events: list[ComplaintEvent]) -> bool:
    state = [e.kind for e in events if e.kind in ("paused", "resumed")]
    return bool(state) and state[-1] == "paused"


def _row_names(
    session: Session, scope: DataScope, grouping: Grouping, complaints: list[Complaint]
) -> list[tuple[int | None, str]]:
    """The rows in display order: squads in scope (and any other owning unit), or officers."""
    if grouping is Grouping.UNIT:
        wanted = {c.unit_id for c in complaints if c.unit_id is not None}
        stmt = scope.where_district(select(Unit), Unit.district_code)
        stmt = scope.where_unit(stmt, Unit.id)
        units = [
            u
            for u in session.scalars(stmt.order_by(Unit.district_code, Unit.code))
            if (u.kind == UnitKind.SQUAD and u.active) or u.id in wanted
        ]
        names: list[tuple[int | None, str]] = [(u.id, u.name) for u in units]
        if any(c.unit_id is None for c in complaints):
            names.append((None, ""))
        return names
    ids = {i for c in complaints for i in c.officer_ids or []}
    if not ids:
        return []
    officers = session.scalars(
        select(Officer).where(Officer.id.in_(ids)).order_by(Officer.unit_id, Officer.name)
    )
    return [(o.id, o.name) for o in officers]
