"""The 当场行政处罚决定书 says what art. 52 requires: the act, the kind and basis of the penalty,
the amount in figures and capitals, time, place, payment, remedies, the agency, the officers and
the filing note; amendments of the inspection are what it prints."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.documents.helpers import DocWorld, body, submitted_world
from zhifa.documents.compose import mask_id, mask_name
from zhifa.models.documents import Document
from zhifa.models.inspections import InspectionAmendment, InspectionAnswer


@pytest.fixture
def lead(session: Session, world: DocWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.field.officer)
    session.commit()
    return headers


def decide(
    client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
) -> dict[str, Any]:
    data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 1}
    serial = client.post("/api/v1/number-blocks", json=data, headers=lead).json()["first_serial"]
    answer = client.post(
        "/api/v1/documents", json=body(world, "on_spot_penalty", serial=serial), headers=lead
    )
    assert answer.status_code == 201, answer.json()
    fields: dict[str, Any] = session.get_one(Document, answer.json()["id"]).fields
    return fields


def world_with(session: Session, penalty: dict[str, Any]) -> tuple[DocWorld, dict[str, str]]:
    built = submitted_world(session, penalty=penalty)
    headers = factories.bearer(session, built.field.officer)
    session.commit()
    return built, headers


class TestArticle52Fields:
    def test_the_decision_names_the_act_the_basis_and_the_amount(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        f = decide(client, session, world, lead)

        assert f["title"] == "当场行政处罚决定书"
        assert f["act"] == "互联网上网服务营业场所未悬挂《网络文化经营许可证》"
        assert "营业场所未悬挂《网络文化经营许可证》。" in f["facts"]
        assert f["penalty_kind"] == "罚款"
        assert (f["amount_capitals"], f["amount_figures"]) == ("人民币贰仟元整", "¥2,000.00")
        assert [c["label"] for c in f["violated"]] == [
            "《互联网上网服务营业场所管理条例》第三十一条第（五）项"
        ]
        assert all(c["text"] for c in f["violated"] + f["penalty_basis"])
        assert "决定给予当事人罚款人民币贰仟元整（¥2,000.00）的行政处罚" in f["decision"]

    def test_time_place_agency_and_officers_with_certificates_are_printed(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        f = decide(client, session, world, lead)

        assert f["agency"] == "崇州市（演示）综合行政执法局"
        assert f["place"] == "崇州市崇阳街道蜀州中路 88 号"
        assert f["time"].endswith("分")
        assert f["officers"] == [
            {"name": "李明", "cert_no": "51018400001"},
            {"name": "王芳", "cert_no": "51018400002"},
        ]
        assert "出示执法证件" in f["notice"]
        assert "第四十四条" in f["notice"]

    def test_payment_remedies_and_filing_follow_the_statutes(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        f = decide(client, session, world, lead)

        assert "十五日内" in f["payment"]
        assert "第六十七条" in f["payment"]
        assert "百分之三加处罚款" in f["payment"]
        assert f["on_spot_collection"] == ""  # 2,000 yuan: above the 100-yuan on-the-spot limit
        assert "六十日内向崇州市（演示）人民政府申请行政复议" in f["remedies"]
        assert "六个月内依法向人民法院提起行政诉讼" in f["remedies"]
        assert "行政处罚不停止执行" in f["remedies"]
        assert "备案" in f["filing"]

    def test_a_fine_up_to_100_yuan_may_be_collected_on_the_spot(
        self, client: TestClient, session: Session
    ) -> None:
        world, lead = world_with(session, {"amount_fen": 5_000})

        f = decide(client, session, world, lead)

        assert f["amount_capitals"] == "人民币伍拾元整"
        assert "当场收缴" in f["on_spot_collection"]
        assert "专用票据" in f["on_spot_collection"]
        assert "十五日内" in f["payment"]

    def test_no_amount_is_a_warning(self, client: TestClient, session: Session) -> None:
        world, lead = world_with(session, {"amount_fen": 0})

        f = decide(client, session, world, lead)

        assert f["penalty_kind"] == "警告"
        assert f["payment"] == ""
        assert "警告的行政处罚" in f["decision"]

    def test_an_amended_answer_is_what_the_decision_prints(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        answer = session.scalars(
            select(InspectionAnswer).where(InspectionAnswer.item_code == "WB-02")
        ).one()
        amended = {
            "result": "fail",
            "reason": "营业场所未在显著位置悬挂《网络文化经营许可证》",
            "measure": "on_spot_penalty",
            "power_code": answer.power_code,
            "penalty": {**(answer.penalty or {}), "amount_fen": 150_000},
        }
        session.add(
            InspectionAmendment(
                district_code=answer.district_code,
                inspection_id=answer.inspection_id,
                item_code="WB-02",
                previous={"reason": answer.reason},
                amended=amended,
                reason="补充认定事实",
                amended_by_id=world.field.officer.id,
            )
        )
        session.commit()

        f = decide(client, session, world, lead)

        assert "未在显著位置悬挂" in f["facts"]
        assert f["amount_capitals"] == "人民币壹仟伍佰元整"

    def test_an_answer_without_an_amount_cannot_be_decided(
        self, client: TestClient, session: Session
    ) -> None:
        world, lead = world_with(
            session, {"amount_fen": None, "recommended_fen": None, "chosen_fen": None}
        )
        data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 1}
        serial = client.post("/api/v1/number-blocks", json=data, headers=lead).json()[
            "first_serial"
        ]

        refused = client.post(
            "/api/v1/documents", json=body(world, "on_spot_penalty", serial=serial), headers=lead
        )

        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "no_penalty_amount"


class TestMasking:
    def test_a_persons_name_keeps_only_the_surname(self) -> None:
        assert mask_name("张三丰") == "张*"
        assert mask_name("") == ""

    def test_an_id_number_keeps_the_first_and_last_four(self) -> None:
        assert mask_id("510184199001011234") == "5101**********1234"


class TestWhatTheInspectionDecided:
    def test_the_provisions_the_engine_applied_are_printed(
        self, client: TestClient, session: Session
    ) -> None:
        citations = [
            {"role": "violated", "label": "《条例》第二十一条（行为时有效版本）", "text": "甲"},
            {"role": "penalty", "label": "《条例》第三十一条（行为时有效版本）", "text": "乙"},
            {"role": "rule", "label": "《中华人民共和国行政处罚法》第三十七条", "text": "丙"},
        ]
        world, lead = world_with(session, {"citations": citations, "power_name": "对甲的处罚"})

        f = decide(client, session, world, lead)

        assert f["violated"] == [{"label": "《条例》第二十一条（行为时有效版本）", "text": "甲"}]
        assert f["penalty_basis"] == [
            {"label": "《条例》第三十一条（行为时有效版本）", "text": "乙"}
        ]
        assert f["act"] == "甲"

    def test_an_amount_above_the_recorded_simple_procedure_cap_is_refused(
        self, client: TestClient, session: Session
    ) -> None:
        world, lead = world_with(session, {"simple_procedure_cap_fen": 100_000})
        data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 1}
        serial = client.post("/api/v1/number-blocks", json=data, headers=lead).json()[
            "first_serial"
        ]

        refused = client.post(
            "/api/v1/documents", json=body(world, "on_spot_penalty", serial=serial), headers=lead
        )

        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "above_simple_procedure_cap"
        assert "普通程序" in refused.json()["error"]["message"]
        assert session.scalar(select(func.count()).select_from(Document)) == 0
