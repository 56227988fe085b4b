"""JSON API of officers' positions and duty status, the live list, tracks and the nearest-officer
recommendation (``docs/dispatch.md``). Thin: parse, call ``dispatch.live`` / ``dispatch.recommend``,
present in the request's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse

from zhifa.complaints import repository as complaints_repo
from zhifa.config import Settings
from zhifa.dispatch import live as live_service
from zhifa.dispatch.recommend import Candidate, Recommendation, recommend
from zhifa.dispatch.schemas import (
    CandidateRead,
    FixRead,
    LiveRead,
    PositionsAccepted,
    PositionsIn,
    RecommendationRead,
    StatusIn,
    TrackRead,
)
from zhifa.errors import NotFound
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint
from zhifa.models.dispatch import DutyStatus, OfficerLive
from zhifa.models.org import Officer, Unit
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission
from zhifa.web.i18n import translate
from zhifa.web.templating import request_locale

router = APIRouter(prefix="/api/v1", tags=["dispatch"])
Handle = Annotated[Actor, require(Permission.COMPLAINTS_HANDLE)]
CommandView = Annotated[Actor, require(Permission.COMMAND_VIEW)]
Dispatch = Annotated[Actor, require(Permission.COMPLAINTS_DISPATCH)]


def _json(answer: BaseModel | list[LiveRead]) -> JSONResponse:
    """The answer as built, not passed through ``response_model`` validation: that would be one
    more trip to the thread pool while the request's transaction may hold SQLite's write lock (a
    batch of fixes, or a token's "last used" time), and under load every thread of the pool can
    be waiting for that lock, so they would wait for each other until the busy timeout."""
    if isinstance(answer, list):
        return JSONResponse([item.model_dump(mode="json") for item in answer])
    return JSONResponse(answer.model_dump(mode="json"))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def live_read(
    officer: Officer,
    unit_name: str,
    live: OfficerLive | None,
    *,
    age: int | None,
    stale: bool,
    locale: str,
) -> LiveRead:
    status = DutyStatus(live.status) if live is not None else DutyStatus.OFF_DUTY
    return LiveRead(
        officer_id=officer.id,
        name=officer.name,
        unit_id=officer.unit_id,
        unit_name=unit_name,
        status=status,
        status_label=translate(locale, status.label),
        colour=status.colour,
        status_at=live.status_at if live is not None else None,
        lon=live.lon if live is not None else None,
        lat=live.lat if live is not None else None,
        accuracy_m=live.accuracy_m if live is not None else None,
        fix_at=live.fix_at if live is not None else None,
        received_at=live.received_at if live is not None else None,
        fix_age_seconds=age,
        stale=stale,
        complaint_id=live.complaint_id if live is not None else None,
    )


@dataclass(frozen=True)
class _Own:
    """What the answer about the caller's own live row needs from the database, read before any
    write: on SQLite the write lock is then held only from the first write to the commit."""

    officer: Officer
    unit_name: str
    stale_after: int

    @classmethod
    def read(cls, request: Request, session: DbSession, actor: Actor) -> _Own:
        officer = session.get(Officer, actor.officer_id)
        assert officer is not None  # the caller
        unit = session.get(Unit, officer.unit_id) if officer.unit_id is not None else None
        limit = live_service.stale_after_seconds(session, actor.district_code, _settings(request))
        return cls(officer, unit.name if unit is not None else "", limit)

    def answer(self, request: Request, live: OfficerLive) -> LiveRead:
        age = live_service.fix_age_seconds(live, utcnow())
        return live_read(
            self.officer,
            self.unit_name,
            live,
            age=age,
            stale=age is None or age > self.stale_after,
            locale=request_locale(request),
        )


@router.post("/positions", response_model=PositionsAccepted)
def post_positions(
    request: Request, session: DbSession, actor: Handle, body: PositionsIn
) -> JSONResponse:
    """Your device's fixes (1 … position_batch_max); a bad fix refuses the batch with its index."""
    own = _Own.read(request, session, actor)
    recorded = live_service.record_fixes(session, actor, body.fixes, settings=_settings(request))
    latest = own.answer(request, recorded.live)
    return _json(PositionsAccepted(accepted=recorded.accepted, latest=latest))


@router.put("/me/status", response_model=LiveRead)
def put_my_status(
    request: Request, session: DbSession, actor: Handle, body: StatusIn
) -> JSONResponse:
    """Go on duty (available) or off duty; refused (409) while committed to a complaint."""
    own = _Own.read(request, session, actor)
    live = live_service.set_own_status(session, actor, status=body.status)
    return _json(own.answer(request, live))


@router.get("/officers/live", response_model=list[LiveRead])
def list_live_officers(request: Request, session: DbSession, actor: CommandView) -> JSONResponse:
    """Every active field officer in your scope: duty status, last fix, stale flag."""
    locale = request_locale(request)
    lines = live_service.live_officers(session, actor, settings=_settings(request))
    return _json(
        [
            live_read(
                line.officer,
                line.unit.name if line.unit is not None else "",
                line.live,
                age=line.fix_age_seconds,
                stale=line.stale,
                locale=locale,
            )
            for line in lines
        ]
    )


@router.get("/officers/{officer_id}/track", response_model=TrackRead)
def get_officer_track(
    session: DbSession,
    actor: CommandView,
    officer_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> JSONResponse:
    """An officer's fixes in a window of at most 24 hours (default: the last 24), oldest first."""
    start, end, fixes = live_service.track(
        session, actor, officer_id=officer_id, since=since, until=until
    )
    answer = TrackRead(
        officer_id=officer_id,
        since=start,
        until=end,
        fixes=[
            FixRead(
                lon=f.lon,
                lat=f.lat,
                accuracy_m=f.accuracy_m,
                speed_mps=f.speed_mps,
                heading_deg=f.heading_deg,
                fix_at=f.fix_at,
                received_at=f.received_at,
            )
            for f in fixes
        ],
    )
    return _json(answer)


def complaint_in_scope(session: DbSession, actor: Actor, complaint_id: int) -> Complaint:
    complaint = complaints_repo.complaint(session, actor, complaint_id)
    if complaint is None:
        raise NotFound(
            "The page or record does not exist, or is outside your data scope.",
            detail={"complaint_id": complaint_id},
        )
    return complaint


def _candidate_read(c: Candidate, locale: str) -> CandidateRead:
    return CandidateRead(
        officer_id=c.officer_id,
        name=c.name,
        unit_id=c.unit_id,
        unit_name=c.unit_name,
        own_unit=c.own_unit,
        distance_m=None if c.distance_m is None else int(round(c.distance_m)),
        status=c.status,
        status_label=translate(locale, c.status.label),
        fix_age_seconds=c.fix_age_seconds,
        eligible=c.eligible,
        reason_code=c.reason_code,
        reason=c.reason,
        complaint_id=c.complaint_id,
        lon=c.lon,
        lat=c.lat,
    )


def recommendation_read(found: Recommendation, locale: str) -> RecommendationRead:
    return RecommendationRead(
        complaint_id=found.complaint_id,
        tracking_no=found.tracking_no,
        owning_unit_id=found.owning_unit_id,
        owning_unit_name=found.owning_unit_name,
        has_point=found.has_point,
        pair=[_candidate_read(c, locale) for c in found.pair],
        candidates=[_candidate_read(c, locale) for c in found.candidates],
        explanation=found.explanation,
        stale_after_seconds=found.stale_after_seconds,
        computed_at=found.computed_at,
    )


@router.get("/complaints/{complaint_id}/recommendation", response_model=RecommendationRead)
def get_recommendation(
    request: Request,
    session: DbSession,
    actor: Dispatch,
    complaint_id: int,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> JSONResponse:
    """The nearest available pair, owning squad first, with the skipped officers and why."""
    complaint = complaint_in_scope(session, actor, complaint_id)
    locale = request_locale(request)
    found = recommend(session, complaint, limit=limit, settings=_settings(request), locale=locale)
    return _json(recommendation_read(found, locale))
