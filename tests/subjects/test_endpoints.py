"""The JSON API of the registry (docs/field-api.md §Subjects): shapes, refusals in Chinese, scope
(404 outside), permissions (403, ledgered), the reveal log and the history."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import bearer
from tests.field import CAFE_LAT, CAFE_LON, CAFE_USCC
from tests.subjects.helpers import (
    IN_OTHER,
    World,
    enterprise,
    events,
    inspected_cafe,
    make_ric,
    make_uscc,
    person,
    subjects_world,
)
from zhifa.models.org import Officer
from zhifa.models.subjects import Subject

API = "/api/v1/subjects"


@pytest.fixture
def world(session: Session) -> World:
    w = subjects_world(session)
    session.commit()
    return w


def headers(session: Session, who: Officer) -> dict[str, str]:
    h = bearer(session, who)
    session.commit()
    return h


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Subject)) or 0)


def _post(client: TestClient, session: Session, who: Officer, body: dict[str, Any]) -> Any:
    return client.post(API, json=body, headers=headers(session, who))


class TestCreate:
    def test_answers_201_with_the_subject_read_in_chinese_labels(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = _post(client, session, world.field.officer, enterprise(1))

        assert response.status_code == 201
        body = response.json()
        assert body["uscc"] == make_uscc(1)
        assert (body["kind"], body["kind_label"]) == ("enterprise", "企业")
        assert (body["risk_level"], body["risk_label"]) == ("medium", "中风险")
        assert (body["subject_type"], body["subject_type_name"]) == ("restaurant", "餐饮店")
        assert body["unit_id"] == world.field.squad.id
        assert body["grid_id"] == world.field.grid.id
        assert body["licences"][0]["valid_until"] is None
        assert body["distance_m"] is None
        assert set(body) >= {"id_card_masked", "geofence", "geofence_radius_m", "note", "active"}

    def test_a_person_is_answered_with_the_masked_number_only(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        number = make_ric(3)
        response = _post(client, session, world.field.officer, person(3))

        assert response.status_code == 201
        assert response.json()["id_card_masked"] == number[:4] + "**********" + number[-4:]
        assert number not in response.text

    def test_a_refusal_lists_every_problem_in_chinese_and_saves_nothing(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        before = _count(session)
        body = enterprise(1, uscc=None, subject_type="casino", geofence_radius_m=5000)
        response = _post(client, session, world.field.officer, body)

        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert error["detail"]["field"] == "uscc"
        problems = {p["field"]: p["message"] for p in error["detail"]["problems"]}
        assert set(problems) == {"uscc", "subject_type", "geofence_radius_m"}
        assert "统一社会信用代码" in problems["uscc"]
        assert "casino" in problems["subject_type"]
        assert "10" in problems["geofence_radius_m"]
        assert "2000" in problems["geofence_radius_m"]
        assert _count(session) == before

    def test_a_duplicate_code_is_409_naming_the_subject(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = _post(client, session, world.field.officer, enterprise(2, uscc=CAFE_USCC))

        assert response.status_code == 409
        error = response.json()["error"]
        assert world.field.cafe.name in error["message"]
        assert error["detail"]["existing_id"] == world.field.cafe.id

    def test_a_role_without_subjects_manage_gets_403_and_it_is_ledgered(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = _post(client, session, world.leader, enterprise(1))

        assert response.status_code == 403
        assert _count(session) == 1
        (denial,) = events(session, "security.permission_denied")
        assert denial.payload["permission"] == "subjects:manage"

    def test_the_subject_created_event_carries_the_channel(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        _post(client, session, world.field.officer, enterprise(1))

        (event,) = events(session, "subject.created")
        assert event.payload["via"] == "token"


class TestRead:
    def test_one_subject_in_scope(self, client: TestClient, session: Session, world: World) -> None:
        response = client.get(
            f"{API}/{world.field.cafe.id}", headers=headers(session, world.field.second)
        )

        assert response.status_code == 200
        assert response.json()["name"] == world.field.cafe.name

    def test_another_squads_subject_is_404(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = client.get(
            f"{API}/{world.field.cafe.id}", headers=headers(session, world.field.outsider)
        )

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestSearch:
    def test_near_answers_nearest_first_with_distances(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        admin = headers(session, world.admin)
        client.post(API, json=enterprise(1), headers=admin)
        client.post(API, json=enterprise(2, at=IN_OTHER), headers=admin)

        response = client.get(
            API, params={"near": f"{CAFE_LON},{CAFE_LAT}", "radius_m": 1000}, headers=admin
        )

        assert response.status_code == 200
        page = response.json()
        assert page["total"] == 2
        assert [i["name"] for i in page["items"]][0] == world.field.cafe.name
        assert page["items"][0]["distance_m"] == 0.0
        assert 0 < page["items"][1]["distance_m"] <= 1000

    def test_the_default_radius_is_2000_metres(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        admin = headers(session, world.admin)
        client.post(API, json=enterprise(2, at=IN_OTHER), headers=admin)

        page = client.get(API, params={"near": f"{CAFE_LON},{CAFE_LAT}"}, headers=admin).json()

        assert page["total"] == 2

    def test_a_malformed_near_is_422(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = client.get(
            API, params={"near": "103.6"}, headers=headers(session, world.field.officer)
        )

        assert response.status_code == 422
        assert response.json()["error"]["detail"]["field"] == "near"

    def test_the_list_is_scoped(self, client: TestClient, session: Session, world: World) -> None:
        page = client.get(API, headers=headers(session, world.field.outsider)).json()

        assert page == {"items": [], "total": 0}

    def test_limit_and_offset_page_through_the_results(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        admin = headers(session, world.admin)
        for n in range(1, 4):
            client.post(API, json=enterprise(n), headers=admin)

        first = client.get(API, params={"limit": 2}, headers=admin).json()
        second = client.get(API, params={"limit": 2, "offset": 2}, headers=admin).json()

        assert first["total"] == second["total"] == 4
        assert len(first["items"]) == 2
        assert len(second["items"]) == 2
        assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})


class TestPatch:
    def test_changes_fields_and_answers_the_subject(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = client.patch(
            f"{API}/{world.field.cafe.id}",
            json={"phone": "13900000000", "geofence": None, "geofence_radius_m": 80},
            headers=headers(session, world.field.officer),
        )

        assert response.status_code == 200
        assert response.json()["phone"] == "13900000000"
        assert response.json()["geofence"] is None
        assert response.json()["geofence_radius_m"] == 80
        (event,) = events(session, "subject.updated")
        assert set(event.payload["changes"]) == {"phone", "geofence", "geofence_radius_m"}

    def test_another_squads_subject_cannot_be_changed(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = client.patch(
            f"{API}/{world.field.cafe.id}",
            json={"phone": "1"},
            headers=headers(session, world.field.outsider),
        )

        assert response.status_code == 404
        session.expire_all()
        assert session.get(Subject, world.field.cafe.id).phone == "028-82000000"  # type: ignore[union-attr]

    def test_active_false_deactivates(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = client.patch(
            f"{API}/{world.field.cafe.id}",
            json={"active": False},
            headers=headers(session, world.field.officer),
        )

        assert response.json()["active"] is False
        assert len(events(session, "subject.deactivated")) == 1


class TestRevealId:
    @pytest.fixture
    def someone(self, client: TestClient, session: Session, world: World) -> int:
        response = _post(client, session, world.field.officer, person(4))
        return int(response.json()["id"])

    def test_a_squad_leader_sees_the_number_and_the_reveal_is_ledgered(
        self, client: TestClient, session: Session, world: World, someone: int
    ) -> None:
        response = client.post(
            f"{API}/{someone}/reveal-id",
            json={"reason": "填写当场处罚决定书"},
            headers=headers(session, world.field.leader),
        )

        assert response.status_code == 200
        assert response.json() == {"id_card": make_ric(4)}
        (event,) = events(session, "subject.id_revealed")
        assert event.payload["reason"] == "填写当场处罚决定书"
        assert event.payload["officer_name"] == world.field.leader.name
        assert event.subject_type == "subject"
        assert event.subject_id == str(someone)
        assert make_ric(4).encode() not in event.body

    def test_a_field_officer_gets_403_and_no_reveal_is_recorded(
        self, client: TestClient, session: Session, world: World, someone: int
    ) -> None:
        response = client.post(
            f"{API}/{someone}/reveal-id",
            json={"reason": "看看"},
            headers=headers(session, world.field.officer),
        )

        assert response.status_code == 403
        assert make_ric(4) not in response.text
        assert events(session, "subject.id_revealed") == []

    def test_a_blank_reason_is_422(
        self, client: TestClient, session: Session, world: World, someone: int
    ) -> None:
        response = client.post(
            f"{API}/{someone}/reveal-id",
            json={"reason": "  "},
            headers=headers(session, world.field.leader),
        )

        assert response.status_code == 422
        assert response.json()["error"]["detail"]["field"] == "reason"
        assert events(session, "subject.id_revealed") == []

    def test_a_subject_without_a_number_is_404(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = client.post(
            f"{API}/{world.field.cafe.id}/reveal-id",
            json={"reason": "核对"},
            headers=headers(session, world.field.leader),
        )

        assert response.status_code == 404


class TestHistory:
    def test_inspections_findings_penalties_documents_and_case_leads(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        done = inspected_cafe(session, world)
        session.commit()

        response = client.get(
            f"{API}/{world.field.cafe.id}/history", headers=headers(session, world.field.officer)
        )

        assert response.status_code == 200
        history = response.json()
        (inspection,) = history["inspections"]
        assert inspection["id"] == done.inspection.id
        assert inspection["task_kind_label"] == "计划检查"
        assert [o["name"] for o in inspection["officers"]] == ["李明", "王芳"]
        assert (inspection["passed"], inspection["failed"], inspection["not_applicable"]) == (
            1,
            3,
            1,
        )
        findings = {f["item_code"]: f for f in history["findings"]}
        assert set(findings) == {"WB-01", "WB-02", "WB-03"}
        assert findings["WB-03"]["reason"] == "门前堆放杂物（已核实）"
        assert findings["WB-03"]["amended"] is True
        assert findings["WB-03"]["measure_label"] == "责令改正"
        assert findings["WB-02"]["item_text"] == "是否悬挂经营许可证"
        (penalty,) = history["penalties"]
        assert (penalty["amount_fen"], penalty["amount_yuan"]) == (200_000, "2000.00")
        (document,) = history["documents"]
        assert document["number_text"] == "崇综执罚当字〔2026〕第7号"
        assert document["verify_url"].endswith(f"/verify/{done.document.public_id}")
        (lead,) = history["case_leads"]
        assert (lead["item_code"], lead["status"]) == ("WB-01", "open")

    def test_an_empty_history(self, client: TestClient, session: Session, world: World) -> None:
        response = client.get(
            f"{API}/{world.field.cafe.id}/history", headers=headers(session, world.field.officer)
        )

        assert response.json() == {
            "subject_id": world.field.cafe.id,
            "inspections": [],
            "findings": [],
            "penalties": [],
            "documents": [],
            "case_leads": [],
        }

    def test_another_squads_subject_history_is_404(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        inspected_cafe(session, world)
        session.commit()
        response = client.get(
            f"{API}/{world.field.cafe.id}/history", headers=headers(session, world.field.outsider)
        )

        assert response.status_code == 404
