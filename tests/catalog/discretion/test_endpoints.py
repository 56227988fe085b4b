"""``POST /api/v1/discretion/evaluate``: figures, citations and steps through the real app and
database, the bad input of issue 4 (each refused with ``detail.field`` naming the field), the
language of the explanation, authentication and district scoping."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.catalog.discretion import builders, examples
from tests.catalog.discretion.builders import OTHER, World
from zhifa.catalog.policy import PolicySpec
from zhifa.models.catalog import Power
from zhifa.models.ledger import LedgerEvent

URL = "/api/v1/discretion/evaluate"
CAFE = "CF-WH-031"


def cafe_world(session: Session) -> World:
    """The demo district with the café regulation and the 行政处罚法 loaded, the café power (its
    violated and penalty provisions cited) and its per-minor benchmark."""
    place = builders.world(session)
    cafe_law = builders.law(
        session,
        builders.CAFE_LAW,
        short_title="互联网上网服务营业场所管理条例",
        effective_on=date(2022, 3, 29),
    )
    builders.law(
        session, builders.PENALTY_LAW, short_title="行政处罚法", effective_on=date(2021, 7, 15)
    )
    citations = [
        {
            "role": "violated",
            "provision_id": builders.provision(session, cafe_law, 21).id,
            "paragraph": 1,
            "item": 0,
        },
        {
            "role": "penalty",
            "provision_id": builders.provision(session, cafe_law, 31).id,
            "paragraph": 1,
            "item": 2,
        },
    ]
    power = builders.power(
        session,
        place,
        CAFE,
        name="对互联网上网服务营业场所接纳未成年人进入的处罚",
        party_types=("organisation",),
        effective_from=date(2022, 5, 1),
        citations=citations,
    )
    builders.benchmark(session, power, examples.internet_cafe(), 1, date(2022, 5, 1))
    session.commit()
    return place


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "power_code": CAFE,
        "act_date": "2024-03-01",
        "decision_date": "2024-04-15",
        "discovered_on": "2024-03-02",
        "party_type": "organisation",
        "facts": {"minors": 6},
    }
    return data | changes


class TestEvaluate:
    def test_six_minors_give_the_clamped_fine_with_citations_and_chinese_steps(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        response = client.post(URL, json=body(), headers=place.headers)

        assert response.status_code == 200, response.text
        data = response.json()
        assert data["decision"] == "penalty"
        assert data["level"] == "ordinary"
        assert data["recommended_fen"] == 1_500_000
        assert data["recommended_yuan"] == "15000.00"
        assert data["statutory_range"] == {
            "min_fen": 0,
            "max_fen": 1_500_000,
            "min_yuan": "0.00",
            "max_yuan": "15000.00",
        }
        assert data["power"]["code"] == CAFE
        assert data["policy_version"] == "default"
        assert data["applied_version"] == "act_date"
        assert [m["label"] for m in data["measures"]] == ["警告", "责令改正"]
        penalty = next(c for c in data["citations"] if c["role"] == "penalty")
        assert penalty["label"] == "《互联网上网服务营业场所管理条例》第三十一条第一款第（二）项"
        assert penalty["text"] == "（二）接纳未成年人进入营业场所的；"
        rules = {c["article"]: c for c in data["citations"] if c["role"] == "rule"}
        assert rules[37]["label"] == "《中华人民共和国行政处罚法》第三十七条"
        assert rules[37]["text"].startswith("实施行政处罚，适用违法行为发生时的法律")
        texts = [s["text"] for s in data["steps"]]
        assert "违法行为发生在2024年3月1日，适用当日有效的第1版权力事项、第1版裁量基准" in texts[1]
        assert "18,000元超过法定最高额15,000元，按15,000元计。" in texts

    def test_evaluating_writes_nothing_to_the_ledger(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        before = session.scalar(select(func.count(LedgerEvent.seq)))
        assert client.post(URL, json=body(), headers=place.headers).status_code == 200
        session.expire_all()
        assert session.scalar(select(func.count(LedgerEvent.seq))) == before

    def test_the_explanation_follows_lang_and_accept_language(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        english = client.post(URL + "?lang=en", json=body(), headers=place.headers).json()
        assert english["steps"][-1]["text"].startswith("Legal basis:")
        header = place.headers | {"Accept-Language": "en-GB,en;q=0.8"}
        assert client.post(URL, json=body(), headers=header).json()["level_label"] == "Ordinary"
        assert client.post(URL, json=body(), headers=place.headers).json()["level_label"] == "一般"

    def test_a_chosen_amount_outside_the_tier_is_flagged_for_review(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        payload = body(facts={"minors": 2}, chosen_fen=900_000, reason="接纳时间长，影响恶劣")
        data = client.post(URL, json=payload, headers=place.headers).json()

        assert data["recommended_fen"] == 600_000
        assert data["chosen"]["deviation"] == "outside_tier"
        assert data["chosen"]["chosen_yuan"] == "9000.00"
        assert data["needs_legal_review"] is True
        assert [r["code"] for r in data["review_reasons"]] == ["outside_tier"]


class TestVersions:
    def test_a_lighter_benchmark_recorded_later_applies_to_an_earlier_act(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        power = session.scalar(select(Power).where(Power.code == CAFE))
        assert power is not None
        builders.benchmark(session, power, examples.internet_cafe_at(2000), 2, date(2024, 4, 1))
        session.commit()

        # act 2024-03-01 under v1 (3,000/minor → 2 × 3,000 = 6,000 yuan); decided 2024-04-15
        # under v2 (2,000/minor → 4,000 yuan): lighter, so v2 applies.
        data = client.post(URL, json=body(facts={"minors": 2}), headers=place.headers).json()
        assert data["applied_version"] == "lighter_later"
        assert data["benchmark"]["version"] == 2
        assert data["recommended_fen"] == 400_000
        assert [a["recommended_fen"] for a in data["alternatives"]] == [600_000, 400_000]

    def test_a_benchmark_recorded_for_after_the_decision_date_is_not_used(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        power = session.scalar(select(Power).where(Power.code == CAFE))
        assert power is not None
        builders.benchmark(session, power, examples.internet_cafe_at(2000), 2, date(2024, 5, 1))
        session.commit()

        data = client.post(URL, json=body(facts={"minors": 2}), headers=place.headers).json()
        assert data["benchmark"]["version"] == 1
        assert len(data["alternatives"]) == 1
        assert data["recommended_fen"] == 600_000

    def test_the_district_policy_in_force_is_used(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        builders.policy(session, place, PolicySpec(round_to_yuan=False), 1, date(2023, 1, 1))
        session.commit()
        data = client.post(URL, json=body(), headers=place.headers).json()
        assert data["policy_version"] == 1


class TestBadInput:
    def post(self, client: TestClient, place: World, **changes: Any) -> tuple[int, Any]:
        response = client.post(URL, json=body(**changes), headers=place.headers)
        return response.status_code, response.json()["error"]

    def test_an_unknown_power_is_404_naming_it(self, client: TestClient, session: Session) -> None:
        place = cafe_world(session)
        status, error = self.post(client, place, power_code="CF-NONE-999")
        assert status == 404
        assert error["detail"] == {"field": "power_code", "code": "CF-NONE-999"}
        assert "CF-NONE-999" in error["message"]

    def test_an_unknown_concurrent_power_is_404_naming_the_field(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        status, error = self.post(client, place, concurrent_power_codes=["CF-NONE-1"])
        assert status == 404
        assert error["detail"]["field"] == "concurrent_power_codes"

    def test_an_act_date_before_any_version_is_422(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        status, error = self.post(client, place, act_date="2022-04-30", discovered_on=None)
        assert status == 422
        assert error["detail"]["field"] == "act_date"
        assert "2022-04-30" in error["message"]

    @pytest.mark.parametrize(
        ("facts", "field"),
        [
            ({"minors": -1}, "facts.minors"),
            ({"minors": 2.5}, "facts.minors"),
            ({"minors": "6"}, "facts.minors"),
            ({}, "facts.minors"),
            ({"minors": 6, "children": 1}, "facts.children"),
        ],
        ids=["negative", "not-whole", "a-string", "missing", "unknown"],
    )
    def test_bad_facts_are_422_naming_the_fact(
        self, client: TestClient, session: Session, facts: dict[str, Any], field: str
    ) -> None:
        place = cafe_world(session)
        status, error = self.post(client, place, facts=facts)
        assert status == 422
        assert error["detail"]["field"] == field

    def test_an_unknown_circumstance_is_422(self, client: TestClient, session: Session) -> None:
        place = cafe_world(session)
        status, error = self.post(client, place, circumstances=["bribed_the_officer"])
        assert status == 422
        assert error["detail"]["field"] == "circumstances"
        assert "bribed_the_officer" in error["message"]

    def test_contradicting_circumstances_are_422(
        self, client: TestClient, session: Session
    ) -> None:
        place = cafe_world(session)
        status, error = self.post(client, place, circumstances=["no_harm", "harm_caused"])
        assert status == 422
        assert error["detail"]["field"] == "circumstances"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"chosen_fen": -100, "reason": "x"}, "chosen_fen"),
            ({"chosen_fen": 1500.5, "reason": "x"}, "chosen_fen"),
            ({"chosen_fen": 1_600_000, "reason": "x"}, "chosen_fen"),
            ({"chosen_fen": 1_400_000}, "reason"),
            ({"party_type": "person"}, "party_type"),
            ({"party_type": "alien"}, "party_type"),
            ({"decision_date": "2024-02-01"}, "act_date"),
            ({"discovered_on": "2024-02-01"}, "discovered_on"),
            ({"mitigation": "reduced"}, "mitigation"),
        ],
    )
    def test_other_bad_fields_are_422_naming_them(
        self, client: TestClient, session: Session, changes: dict[str, Any], field: str
    ) -> None:
        place = cafe_world(session)
        status, error = self.post(client, place, **changes)
        assert status == 422
        assert error["detail"]["field"] == field

    def test_a_power_without_a_benchmark_is_409(self, client: TestClient, session: Session) -> None:
        place = cafe_world(session)
        builders.power(session, place, "CF-WH-099", party_types=("organisation",))
        session.commit()
        status, error = self.post(client, place, power_code="CF-WH-099")
        assert status == 409
        assert error["detail"]["field"] == "power_code"

    def test_the_refusal_is_translated(self, client: TestClient, session: Session) -> None:
        place = cafe_world(session)
        _, error = self.post(client, place, facts={})
        assert error["message"] == "计算CF-WH-031的罚款需要事实项“minors”，但未填写。"


class TestAccess:
    def test_without_credentials_it_is_401(self, client: TestClient, session: Session) -> None:
        cafe_world(session)
        assert client.post(URL, json=body()).status_code == 401

    def test_another_districts_power_is_not_found(
        self, client: TestClient, session: Session
    ) -> None:
        cafe_world(session)
        other = builders.world(session, OTHER)
        session.commit()
        response = client.post(URL, json=body(), headers=other.headers)
        assert response.status_code == 404
        assert response.json()["error"]["detail"]["field"] == "power_code"
