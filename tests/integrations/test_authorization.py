"""Who may do what with integrations: every route of ``zhifa.integrations`` × every role.

Reads need command:view or integrations:manage; changes need integrations:manage (the system
administrator). Routes are discovered from the app: a new route without a line here fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.integrations.helpers import IntegrationWorld, complaint_from, messages, peer
from zhifa.config import Settings
from zhifa.kit.clock import utcnow
from zhifa.org.roles import Role

ROLES = (
    Role.OFFICER,
    Role.SQUAD_LEADER,
    Role.DISPATCHER,
    Role.LEGAL_REVIEWER,
    Role.LEADER,
    Role.CATALOG_ADMIN,
    Role.AUDITOR,
    Role.SYSTEM_ADMIN,
)
READERS = {Role.SQUAD_LEADER, Role.DISPATCHER, Role.LEADER, Role.SYSTEM_ADMIN}
MANAGERS = {Role.SYSTEM_ADMIN}


@dataclass(frozen=True)
class Target:
    integration_id: int
    message_id: int


@dataclass(frozen=True)
class Case:
    who: set[Role]
    ok: int
    path: Callable[[Target], str]
    body: Callable[[int], dict[str, Any]] | None = None


def _new(n: int) -> dict[str, Any]:
    return {"code": f"peer-{n}", "name": f"对接{n}", "kind": "open311", "send_updates": False}


ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/integrations"): Case(READERS, 200, lambda t: "/api/v1/integrations"),
    ("POST", "/api/v1/integrations"): Case(MANAGERS, 201, lambda t: "/api/v1/integrations", _new),
    ("GET", "/api/v1/integrations/{integration_id}"): Case(
        READERS, 200, lambda t: f"/api/v1/integrations/{t.integration_id}"
    ),
    ("PATCH", "/api/v1/integrations/{integration_id}"): Case(
        MANAGERS, 200, lambda t: f"/api/v1/integrations/{t.integration_id}", lambda n: {}
    ),
    ("POST", "/api/v1/integrations/{integration_id}/key"): Case(
        MANAGERS, 201, lambda t: f"/api/v1/integrations/{t.integration_id}/key"
    ),
    ("GET", "/api/v1/integrations/{integration_id}/outbox"): Case(
        READERS, 200, lambda t: f"/api/v1/integrations/{t.integration_id}/outbox"
    ),
    ("POST", "/api/v1/outbox/{message_id}/retry"): Case(
        MANAGERS, 200, lambda t: f"/api/v1/outbox/{t.message_id}/retry"
    ),
    ("GET", "/integrations"): Case(READERS, 200, lambda t: "/integrations"),
    ("POST", "/integrations/outbox/{message_id}/retry"): Case(
        MANAGERS, 303, lambda t: f"/integrations/outbox/{t.message_id}/retry"
    ),
}


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        if module.startswith("zhifa.integrations."):
            path = getattr(route, "path", "")
            found |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return found


def test_every_route_has_a_line_in_the_matrix(app: FastAPI) -> None:
    assert _routes(app) == set(ROUTES)


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_each_role_gets_what_the_matrix_says(
    role: Role,
    client: TestClient,
    session: Session,
    settings: Settings,
    world: IntegrationWorld,
) -> None:
    hook = peer(session, settings, endpoint_url="https://wlzz.example.cn/hook")
    complaint_from(session, settings, hook)
    waiting = messages(session)[0]
    waiting.next_attempt_at = utcnow() + timedelta(minutes=10)
    unit = world.complaints.field.squad if role in {Role.OFFICER, Role.SQUAD_LEADER} else None
    who = factories.officer(session, world.district_code, f"u-{role}", [role], unit=unit)
    headers = factories.bearer(session, who)
    session.commit()
    target = Target(hook.id, waiting.id)

    outcomes = {}
    for n, ((method, _), case) in enumerate(ROUTES.items()):
        body = case.body(n) if case.body is not None else None
        response = client.request(
            method, case.path(target), json=body, headers=headers, follow_redirects=False
        )
        outcomes[(method, case.path(target))] = response.status_code

    expected = {
        (method, case.path(target)): case.ok if role in case.who else 403
        for (method, _), case in ROUTES.items()
    }
    assert outcomes == expected
