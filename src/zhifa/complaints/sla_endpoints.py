"""JSON API of the SLA clocks, supervision alerts and the complaint configuration:

- ``POST /api/v1/complaints/{id}/pause|resume`` (complaints:dispatch);
- ``POST /api/v1/complaints/{id}/extensions`` (complaints:handle),
  ``POST /api/v1/extensions/{id}/decision`` (complaints:approve);
- ``GET /api/v1/alerts``, ``POST /api/v1/alerts/{id}/ack`` (command:view);
- ``GET/PUT /api/v1/complaint-settings``, ``GET/PUT /api/v1/sla-profiles``,
  ``GET/PUT/DELETE /api/v1/workday-overrides`` (complaints:configure).

Thin: the rules are in ``complaints.clock``, ``complaints.escalation`` and
``complaints.settings_service``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from zhifa.complaints import escalation, sla
from zhifa.complaints.clock import clock_service
from zhifa.complaints.settings_service import (
    ComplaintSettingsIn,
    SettingsView,
    SlaProfileIn,
    WorkdayOverrideIn,
    settings_service,
)
from zhifa.errors import InvalidInput
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    AlertKind,
    Complaint,
    ComplaintExtension,
    ExtensionStatus,
    Priority,
    SlaStage,
    SlaState,
)
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission

router = APIRouter(tags=["sla"])
MAX_PROFILES = 100

ComplaintsDispatch = Annotated[Actor, require(Permission.COMPLAINTS_DISPATCH)]
ComplaintsHandle = Annotated[Actor, require(Permission.COMPLAINTS_HANDLE)]
ComplaintsApprove = Annotated[Actor, require(Permission.COMPLAINTS_APPROVE)]
ComplaintsConfigure = Annotated[Actor, require(Permission.COMPLAINTS_CONFIGURE)]
CommandView = Annotated[Actor, require(Permission.COMMAND_VIEW)]


# --- schemas -------------------------------------------------------------------------------------


class ClockRead(BaseModel):
    stage: SlaStage
    due: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    remaining_seconds: int | None
    state: SlaState
    running: bool


class ComplaintClocksRead(BaseModel):
    complaint_id: int
    tracking_no: str
    sla_state: SlaState
    paused_at: datetime | None
    pause_reason: str
    escalation_level: int
    clocks: list[ClockRead]


class PauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ResumeIn(BaseModel):
    reason: str = Field(default="", max_length=500)


class ExtensionIn(BaseModel):
    stage: SlaStage
    # {"minutes": n} or {"workdays": n}
    amount: dict[str, Any]
    reason: str = Field(min_length=1, max_length=500)


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=500)


class ExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    complaint_id: int
    stage: SlaStage
    amount: dict[str, Any]
    reason: str
    requested_by_id: int
    requested_at: datetime
    status: ExtensionStatus
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    complaint_id: int
    tracking_no: str = ""
    stage: SlaStage
    kind: AlertKind
    level: int
    unit_id: int | None
    due: datetime
    created_at: datetime
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None


class SlaProfileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    priority: Priority
    limits: dict[str, dict[str, int]]
    warn_ratio: float


class WorkdayOverrideRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    is_workday: bool
    note: str


class ComplaintSettingsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    district_code: str
    configured: bool
    duplicate_radius_m: float
    duplicate_window_hours: int
    position_stale_seconds: int
    default_unit_id: int | None
    boundary: dict[str, Any] | None
    tracking_prefix: str


def clocks_read(complaint: Complaint) -> ComplaintClocksRead:
    return ComplaintClocksRead(
        complaint_id=complaint.id,
        tracking_no=complaint.tracking_no,
        sla_state=complaint.sla_state,
        paused_at=complaint.paused_at,
        pause_reason=complaint.pause_reason,
        escalation_level=complaint.escalation_level,
        clocks=[
            ClockRead(
                stage=c.stage,
                due=c.due,
                started_at=c.started_at,
                stopped_at=c.stopped_at,
                remaining_seconds=c.remaining_seconds,
                state=c.state,
                running=c.running,
            )
            for c in sla.clocks(complaint, utcnow())
        ],
    )


def extension_read(row: ComplaintExtension) -> ExtensionRead:
    return ExtensionRead.model_validate(row)


def settings_read(view: SettingsView) -> ComplaintSettingsRead:
    return ComplaintSettingsRead.model_validate(view)


# --- clocks --------------------------------------------------------------------------------------


@router.post("/api/v1/complaints/{complaint_id}/pause", response_model=ComplaintClocksRead)
def pause_clocks(
    session: DbSession, actor: ComplaintsDispatch, complaint_id: int, body: PauseIn
) -> ComplaintClocksRead:
    """Pause the running clocks (waiting for the party); the citizen is told."""
    row = clock_service.pause(session, actor, complaint_id=complaint_id, reason=body.reason)
    return clocks_read(row)


@router.post("/api/v1/complaints/{complaint_id}/resume", response_model=ComplaintClocksRead)
def resume_clocks(
    session: DbSession,
    actor: ComplaintsDispatch,
    complaint_id: int,
    body: ResumeIn | None = None,
) -> ComplaintClocksRead:
    """Resume the clocks; each deadline moves by the time its clock stood still."""
    note = body.reason if body is not None else ""
    return clocks_read(clock_service.resume(session, actor, complaint_id=complaint_id, note=note))


@router.post(
    "/api/v1/complaints/{complaint_id}/extensions", response_model=ExtensionRead, status_code=201
)
def request_extension(
    session: DbSession, actor: ComplaintsHandle, complaint_id: int, body: ExtensionIn
) -> ExtensionRead:
    """Ask for more time on one running clock, before its deadline."""
    row = clock_service.request_extension(
        session,
        actor,
        complaint_id=complaint_id,
        stage=body.stage,
        amount=body.amount,
        reason=body.reason,
    )
    return extension_read(row)


@router.post("/api/v1/extensions/{extension_id}/decision", response_model=ExtensionRead)
def decide_extension(
    session: DbSession, actor: ComplaintsApprove, extension_id: int, body: DecisionIn
) -> ExtensionRead:
    """Approve or refuse a pending extension (not your own request); a refusal needs a note."""
    row = clock_service.decide_extension(
        session, actor, extension_id=extension_id, approve=body.approve, note=body.note
    )
    return extension_read(row)


# --- alerts --------------------------------------------------------------------------------------


def _alerts_read(session: DbSession, rows: list[Any]) -> list[AlertRead]:
    numbers = escalation.tracking_numbers(session, rows)
    return [
        AlertRead.model_validate(r).model_copy(
            update={"tracking_no": numbers.get(r.complaint_id, "")}
        )
        for r in rows
    ]


@router.get("/api/v1/alerts", response_model=list[AlertRead])
def list_alerts(
    session: DbSession,
    actor: CommandView,
    acknowledged: bool | None = None,
    complaint_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AlertRead]:
    """Supervision alerts in your scope, newest first (a squad leader sees the squad's)."""
    rows = escalation.alerts(
        session,
        actor,
        acknowledged=acknowledged,
        complaint_id=complaint_id,
        limit=limit,
        offset=offset,
    )
    return _alerts_read(session, rows)


@router.post("/api/v1/alerts/{alert_id}/ack", response_model=AlertRead)
def acknowledge_alert(session: DbSession, actor: CommandView, alert_id: int) -> AlertRead:
    """Acknowledge an alert (签收)."""
    return _alerts_read(session, [escalation.acknowledge(session, actor, alert_id=alert_id)])[0]


# --- configuration -------------------------------------------------------------------------------


@router.get("/api/v1/complaint-settings", response_model=ComplaintSettingsRead)
def get_complaint_settings(session: DbSession, actor: ComplaintsConfigure) -> ComplaintSettingsRead:
    """Your district's complaint settings (the defaults until saved)."""
    return settings_read(settings_service.get(session, actor))


@router.put("/api/v1/complaint-settings", response_model=ComplaintSettingsRead)
def put_complaint_settings(
    session: DbSession, actor: ComplaintsConfigure, body: ComplaintSettingsIn
) -> ComplaintSettingsRead:
    """Save your district's complaint settings (boundary as GeoJSON)."""
    settings_service.put(session, actor, data=body)
    return settings_read(settings_service.get(session, actor))


@router.get("/api/v1/sla-profiles", response_model=list[SlaProfileRead])
def list_sla_profiles(session: DbSession, actor: ComplaintsConfigure) -> list[SlaProfileRead]:
    """Your district's deadline profiles."""
    return [SlaProfileRead.model_validate(p) for p in settings_service.profiles(session, actor)]


@router.put("/api/v1/sla-profiles", response_model=list[SlaProfileRead])
def put_sla_profiles(
    session: DbSession,
    actor: ComplaintsConfigure,
    body: list[SlaProfileIn],
) -> list[SlaProfileRead]:
    """Create or change profiles by (code, priority); those not sent stay as they are."""
    if not 0 < len(body) <= MAX_PROFILES:
        raise InvalidInput(
            "Send from 1 to {max} profiles at a time.", detail={"field": "body"}, max=MAX_PROFILES
        )
    for item in body:
        settings_service.save_profile(session, actor, data=item)
    return [SlaProfileRead.model_validate(p) for p in settings_service.profiles(session, actor)]


@router.get("/api/v1/workday-overrides", response_model=list[WorkdayOverrideRead])
def list_workday_overrides(
    session: DbSession,
    actor: ComplaintsConfigure,
    year: Annotated[int | None, Query(ge=2000, le=2999)] = None,
) -> list[WorkdayOverrideRead]:
    """Your district's working-day exceptions (all, or of one year)."""
    rows = settings_service.overrides(session, actor, year=year)
    return [WorkdayOverrideRead.model_validate(r) for r in rows]


@router.put("/api/v1/workday-overrides", response_model=WorkdayOverrideRead)
def put_workday_override(
    session: DbSession, actor: ComplaintsConfigure, body: WorkdayOverrideIn
) -> WorkdayOverrideRead:
    """Make one day a working day or a day off in your district."""
    return WorkdayOverrideRead.model_validate(
        settings_service.save_override(session, actor, data=body)
    )


@router.delete("/api/v1/workday-overrides", status_code=204)
def delete_workday_override(session: DbSession, actor: ComplaintsConfigure, day: date) -> Response:
    """Remove the exception of one day (the national calendar decides it again)."""
    settings_service.remove_override(session, actor, day=day)
    return Response(status_code=204)
