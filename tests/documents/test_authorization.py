"""Every route of the documents domain × who asks: anonymous, every role, and a token narrowed to
no documents permission. Issue and numbering need inspections:inspect, returning a block also
inspections:manage, reading inspections:read, the numbering rule documents:configure; the verify
page and its JSON are public.

Routes are discovered from the app, so a new documents route without a line in ACCESS fails."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from tests import factories
from tests.documents.helpers import submitted_world
from zhifa.db import Database
from zhifa.org.roles import ROLE_PERMISSIONS, Permission, Role

PUBLIC = "public"
INSPECT, READ, CONFIGURE = (
    Permission.INSPECT,
    Permission.INSPECTIONS_READ,
    Permission.DOCUMENTS_CONFIGURE,
)
MANAGE = Permission.TASKS_MANAGE
ACCESS: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/number-blocks"): {INSPECT},
    ("GET", "/api/v1/number-blocks/mine"): {INSPECT},
    ("POST", "/api/v1/number-blocks/{block_id}/return"): {INSPECT, MANAGE},
    ("GET", "/api/v1/documents/settings"): {CONFIGURE},
    ("PUT", "/api/v1/documents/settings"): {CONFIGURE},
    ("GET", "/api/v1/documents/numbers"): {READ},
    ("POST", "/api/v1/documents"): {INSPECT},
    ("GET", "/api/v1/documents"): {READ},
    ("GET", "/api/v1/documents/{document_id}"): {READ},
    ("GET", "/api/v1/documents/{document_id}/pdf"): {READ},
    ("GET", "/documents"): {READ},
    ("GET", "/documents/numbers"): {READ},
    ("GET", "/documents/settings"): {CONFIGURE},
    ("POST", "/documents/settings"): {CONFIGURE},
    ("GET", "/documents/{document_id}"): {READ},
    ("GET", "/documents/{document_id}/signatures/{signature_id}.png"): {READ},
    ("GET", "/verify/{public_id}"): PUBLIC,
    ("POST", "/verify/{public_id}"): PUBLIC,
    ("GET", "/api/v1/verify/{public_id}"): PUBLIC,
}


def document_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        if module.startswith("zhifa.documents"):
            path = getattr(route, "path", "")
            found |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return found


def test_every_documents_route_has_an_expected_access(app: FastAPI) -> None:
    assert document_routes(app) == set(ACCESS)


def call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> int:
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if method == "GET":
        return client.get(url, **kwargs).status_code
    if method == "PUT":
        return client.put(url, json={}, **kwargs).status_code
    if url.startswith("/api/"):
        return client.post(url, json={}, **kwargs).status_code
    return client.post(url, data={}, **kwargs).status_code


@pytest.fixture
def tokens(db: Database) -> dict[str, dict[str, str]]:
    with db.unit_of_work() as session:
        submitted_world(session)
        found = {}
        for role in Role:
            row = factories.officer(session, "510184", f"m-{role.value}", [role])
            found[role.value] = factories.bearer(session, row)
        narrow = factories.officer(session, "510184", "m-narrow", [Role.SQUAD_LEADER])
        found["narrow"] = factories.bearer(session, narrow, [Permission.ORG_READ])
    return found


def may(who: str, needed: set[Permission]) -> bool:
    if who == "narrow":
        return False
    return bool(ROLE_PERMISSIONS[Role(who)] & needed)


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_who_may_call_each_route(
    client: TestClient, tokens: dict[str, dict[str, str]], method: str, path: str
) -> None:
    access = ACCESS[(method, path)]
    url = path.format(document_id=999, block_id=999, signature_id=999, public_id="AAAAAAAAAAAA")
    anonymous = call(client, method, url, {})
    if access == PUBLIC:
        assert anonymous not in (401, 403), f"anonymous {method} {url}: {anonymous}"
        return
    assert anonymous in (401, 303), f"anonymous {method} {url}: {anonymous}"
    for who, headers in tokens.items():
        status = call(client, method, url, headers)
        if may(who, access):
            assert status not in (401, 403), f"{who} {method} {url}: {status}"
        else:
            assert status == 403, f"{who} {method} {url}: {status}"
