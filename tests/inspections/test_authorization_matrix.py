"""Every route of field inspection (tasks, check-in, runs, evidence, desk pages) and of the officer
app × anonymous and every role: without the route's permission the answer is 403, anonymous callers
are sent to log in (401 for the API, 303 for pages), and a role holding the permission gets past
the check (its answer depends on the data: 200, 404, 422 …, never 401 or 403).

Routes are discovered from the app, so a new route of ``zhifa.inspections`` or ``zhifa.mobile``
without a line in ACCESS fails. Outcomes with real data and scope are in the domain tests."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from zhifa.org.roles import ROLE_PERMISSIONS, Permission, Role

PUBLIC = "public"
READ, INSPECT, MANAGE = Permission.INSPECTIONS_READ, Permission.INSPECT, Permission.TASKS_MANAGE

ACCESS: dict[tuple[str, str], Permission | str] = {
    ("GET", "/api/v1/tasks/today"): INSPECT,
    ("GET", "/api/v1/tasks"): READ,
    ("POST", "/api/v1/tasks"): MANAGE,
    ("POST", "/api/v1/tasks/ad-hoc"): INSPECT,
    ("GET", "/api/v1/tasks/{task_id}"): READ,
    ("POST", "/api/v1/tasks/{task_id}/cancel"): MANAGE,
    ("POST", "/api/v1/tasks/{task_id}/reassign"): MANAGE,
    ("POST", "/api/v1/tasks/{task_id}/check-ins"): INSPECT,
    ("GET", "/api/v1/check-ins/pending"): MANAGE,
    ("POST", "/api/v1/check-ins/{check_in_id}/decision"): MANAGE,
    ("POST", "/api/v1/tasks/{task_id}/inspection/submit"): INSPECT,
    ("GET", "/api/v1/inspections/{inspection_id}"): READ,
    ("POST", "/api/v1/inspections/{inspection_id}/amendments"): INSPECT,
    ("GET", "/api/v1/case-leads"): READ,
    ("PUT", "/api/v1/tasks/{task_id}/evidence/{client_uuid}"): INSPECT,
    ("GET", "/api/v1/tasks/{task_id}/evidence"): READ,
    ("GET", "/api/v1/evidence/{evidence_id}/file"): READ,
    ("GET", "/inspections/tasks"): READ,
    ("GET", "/inspections/subject-choices"): MANAGE,
    ("POST", "/inspections/tasks"): MANAGE,
    ("POST", "/inspections/tasks/{task_id}/cancel"): MANAGE,
    ("GET", "/inspections/tasks/{task_id}"): READ,
    ("GET", "/inspections/exceptions"): MANAGE,
    ("POST", "/inspections/exceptions/{check_in_id}/decision"): MANAGE,
    ("GET", "/inspections/case-leads"): READ,
    ("GET", "/m/"): INSPECT,
    ("GET", "/m/session"): INSPECT,
    ("GET", "/m/sw.js"): PUBLIC,
    ("GET", "/m/manifest.webmanifest"): PUBLIC,
    ("GET", "/m/i18n.json"): PUBLIC,
}


def field_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        if module.startswith(("zhifa.inspections", "zhifa.mobile")):
            path = getattr(route, "path", "")
            found |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return found


def test_every_field_route_has_an_expected_access(app: FastAPI) -> None:
    assert field_routes(app) == set(ACCESS)


def concrete(path: str) -> str:
    return path.replace("{client_uuid}", str(uuid.uuid4())).format(
        task_id=1, check_in_id=1, inspection_id=1, evidence_id=1
    )


@pytest.fixture
def tokens(session: Session) -> dict[Role, dict[str, str]]:
    factories.district(session, "510184")
    found = {}
    for role in Role:
        person = factories.officer(session, "510184", f"m-{role.value}", [role])
        found[role] = factories.bearer(session, person)
    session.commit()
    return found


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    body = {} if method in ("POST", "PUT") else None
    if method == "PUT":
        response = client.request(method, concrete(path), content=b"x", headers=headers)
    else:
        response = client.request(method, concrete(path), json=body, headers=headers)
    return response.status_code


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_each_role_gets_past_the_check_only_with_the_permission(
    client: TestClient, tokens: dict[Role, dict[str, str]], method: str, path: str
) -> None:
    access = ACCESS[(method, path)]
    client.follow_redirects = False
    anonymous = call(client, method, path, {})
    if access == PUBLIC:
        assert anonymous not in (401, 403)
    else:
        assert anonymous == (401 if path.startswith("/api/") else 303)
    for role, headers in tokens.items():
        status = call(client, method, path, headers)
        if access == PUBLIC or access in ROLE_PERMISSIONS[role]:
            assert status not in (401, 403), (role, status)
        else:
            assert status == 403, (role, status)
