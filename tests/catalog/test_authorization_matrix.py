"""Every route of the catalog (API and pages) × who asks: anonymous, every role, and a token
narrowed to no catalog permission. Reading needs catalog:read (every role holds it), recording
versions needs catalog:manage (catalog admins), the published benchmarks are public.

Routes are discovered from the app, so a new catalog route without a line in ACCESS fails."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from tests import factories
from tests.catalog.helpers import (
    CAFE,
    benchmark_in,
    cafe_power,
    check_item,
    checklist,
    per_minor_spec,
    world,
)
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.schemas import SubjectTypeIn
from zhifa.catalog.service import benchmark_service, power_service
from zhifa.db import Database
from zhifa.models.catalog import Provision
from zhifa.org.roles import Permission, Role

PUBLIC, READ, MANAGE = "public", "read", "manage"
ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/powers"): READ,
    ("POST", "/api/v1/powers"): MANAGE,
    ("GET", "/api/v1/powers/{code}"): READ,
    ("POST", "/api/v1/powers/{code}/versions"): MANAGE,
    ("GET", "/api/v1/benchmarks"): READ,
    ("GET", "/api/v1/powers/{code}/benchmark"): READ,
    ("POST", "/api/v1/powers/{code}/benchmark"): MANAGE,
    ("GET", "/api/v1/subject-types"): READ,
    ("POST", "/api/v1/subject-types"): MANAGE,
    ("GET", "/api/v1/check-items"): READ,
    ("POST", "/api/v1/check-items"): MANAGE,
    ("GET", "/api/v1/checklists"): READ,
    ("GET", "/api/v1/checklists/for-subject-type/{subject_type}"): READ,
    ("GET", "/api/v1/checklists/{code}"): READ,
    ("POST", "/api/v1/checklists"): MANAGE,
    ("GET", "/api/v1/discretion/policy"): READ,
    ("POST", "/api/v1/discretion/policy"): MANAGE,
    ("POST", "/api/v1/catalog/import"): MANAGE,
    ("GET", "/api/v1/catalog/export"): READ,
    ("POST", "/api/v1/discretion/evaluate"): READ,
    ("GET", "/api/v1/laws"): READ,
    ("GET", "/api/v1/laws/{document_id}"): READ,
    ("GET", "/api/v1/provisions"): READ,
    ("GET", "/api/v1/provisions/{provision_id}"): READ,
    ("POST", "/api/v1/provisions/{provision_id}/revisions"): MANAGE,
    ("GET", "/catalog/powers/new"): MANAGE,
    ("POST", "/catalog/powers"): MANAGE,
    ("GET", "/catalog/powers/{code}/edit"): MANAGE,
    ("POST", "/catalog/powers/{code}/edit"): MANAGE,
    ("GET", "/catalog/powers/{code}/benchmark/edit"): MANAGE,
    ("POST", "/catalog/powers/{code}/benchmark/edit"): MANAGE,
    ("GET", "/catalog/check-items/new"): MANAGE,
    ("POST", "/catalog/check-items"): MANAGE,
    ("GET", "/catalog/check-items/{code}/edit"): MANAGE,
    ("POST", "/catalog/check-items/{code}/edit"): MANAGE,
    ("GET", "/catalog/checklists/new"): MANAGE,
    ("POST", "/catalog/checklists"): MANAGE,
    ("GET", "/catalog/checklists/{code}/edit"): MANAGE,
    ("POST", "/catalog/checklists/{code}/edit"): MANAGE,
    ("POST", "/catalog/subject-types"): MANAGE,
    ("GET", "/catalog/import"): MANAGE,
    ("POST", "/catalog/import"): MANAGE,
    ("GET", "/catalog/export.xlsx"): READ,
    ("GET", "/catalog/calculator"): READ,
    ("POST", "/catalog/calculator"): READ,
    ("GET", "/catalog"): READ,
    ("GET", "/catalog/powers/{code}"): READ,
    ("GET", "/catalog/laws"): READ,
    ("GET", "/catalog/laws/{document_id}"): READ,
    ("GET", "/catalog/check-items"): READ,
    ("GET", "/catalog/checklists"): READ,
    ("GET", "/catalog/checklists/{code}"): READ,
    ("GET", "/catalog/subject-types/{code}"): READ,
    ("GET", "/public/benchmarks/{district_code}"): PUBLIC,
}


def catalog_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        if module.startswith("zhifa.catalog"):
            path = getattr(route, "path", "")
            found |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return found


def test_every_catalog_route_has_an_expected_access(app: FastAPI) -> None:
    assert catalog_routes(app) == set(ACCESS)


@pytest.fixture
def world_ids(db: Database) -> dict[str, str]:
    with db.unit_of_work() as session:
        author = world(session, "510184", CAFE)
        power_service.put(session, author, code="CF-WH-001", data=cafe_power())
        benchmark_service.put(
            session,
            author,
            code="CF-WH-001",
            data=benchmark_in(per_minor_spec(), date(2022, 5, 1)),
        )
        subject_type_service.ensure(
            session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
        )
        check_item_service.put(
            session, author, code="JCX-WH-001", data=check_item("问", "wenhua", "CF-WH-001")
        )
        checklist_service.put(
            session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-WH-001")
        )
        provision = session.query(Provision).first()
        assert provision is not None
        document_id, provision_id = provision.document_id, provision.id
    return {
        "code": "CF-WH-001",
        "subject_type": "internet_cafe",
        "document_id": str(document_id),
        "provision_id": str(provision_id),
        "district_code": "510184",
    }


PATH_VALUES = {
    "/catalog/check-items/{code}/edit": "JCX-WH-001",
    "/api/v1/checklists/{code}": "QD-WB",
}


def url_of(path: str, ids: dict[str, str]) -> str:
    values = dict(ids)
    if path in PATH_VALUES:
        values["code"] = PATH_VALUES[path]
    if path.startswith(("/catalog/checklists/{code}",)):
        values["code"] = "QD-WB"
    if path == "/catalog/subject-types/{code}":
        values["code"] = "internet_cafe"
    return path.format(**values)


def call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> int:
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False).status_code
    if url.startswith("/api/"):
        return client.post(url, json={}, headers=headers, follow_redirects=False).status_code
    return client.post(url, data={}, headers=headers, follow_redirects=False).status_code


@pytest.fixture
def tokens(db: Database, world_ids: dict[str, str]) -> dict[str, dict[str, str]]:
    with db.unit_of_work() as session:
        found = {}
        for role in Role:
            row = factories.officer(session, "510184", f"m-{role.value}", [role])
            found[role.value] = factories.bearer(session, row)
        narrow = factories.officer(session, "510184", "m-narrow", [Role.CATALOG_ADMIN])
        found["no-catalog-scope"] = factories.bearer(session, narrow, [Permission.ORG_READ])
    return found


ROUTES = sorted(ACCESS)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_who_may_call_each_route(
    client: TestClient,
    tokens: dict[str, dict[str, str]],
    world_ids: dict[str, str],
    method: str,
    path: str,
) -> None:
    access = ACCESS[(method, path)]
    url = url_of(path, world_ids)
    anonymous = call(client, method, url, {})
    if access == PUBLIC:
        assert anonymous == 200
        return
    assert anonymous in (401, 303), f"anonymous {method} {url}: {anonymous}"
    for who, headers in tokens.items():
        status = call(client, method, url, headers)
        allowed = who != "no-catalog-scope" and (access == READ or who == Role.CATALOG_ADMIN.value)
        if allowed:
            assert status not in (401, 403), f"{who} {method} {url}: {status}"
        else:
            assert status == 403, f"{who} {method} {url}: {status}"
