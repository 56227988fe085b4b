"""SLA clocks of a complaint: when each stage must be done, and how it stands now.

Four clocks, each started by one step and stopped by another (``SlaStage``):

=========  ==========================  ==========================================================
stage      starts at                   stops at
=========  ==========================  ==========================================================
dispatch   received (``received_at``)  the first dispatch (``dispatched_at``)
arrive     the first dispatch          the officers' arrival (``arrived_at``); a rework does not
                                       restart it (the arrival was made once)
handle     the first dispatch          the result reported (``fed_back_at``); a rework clears that
                                       time, so the clock runs again against the same deadline
feedback   received                    closed (``closed_at``)
=========  ==========================  ==========================================================

Every clock stops when the complaint reaches a final status (closed, rejected, transferred,
merged). The limits come from the ``SlaProfile`` named by the category (``sla_profile``) for the
complaint's priority, falling back to the normal priority of that code; no profile, no clocks. A
limit is ``{"minutes": n}`` (wall-clock) or ``{"workdays": n}`` (``kit.workdays``: the end of the
n-th working day after the start's local day).

Rules (documented in ``docs/sla.md``):

- A deadline is set once, when its clock starts. A re-dispatch (after a decline, or a change of
  officers) and a rework keep the original deadlines: the delay counts against the bureau.
- A pause (waiting for the party) shifts the deadlines by wall-clock time: on resume, each clock's
  deadline moves by the part of the pause during which that clock was running. A final step taken
  while paused resumes first.
- An approved extension adds its amount to the stage's current deadline (minutes, or working days
  counted from the deadline's local day).
- A running clock is ``overdue`` past its deadline and ``warning`` once the time left is at most
  ``1 − warn_ratio`` of the time the stage was given when it started (the profile's limit, or for
  working days the span from the start to its first deadline). Measuring against the given time,
  not the stretched one, keeps a long pause or an extension from turning a clock amber at once.
- ``Complaint.sla_state`` is the worst state of the running clocks (overdue > warning > ok),
  ``paused`` while paused, ``done`` when none runs; ``on_event`` sets it at every step, the sweep
  (``complaints.escalation``) refreshes it as time passes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from zhifa.kit.clock import as_utc
from zhifa.kit.workdays import WorkCalendar, calendar_for
from zhifa.models.complaints import (
    FINAL_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintStatus,
    Priority,
    SlaProfile,
    SlaStage,
    SlaState,
)

log = logging.getLogger("zhifa.sla")

DUE_COLUMNS: dict[SlaStage, str] = {
    SlaStage.DISPATCH: "dispatch_due",
    SlaStage.ARRIVE: "arrive_due",
    SlaStage.HANDLE: "handle_due",
    SlaStage.FEEDBACK: "feedback_due",
}
START_COLUMNS: dict[SlaStage, str] = {
    SlaStage.DISPATCH: "received_at",
    SlaStage.ARRIVE: "dispatched_at",
    SlaStage.HANDLE: "dispatched_at",
    SlaStage.FEEDBACK: "received_at",
}
STOP_COLUMNS: dict[SlaStage, str] = {
    SlaStage.DISPATCH: "dispatched_at",
    SlaStage.ARRIVE: "arrived_at",
    SlaStage.HANDLE: "fed_back_at",
    SlaStage.FEEDBACK: "closed_at",
}
# Which clocks a step starts.
STARTS: dict[str, tuple[SlaStage, ...]] = {
    "received": (SlaStage.DISPATCH, SlaStage.FEEDBACK),
    "dispatched": (SlaStage.ARRIVE, SlaStage.HANDLE),
}
DEFAULT_WARN_RATIO = 0.8
SEVERITY = {SlaState.OK: 0, SlaState.WARNING: 1, SlaState.OVERDUE: 2}
# The largest amount a limit or an extension may have (30 days; 250 working days).
MAX_MINUTES = 43_200
MAX_WORKDAYS = 250
RULES_KEY = "zhifa_sla_rules"


# --- limits --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """An allowed time: ``unit`` is ``minutes`` (wall-clock) or ``workdays``."""

    unit: str
    amount: int

    def as_json(self) -> dict[str, int]:
        return {self.unit: self.amount}

    def deadline(self, start: datetime, calendar: WorkCalendar) -> datetime:
        if self.unit == "minutes":
            return as_utc(start) + timedelta(minutes=self.amount)
        return calendar.add_workdays(start, self.amount)


def parse_limit(value: Any) -> Limit:
    """``{"minutes": n}`` or ``{"workdays": n}`` with one key and a positive whole n within the
    bounds; ``ValueError`` (with a reason in English) otherwise."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError("give exactly one of minutes or workdays")
    ((unit, amount),) = value.items()
    bounds = {"minutes": MAX_MINUTES, "workdays": MAX_WORKDAYS}
    if unit not in bounds:
        raise ValueError("give exactly one of minutes or workdays")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= bounds[unit]:
        raise ValueError(f"{unit} must be a whole number from 1 to {bounds[unit]}")
    return Limit(unit, amount)


def _limits(profile_limits: dict[str, Any]) -> dict[SlaStage, Limit]:
    """The profile's usable limits; a malformed one (written around the service) is skipped."""
    found: dict[SlaStage, Limit] = {}
    for stage in SlaStage:
        value = profile_limits.get(stage.value)
        if value is None:
            continue
        try:
            found[stage] = parse_limit(value)
        except ValueError as exc:
            log.warning("SLA limit %s=%r skipped: %s", stage.value, value, exc)
    return found


# --- profile lookup ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """What the clocks of one complaint follow: its profile's limits, warn ratio and calendar."""

    limits: dict[SlaStage, Limit]
    warn_ratio: float
    calendar: WorkCalendar
    profile_id: int | None = None


def profile_for(
    session: Session, district_code: str, code: str, priority: Priority | str
) -> SlaProfile | None:
    """The profile ``code`` for ``priority``, else its normal-priority row; None when neither."""
    rows = session.scalars(
        select(SlaProfile).where(
            SlaProfile.district_code == district_code,
            SlaProfile.code == code,
            SlaProfile.priority.in_([str(priority), Priority.NORMAL.value]),
        )
    ).all()
    by_priority = {str(p.priority): p for p in rows}
    return by_priority.get(str(priority)) or by_priority.get(Priority.NORMAL.value)


def rules_for(session: Session, complaint: Complaint) -> Rules | None:
    """The rules of ``complaint`` (cached on the session; ``forget_rules`` after a change)."""
    cache: dict[tuple[str, int, str], Rules | None] = session.info.setdefault(RULES_KEY, {})
    key = (complaint.district_code, complaint.category_id, str(complaint.priority))
    if key in cache:
        return cache[key]
    category = session.get(ComplaintCategory, complaint.category_id)
    profile = (
        profile_for(session, complaint.district_code, category.sla_profile, complaint.priority)
        if category is not None
        else None
    )
    rules = None
    if profile is not None:
        rules = Rules(
            limits=_limits(dict(profile.limits or {})),
            warn_ratio=float(profile.warn_ratio),
            calendar=calendar_for(session, complaint.district_code),
            profile_id=profile.id,
        )
    cache[key] = rules
    return rules


def forget_rules(session: Session) -> None:
    """Drop the session's cached rules (profiles, categories or working days changed)."""
    session.info.pop(RULES_KEY, None)


# --- clocks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """One stage's clock as of ``now``. ``remaining_seconds`` runs to the deadline from now (from
    the pause while paused; from the stop once stopped, negative when it was late), None when the
    stop time is not known (a complaint rejected, transferred or merged)."""

    stage: SlaStage
    label: str
    due: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    remaining_seconds: int | None
    state: SlaState
    running: bool
    warn_at: datetime

    @property
    def late(self) -> bool:
        return self.remaining_seconds is not None and self.remaining_seconds < 0


def _at(complaint: Complaint, column: str) -> datetime | None:
    value: datetime | None = getattr(complaint, column)
    return None if value is None else as_utc(value)


def _due(complaint: Complaint, stage: SlaStage) -> datetime | None:
    return _at(complaint, DUE_COLUMNS[stage])


def stopped(complaint: Complaint, stage: SlaStage) -> tuple[bool, datetime | None]:
    """Whether the stage's clock has stopped, and when (None when not known)."""
    at = _at(complaint, STOP_COLUMNS[stage])
    if at is not None:
        return True, at
    if stage is SlaStage.ARRIVE and (complaint.rework_count or 0) > 0:
        return True, None
    if ComplaintStatus(complaint.status) in FINAL_STATUSES:
        return True, _at(complaint, "closed_at")
    return False, None


def running(complaint: Complaint, stage: SlaStage) -> bool:
    return _due(complaint, stage) is not None and not stopped(complaint, stage)[0]


def _allowance(
    complaint: Complaint, stage: SlaStage, due: datetime, rules: Rules | None
) -> timedelta:
    """The time the stage was given when its clock started (see the module docstring)."""
    start = _at(complaint, START_COLUMNS[stage])
    limit = rules.limits.get(stage) if rules is not None else None
    if limit is not None and limit.unit == "minutes":
        return timedelta(minutes=limit.amount)
    if limit is not None and start is not None and rules is not None:
        return limit.deadline(start, rules.calendar) - start
    return max(due - start, timedelta(0)) if start is not None else timedelta(0)


def _rules_of(complaint: Complaint) -> Rules | None:
    session = object_session(complaint)
    return rules_for(session, complaint) if session is not None else None


def _running_state(now: datetime, due: datetime, warn_at: datetime) -> SlaState:
    if now > due:
        return SlaState.OVERDUE
    if now >= warn_at:
        return SlaState.WARNING
    return SlaState.OK


def clock(
    complaint: Complaint, stage: SlaStage, now: datetime, rules: Rules | None = None
) -> Clock | None:
    """The stage's clock, None when it never started (no deadline set). The rules come from the
    complaint's session when not given."""
    due = _due(complaint, stage)
    if due is None:
        return None
    if rules is None:
        rules = _rules_of(complaint)
    ratio = rules.warn_ratio if rules is not None else DEFAULT_WARN_RATIO
    warn_at = due - _allowance(complaint, stage, due, rules) * (1 - ratio)
    is_stopped, stopped_at = stopped(complaint, stage)
    paused_at = _at(complaint, "paused_at")
    if is_stopped:
        reference, state = stopped_at, SlaState.DONE
    elif paused_at is not None:
        reference, state = paused_at, SlaState.PAUSED
    else:
        reference = as_utc(now)
        state = _running_state(reference, due, warn_at)
    remaining = None if reference is None else int((due - reference).total_seconds())
    return Clock(
        stage=stage,
        label=stage.label,
        due=due,
        started_at=_at(complaint, START_COLUMNS[stage]),
        stopped_at=stopped_at,
        remaining_seconds=remaining,
        state=state,
        running=not is_stopped,
        warn_at=warn_at,
    )


def clocks(complaint: Complaint, now: datetime, *, rules: Rules | None = None) -> list[Clock]:
    """Every started clock of ``complaint`` as of ``now``, in stage order. The rules (warn ratio,
    limits) come from the complaint's session when not given; a detached complaint uses the
    default warn ratio and the deadlines alone."""
    chosen = rules if rules is not None else _rules_of(complaint)
    found = (clock(complaint, stage, now, chosen) for stage in SlaStage)
    return [c for c in found if c is not None]


def worst(states: Iterable[SlaState]) -> SlaState:
    return max(states, key=lambda s: SEVERITY.get(s, -1), default=SlaState.DONE)


def state(complaint: Complaint, now: datetime, *, rules: Rules | None = None) -> SlaState:
    """``done`` when no clock runs, ``paused`` while paused, else the worst running clock."""
    if ComplaintStatus(complaint.status) in FINAL_STATUSES:
        return SlaState.DONE
    live = [c for c in clocks(complaint, now, rules=rules) if c.running]
    if not live:
        return SlaState.DONE
    if complaint.paused_at is not None:
        return SlaState.PAUSED
    return worst(c.state for c in live)


# --- reacting to steps ---------------------------------------------------------------------------


def _start(session: Session, complaint: Complaint, stages: tuple[SlaStage, ...]) -> None:
    rules = rules_for(session, complaint)
    if rules is None:
        return
    for stage in stages:
        limit = rules.limits.get(stage)
        start = _at(complaint, START_COLUMNS[stage])
        if limit is None or start is None or _due(complaint, stage) is not None:
            continue
        setattr(complaint, DUE_COLUMNS[stage], limit.deadline(start, rules.calendar))


def resume(complaint: Complaint, at: datetime) -> dict[str, int]:
    """End the pause at ``at``: move each deadline by the part of the pause its clock ran.
    Returns the seconds added per stage."""
    paused_at = _at(complaint, "paused_at")
    if paused_at is None:
        return {}
    end = as_utc(at)
    shifted: dict[str, int] = {}
    for stage in SlaStage:
        due, start = _due(complaint, stage), _at(complaint, START_COLUMNS[stage])
        if due is None or start is None:
            continue
        is_stopped, stop = stopped(complaint, stage)
        ran_until = min(end, stop) if stop is not None else (end if not is_stopped else paused_at)
        overlap = ran_until - max(paused_at, start)
        if overlap > timedelta(0):
            setattr(complaint, DUE_COLUMNS[stage], due + overlap)
            shifted[stage.value] = int(overlap.total_seconds())
    complaint.paused_at = None
    return shifted


def extend(session: Session, complaint: Complaint, stage: SlaStage, amount: Limit) -> None:
    """Add ``amount`` to the stage's deadline (working days from the deadline's local day)."""
    due = _due(complaint, stage)
    if due is None:
        return
    calendar = calendar_for(session, complaint.district_code)
    setattr(complaint, DUE_COLUMNS[stage], amount.deadline(due, calendar))


def on_event(session: Session, complaint: Complaint, event: ComplaintEvent) -> None:
    """Start, stop, pause or move the complaint's clocks after ``event`` (called by
    ``workflow.advance`` for every step), then set ``sla_state`` as of the step."""
    kind, at = event.kind, as_utc(event.at)
    if kind in STARTS:
        _start(session, complaint, STARTS[kind])
    elif kind == "paused":
        complaint.paused_at = at
    elif kind == "resumed":
        resume(complaint, at)
    elif kind == "extended":
        data = event.data or {}
        extend(session, complaint, SlaStage(data["stage"]), parse_limit(data["amount"]))
    if ComplaintStatus(complaint.status) in FINAL_STATUSES:
        resume(complaint, at)
        complaint.sla_state = SlaState.DONE
        return
    complaint.sla_state = state(complaint, at)
