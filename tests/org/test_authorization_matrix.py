"""The authorisation matrix: every /api/v1 route of the organisation module × every role (and the
scope variants) × where the target lies, with the expected status made explicit below.

World: two districts of one city, 510184 (HOME, where every actor works) and 510104 (OTHER). Each
has bureau → brigade 1 → squad 1 and bureau → brigade 2 → squad 2, an officer and a grid in each
squad, and a department. Squad- and brigade-scoped actors belong to HOME's squad 1 / brigade 1.

Targets ("where"):
    own      a row in HOME's squad 1 (inside every actor's scope)
    sibling  a row in HOME's squad 2 (same district, outside squad 1 and brigade 1)
    foreign  a row in OTHER (another district of the same city; for district creation: another city)

Routes are discovered from the app, so a new route without a line in ROUTES fails the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.org.helpers import HOME, OTHER, Side, build_side, officer, square
from zhifa.org.roles import Permission, Role, ScopeLevel, permissions_for

WHERE = ("own", "sibling", "foreign")
READ, MANAGE, DISTRICTS = Permission.ORG_READ, Permission.ORG_MANAGE, Permission.DISTRICTS_MANAGE

# actor name → (role, data scope). Admins come last: their writes (a move) must not change what
# the narrower actors see before those have been checked.
ACTORS: dict[str, tuple[Role, ScopeLevel]] = {
    "officer": (Role.OFFICER, ScopeLevel.SQUAD),
    "squad_leader": (Role.SQUAD_LEADER, ScopeLevel.SQUAD),
    "dispatcher": (Role.DISPATCHER, ScopeLevel.DISTRICT),
    "legal_reviewer": (Role.LEGAL_REVIEWER, ScopeLevel.DISTRICT),
    "leader": (Role.LEADER, ScopeLevel.DISTRICT),
    "leader@brigade": (Role.LEADER, ScopeLevel.BRIGADE),
    "catalog_admin": (Role.CATALOG_ADMIN, ScopeLevel.DISTRICT),
    "auditor": (Role.AUDITOR, ScopeLevel.DISTRICT),
    "system_admin": (Role.SYSTEM_ADMIN, ScopeLevel.DISTRICT),
    "system_admin@city": (Role.SYSTEM_ADMIN, ScopeLevel.CITY),
}

# Is a target visible to a scope?         own    sibling  foreign
UNIT_SCOPED_VISIBILITY = {  # units, officers, grids: narrowed to the squad / brigade subtree
    ScopeLevel.SQUAD: (True, False, False),
    ScopeLevel.BRIGADE: (True, False, False),
    ScopeLevel.DISTRICT: (True, True, False),
    ScopeLevel.CITY: (True, True, True),
}
DISTRICT_SCOPED_VISIBILITY = {  # districts, departments: whole districts only
    ScopeLevel.SQUAD: (True, True, False),
    ScopeLevel.BRIGADE: (True, True, False),
    ScopeLevel.DISTRICT: (True, True, False),
    ScopeLevel.CITY: (True, True, True),
}


@dataclass
class World:
    home: Side
    other: Side

    def side(self, where: str) -> Side:
        return self.other if where == "foreign" else self.home

    def squad(self, where: str):  # type: ignore[no-untyped-def]
        return self.home.squad2 if where == "sibling" else self.side(where).squad1

    def brigade(self, where: str):  # type: ignore[no-untyped-def]
        return self.home.brigade2 if where == "sibling" else self.side(where).brigade1

    def officer(self, where: str):  # type: ignore[no-untyped-def]
        return self.home.officer2 if where == "sibling" else self.side(where).officer1

    def grid(self, where: str):  # type: ignore[no-untyped-def]
        return self.home.grid2 if where == "sibling" else self.side(where).grid1


Target = Callable[[World, str], str]  # → the concrete path
Body = Callable[[World, str, int], Any]  # → JSON body (n makes codes unique)


@dataclass(frozen=True)
class Route:
    permission: Permission
    visibility: dict[ScopeLevel, tuple[bool, bool, bool]] | None  # None: a list, always 200
    ok: int
    path: Target
    body: Body | None = None
    listed: Callable[[World, str], set[Any]] | None = None  # ids a list shows per target
    key: str = "id"


def fixed(path: str) -> Target:
    return lambda w, where: path


def _new_district(w: World, where: str, n: int) -> dict[str, Any]:
    code = f"51011{n % 10}" if where != "foreign" else f"51068{n % 10}"  # 5101xx: same city
    return {"code": code, "name": f"新区{n}", "fictional": True}


def _grid_feature(w: World, where: str, n: int) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "code": f"I{n}",
                    "name": f"导入{n}",
                    "unit_code": w.squad(where).code,
                },
                "geometry": square(103.50, 30.50 + n * 0.02),
            }
        ],
    }


U, D = UNIT_SCOPED_VISIBILITY, DISTRICT_SCOPED_VISIBILITY
# (method, path template) → who may call it and on what.
ROUTES: dict[tuple[str, str], Route] = {
    # districts
    ("GET", "/api/v1/districts"): Route(
        READ,
        None,
        200,
        fixed("/api/v1/districts"),
        listed=lambda w, where: {w.side(where).code},
        key="code",
    ),
    ("POST", "/api/v1/districts"): Route(
        DISTRICTS, None, 201, fixed("/api/v1/districts"), body=_new_district
    ),
    ("GET", "/api/v1/districts/{code}"): Route(
        READ, D, 200, lambda w, where: f"/api/v1/districts/{w.side(where).code}"
    ),
    ("PATCH", "/api/v1/districts/{code}"): Route(
        DISTRICTS,
        D,
        200,
        lambda w, where: f"/api/v1/districts/{w.side(where).code}",
        body=lambda w, where, n: {"name": f"改名{n}"},
    ),
    # departments
    ("GET", "/api/v1/departments"): Route(
        READ,
        None,
        200,
        fixed("/api/v1/departments"),
        listed=lambda w, where: {w.side(where).department.id},
    ),
    ("POST", "/api/v1/departments"): Route(
        MANAGE,
        D,
        201,
        fixed("/api/v1/departments"),
        body=lambda w, where, n: {
            "district_code": w.side(where).code,
            "code": f"d{n}",
            "name": f"部门{n}",
        },
    ),
    ("GET", "/api/v1/departments/{department_id}"): Route(
        READ, D, 200, lambda w, where: f"/api/v1/departments/{w.side(where).department.id}"
    ),
    ("PATCH", "/api/v1/departments/{department_id}"): Route(
        MANAGE,
        D,
        200,
        lambda w, where: f"/api/v1/departments/{w.side(where).department.id}",
        body=lambda w, where, n: {"name": f"部门{n}"},
    ),
    ("POST", "/api/v1/departments/{department_id}/deactivate"): Route(
        MANAGE,
        D,
        200,
        lambda w, where: f"/api/v1/departments/{w.side(where).department.id}/deactivate",
    ),
    # units
    ("GET", "/api/v1/units"): Route(
        READ, None, 200, fixed("/api/v1/units"), listed=lambda w, where: {w.squad(where).id}
    ),
    ("POST", "/api/v1/units"): Route(
        MANAGE,
        U,
        201,
        fixed("/api/v1/units"),
        body=lambda w, where, n: {
            "kind": "squad",
            "code": f"N{n}",
            "name": f"新中队{n}",
            "parent_id": w.brigade(where).id,
        },
    ),
    ("GET", "/api/v1/units/{unit_id}"): Route(
        READ, U, 200, lambda w, where: f"/api/v1/units/{w.squad(where).id}"
    ),
    ("PATCH", "/api/v1/units/{unit_id}"): Route(
        MANAGE,
        U,
        200,
        lambda w, where: f"/api/v1/units/{w.squad(where).id}",
        body=lambda w, where, n: {"name": f"更名{n}"},
    ),
    ("POST", "/api/v1/units/{unit_id}/deactivate"): Route(
        MANAGE, U, 200, lambda w, where: f"/api/v1/units/{w.squad(where).id}/deactivate"
    ),
    ("POST", "/api/v1/units/{unit_id}/move"): Route(
        MANAGE,
        U,
        200,
        lambda w, where: f"/api/v1/units/{w.squad(where).id}/move",
        body=lambda w, where, n: {"parent_id": w.side(where).bureau.id},
    ),
    # officers
    ("GET", "/api/v1/officers"): Route(
        READ, None, 200, fixed("/api/v1/officers"), listed=lambda w, where: {w.officer(where).id}
    ),
    ("POST", "/api/v1/officers"): Route(
        MANAGE,
        U,
        201,
        fixed("/api/v1/officers"),
        body=lambda w, where, n: {
            "district_code": w.side(where).code,
            "username": f"new{n}",
            "name": f"新队员{n}",
            "password": "Matrix-Pass-2026",
            "roles": ["officer"],
            "unit_id": w.squad(where).id,
        },
    ),
    ("GET", "/api/v1/officers/{officer_id}"): Route(
        READ, U, 200, lambda w, where: f"/api/v1/officers/{w.officer(where).id}"
    ),
    ("PATCH", "/api/v1/officers/{officer_id}"): Route(
        MANAGE,
        U,
        200,
        lambda w, where: f"/api/v1/officers/{w.officer(where).id}",
        body=lambda w, where, n: {"phone": f"1380000{n:04d}"},
    ),
    # grids
    ("GET", "/api/v1/grids"): Route(
        READ, None, 200, fixed("/api/v1/grids"), listed=lambda w, where: {w.grid(where).id}
    ),
    ("POST", "/api/v1/grids"): Route(
        MANAGE,
        U,
        201,
        fixed("/api/v1/grids"),
        body=lambda w, where, n: {
            "code": f"N{n}",
            "name": f"新网格{n}",
            "unit_id": w.squad(where).id,
            "geometry": square(103.50, 30.50 + n * 0.02),
        },
    ),
    ("POST", "/api/v1/grids/import"): Route(
        MANAGE,
        U,
        201,
        lambda w, where: f"/api/v1/grids/import?district_code={w.side(where).code}",
        body=_grid_feature,
    ),
    ("GET", "/api/v1/grids/{grid_id}"): Route(
        READ, U, 200, lambda w, where: f"/api/v1/grids/{w.grid(where).id}"
    ),
    ("PATCH", "/api/v1/grids/{grid_id}"): Route(
        MANAGE,
        U,
        200,
        lambda w, where: f"/api/v1/grids/{w.grid(where).id}",
        body=lambda w, where, n: {"name": f"网格{n}"},
    ),
    ("POST", "/api/v1/grids/{grid_id}/deactivate"): Route(
        MANAGE, U, 200, lambda w, where: f"/api/v1/grids/{w.grid(where).id}/deactivate"
    ),
}


def expected(key: tuple[str, str], actor: str, where: str) -> int:
    """The status an actor must get: 403 without the permission; 404 outside the scope."""
    route = ROUTES[key]
    role, scope = ACTORS[actor]
    if route.permission not in permissions_for(frozenset({role})):
        return 403
    if key == ("POST", "/api/v1/districts"):
        # Only a city-scope account creates districts, and only inside its own city.
        return 201 if scope is ScopeLevel.CITY and where != "foreign" else 403
    if route.visibility is None:
        return route.ok
    return route.ok if route.visibility[scope][WHERE.index(where)] else 404


def org_api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every /api/v1 route the organisation module defines (accounts has its own tests)."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        path = getattr(route, "path", "")
        if (
            path.startswith("/api/v1/")
            and module.startswith("zhifa.org.")
            and (not module.startswith("zhifa.org.accounts"))
        ):
            found |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return found


@pytest.fixture
def world(session: Session) -> World:
    home, other = build_side(session, HOME, 103.60), build_side(session, OTHER, 104.05)
    for name, (role, scope) in ACTORS.items():
        unit = {ScopeLevel.SQUAD: home.squad1, ScopeLevel.BRIGADE: home.brigade1}.get(scope)
        home.actors[name] = officer(
            session, HOME, f"actor-{name}", [role], unit=unit, scope=str(scope)
        )
    session.commit()
    return World(home, other)


def test_every_org_api_route_is_in_the_matrix(app: FastAPI) -> None:
    assert org_api_routes(app) == set(ROUTES)


@pytest.mark.parametrize("key", sorted(ROUTES), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_answers_each_role_and_scope_as_expected(
    key: tuple[str, str], client: TestClient, session: Session, world: World
) -> None:
    route, counter = ROUTES[key], itertools.count(1)
    headers = {n: factories.bearer(session, o) for n, o in world.home.actors.items()}
    session.commit()
    failures = []
    for actor, where in itertools.product(ACTORS, WHERE):
        n = next(counter)
        body = route.body(world, where, n) if route.body else None
        response = client.request(
            key[0], route.path(world, where), json=body, headers=headers[actor]
        )
        want = expected(key, actor, where)
        if response.status_code != want:
            failures.append(
                f"{actor:18} {where:8} want {want} got {response.status_code}: "
                f"{response.text[:160]}"
            )
        elif want >= 400:
            assert set(response.json()["error"]) == {"code", "message", "detail"}
        elif route.listed is not None:
            failures += _leaks(route, world, actor, where, response.json())
    assert not failures, "\n".join(failures)


def _leaks(route: Route, world: World, actor: str, where: str, items: list[Any]) -> list[str]:
    """A list shows every row the actor's scope allows and no other."""
    visibility = U if route.key == "id" and route.permission is READ else D
    if route.listed is ROUTES[("GET", "/api/v1/departments")].listed or route.key == "code":
        visibility = D
    shown = {item[route.key] for item in items}
    wanted = route.listed(world, where) if route.listed else set()
    visible = visibility[ACTORS[actor][1]][WHERE.index(where)]
    if visible and not wanted <= shown:
        return [f"{actor:18} {where:8} list misses {wanted - shown}"]
    if not visible and wanted & shown:
        return [f"{actor:18} {where:8} LEAK: list shows {wanted & shown}"]
    return []
