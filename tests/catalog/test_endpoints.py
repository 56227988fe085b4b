"""The catalog's JSON API: read for every role, record versions as catalog admin, each district
sees its own catalog, bad input answers 422 naming the field and saves nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests import factories
from tests.catalog.helpers import CAFE, benchmark_in, cafe_power, per_minor_spec, world
from zhifa.catalog.checklists import subject_type_service
from zhifa.catalog.schemas import SubjectTypeIn
from zhifa.catalog.service import benchmark_service, power_service
from zhifa.db import Database
from zhifa.models.catalog import PowerVersion
from zhifa.org.roles import Role

CODE = "CF-WH-001"


@pytest.fixture
def api(db: Database, client: TestClient) -> dict[str, dict[str, str]]:
    """A district with the café power and its benchmark; tokens for an officer and an admin."""
    with db.unit_of_work() as session:
        author = world(session, "510184", CAFE)
        power_service.put(session, author, code=CODE, data=cafe_power())
        benchmark_service.put(
            session,
            author,
            code=CODE,
            data=benchmark_in(per_minor_spec(), date(2022, 5, 1)),
        )
        subject_type_service.ensure(
            session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
        )
        world(session, "510104", CAFE)
        tokens = {}
        for name, district, role in (
            ("officer", "510184", Role.OFFICER),
            ("admin", "510184", Role.CATALOG_ADMIN),
            ("other", "510104", Role.CATALOG_ADMIN),
        ):
            row = factories.officer(session, district, name, [role])
            tokens[name] = factories.bearer(session, row)
    return tokens


def power_body(**changes: Any) -> dict[str, Any]:
    return cafe_power().model_dump(mode="json") | changes


class TestReading:
    def test_the_power_list_is_searchable(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        found = client.get("/api/v1/powers?q=未成年人 网吧", headers=api["officer"])
        assert found.status_code == 200
        assert found.json()["total"] == 0  # "网吧" is not in the name: every word must match
        found = client.get("/api/v1/powers?q=未成年人 处罚", headers=api["officer"])
        body = found.json()
        assert body["total"] == 1
        assert body["items"][0]["code"] == CODE
        assert body["items"][0]["has_benchmark"] is True

    def test_a_power_shows_its_legal_texts_and_benchmark(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        body = client.get(f"/api/v1/powers/{CODE}", headers=api["officer"]).json()
        assert body["current"]["name"] == cafe_power().name
        assert any("接纳未成年人" in c["text"] for c in body["citations"])
        assert body["benchmark"]["spec"]["statutory"]["organisation"]["max_fen"] == 1_500_000

    def test_an_unknown_power_is_404(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        answer = client.get("/api/v1/powers/NOPE", headers=api["officer"])
        assert answer.status_code == 404

    def test_another_districts_catalog_is_not_visible(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        assert client.get(f"/api/v1/powers/{CODE}", headers=api["other"]).status_code == 404
        assert client.get("/api/v1/powers", headers=api["other"]).json()["total"] == 0

    def test_without_a_login_the_api_answers_401(self, client: TestClient, api: Any) -> None:
        assert client.get("/api/v1/powers").status_code == 401

    def test_the_policy_defaults_are_served(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        body = client.get("/api/v1/discretion/policy", headers=api["officer"]).json()
        assert body["version"] is None
        assert body["spec"]["simple_procedure_organisation_yuan"] == 3000


class TestWriting:
    def test_an_officer_cannot_record_a_version(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        body = power_body(code="CF-WH-002")
        answer = client.post("/api/v1/powers", json=body, headers=api["officer"])
        assert answer.status_code == 403

    def test_the_admin_creates_a_power_and_a_repeat_changes_nothing(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        body = power_body(code="CF-WH-002")
        created = client.post("/api/v1/powers", json=body, headers=api["admin"])
        assert created.status_code == 201
        assert created.json() | {"effective_from": None} == {
            "code": "CF-WH-002",
            "version": 1,
            "effective_from": None,
            "created": True,
        }
        again = client.post(
            "/api/v1/powers/CF-WH-002/versions",
            json=power_body(),
            headers=api["admin"],
        )
        assert again.status_code == 200
        assert again.json()["created"] is False

    def test_creating_an_existing_code_is_a_conflict(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        answer = client.post("/api/v1/powers", json=power_body(code=CODE), headers=api["admin"])
        assert answer.status_code == 409

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"kind": "bribery"}, "kind"),
            ({"party_types": []}, "party_types"),
            ({"effective_from": "2022-13-01"}, "effective_from"),
            ({"penalty": "《互联网上网服务营业场所管理条例》第九十九条"}, "penalty"),
            ({"penalty": "第三十一条，随便写"}, "penalty"),
            ({"department": "公安"}, "department"),
            ({"responsibility": {"act_within_days": -3}}, "responsibility"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(
        self,
        client: TestClient,
        api: dict[str, dict[str, str]],
        db: Database,
        changes: dict[str, Any],
        field: str,
    ) -> None:
        answer = client.post(
            "/api/v1/powers", json=power_body(code="CF-BAD", **changes), headers=api["admin"]
        )
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert field in str(error["detail"])
        with db.sessionmaker() as session:
            assert session.scalar(select(func.count()).select_from(PowerVersion)) == 1

    def test_a_benchmark_leaving_the_statutory_range_is_refused(
        self, client: TestClient, api: dict[str, dict[str, str]], db: Database
    ) -> None:
        spec = per_minor_spec().model_dump(mode="json")
        spec["tiers"][0]["organisation"] = {"kind": "fixed", "min_fen": 0, "max_fen": 2_000_000}
        answer = client.post(
            f"/api/v1/powers/{CODE}/benchmark",
            json={"spec": spec, "effective_from": "2025-01-01", "note": "试"},
            headers=api["admin"],
        )
        assert answer.status_code == 422
        assert "statutory range" in answer.text or "法定" in answer.text

    def test_a_new_benchmark_version_is_listed_beside_the_old(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        spec = per_minor_spec(2000).model_dump(mode="json")
        answer = client.post(
            f"/api/v1/powers/{CODE}/benchmark",
            json={"spec": spec, "effective_from": "2025-01-01", "note": "下调"},
            headers=api["admin"],
        )
        assert answer.status_code == 201
        versions = client.get(f"/api/v1/powers/{CODE}/benchmark", headers=api["officer"]).json()
        assert [(v["version"], v["note"]) for v in versions] == [(1, ""), (2, "下调")]


class TestChecklistsApi:
    def test_check_items_and_checklists_round_trip_through_the_api(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        item = {
            "code": "JCX-WH-001",
            "text": "是否接纳未成年人",
            "department": "wenhua",
            "power_codes": [CODE],
            "evidence": ["photo", "video"],
            "effective_from": "2024-01-01",
        }
        assert (
            client.post("/api/v1/check-items", json=item, headers=api["admin"]).status_code == 201
        )
        template = {
            "code": "QD-WB",
            "name": "网吧检查清单",
            "subject_type": "internet_cafe",
            "item_codes": ["JCX-WH-001"],
            "effective_from": "2024-01-01",
        }
        created = client.post("/api/v1/checklists", json=template, headers=api["admin"])
        assert created.status_code == 201
        merged = client.get(
            "/api/v1/checklists/for-subject-type/internet_cafe", headers=api["officer"]
        ).json()
        assert [i["code"] for i in merged["items"]] == ["JCX-WH-001"]
        assert merged["items"][0]["powers"][0]["citations"][1]["label"].endswith("第（二）项")
        one = client.get("/api/v1/checklists/QD-WB", headers=api["officer"]).json()
        assert one["item_codes"] == ["JCX-WH-001"]

    def test_unknown_evidence_kind_is_refused(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        item = {
            "code": "JCX-1",
            "text": "问",
            "department": "wenhua",
            "evidence": ["smell"],
            "effective_from": "2024-01-01",
        }
        answer = client.post("/api/v1/check-items", json=item, headers=api["admin"])
        assert answer.status_code == 422


class TestEditingABenchmarkKeepsOldActsOnTheOldRule:
    def evaluate(self, client: TestClient, headers: dict[str, str], act: str) -> dict[str, Any]:
        body = {
            "power_code": CODE,
            "act_date": act,
            "decision_date": "2025-06-01",
            "party_type": "organisation",
            "facts": {"minors": 2},
        }
        answer = client.post("/api/v1/discretion/evaluate", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def record(self, client: TestClient, headers: dict[str, str], per_minor: int) -> None:
        spec = per_minor_spec(per_minor).model_dump(mode="json")
        body = {"spec": spec, "effective_from": "2025-01-01", "note": f"每名{per_minor}元"}
        answer = client.post(f"/api/v1/powers/{CODE}/benchmark", json=body, headers=headers)
        assert answer.status_code == 201, answer.text

    def test_a_heavier_new_version_applies_only_to_acts_after_its_date(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        self.record(client, api["admin"], 4000)
        old = self.evaluate(client, api["officer"], "2024-06-01")
        assert (old["recommended_fen"], old["applied_version"]) == (600_000, "act_date")
        assert old["benchmark"]["version"] == 1
        new = self.evaluate(client, api["officer"], "2025-02-01")
        assert (new["recommended_fen"], new["benchmark"]["version"]) == (800_000, 2)

    def test_a_lighter_new_version_also_applies_to_earlier_acts_decided_later(
        self, client: TestClient, api: dict[str, dict[str, str]]
    ) -> None:
        self.record(client, api["admin"], 2000)
        old = self.evaluate(client, api["officer"], "2024-06-01")
        assert (old["recommended_fen"], old["applied_version"]) == (400_000, "lighter_later")
        assert [a["recommended_fen"] for a in old["alternatives"]] == [600_000, 400_000]
