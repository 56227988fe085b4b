"""Amendments: after submission an answer is corrected only by a reasoned amendment that keeps the
original; the current answer everywhere is the latest amendment."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.field import DISTRICT, MINORS
from tests.inspections.helpers import OnSite, events, headers, submission
from zhifa.models.inspections import CaseLead, InspectionAmendment, InspectionAnswer
from zhifa.org.roles import Role


@pytest.fixture
def site(client: TestClient, session: Session) -> OnSite:
    return OnSite(client, session).arrive()


@pytest.fixture
def inspection_id(site: OnSite) -> int:
    sha, answers = site.answers()
    response = site.submit(submission(sha, answers))
    assert response.status_code == 201
    return int(response.json()["id"])


def amend(
    site: OnSite, inspection_id: int, auth: dict[str, str] | None = None, **fields: Any
) -> Any:
    body = {
        "item_code": "WB-03",
        "result": "fail",
        "reason": "门前堆放纸箱约2立方米",
        "amendment_reason": "复核照片发现门前确有堆放，原记录有误",
    } | fields
    return site.client.post(
        f"/api/v1/inspections/{inspection_id}/amendments", json=body, headers=auth or site.lead
    )


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestAmend:
    def test_the_amended_answer_is_current_and_the_original_stays(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        response = amend(site, inspection_id)

        assert response.status_code == 201, response.text
        answers = {a["item_code"]: a for a in response.json()["answers"]}
        assert answers["WB-03"]["result"] == "fail"
        assert answers["WB-03"]["amended"] is True
        assert answers["WB-01"]["amended"] is False
        original = session.scalars(
            select(InspectionAnswer).where(InspectionAnswer.item_code == "WB-03")
        ).one()
        assert original.result == "pass"
        amendment = session.scalars(select(InspectionAmendment)).one()
        assert amendment.previous["result"] == "pass"
        assert amendment.amended["result"] == "fail"
        assert amendment.reason == "复核照片发现门前确有堆放，原记录有误"

    def test_the_inspection_read_shows_the_amendment(
        self, client: TestClient, site: OnSite, inspection_id: int
    ) -> None:
        amend(site, inspection_id)

        body = client.get(f"/api/v1/inspections/{inspection_id}", headers=site.leader).json()

        assert [a["item_code"] for a in body["amendments"]] == ["WB-03"]
        assert body["answers"][2]["reason"] == "门前堆放纸箱约2立方米"

    def test_the_latest_amendment_wins(self, site: OnSite, inspection_id: int) -> None:
        amend(site, inspection_id)
        second = amend(
            site,
            inspection_id,
            result="not_applicable",
            reason="该门店门前为公共通道，不属本项",
            amendment_reason="经核实不适用",
        )

        assert second.json()["answers"][2]["result"] == "not_applicable"
        assert len(second.json()["amendments"]) == 2
        assert second.json()["amendments"][1]["previous"]["result"] == "fail"

    def test_an_amendment_is_ledgered(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        amend(site, inspection_id)

        amended = events(session, "inspection.amended")
        assert len(amended) == 1
        assert amended[0].payload["item_code"] == "WB-03"
        assert amended[0].payload["state"]["previous"]["result"] == "pass"

    def test_an_amendment_recommending_a_case_records_the_lead(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        response = amend(
            site,
            inspection_id,
            item_code="WB-01",
            reason="回看监控发现接纳2名未成年人",
            measure="case_lead",
            power_code=MINORS,
        )

        assert response.status_code == 201
        lead = session.scalars(select(CaseLead)).one()
        assert lead.item_code == "WB-01"
        assert response.json()["case_lead_ids"] == [lead.id]

    def test_a_squad_leader_may_amend(self, site: OnSite, inspection_id: int) -> None:
        assert amend(site, inspection_id, auth=site.leader).status_code == 201


class TestRefusals:
    def test_an_amendment_without_a_reason(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        response = amend(site, inspection_id, amendment_reason=" ")

        assert response.status_code == 422
        assert response.json()["error"]["detail"] == {"field": "amendment_reason"}
        assert count(session, InspectionAmendment) == 0

    def test_an_amendment_that_changes_nothing(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        response = amend(site, inspection_id, result="pass", reason="")

        assert response.status_code == 422
        assert count(session, InspectionAmendment) == 0

    def test_an_amended_answer_follows_the_answer_rules(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        response = amend(site, inspection_id, result="not_applicable", reason="")

        assert response.status_code == 422
        assert response.json()["error"]["detail"]["field"] == "amendment.reason"
        assert count(session, InspectionAmendment) == 0

    def test_an_item_not_on_the_checklist(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        response = amend(site, inspection_id, item_code="WB-99")

        assert response.status_code == 422
        assert count(session, InspectionAmendment) == 0

    def test_an_officer_not_on_the_task(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        colleague = factories.officer(
            session, DISTRICT, "zhou.qi", [Role.OFFICER], unit=site.w.squad
        )
        session.commit()

        response = amend(site, inspection_id, auth=headers(session, colleague))

        assert response.status_code == 403
        assert count(session, InspectionAmendment) == 0

    def test_a_draft_cannot_be_amended(self, client: TestClient, session: Session) -> None:
        site = OnSite(client, session).arrive()
        draft = site.bundle()["inspection"]["id"]

        response = amend(site, draft)

        assert response.status_code == 409
        assert count(session, InspectionAmendment) == 0

    def test_another_squad_does_not_see_the_inspection(
        self, session: Session, site: OnSite, inspection_id: int
    ) -> None:
        response = amend(site, inspection_id, auth=headers(session, site.w.outsider))

        assert response.status_code == 404
        assert count(session, InspectionAmendment) == 0
