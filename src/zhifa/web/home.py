"""The home page (``GET /``): one page per role, showing only what exists today (organisation data).

The page fits the account's primary role, its most senior one (``ROLE_PRECEDENCE``). Every number
and list on it comes from ``home_repository``, narrowed by the actor's data scope. Anonymous
visitors are sent to the login page by the error handler (``CurrentActor`` raises 401).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from zhifa.catalog import browse as catalog_browse
from zhifa.config import Settings
from zhifa.kit.clock import local, utcnow
from zhifa.models.org import Officer, UnitKind
from zhifa.org.actor import Actor
from zhifa.org.auth import CurrentActor, DbSession
from zhifa.org.roles import Role
from zhifa.org.scope import DataScope
from zhifa.web import home_repository as repo
from zhifa.web.nav import nav_for
from zhifa.web.templating import render

router = APIRouter(tags=["home"])

ROLE_PRECEDENCE = (
    Role.SYSTEM_ADMIN,
    Role.LEADER,
    Role.AUDITOR,
    Role.LEGAL_REVIEWER,
    Role.CATALOG_ADMIN,
    Role.DISPATCHER,
    Role.SQUAD_LEADER,
    Role.OFFICER,
)
# A certificate expiring within this many days is flagged.
CERT_WARNING_DAYS = 30
EVENT_LIMIT = 20


def primary_role(roles: frozenset[Role]) -> Role:
    """The most senior role held; an account without roles gets the field officer's page."""
    return next((role for role in ROLE_PRECEDENCE if role in roles), Role.OFFICER)


@dataclass(frozen=True)
class CertBadge:
    """The state of an enforcement certificate (执法证), for a badge."""

    label: str
    colour: str


def cert_badge(officer: Officer, today: date) -> CertBadge:
    until = officer.cert_valid_until
    if not officer.cert_no or until is None:
        return CertBadge("No certificate", "grey")
    if until < today:
        return CertBadge("Expired", "red")
    if until <= today + timedelta(days=CERT_WARNING_DAYS):
        return CertBadge("Expiring soon", "amber")
    return CertBadge("Valid", "green")


@dataclass(frozen=True)
class HomeQuery:
    session: Session
    actor: Actor
    today: date

    @property
    def scope(self) -> DataScope:
        return self.actor.scope

    def warning_date(self) -> date:
        return self.today + timedelta(days=CERT_WARNING_DAYS)


def _officer_home(q: HomeQuery) -> dict[str, Any]:
    squad = repo.unit(q.session, q.scope, q.actor.unit_id)
    members = repo.unit_members(q.session, q.scope, squad.id) if squad else []
    return {
        "me": repo.officer(q.session, q.scope, q.actor.officer_id),
        "squad": squad,
        "grids": repo.unit_grids(q.session, q.scope, squad.id) if squad else [],
        "colleagues": [o for o in members if o.id != q.actor.officer_id],
    }


def _squad_leader_home(q: HomeQuery) -> dict[str, Any]:
    squad = repo.unit(q.session, q.scope, q.actor.unit_id)
    return {
        "squad": squad,
        "roster": repo.unit_members(q.session, q.scope, squad.id) if squad else [],
        "grids": repo.unit_grids(q.session, q.scope, squad.id) if squad else [],
    }


def _dispatcher_home(q: HomeQuery) -> dict[str, Any]:
    return {
        "units": repo.units(q.session, q.scope),
        "grids": repo.grids_with_units(q.session, q.scope),
        "squad_officers": repo.active_officers_per_squad(q.session, q.scope),
        "kind_labels": {kind.value: kind.label for kind in UnitKind},
    }


def _catalog_admin_home(q: HomeQuery) -> dict[str, Any]:
    district = q.actor.district_code
    return {
        "districts": repo.districts(q.session, q.scope),
        "departments": repo.departments(q.session, q.scope),
        "catalog": catalog_browse.catalog_summary(q.session, district, on=q.today),
        "catalog_events": repo.latest_events(
            q.session, q.scope, limit=EVENT_LIMIT, kind_prefix="catalog."
        ),
    }


def _legal_reviewer_home(q: HomeQuery) -> dict[str, Any]:
    return {
        "districts": repo.districts(q.session, q.scope),
        "departments": repo.departments(q.session, q.scope),
        "expiring": repo.certs_expiring(q.session, q.scope, by=q.warning_date()),
    }


def _leader_home(q: HomeQuery) -> dict[str, Any]:
    return {
        "counts": repo.org_counts(q.session, q.scope),
        "expiring": repo.certs_expiring(q.session, q.scope, by=q.warning_date()),
    }


def _auditor_home(q: HomeQuery) -> dict[str, Any]:
    return {"events": repo.latest_events(q.session, q.scope, limit=EVENT_LIMIT)}


def _system_admin_home(q: HomeQuery) -> dict[str, Any]:
    events = repo.latest_events(q.session, q.scope, limit=EVENT_LIMIT, kind_prefix="security.")
    return {
        "counts": repo.org_counts(q.session, q.scope),
        "admin_links": [i for i in nav_for(q.actor) if i.href.startswith("/admin/")],
        "events": events,
    }


BUILDERS: dict[Role, Callable[[HomeQuery], dict[str, Any]]] = {
    Role.OFFICER: _officer_home,
    Role.SQUAD_LEADER: _squad_leader_home,
    Role.DISPATCHER: _dispatcher_home,
    Role.LEGAL_REVIEWER: _legal_reviewer_home,
    Role.CATALOG_ADMIN: _catalog_admin_home,
    Role.LEADER: _leader_home,
    Role.AUDITOR: _auditor_home,
    Role.SYSTEM_ADMIN: _system_admin_home,
}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def show_home(request: Request, session: DbSession, actor: CurrentActor) -> HTMLResponse:
    """The home page for the actor's primary role."""
    role = primary_role(actor.roles)
    settings: Settings = request.app.state.settings
    today = local(utcnow(), settings.tz).date()
    context = BUILDERS[role](HomeQuery(session, actor, today))
    context.update(role=role, today=today, cert=lambda o: cert_badge(o, today))
    return render(request, f"home/{role.value}.html", context)
