"""The command centre pages (指挥中心, command:view): ``/command`` (today's inspections in scope,
the latest documents, a map of today's task subjects), ``/command/today`` (the same lists as a
fragment, which the page reloads when an event arrives) and ``/command/stream`` (server-sent
events)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from zhifa.config import Settings
from zhifa.dispatch import command, stream
from zhifa.kit.clock import today_local
from zhifa.models.documents import DocumentType
from zhifa.models.inspections import TaskStatus
from zhifa.models.org import Grid
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission
from zhifa.subjects import repository as subjects_repo
from zhifa.subjects.maps import grid_collection
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
CommandView = Annotated[Actor, require(Permission.COMMAND_VIEW)]
STATUS_COLOURS = {
    TaskStatus.PLANNED.value: "grey",
    TaskStatus.IN_PROGRESS.value: "amber",
    TaskStatus.SUBMITTED.value: "green",
}


def _today(request: Request, session: DbSession, actor: Actor) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    day = today_local(settings.tz)
    lines = command.todays_tasks(session, actor.scope, day=day, tz=settings.tz)
    live = [line for line in lines if line.task.status in command.LIVE]
    return {
        "day": day,
        "lines": live,
        "planned": sum(1 for line in lines if line.task.status == TaskStatus.PLANNED),
        "in_progress": sum(1 for line in lines if line.task.status == TaskStatus.IN_PROGRESS),
        "submitted": sum(1 for line in lines if line.task.status == TaskStatus.SUBMITTED),
        "failed": sum(line.failed for line in live),
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


def _grids(session: DbSession, actor: Actor) -> list[Grid]:
    return subjects_repo.grids_in_scope(session, actor.scope)


@router.get("/command")
def show_command(request: Request, session: DbSession, actor: CommandView) -> Response:
    """Today's inspections and documents, updated live."""
    ctx = _today(request, session, actor) | {"grids": grid_collection(_grids(session, actor))}
    return render(request, "command/index.html", ctx)


@router.get("/command/today")
def show_today(request: Request, session: DbSession, actor: CommandView) -> Response:
    """The lists of the command page, for the page to reload in place."""
    return render(request, "command/_today.html", _today(request, session, actor))


@router.get("/command/stream")
def command_stream(request: Request, session: DbSession, actor: CommandView) -> StreamingResponse:
    """Server-sent events: inspection.submitted, document.issued and check_in of your districts."""
    unit_ids = command.unit_ids_in_scope(session, actor.scope)
    districts = frozenset(actor.scope.district_codes)
    return StreamingResponse(
        stream.event_stream(request, districts, unit_ids),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
