"""The authorisation matrix for the account routes that reach other people's accounts: every role
and scope × a target officer in the actor's own squad, a sibling squad, or another district.

Routes about oneself only (``/me``, ``/me/password``, ``/auth/token``, one's own token list) are
covered in test_endpoints.py; here the question is only who may touch *someone else's* account.
The world and the actors are those of the organisation matrix.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.org.test_authorization_matrix import (
    ACTORS,
    UNIT_SCOPED_VISIBILITY,
    WHERE,
    World,
    world,  # noqa: F401 - the shared fixture
)
from zhifa.models.security import ApiToken
from zhifa.org.roles import Permission, ScopeLevel, permissions_for


@dataclass(frozen=True)
class Case:
    permission: Permission
    ok: int
    request: Callable[[World, str, Session], tuple[str, str, Any]]  # → method, path, body
    not_permitted: int = 403  # what an actor without the permission gets


def _token_of(w: World, where: str, session: Session) -> int:
    holder = w.officer(where)
    factories.bearer(session, holder)
    session.commit()
    stmt = select(ApiToken.id).where(ApiToken.officer_id == holder.id).order_by(ApiToken.id.desc())
    return int(session.scalars(stmt).first() or 0)


CASES: dict[str, Case] = {
    "list another's tokens": Case(
        Permission.TOKENS_MANAGE,
        200,
        lambda w, where, s: ("GET", f"/api/v1/tokens?officer_id={w.officer(where).id}", None),
    ),
    "create a token for another": Case(
        Permission.TOKENS_MANAGE,
        201,
        lambda w, where, s: (
            "POST",
            "/api/v1/tokens",
            {"name": "matrix", "officer_id": w.officer(where).id},
        ),
    ),
    "revoke another's token": Case(
        Permission.TOKENS_MANAGE,
        200,
        lambda w, where, s: ("DELETE", f"/api/v1/tokens/{_token_of(w, where, s)}", None),
        not_permitted=404,  # not one's own token: it does not exist for the actor
    ),
    "reset another's password": Case(
        Permission.ORG_MANAGE,
        204,
        lambda w, where, s: (
            "POST",
            f"/api/v1/officers/{w.officer(where).id}/password",
            {"new_password": "Matrix-Reset-2026"},
        ),
    ),
}


def expected(case: Case, actor: str, where: str) -> int:
    role, scope = ACTORS[actor]
    if case.permission not in permissions_for(frozenset({role})):
        return case.not_permitted
    visible = UNIT_SCOPED_VISIBILITY[scope][WHERE.index(where)]
    return case.ok if visible else 404


@pytest.mark.parametrize("name", sorted(CASES))
def test_reaching_another_account_answers_each_role_and_scope_as_expected(
    name: str,
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
) -> None:
    case = CASES[name]
    headers = {n: factories.bearer(session, o) for n, o in world.home.actors.items()}
    session.commit()
    failures = []
    for actor, where in itertools.product(ACTORS, WHERE):
        method, path, body = case.request(world, where, session)
        response = client.request(method, path, json=body, headers=headers[actor])
        want = expected(case, actor, where)
        if response.status_code != want:
            failures.append(
                f"{actor:18} {where:8} want {want} got {response.status_code}: "
                f"{response.text[:160]}"
            )
    assert not failures, "\n".join(failures)


def test_city_scope_reaches_the_other_district_of_its_city() -> None:
    """A guard on the table itself: the city-scope admin is the only one who reaches 'foreign'."""
    reaching = {a for a in ACTORS if UNIT_SCOPED_VISIBILITY[ACTORS[a][1]][2]}
    assert reaching == {a for a, (_, s) in ACTORS.items() if s is ScopeLevel.CITY}
