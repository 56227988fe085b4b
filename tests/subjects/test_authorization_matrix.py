"""Every route of the subject registry and of the command centre × every role (each with its
usual data scope) and a field officer of another squad: 403 without the permission, 404 for a
subject outside the scope, the route's success status otherwise.

Routes are discovered from the app, so a new route of ``zhifa.subjects`` or ``zhifa.dispatch``
without a line in ACCESS fails. The stream's success is tested against a live server
(tests/dispatch/test_stream.py); here only its refusals are."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy.orm import Session

from tests import factories
from tests.subjects.helpers import World, enterprise, make_ric, person, subjects_world
from zhifa.models.org import Officer
from zhifa.models.subjects import Subject
from zhifa.org.roles import DEFAULT_SCOPE, Permission, Role, ScopeLevel, permissions_for
from zhifa.subjects.idcard import keys_for
from zhifa.subjects.identifiers import mask
from zhifa.subjects.workbook import COLUMNS

READ, MANAGE = Permission.SUBJECTS_READ, Permission.SUBJECTS_MANAGE
REVEAL, COMMAND = Permission.SUBJECTS_REVEAL, Permission.COMMAND_VIEW


@dataclass(frozen=True)
class Call:
    permission: Permission
    ok: int
    path: Callable[[Subject], str]
    json: Callable[[int], Any] | None = None
    data: Callable[[int], dict[str, str]] | None = None
    files: bool = False
    per_subject: bool = False  # the path names a subject: outside the scope it is 404
    outsider: int | None = None  # what an officer of another squad gets, if not 404 / ok


def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _form(n: int) -> dict[str, str]:
    body = enterprise(1000 + n)
    return {k: str(v) for k, v in body.items() if k not in ("licences", "geofence_radius_m")} | {
        "fence": "radius",
        "geofence_radius_m": "30",
    }


def at(template: str) -> Callable[[Subject], str]:
    return lambda s: template.format(id=s.id)


ACCESS: dict[tuple[str, str], Call] = {
    ("GET", "/api/v1/subjects"): Call(READ, 200, at("/api/v1/subjects")),
    # registering in the home squad's grid: refused (422) for an officer of another squad
    ("POST", "/api/v1/subjects"): Call(
        MANAGE, 201, at("/api/v1/subjects"), json=lambda n: enterprise(n), outsider=422
    ),
    ("POST", "/api/v1/subjects/import"): Call(
        MANAGE, 422, at("/api/v1/subjects/import?dry_run=true"), files=True
    ),
    ("GET", "/api/v1/subjects/{subject_id}"): Call(
        READ, 200, at("/api/v1/subjects/{id}"), per_subject=True
    ),
    ("PATCH", "/api/v1/subjects/{subject_id}"): Call(
        MANAGE,
        200,
        at("/api/v1/subjects/{id}"),
        json=lambda n: {"note": f"改{n}"},
        per_subject=True,
    ),
    ("POST", "/api/v1/subjects/{subject_id}/reveal-id"): Call(
        REVEAL,
        200,
        at("/api/v1/subjects/{id}/reveal-id"),
        json=lambda n: {"reason": "核对身份"},
        per_subject=True,
    ),
    ("GET", "/api/v1/subjects/{subject_id}/history"): Call(
        READ, 200, at("/api/v1/subjects/{id}/history"), per_subject=True
    ),
    ("GET", "/subjects"): Call(READ, 200, at("/subjects")),
    ("GET", "/subjects/map"): Call(READ, 200, at("/subjects/map")),
    ("GET", "/subjects/new"): Call(MANAGE, 200, at("/subjects/new")),
    ("POST", "/subjects/new"): Call(MANAGE, 303, at("/subjects/new"), data=_form, outsider=422),
    ("GET", "/subjects/import"): Call(MANAGE, 200, at("/subjects/import")),
    ("GET", "/subjects/import/template.xlsx"): Call(
        MANAGE, 200, at("/subjects/import/template.xlsx")
    ),
    ("POST", "/subjects/import"): Call(
        MANAGE, 422, at("/subjects/import"), data=lambda n: {"mode": "dry_run"}, files=True
    ),
    ("GET", "/subjects/{subject_id}"): Call(READ, 200, at("/subjects/{id}"), per_subject=True),
    ("GET", "/subjects/{subject_id}/edit"): Call(
        MANAGE, 200, at("/subjects/{id}/edit"), per_subject=True
    ),
    ("POST", "/subjects/{subject_id}/edit"): Call(
        MANAGE,
        303,
        at("/subjects/{id}/edit"),
        data=lambda n: {
            "kind": "person",
            "name": "矩阵某",
            "subject_type": "street_vendor",
            "lon": str(person()["lon"]),
            "lat": str(person()["lat"]),
            "fence": "radius",
            "geofence_radius_m": "30",
            "note": f"改{n}",
        },
        per_subject=True,
    ),
    ("POST", "/subjects/{subject_id}/deactivate"): Call(
        MANAGE, 303, at("/subjects/{id}/deactivate"), data=lambda n: {}, per_subject=True
    ),
    ("POST", "/subjects/{subject_id}/reveal-id"): Call(
        REVEAL,
        200,
        at("/subjects/{id}/reveal-id"),
        data=lambda n: {"reason": "核对身份"},
        per_subject=True,
    ),
    ("GET", "/command"): Call(COMMAND, 200, at("/command")),
    ("GET", "/command/queue"): Call(COMMAND, 200, at("/command/queue")),
    ("GET", "/command/today"): Call(COMMAND, 200, at("/command/today")),
    ("GET", "/command/stream"): Call(COMMAND, 200, at("/command/stream")),
}
ACTORS = [*(role.value for role in Role), "officer@other"]


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        # The dispatch API (positions, status, recommendations) has its own matrix in
        # tests/dispatch/test_dispatch_endpoints.py; the command pages are here.
        if module.startswith(("zhifa.subjects", "zhifa.dispatch.pages")):
            path = getattr(route, "path", "")
            found |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return found


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    assert routes_of(app) == set(ACCESS)


def expected(key: tuple[str, str], actor: str) -> int:
    call = ACCESS[key]
    role = Role("officer" if actor == "officer@other" else actor)
    if call.permission not in permissions_for(frozenset({role})):
        return 403
    if actor == "officer@other" and call.outsider is not None:
        return call.outsider
    if actor == "officer@other" and call.per_subject:
        return 404
    return call.ok


@pytest.fixture
def world(session: Session) -> World:
    w = subjects_world(session)
    session.commit()
    return w


def _target(session: Session, world: World) -> Subject:
    """A person with an ID card number in the home squad's grid (every route works on it)."""
    keys = keys_for("test-secret-not-for-production")
    number = make_ric(77)
    body = person(77)
    row = Subject(
        district_code="510184",
        kind="person",
        name="矩阵某",
        subject_type_code="street_vendor",
        lon=body["lon"],
        lat=body["lat"],
        geofence_radius_m=30,
        grid_id=world.field.grid.id,
        unit_id=world.field.squad.id,
        id_card_cipher=keys.encrypt(number),
        id_card_masked=mask(number),
        id_card_digest=keys.digest(number),
    )
    session.add(row)
    session.commit()
    return row


def _actors(session: Session, world: World) -> dict[str, Officer]:
    f = world.field
    found: dict[str, Officer] = {}
    for role in Role:
        narrow = DEFAULT_SCOPE[role] is ScopeLevel.SQUAD
        found[role.value] = factories.officer(
            session, "510184", f"m-{role.value}", [role], unit=f.squad if narrow else f.bureau
        )
    found["officer@other"] = factories.officer(
        session, "510184", "m-other", [Role.OFFICER], unit=f.other_squad
    )
    session.commit()
    return found


@pytest.mark.parametrize("key", sorted(ACCESS), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_answers_each_role_as_expected(
    key: tuple[str, str], client: TestClient, session: Session, world: World
) -> None:
    call, counter = ACCESS[key], itertools.count(1)
    target = _target(session, world)
    headers = {n: factories.bearer(session, o) for n, o in _actors(session, world).items()}
    session.commit()
    failures = []
    for actor in ACTORS:
        want = expected(key, actor)
        if key == ("GET", "/command/stream") and want == 200:
            continue  # a stream that stays open: tested against a live server
        n = next(counter)
        response = client.request(
            key[0],
            call.path(target),
            json=call.json(n) if call.json else None,
            data=call.data(n) if call.data else None,
            files={"file": ("s.xlsx", _xlsx())} if call.files else None,
            headers=headers[actor],
            follow_redirects=False,
        )
        if response.status_code != want:
            got = f"{response.status_code}: {response.text[:160]}"
            failures.append(f"{actor:16} want {want} got {got}")
    assert not failures, "\n".join(failures)
