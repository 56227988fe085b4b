"""JSON API of the assessment indicators: ``GET /api/v1/kpis`` (command:view, in your scope)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from zhifa.analytics import kpis as kpi
from zhifa.analytics.schemas import KpiTableRead
from zhifa.config import Settings
from zhifa.kit.clock import today_local
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission
from zhifa.web.i18n import translate
from zhifa.web.templating import request_locale

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"])
CommandView = Annotated[Actor, require(Permission.COMMAND_VIEW)]


def table_for(
    request: Request,
    session: DbSession,
    actor: Actor,
    *,
    start: date | None,
    end: date | None,
    by: kpi.Grouping,
) -> kpi.KpiTable:
    """The indicators of the actor's scope over the period asked for (this month by default)."""
    settings: Settings = request.app.state.settings
    first, last = kpi.period(start, end, today=today_local(settings.tz))
    table = kpi.kpis(session, actor.scope, start=first, end=last, by=by, tz=settings.tz)
    for row in table.rows:
        if row.key is None and by is kpi.Grouping.UNIT:
            row.name = translate(request_locale(request), kpi.NO_SQUAD)
    return table


@router.get("", response_model=KpiTableRead)
def get_kpis(
    request: Request,
    session: DbSession,
    actor: CommandView,
    start: Annotated[
        date | None, Query(description="First local date (default: 1st of month)")
    ] = None,
    end: Annotated[date | None, Query(description="Last local date, included")] = None,
    by: Annotated[kpi.Grouping, Query(description="unit (squads) or officer")] = kpi.Grouping.UNIT,
) -> KpiTableRead:
    """按期处置率, 结案率, 返工率 and median minutes to dispatch, arrive and close, per squad or
    officer, over a period of local dates (definitions: docs/command-centre.md)."""
    table = table_for(request, session, actor, start=start, end=end, by=by)
    return KpiTableRead.model_validate(table)
