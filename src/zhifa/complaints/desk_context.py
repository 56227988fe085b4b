"""What the desk's complaint pages need besides the routes: permission dependencies, the app's
settings, SLA badge colours, and one complaint's full picture (``detail_context``) with the
actions its status and the actor's permissions allow. No routes.

The actions offered are a convenience, not the rule: each one's service checks status and
permission again (``complaints.handling``, ``clock``, ``duplicates``, ``reporter``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Request
from sqlalchemy.orm import Session

from zhifa.complaints import clock, reads, sla
from zhifa.complaints import repository as repo
from zhifa.complaints.schemas import ComplaintEventRead
from zhifa.config import Settings
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintExtension,
    ComplaintStatus,
    HotlineType,
    SlaStage,
    SlaState,
)
from zhifa.models.org import Officer, OfficerStatus
from zhifa.org import repository as org_repo
from zhifa.org.actor import Actor
from zhifa.org.auth import require
from zhifa.org.grids import repository as grid_repo
from zhifa.org.officers import repository as officer_repo
from zhifa.org.roles import Permission, Role, ScopeLevel, permissions_for
from zhifa.org.scope import DataScope
from zhifa.subjects import repository as subject_repo
from zhifa.web.templating import request_locale

ComplaintsRead = Annotated[Actor, require(Permission.COMPLAINTS_READ)]
ComplaintsIntake = Annotated[Actor, require(Permission.COMPLAINTS_INTAKE)]
ComplaintsDispatch = Annotated[Actor, require(Permission.COMPLAINTS_DISPATCH)]
ComplaintsHandle = Annotated[Actor, require(Permission.COMPLAINTS_HANDLE)]
ComplaintsReveal = Annotated[Actor, require(Permission.COMPLAINTS_REVEAL)]

S = ComplaintStatus
DISPATCHABLE = frozenset({S.RECEIVED, S.FILED, S.DISPATCHED, S.TAKEN})
DIRECT_ANSWER = frozenset({HotlineType.CONSULT, HotlineType.HELP, HotlineType.SUGGESTION})
SLA_COLOURS = {
    SlaState.OK: "green",
    SlaState.WARNING: "amber",
    SlaState.OVERDUE: "red",
    SlaState.PAUSED: "grey",
    SlaState.DONE: "grey",
}


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def sla_colours() -> dict[str, str]:
    return {str(state): colour for state, colour in SLA_COLOURS.items()}


@dataclass(frozen=True)
class Actions:
    """The forms the detail page shows."""

    file: bool
    reject: bool
    transfer: bool
    dispatch: bool
    verify: bool
    close: bool
    answer: bool
    pause: bool
    resume: bool
    extend: bool
    merge: bool
    reveal: bool

    @property
    def any(self) -> bool:
        return any(vars(self).values())


def actions(actor: Actor, row: Complaint, running: list[SlaStage]) -> Actions:
    status = ComplaintStatus(row.status)
    command = actor.can(Permission.COMPLAINTS_DISPATCH)
    is_open = status.is_open
    fed_back = status is S.FED_BACK
    return Actions(
        file=command and status is S.RECEIVED,
        reject=command and status is S.RECEIVED,
        transfer=command and status in (S.RECEIVED, S.FILED),
        dispatch=command and status in DISPATCHABLE,
        verify=command and fed_back and row.verified_at is None,
        close=command and fed_back and row.verified_at is not None,
        answer=command
        and status in (S.RECEIVED, S.FILED)
        and HotlineType(row.hotline_type) in DIRECT_ANSWER,
        pause=command and is_open and row.paused_at is None and bool(running),
        resume=command and is_open and row.paused_at is not None,
        extend=actor.can(Permission.COMPLAINTS_HANDLE) and is_open and bool(running),
        merge=command and status in (S.RECEIVED, S.FILED),
        reveal=actor.can(Permission.COMPLAINTS_REVEAL) and not row.anonymous,
    )


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str


def answers(category: ComplaintCategory | None, given: dict[str, Any]) -> list[Answer]:
    """The attribute answers with their questions, list keys shown by their names."""
    asked = {str(a.get("code")): a for a in (category.attributes if category else []) or []}
    found = []
    for code, value in (given or {}).items():
        attribute = asked.get(code, {})
        names = {str(v.get("key")): str(v.get("name")) for v in attribute.get("values") or []}
        values = value if isinstance(value, list) else [value]
        shown = "、".join(names.get(str(v), str(v)) for v in values)
        found.append(Answer(str(attribute.get("description") or code), shown))
    return found


def _handles(officer: Officer) -> bool:
    """A field officer: one whose roles carry ``complaints:handle``."""
    roles = frozenset(Role(r) for r in officer.roles if r in set(Role))
    return Permission.COMPLAINTS_HANDLE in permissions_for(roles)


@dataclass(frozen=True)
class OfficerChoice:
    id: int
    label: str


def officer_choices(
    session: Session, actor: Actor, row: Complaint, locale: str, settings: Settings
) -> tuple[list[OfficerChoice], list[int], list[str]]:
    """Field officers the actor may dispatch (recommended ones first, with distance and duty
    status), the recommended pair's ids, and the recommendation's explanation."""
    from zhifa.dispatch import recommend

    rows = officer_repo.officers(
        session,
        actor.scope,
        officer_repo.OfficerFilter(status=OfficerStatus.ACTIVE, district_code=row.district_code),
        limit=10_000,
    )
    usable: dict[int, Officer] = {o.id: o for o in rows if _handles(o)}
    found = recommend.recommend(session, row, settings=settings, locale=locale, limit=50)
    choices: list[OfficerChoice] = []
    for c in found.candidates:
        if c.officer_id in usable:
            usable.pop(c.officer_id)
            distance = f" · {c.distance_m:,.0f} m" if c.distance_m is not None else ""
            note = f" · {c.reason}" if c.reason else ""
            label = f"{c.name} · {c.unit_name}{distance}{note}"
            choices.append(OfficerChoice(c.officer_id, label))
    units = subject_repo.unit_names(session, {o.unit_id for o in usable.values() if o.unit_id})
    choices += [
        OfficerChoice(o.id, f"{o.name} · {units.get(o.unit_id or 0, '')}")
        for o in sorted(usable.values(), key=lambda o: (o.name, o.id))
    ]
    return choices, [c.officer_id for c in found.pair], list(found.explanation)


def pending_extensions(session: Session, complaint_id: int) -> list[ComplaintExtension]:
    found = (clock.pending_for(session, complaint_id, stage) for stage in SlaStage)
    return [row for row in found if row is not None]


def _place_names(session: Session, row: Complaint) -> dict[str, str]:
    district = DataScope(ScopeLevel.DISTRICT, frozenset({row.district_code}))
    grid = grid_repo.grid(session, district, row.grid_id) if row.grid_id else None
    department = (
        org_repo.department(session, district, row.department_id) if row.department_id else None
    )
    units = subject_repo.unit_names(session, {row.unit_id} if row.unit_id else set())
    return {
        "grid": f"{grid.code} {grid.name}" if grid is not None else "",
        "department": department.name if department is not None else "",
        "unit": units.get(row.unit_id or 0, ""),
    }


def detail_context(
    request: Request, session: Session, actor: Actor, complaint_id: int
) -> dict[str, Any]:
    """Everything the detail page shows of one complaint in the actor's scope (404 outside)."""
    locale = request_locale(request)
    detail = reads.complaint_detail(session, actor, complaint_id, locale=locale)
    row = reads.get(session, actor, complaint_id)
    category = repo.category(session, row.district_code, row.category_id)
    clocks = sla.clocks(row, utcnow())
    running = [c.stage for c in clocks if c.running]
    allowed = actions(actor, row, running)
    choices: list[OfficerChoice] = []
    pair: list[int] = []
    explanation: list[str] = []
    if allowed.dispatch:
        choices, pair, explanation = officer_choices(
            session, actor, row, locale, app_settings(request)
        )
    return {
        "c": detail,
        "category": category,
        "places": _place_names(session, row),
        "answers": answers(category, row.attributes),
        "clocks": clocks,
        "running": running,
        "extensions": pending_extensions(session, row.id),
        "actions": allowed,
        "officers": choices,
        "pair": pair,
        "explanation": explanation,
        "sla_colours": sla_colours(),
        "stages": list(SlaStage),
        "point": {"lon": row.lon, "lat": row.lat} if row.lon is not None else None,
        "draft_answer": draft_answer(detail.events),
    }


def draft_answer(events: list[ComplaintEventRead]) -> str:
    """The officers' last reported result: the starting point of the answer to the citizen."""
    results = [str(e.data.get("result", "")) for e in events if e.kind == "fed_back"]
    return results[-1] if results else ""
