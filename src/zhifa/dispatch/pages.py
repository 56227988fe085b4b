"""The command centre pages (指挥中心, command:view).

- ``/command``: the dispatcher's desktop: a live map (grids with their squads, officers coloured
  by duty status, open complaints coloured by SLA state, today's inspected subjects), the queue of
  open complaints with countdowns, the panel of the selected complaint (recommendation, one-click
  dispatch, the other steps, the timeline), this month's indicators, and today's inspections.
- ``/command/queue``: the queue alone, which the page reloads in place when an event arrives.
- ``/command/today``: today's inspection lists alone, reloaded the same way.
- ``/command/stream``: server-sent events (``dispatch.stream``).

The panel calls the JSON API (``docs/complaints-api.md``) with the page's CSRF token; the pages
here only read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from zhifa.analytics import kpis as kpi
from zhifa.analytics.pages import minutes, percent
from zhifa.config import Settings
from zhifa.dispatch import command, live, queue, stream
from zhifa.kit.clock import as_utc, today_local, utcnow
from zhifa.models.complaints import ComplaintStatus, Priority, SlaStage, SlaState
from zhifa.models.dispatch import DutyStatus
from zhifa.models.documents import DocumentType
from zhifa.models.inspections import TaskStatus
from zhifa.models.org import Grid
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission
from zhifa.subjects import repository as subjects_repo
from zhifa.web.i18n import translate
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
CommandView = Annotated[Actor, require(Permission.COMMAND_VIEW)]
STATUS_COLOURS = {
    TaskStatus.PLANNED.value: "grey",
    TaskStatus.IN_PROGRESS.value: "amber",
    TaskStatus.SUBMITTED.value: "green",
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _today(request: Request, session: DbSession, actor: Actor) -> dict[str, Any]:
    settings = _settings(request)
    day = today_local(settings.tz)
    lines = command.todays_tasks(session, actor.scope, day=day, tz=settings.tz)
    live_lines = [line for line in lines if line.task.status in command.LIVE]
    return {
        "day": day,
        "lines": live_lines,
        "planned": sum(1 for line in lines if line.task.status == TaskStatus.PLANNED),
        "in_progress": sum(1 for line in lines if line.task.status == TaskStatus.IN_PROGRESS),
        "submitted": sum(1 for line in lines if line.task.status == TaskStatus.SUBMITTED),
        "failed": sum(line.failed for line in live_lines),
        "documents": command.latest_documents(session, actor.scope),
        "status_colours": STATUS_COLOURS,
        "status_labels": {s.value: s.label for s in TaskStatus},
        "doc_labels": {d.value: d.label for d in DocumentType},
        "task_map": _task_map(lines),
        "all_lines": lines,
    }


def _task_map(lines: list[command.TaskLine]) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {
                "id": s.id,
                "name": s.name,
                "address": s.address,
                "colour": STATUS_COLOURS.get(str(line.task.status), "grey"),
                "fence": s.geofence,
                "radius_m": s.geofence_radius_m,
                "url": f"/subjects/{s.id}",
            },
        }
        for line in lines
        if (s := line.subject).lon is not None and s.lat is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def _grid_map(session: DbSession, actor: Actor) -> dict[str, Any]:
    """The grids in scope, each with its code, name and owning squad."""
    grids: list[Grid] = subjects_repo.grids_in_scope(session, actor.scope)
    squads = subjects_repo.unit_names(session, {g.unit_id for g in grids})
    features = [
        {
            "type": "Feature",
            "geometry": g.geometry,
            "properties": {"code": g.code, "name": g.name, "unit": squads.get(g.unit_id, "")},
        }
        for g in grids
    ]
    return {"type": "FeatureCollection", "features": features}


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _officer_map(
    request: Request, session: DbSession, actor: Actor, now: datetime
) -> list[dict[str, Any]]:
    """Field officers in scope with a known position, as the map draws them."""
    settings = _settings(request)
    stale_after: dict[str, int] = {}
    found = []
    for line in live.live_officers(session, actor, now=now, settings=settings):
        row = line.live
        if row is None or row.lon is None or row.lat is None:
            continue
        district = line.officer.district_code
        if district not in stale_after:
            stale_after[district] = live.stale_after_seconds(session, district, settings)
        found.append(
            {
                "officer_id": line.officer.id,
                "name": line.officer.name,
                "unit_id": row.unit_id,
                "unit_name": line.unit.name if line.unit is not None else "",
                "status": str(row.status),
                "lon": row.lon,
                "lat": row.lat,
                "accuracy_m": row.accuracy_m,
                "fix_at": _iso(row.fix_at),
                "stale_after": stale_after[district],
                "complaint_id": row.complaint_id,
            }
        )
    return found


def _labels(request: Request) -> dict[str, Any]:
    """What the page's scripts need to name states (translated) and colour them."""
    locale = request_locale(request)

    def t(message: str) -> str:
        return translate(locale, message)

    return {
        "duty": {s.value: {"label": t(s.label), "colour": s.colour} for s in DutyStatus},
        "status": {s.value: t(s.label) for s in ComplaintStatus},
        "sla": {s.value: {"label": t(s.label), "colour": queue.SLA_COLOURS[s]} for s in SlaState},
        "priority": {p.value: t(p.label) for p in Priority},
        "stage": {s.value: t(s.label) for s in SlaStage},
    }


def _queue(request: Request, session: DbSession, actor: Actor, now: datetime) -> dict[str, Any]:
    items = queue.open_queue(session, actor.scope, now=now)
    return {
        "queue": items,
        "counts": queue.count_by_state(items),
        "now": now,
        "iso": _iso,
        "labels": _labels(request),
    }


def _kpi_strip(request: Request, session: DbSession, actor: Actor) -> dict[str, Any]:
    settings = _settings(request)
    start, end = kpi.this_month(today_local(settings.tz))
    table = kpi.kpis(
        session, actor.scope, start=start, end=end, by=kpi.Grouping.UNIT, tz=settings.tz
    )
    return {"table": table, "percent": percent, "minutes": minutes, "kpi_href": "/analytics"}


@router.get("/command")
def show_command(request: Request, session: DbSession, actor: CommandView) -> Response:
    """The live map, the queue, the selected complaint's panel and today's inspections."""
    now = utcnow()
    ctx = (
        _today(request, session, actor)
        | _queue(request, session, actor, now)
        | _kpi_strip(request, session, actor)
        | {
            "grids": _grid_map(session, actor),
            "officers": _officer_map(request, session, actor, now),
            "can_dispatch": actor.can(Permission.COMPLAINTS_DISPATCH),
        }
    )
    return render(request, "command/index.html", ctx)


@router.get("/command/queue")
def show_queue(request: Request, session: DbSession, actor: CommandView) -> Response:
    """The queue of open complaints, for the page to reload in place."""
    return render(request, "command/_queue.html", _queue(request, session, actor, utcnow()))


@router.get("/command/today")
def show_today(request: Request, session: DbSession, actor: CommandView) -> Response:
    """The lists of the command page, for the page to reload in place."""
    return render(request, "command/_today.html", _today(request, session, actor))


@router.get("/command/stream")
def command_stream(request: Request, session: DbSession, actor: CommandView) -> StreamingResponse:
    """Server-sent events of your districts: complaint steps, officers, alerts, SLA states, and
    inspection.submitted, document.issued and check_in."""
    unit_ids = command.unit_ids_in_scope(session, actor.scope)
    districts = frozenset(actor.scope.district_codes)
    return StreamingResponse(
        stream.event_stream(request, districts, unit_ids),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
