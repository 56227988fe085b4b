"""The nearest-officer recommendation (就近派遣): which two officers to send to a complaint, and
why.

Candidates are the district's active field officers (complaints:handle) with a live row. A
candidate is eligible unless, in this order: off duty (离岗); committed to another complaint
(正在处置 TS…); in a step's state (出警中 / 到场 / 处置中) without being on this complaint; no fix;
last fix stale (older than the district's ``position_stale_seconds``). An officer already on this
complaint stays eligible (a re-dispatch may keep them).

The pair: the nearest eligible officer of the owning squad leads, the next nearest eligible of the
same squad seconds; when the squad has fewer than two, the nearest eligible officers of other
squads fill in, and the explanation says so. The candidates listed are the ``limit`` nearest,
the pair, and the owning squad's officers without a fix (so the dispatcher sees why they are not
proposed). A complaint without a point: the owning squad's eligible officers by name (no filling:
distance means nothing there). Distances are straight lines (``kit.geo.haversine_m``).

Speed: officers are looked up in a latitude/longitude box around the complaint's point that widens
1 km → 5 km → 20 km, stopping at the first radius whose circle holds enough (``limit``
candidates, two eligible, and two eligible of the owning unit when it is a brigade or the bureau);
beyond 20 km only officers who may be eligible are read, from the whole district. An owning squad
gets a search of its own the same way (two eligible), so its nearest pair is found however far.
Only officers inside the circle count as found, so "nearest" is exact; the distance itself is
computed in Python.

The explanation lines and the reasons are translated (Chinese by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from zhifa.config import Settings
from zhifa.dispatch.live import STEP_STATES, is_handler, stale_after_seconds
from zhifa.kit.clock import as_utc, utcnow
from zhifa.kit.geo import EARTH_RADIUS_M, haversine_m
from zhifa.models.complaints import Complaint
from zhifa.models.dispatch import DutyStatus, OfficerLive
from zhifa.models.org import Officer, OfficerStatus, Unit, UnitKind
from zhifa.web.i18n import DEFAULT_LOCALE, translate

RADII_M = (1_000.0, 5_000.0, 20_000.0)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


REASONS = {
    "off_duty": DutyStatus.OFF_DUTY.label,
    "committed": N_("Handling {tracking_no}"),
    "busy": N_("Busy ({status})"),
    "no_fix": N_("No location yet"),
    "stale": N_("Location out of date ({n} minutes ago)"),
}
# The stale reason by the size of the fix's age: (below this many seconds, unit, message).
STALE_AGES = (
    (120, 1, N_("Location out of date ({n} seconds ago)")),
    (2 * 3600, 60, REASONS["stale"]),
    (2 * 86400, 3600, N_("Location out of date ({n} hours ago)")),
    (math.inf, 86400, N_("Location out of date ({n} days ago)")),
)
PAIR_LINES = {
    (0, True): N_("Lead: {name} ({unit}), {distance} away."),
    (1, True): N_("Second: {name} ({unit}), {distance} away."),
    (0, False): N_("Lead: {name} ({unit})."),
    (1, False): N_("Second: {name} ({unit})."),
}


@dataclass(frozen=True)
class Candidate:
    officer_id: int
    name: str
    unit_id: int | None
    unit_name: str
    own_unit: bool
    distance_m: float | None
    status: DutyStatus
    fix_age_seconds: int | None
    eligible: bool
    reason_code: str  # "" when eligible; else a key of REASONS
    reason: str
    complaint_id: int | None
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class Recommendation:
    complaint_id: int
    tracking_no: str
    owning_unit_id: int | None
    owning_unit_name: str
    has_point: bool
    pair: list[Candidate]
    candidates: list[Candidate]
    explanation: list[str]
    stale_after_seconds: int
    computed_at: datetime


@dataclass(frozen=True)
class _Found:
    """An officer as read from the database, judged but not yet put into words."""

    officer_id: int
    name: str
    unit_id: int | None
    unit_name: str
    own: bool
    status: DutyStatus
    lon: float | None
    lat: float | None
    age: int | None
    complaint_id: int | None
    distance: float | None
    skip: str

    @property
    def eligible(self) -> bool:
        return not self.skip


@dataclass(frozen=True)
class _Context:
    complaint: Complaint
    owning: Unit | None
    now: datetime
    stale_after: int
    limit: int
    locale: str

    def own(self, unit_path: str | None) -> bool:
        if self.owning is None:
            return True
        return unit_path is not None and unit_path.startswith(self.owning.path)


def _base(district_code: str) -> Select[*tuple[Any, ...]]:
    return (
        select(
            OfficerLive.officer_id,
            OfficerLive.status,
            OfficerLive.lon,
            OfficerLive.lat,
            OfficerLive.fix_at,
            OfficerLive.complaint_id,
            Officer.name,
            Officer.roles,
            Officer.unit_id,
            Unit.name.label("unit_name"),
            Unit.path.label("unit_path"),
        )
        .join(Officer, Officer.id == OfficerLive.officer_id)
        .outerjoin(Unit, Unit.id == Officer.unit_id)
        .where(
            OfficerLive.district_code == district_code,
            Officer.district_code == district_code,
            Officer.status == OfficerStatus.ACTIVE,
        )
    )


def _skip(ctx: _Context, status: DutyStatus, complaint_id: int | None, age: int | None) -> str:
    on_this = complaint_id == ctx.complaint.id
    if status == DutyStatus.OFF_DUTY:
        return "off_duty"
    if complaint_id is not None and not on_this:
        return "committed"
    if status in STEP_STATES and not on_this:
        return "busy"
    if ctx.complaint.lon is None or ctx.complaint.lat is None:
        return ""  # without a point, where the officer is does not matter
    if age is None:
        return "no_fix"
    return "stale" if age > ctx.stale_after else ""


def _judge(ctx: _Context, rows: Sequence[Any]) -> list[_Found]:
    """The rows of ``_base`` as candidates, field officers only, each with distance and verdict."""
    found = []
    lon0, lat0 = ctx.complaint.lon, ctx.complaint.lat
    for row in rows:
        if not is_handler(row.roles):
            continue
        status = DutyStatus(row.status)
        age = None
        if row.fix_at is not None:
            age = max(0, int((ctx.now - as_utc(row.fix_at)).total_seconds()))
        distance = None
        if lon0 is not None and lat0 is not None and row.lon is not None and row.lat is not None:
            distance = haversine_m(lon0, lat0, row.lon, row.lat)
        found.append(
            _Found(
                officer_id=row.officer_id,
                name=row.name,
                unit_id=row.unit_id,
                unit_name=row.unit_name or "",
                own=ctx.own(row.unit_path),
                status=status,
                lon=row.lon,
                lat=row.lat,
                age=age,
                complaint_id=row.complaint_id,
                distance=distance,
                skip=_skip(ctx, status, row.complaint_id, age),
            )
        )
    return found


def _box(lon: float, lat: float, radius: float) -> tuple[float, float, float, float]:
    dlat = radius / METRES_PER_DEGREE
    dlon = radius / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lon - dlon, lon + dlon, lat - dlat, lat + dlat


def _eligible_sql(ctx: _Context) -> tuple[Any, ...]:
    """A prefilter in SQL for officers who may be eligible (``_skip`` decides)."""
    free = and_(OfficerLive.status == str(DutyStatus.AVAILABLE), OfficerLive.complaint_id.is_(None))
    on_this = and_(
        OfficerLive.complaint_id == ctx.complaint.id,
        OfficerLive.status != str(DutyStatus.OFF_DUTY),
    )
    fresh = OfficerLive.fix_at >= ctx.now - timedelta(seconds=ctx.stale_after)
    return (or_(free, on_this), fresh, OfficerLive.lon.is_not(None))


def _nearby(
    session: Session,
    ctx: _Context,
    enough: Callable[[list[_Found]], bool],
    base: Select[*tuple[Any, ...]],
) -> list[_Found]:
    """Officers inside the smallest circle that holds ``enough`` (see the module doc); beyond
    the widest, only those who may be eligible (at night, few), however far."""
    lon, lat = ctx.complaint.lon, ctx.complaint.lat
    assert lon is not None
    assert lat is not None
    within: list[_Found] = []
    for radius in RADII_M:
        west, east, south, north = _box(lon, lat, radius)
        stmt = base.where(
            OfficerLive.lon.between(west, east), OfficerLive.lat.between(south, north)
        )
        within = [
            f
            for f in _judge(ctx, session.execute(stmt).all())
            if f.distance is not None and f.distance <= radius
        ]
        if enough(within):
            return within
    rows = session.execute(base.where(*_eligible_sql(ctx))).all()
    far = [f for f in _judge(ctx, rows) if f.distance is not None and f.distance > RADII_M[-1]]
    return within + far


def _owning_squad(session: Session, ctx: _Context) -> list[_Found]:
    """Every member of the owning unit's subtree (for a complaint without a point)."""
    base = _base(ctx.complaint.district_code)
    if ctx.owning is not None:
        base = base.where(Unit.path.startswith(ctx.owning.path))
    return _judge(ctx, session.execute(base).all())


def _squad_base(ctx: _Context, squad: Unit) -> Select[*tuple[Any, ...]]:
    # OfficerLive.unit_id (indexed) narrows the scan; Officer.unit_id is the truth.
    return _base(ctx.complaint.district_code).where(
        OfficerLive.unit_id == squad.id, Officer.unit_id == squad.id
    )


def _by_distance(found: _Found) -> tuple[float, str, int]:
    return (math.inf if found.distance is None else found.distance, found.name, found.officer_id)


def _by_name(found: _Found) -> tuple[str, int]:
    return (found.name, found.officer_id)


@dataclass(frozen=True)
class _Choice:
    pair: list[_Found]
    shortlist: list[_Found]
    own_eligible: int
    filled: bool


def _choose_with_point(session: Session, ctx: _Context) -> _Choice:
    squad = ctx.owning if ctx.owning is not None and ctx.owning.kind == UnitKind.SQUAD else None

    def enough(within: list[_Found]) -> bool:
        eligible = [f for f in within if f.eligible]
        own = sum(1 for f in eligible if f.own)
        return len(within) >= ctx.limit and len(eligible) >= 2 and (squad is not None or own >= 2)

    def two(within: list[_Found]) -> bool:
        return sum(1 for f in within if f.eligible) >= 2

    near = _nearby(session, ctx, enough, _base(ctx.complaint.district_code))
    members: list[_Found] = []
    unplaced: list[_Found] = []
    if squad is not None:
        # The owning squad's own search, so its nearest two are found however far they are.
        members = _nearby(session, ctx, two, _squad_base(ctx, squad))
        # Its officers without a fix are listed too (last), to say why they are not proposed.
        rows = session.execute(_squad_base(ctx, squad).where(OfficerLive.lon.is_(None))).all()
        unplaced = _judge(ctx, rows)
    merged = {f.officer_id: f for f in [*near, *members]}
    everyone = sorted(merged.values(), key=_by_distance)
    own = [f for f in everyone if f.eligible and f.own]
    others = [f for f in everyone if f.eligible and not f.own]
    pair = own[:2] + others[: max(0, 2 - len(own))]
    shortlist = sorted(near, key=_by_distance)[: ctx.limit] + unplaced
    return _Choice(pair, shortlist, len(own), len(own) < 2)


def _choose_without_point(session: Session, ctx: _Context) -> _Choice:
    members = sorted(_owning_squad(session, ctx), key=_by_name)
    own = [f for f in members if f.eligible]
    return _Choice(own[:2], members[: ctx.limit], len(own), False)


# --- Words ---


def _distance_text(locale: str, metres: float) -> str:
    if metres < 1000:
        return translate(locale, "{m} m", m=int(round(metres)))
    return translate(locale, "{km} km", km=f"{metres / 1000:.1f}")


def _stale_text(locale: str, seconds: int) -> str:
    for below, unit, message in STALE_AGES:
        if seconds < below:
            return translate(locale, message, n=seconds // unit)
    raise AssertionError("unreachable: the last age bound is infinite")


def _reason(ctx: _Context, found: _Found, tracking: dict[int, str]) -> str:
    if not found.skip:
        return ""
    if found.skip == "stale" and found.age is not None:
        return _stale_text(ctx.locale, found.age)
    params: dict[str, Any] = {}
    if found.skip == "committed" and found.complaint_id is not None:
        params["tracking_no"] = tracking.get(found.complaint_id, f"#{found.complaint_id}")
    elif found.skip == "busy":
        params["status"] = translate(ctx.locale, found.status.label)
    return translate(ctx.locale, REASONS[found.skip], **params)


def _candidate(ctx: _Context, found: _Found, tracking: dict[int, str]) -> Candidate:
    return Candidate(
        officer_id=found.officer_id,
        name=found.name,
        unit_id=found.unit_id,
        unit_name=found.unit_name,
        own_unit=found.own,
        distance_m=None if found.distance is None else round(found.distance, 1),
        status=found.status,
        fix_age_seconds=found.age,
        eligible=found.eligible,
        reason_code=found.skip,
        reason=_reason(ctx, found, tracking),
        complaint_id=found.complaint_id,
        lon=found.lon,
        lat=found.lat,
    )


def _heading(ctx: _Context, owning_name: str) -> str:
    if ctx.complaint.lon is None or ctx.complaint.lat is None:
        return translate(
            ctx.locale,
            N_(
                "The complaint has no location: the available officers of {unit} are listed by "
                "name."
            ),
            unit=owning_name or "—",
        )
    if ctx.owning is None:
        return translate(
            ctx.locale,
            N_(
                "The complaint has no owning squad yet: the nearest available officers of the "
                "district are recommended."
            ),
        )
    return translate(
        ctx.locale,
        N_("The complaint belongs to {unit}: its nearest available officers go first."),
        unit=owning_name,
    )


def _pair_lines(ctx: _Context, choice: _Choice, owning_name: str) -> list[str]:
    lines = []
    for index, found in enumerate(choice.pair):
        message = PAIR_LINES[(index, found.distance is not None)]
        distance = "" if found.distance is None else _distance_text(ctx.locale, found.distance)
        lines.append(
            translate(
                ctx.locale, message, name=found.name, unit=found.unit_name or "—", distance=distance
            )
        )
    if choice.filled and ctx.owning is not None and choice.pair:
        lines.append(
            translate(
                ctx.locale,
                N_(
                    "{unit} has {count} available officer(s) with a current location: the pair "
                    "is completed with the nearest available officers of other squads."
                ),
                unit=owning_name,
                count=choice.own_eligible,
            )
        )
    if len(choice.pair) == 1:
        lines.append(
            translate(
                ctx.locale,
                N_(
                    "Only one officer is available: a second must join before enforcing on site "
                    "(行政处罚法 art. 42)."
                ),
            )
        )
    elif not choice.pair:
        lines.append(
            translate(
                ctx.locale,
                N_("No available officer was found: choose the officers by hand."),
            )
        )
    return lines


def _skipped_lines(ctx: _Context, choice: _Choice, candidates: dict[int, Candidate]) -> list[str]:
    """Why officers nearer than the pair's farthest member are not in it."""
    chosen = {f.officer_id for f in choice.pair}
    farthest = max((f.distance or 0.0 for f in choice.pair), default=math.inf)
    lines = []
    for found in choice.shortlist:
        if found.officer_id in chosen or found.distance is None or found.distance >= farthest:
            continue
        candidate = candidates[found.officer_id]
        params = {
            "name": found.name,
            "unit": found.unit_name or "—",
            "distance": _distance_text(ctx.locale, found.distance),
        }
        if not found.eligible:
            message = N_("Skipped {name} ({unit}), {distance} away: {reason}.")
            params["reason"] = candidate.reason
        else:
            message = N_(
                "{name} ({unit}) is nearer ({distance}) but not in the owning squad, which goes "
                "first."
            )
        lines.append(translate(ctx.locale, message, **params))
    return lines


def _tracking_numbers(session: Session, found: Sequence[_Found]) -> dict[int, str]:
    ids = {f.complaint_id for f in found if f.skip == "committed" and f.complaint_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Complaint.id, Complaint.tracking_no).where(Complaint.id.in_(ids)))
    return {int(i): str(t) for i, t in rows}


def recommend(
    session: Session,
    complaint: Complaint,
    *,
    now: datetime | None = None,
    limit: int = 10,
    settings: Settings | None = None,
    locale: str = DEFAULT_LOCALE,
) -> Recommendation:
    """The recommended pair for ``complaint``, the nearest ``limit`` candidates (the pair always
    among them) and the explanation (see the module doc)."""
    owning = session.get(Unit, complaint.unit_id) if complaint.unit_id is not None else None
    stale_after = stale_after_seconds(session, complaint.district_code, settings)
    ctx = _Context(complaint, owning, now or utcnow(), stale_after, max(1, limit), locale)
    has_point = complaint.lon is not None and complaint.lat is not None
    choice = (_choose_with_point if has_point else _choose_without_point)(session, ctx)
    listed = {f.officer_id: f for f in [*choice.shortlist, *choice.pair]}
    order = _by_distance if has_point else _by_name
    tracking = _tracking_numbers(session, list(listed.values()))
    candidates = {i: _candidate(ctx, f, tracking) for i, f in listed.items()}
    owning_name = owning.name if owning is not None else ""
    explanation = [
        _heading(ctx, owning_name),
        *_pair_lines(ctx, choice, owning_name),
        *(_skipped_lines(ctx, choice, candidates) if has_point else []),
    ]
    return Recommendation(
        complaint_id=complaint.id,
        tracking_no=complaint.tracking_no,
        owning_unit_id=complaint.unit_id,
        owning_unit_name=owning_name,
        has_point=has_point,
        pair=[candidates[f.officer_id] for f in choice.pair],
        candidates=[candidates[f.officer_id] for f in sorted(listed.values(), key=order)],
        explanation=explanation,
        stale_after_seconds=stale_after,
        computed_at=ctx.now,
    )
