"""The assessment page ``/analytics`` (考核, command:view): the indicators of your scope per squad
or per officer over a period, as a table and ECharts bar charts, with their definitions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from zhifa.analytics import kpis as kpi
from zhifa.analytics.endpoints import table_for
from zhifa.analytics.kpis import N_
from zhifa.errors import InvalidInput
from zhifa.org.actor import Actor
from zhifa.org.auth import DbSession, require
from zhifa.org.roles import Permission
from zhifa.web.i18n import translate
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)
CommandView = Annotated[Actor, require(Permission.COMMAND_VIEW)]

BAD_DATE = N_("“{value}” is not a date; write it as 2026-03-31.")
RATE_SERIES = (
    ("on_time_rate", N_("On-time handling rate")),
    ("close_rate", N_("Closure rate")),
    ("rework_rate", N_("Rework rate")),
)
MEDIAN_SERIES = (
    ("median_dispatch_minutes", N_("Received → dispatched")),
    ("median_arrive_minutes", N_("Dispatched → on scene")),
    ("median_close_minutes", N_("Received → closed")),
)
PERCENT_AXIS, MINUTES_AXIS = N_("Rate (%)"), N_("Minutes (median)")


def percent(value: float | None) -> str:
    """A rate for people: one decimal place, "—" when there is nothing to divide."""
    return "—" if value is None else f"{value * 100:.1f}%"


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(BAD_DATE, detail={"field": field}, value=value) from None


def _chart(request: Request, table: kpi.KpiTable) -> dict[str, Any]:
    """What analytics.js draws: names along the axis, rates in %, medians in minutes (one
    decimal; None where there is nothing to show)."""
    locale = request_locale(request)

    def series(field: str, scale: float) -> list[float | None]:
        values = (getattr(r, field) for r in table.rows)
        return [None if v is None else round(v * scale, 1) for v in values]

    return {
        "names": [r.name for r in table.rows],
        "rates": [{"name": translate(locale, n), "data": series(f, 100)} for f, n in RATE_SERIES],
        "medians": [{"name": translate(locale, n), "data": series(f, 1)} for f, n in MEDIAN_SERIES],
        "percent_axis": translate(locale, PERCENT_AXIS),
        "minutes_axis": translate(locale, MINUTES_AXIS),
    }


@router.get("/analytics")
def show_analytics(
    request: Request,
    session: DbSession,
    actor: CommandView,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
) -> Response:
    """The indicators per squad or officer over a period (this month by default)."""
    grouping = kpi.Grouping.OFFICER if by == kpi.Grouping.OFFICER else kpi.Grouping.UNIT
    error = ""
    try:
        first, last = _date(start, "start"), _date(end, "end")
        table = table_for(request, session, actor, start=first, end=last, by=grouping)
    except InvalidInput as exc:
        error = translate(request_locale(request), exc.message, **exc.params)
        table = table_for(request, session, actor, start=None, end=None, by=grouping)
    context = {
        "table": table,
        "error": error,
        "chart": _chart(request, table),
        "percent": percent,
        "minutes": minutes,
    }
    return render(request, "analytics/index.html", context, status_code=422 if error else 200)
