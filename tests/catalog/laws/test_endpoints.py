"""JSON API of the legal library: list, search, get, history, revisions; 401/403/404/422."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.catalog.laws.helpers import (
    AIR,
    HOME,
    SHORT,
    TITLE,
    catalog_admin,
    events,
    import_sample,
    import_small,
)
from zhifa.models.catalog import Provision
from zhifa.org.roles import Role


class World:
    def __init__(self, session: Session) -> None:
        admin, _ = catalog_admin(session)
        member = factories.officer(session, HOME, "member", [Role.OFFICER])
        self.small = import_small(session).document
        self.other = import_small(session, title="一部测试法").document
        self.air = import_sample(session, AIR).document
        self.admin = factories.bearer(session, admin)
        self.member = factories.bearer(session, member)
        self.admin_id = admin.id
        session.commit()


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def first_provision(client: TestClient, world: World, document_id: int) -> dict[str, Any]:
    body = client.get(f"/api/v1/laws/{document_id}", headers=world.member).json()
    provision: dict[str, Any] = body["provisions"][0]
    return provision


class TestListLaws:
    def test_every_document_is_listed_with_the_total(
        self, client: TestClient, world: World
    ) -> None:
        response = client.get("/api/v1/laws", headers=world.member)
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == 3
        titles = {item["title"] for item in body["items"]}
        assert titles == {TITLE, "一部测试法", "中华人民共和国大气污染防治法"}

    def test_every_term_must_appear_and_an_exact_title_comes_first(
        self, client: TestClient, world: World
    ) -> None:
        body = client.get("/api/v1/laws", params={"q": SHORT}, headers=world.member).json()
        assert [item["title"] for item in body["items"]] == [TITLE, "一部测试法"]
        both = client.get("/api/v1/laws", params={"q": "测试 中华"}, headers=world.member).json()
        assert (both["total"], both["items"][0]["id"]) == (1, world.small.id)

    def test_a_document_reads_with_its_kind_label_and_history(
        self, client: TestClient, world: World
    ) -> None:
        body = client.get("/api/v1/laws", params={"q": "大气"}, headers=world.member).json()
        (air,) = body["items"]
        assert (air["short_title"], air["kind"], air["revision_date"]) == (
            "大气污染防治法",
            "law",
            "2018-10-26",
        )
        assert air["kind_label"] == "Law"
        assert len(air["history"]) == 5

    def test_kind_and_paging_narrow_the_list_but_not_the_total(
        self, client: TestClient, world: World
    ) -> None:
        regs = client.get(
            "/api/v1/laws", params={"kind": "administrative_regulation"}, headers=world.member
        ).json()
        assert regs == {"items": [], "total": 0}
        page = client.get(
            "/api/v1/laws", params={"limit": 1, "offset": 1}, headers=world.member
        ).json()
        assert (len(page["items"]), page["total"]) == (1, 3)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"limit": 0}, "limit"),
            ({"limit": 201}, "limit"),
            ({"offset": -1}, "offset"),
            ({"kind": "statute"}, "kind"),
        ],
    )
    def test_bad_query_parameters_are_422_naming_the_field(
        self, client: TestClient, world: World, params: dict[str, Any], field: str
    ) -> None:
        response = client.get("/api/v1/laws", params=params, headers=world.member)
        assert response.status_code == 422
        assert [p["field"] for p in response.json()["error"]["detail"]] == [field]

    def test_without_credentials_it_is_401(self, client: TestClient, world: World) -> None:
        assert client.get("/api/v1/laws").status_code == 401


class TestGetLaw:
    def test_a_document_comes_with_its_articles_in_order(
        self, client: TestClient, world: World
    ) -> None:
        response = client.get(f"/api/v1/laws/{world.small.id}", headers=world.member)
        assert response.status_code == 200
        body = response.json()
        assert body["title"] == TITLE
        assert [p["label"] for p in body["provisions"]] == ["第一条", "第二条", "第三条", "第四条"]
        art2 = body["provisions"][1]
        assert art2["paragraphs"] == [
            "本法适用于测试。",
            "前款规定的测试包括：\n（一）单元测试；\n（二）集成测试。",
        ]
        assert art2["document_title"] == TITLE

    def test_the_latest_version_of_a_revised_article_is_shown(
        self, client: TestClient, world: World
    ) -> None:
        first = first_provision(client, world, world.small.id)
        body = {"text": "修正后的第一条。", "effective_on": "2021-01-01", "note": "修正"}
        client.post(f"/api/v1/provisions/{first['id']}/revisions", json=body, headers=world.admin)
        shown = first_provision(client, world, world.small.id)
        assert (shown["version"], shown["text"]) == (2, "修正后的第一条。")

    def test_an_unknown_document_is_404(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/laws/999999", headers=world.member)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestSearchProvisions:
    def test_articles_holding_every_term_are_found_with_their_document(
        self, client: TestClient, world: World
    ) -> None:
        response = client.get(
            "/api/v1/provisions", params={"q": "露天烧烤 没收"}, headers=world.member
        )
        body = response.json()
        assert [i["label"] for i in body["items"]] == ["第一百一十八条"]
        assert body["total"] == 1
        assert body["items"][0]["document_title"] == "中华人民共和国大气污染防治法"
        assert len(body["items"][0]["paragraphs"]) == 3

    def test_a_label_matches_and_document_id_narrows(
        self, client: TestClient, world: World
    ) -> None:
        params = {"q": "第一百一十八条", "document_id": world.air.id}
        body = client.get("/api/v1/provisions", params=params, headers=world.member).json()
        assert [i["article"] for i in body["items"]] == [118]
        none = client.get(
            "/api/v1/provisions",
            params={"q": "露天烧烤", "document_id": world.small.id},
            headers=world.member,
        ).json()
        assert none == {"items": [], "total": 0}

    def test_only_the_latest_versions_are_searched_and_latin_ignores_case(
        self, client: TestClient, world: World
    ) -> None:
        first = first_provision(client, world, world.small.id)
        body = {"text": "使用GPS定位，制定本法。", "effective_on": "2021-01-01", "note": "修正"}
        client.post(f"/api/v1/provisions/{first['id']}/revisions", json=body, headers=world.admin)
        found = client.get("/api/v1/provisions", params={"q": "gps"}, headers=world.member).json()
        assert [(i["label"], i["version"]) for i in found["items"]] == [("第一条", 2)]
        old = client.get(
            "/api/v1/provisions", params={"q": "为了测试"}, headers=world.member
        ).json()
        assert old["total"] == 1  # only 一部测试法's first article; 测试法's is superseded

    def test_paging_is_bounded(self, client: TestClient, world: World) -> None:
        page = client.get(
            "/api/v1/provisions", params={"limit": 5, "offset": 2}, headers=world.member
        ).json()
        assert (len(page["items"]), page["total"]) == (5, 4 + 4 + 129)
        assert (
            client.get(
                "/api/v1/provisions", params={"limit": 500}, headers=world.member
            ).status_code
            == 422
        )


class TestProvisionHistory:
    def test_a_provision_comes_with_its_document_and_every_version(
        self, client: TestClient, world: World
    ) -> None:
        first = first_provision(client, world, world.small.id)
        body = {"text": "第二版。", "effective_on": "2021-01-01", "note": "修正"}
        new = client.post(
            f"/api/v1/provisions/{first['id']}/revisions", json=body, headers=world.admin
        ).json()
        response = client.get(f"/api/v1/provisions/{first['id']}", headers=world.member)
        assert response.status_code == 200
        history = response.json()
        assert history["provision"]["id"] == first["id"]
        assert history["document"]["id"] == world.small.id
        assert [(v["id"], v["version"]) for v in history["versions"]] == [
            (first["id"], 1),
            (new["id"], 2),
        ]

    def test_an_unknown_provision_is_404(self, client: TestClient, world: World) -> None:
        assert client.get("/api/v1/provisions/999999", headers=world.member).status_code == 404


class TestReviseProvision:
    def test_a_catalog_admin_records_a_revision(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        first = first_provision(client, world, world.small.id)
        body = {"text": "第二版。", "effective_on": "2021-01-01", "note": "按修正案"}
        response = client.post(
            f"/api/v1/provisions/{first['id']}/revisions", json=body, headers=world.admin
        )
        assert response.status_code == 201
        new = response.json()
        assert (new["version"], new["supersedes_id"], new["note"]) == (2, first["id"], "按修正案")
        (event,) = events(session, "catalog.provision.revised")
        assert (event.subject_id, event.actor_id) == (str(new["id"]), world.admin_id)

    def test_an_officer_may_read_but_not_revise(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        first = first_provision(client, world, world.small.id)
        body = {"text": "第二版。", "effective_on": "2021-01-01", "note": "x"}
        response = client.post(
            f"/api/v1/provisions/{first['id']}/revisions", json=body, headers=world.member
        )
        assert response.status_code == 403
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(Provision)) == 4 + 4 + 129

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"text": "第二版。", "effective_on": "2021-01-01", "note": ""}, "note"),
            ({"text": "", "effective_on": "2021-01-01", "note": "x"}, "text"),
            ({"text": "第二版。", "effective_on": "2021-13-01", "note": "x"}, "effective_on"),
            ({"text": "第二版。", "note": "x"}, "effective_on"),
        ],
    )
    def test_a_malformed_body_is_422_naming_the_field(
        self, client: TestClient, world: World, body: dict[str, Any], field: str
    ) -> None:
        first = first_provision(client, world, world.small.id)
        response = client.post(
            f"/api/v1/provisions/{first['id']}/revisions", json=body, headers=world.admin
        )
        assert response.status_code == 422
        assert [p["field"] for p in response.json()["error"]["detail"]] == [field]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"text": "为了测试，制定本法。", "effective_on": "2021-01-01", "note": "x"}, "text"),
            ({"text": "第二版。", "effective_on": "2019-01-01", "note": "x"}, "effective_on"),
            ({"text": "第二版。", "effective_on": "2021-01-01", "note": "   "}, "note"),
        ],
    )
    def test_a_refused_revision_is_422_naming_the_field_in_chinese(
        self, client: TestClient, world: World, body: dict[str, Any], field: str
    ) -> None:
        first = first_provision(client, world, world.small.id)
        response = client.post(
            f"/api/v1/provisions/{first['id']}/revisions", json=body, headers=world.admin
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["detail"] == {"field": field}
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])

    def test_an_unknown_provision_is_404(self, client: TestClient, world: World) -> None:
        body = {"text": "第二版。", "effective_on": "2021-01-01", "note": "x"}
        response = client.post(
            "/api/v1/provisions/999999/revisions", json=body, headers=world.admin
        )
        assert response.status_code == 404
