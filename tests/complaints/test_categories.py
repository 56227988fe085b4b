"""Complaint categories: created and changed by complaints:configure with a ledger event each;
codes unique per district; a department of the district or an agency to transfer to; powers from
the catalog; a deadline profile that exists; Open311 attributes checked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_intake_helpers import actor, count, headers, ledger_events
from tests.complaints.world import VENDING, ComplaintWorld, complaint_world
from tests.field import LICENCE, MINORS
from zhifa.complaints.categories import category_service
from zhifa.complaints.schemas import CategoryAttributeIn, CategoryIn, CategoryUpdate
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.models.complaints import ComplaintCategory, HotlineType, Priority
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.roles import Role


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


@pytest.fixture
def admin(session: Session, world: ComplaintWorld) -> Officer:
    row = factories.officer(
        session, world.district_code, "admin", [Role.SYSTEM_ADMIN], unit=world.field.bureau
    )
    session.commit()
    return row


def category_in(**overrides: Any) -> CategoryIn:
    values: dict[str, Any] = {
        "code": "JMZX-LDTF",
        "name": "流动摊贩",
        "group": "街面秩序",
        "keywords": ["摊贩", " 流动 ", ""],
        "department_code": "chengguan",
        "power_codes": [MINORS],
        "sla_profile": "street",
        "attributes": [
            {
                "code": "goods",
                "datatype": "multivaluelist",
                "required": True,
                "description": "经营品类",
                "values": [{"key": "fruit", "name": "水果"}, {"key": "food", "name": "小吃"}],
            },
            {"code": "count", "datatype": "number", "description": "摊位数"},
        ],
    }
    values.update(overrides)
    return CategoryIn.model_validate(values)


def refused(session: Session, admin: Officer, error: type[Exception], **overrides: Any) -> Any:
    before = (count(session, ComplaintCategory), count(session, LedgerEvent))
    with pytest.raises(error) as caught:
        category_service.create(session, actor(session, admin), data=category_in(**overrides))
    session.rollback()
    assert (count(session, ComplaintCategory), count(session, LedgerEvent)) == before
    return caught.value


class TestCreate:
    def test_a_category_is_created_with_normalised_fields_and_ledgered(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        row = category_service.create(session, actor(session, admin), data=category_in())
        session.commit()

        assert row.department_id == world.chengguan.id
        assert row.keywords == ["摊贩", "流动"]
        assert row.power_codes == [MINORS]
        assert row.attributes[0] == {
            "code": "goods",
            "datatype": "multivaluelist",
            "required": True,
            "variable": True,
            "order": 1,
            "description": "经营品类",
            "datatype_description": "",
            "values": [{"key": "fruit", "name": "水果"}, {"key": "food", "name": "小吃"}],
        }
        assert row.attributes[1]["values"] == []
        [entry] = ledger_events(session, "complaint.category.")
        assert entry.kind == "complaint.category.created"
        assert entry.actor_id == admin.id
        assert entry.payload["code"] == "JMZX-LDTF"
        assert entry.payload["state"]["department_id"] == world.chengguan.id

    def test_a_category_without_department_names_the_agency(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        row = category_service.create(
            session,
            actor(session, admin),
            data=category_in(department_code=None, transfer_to="崇州市公安局交通警察大队"),
        )

        assert (row.department_id, row.transfer_to) == (None, "崇州市公安局交通警察大队")


class TestCreateRefusals:
    def test_a_code_already_used(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        error = refused(session, admin, Conflict, code=VENDING)

        assert error.detail == {"field": "code"}

    def test_an_unknown_department(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        error = refused(session, admin, InvalidInput, department_code="gongan")

        assert error.detail == {"field": "department_code"}

    def test_no_department_and_no_agency(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        error = refused(session, admin, InvalidInput, department_code=None, transfer_to=" ")

        assert error.detail == {"field": "transfer_to"}

    def test_powers_not_in_the_catalog(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        error = refused(session, admin, InvalidInput, power_codes=[LICENCE, "CF-XX-999"])

        assert error.detail == {"field": "power_codes", "unknown": ["CF-XX-999"]}
        assert error.params == {"codes": "CF-XX-999"}

    def test_a_deadline_profile_that_does_not_exist(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        error = refused(session, admin, InvalidInput, sla_profile="express")

        assert error.detail == {"field": "sla_profile"}

    @pytest.mark.parametrize(
        "attribute",
        [
            {"code": "a", "datatype": "colour", "description": "颜色"},
            {"code": "a", "datatype": "singlevaluelist", "description": "是否", "values": []},
            {
                "code": "a",
                "datatype": "string",
                "description": "说明",
                "values": [{"key": "x", "name": "X"}],
            },
            {
                "code": "a",
                "datatype": "singlevaluelist",
                "description": "是否",
                "values": [{"key": "y", "name": "是"}, {"key": "y", "name": "否"}],
            },
            {"code": "a", "datatype": "singlevaluelist", "description": "是否", "values": [{}]},
            {"code": "a b", "datatype": "string", "description": "说明"},
            {"code": "a", "datatype": "string", "description": " "},
        ],
    )
    def test_an_attribute_that_open311_would_not_accept(
        self, session: Session, world: ComplaintWorld, admin: Officer, attribute: dict[str, Any]
    ) -> None:
        error = refused(session, admin, InvalidInput, attributes=[attribute])

        assert error.detail == {"field": "attributes[0]"}
        assert error.params["index"] == 1

    def test_two_attributes_with_one_code(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        twice = {"code": "a", "datatype": "string", "description": "说明"}

        error = refused(session, admin, InvalidInput, attributes=[twice, twice])

        assert error.detail == {"field": "attributes[1]"}

    def test_without_the_configure_permission(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        with pytest.raises(PermissionDenied):
            category_service.create(session, actor(session, world.dispatcher), data=category_in())


class TestUpdate:
    def test_only_the_fields_sent_change_and_the_changes_are_ledgered(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        row = world.categories[VENDING]

        category_service.update(
            session,
            actor(session, admin),
            category_id=row.id,
            data=CategoryUpdate(priority=Priority.URGENT, auto_dispatch=True, name="占道经营 "),
        )
        session.commit()

        assert (row.priority, row.auto_dispatch, row.name) == (Priority.URGENT, True, "占道经营")
        assert row.hotline_type == HotlineType.COMPLAINT
        [entry] = ledger_events(session, "complaint.category.")
        assert entry.kind == "complaint.category.updated"
        assert entry.payload["changes"] == {
            "priority": {"before": "normal", "after": "urgent"},
            "auto_dispatch": {"before": False, "after": True},
        }

    def test_removing_the_department_needs_an_agency(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            category_service.update(
                session,
                actor(session, admin),
                category_id=world.categories[VENDING].id,
                data=CategoryUpdate(department_code=None),
            )

        assert caught.value.detail == {"field": "transfer_to"}

    def test_new_attributes_are_checked(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        with pytest.raises(InvalidInput):
            category_service.update(
                session,
                actor(session, admin),
                category_id=world.categories[VENDING].id,
                data=CategoryUpdate(
                    attributes=[
                        CategoryAttributeIn(code="x", datatype="multivaluelist", description="?")
                    ]
                ),
            )

    def test_nothing_changed_records_nothing(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        category_service.update(
            session,
            actor(session, admin),
            category_id=world.categories[VENDING].id,
            data=CategoryUpdate(name="占道经营"),
        )
        session.commit()

        assert ledger_events(session, "complaint.category.") == []

    def test_a_category_of_another_district_is_not_found(
        self, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        with pytest.raises(NotFound):
            category_service.update(
                session, actor(session, admin), category_id=9999, data=CategoryUpdate(name="x")
            )


class TestOverHttp:
    def test_every_role_reads_the_categories_with_their_attributes(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.get(
            "/api/v1/complaint-categories", headers=headers(session, world.officer)
        )

        assert response.status_code == 200
        body = response.json()
        assert [c["code"] for c in body] == [VENDING, "SRHJ-BLLJ", "ZX-ZCZX", "SC-SPAQ"]
        assert body[0]["department_code"] == "chengguan"
        assert body[0]["attributes"][1]["values"][0] == {"key": "yes", "name": "是"}
        assert body[3]["department_id"] is None
        assert body[3]["transfer_to"] == "崇州市市场监督管理局"

    def test_the_admin_creates_and_changes_one(
        self, client: TestClient, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        auth = headers(session, admin)

        created = client.post(
            "/api/v1/complaint-categories",
            json=category_in().model_dump(mode="json"),
            headers=auth,
        )
        changed = client.patch(
            f"/api/v1/complaint-categories/{created.json()['id']}",
            json={"active": False},
            headers=auth,
        )

        assert created.status_code == 201, created.text
        assert created.json()["department_name"] == "城市管理"
        assert changed.status_code == 200
        assert changed.json()["active"] is False

    def test_a_dispatcher_cannot_create_one(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.post(
            "/api/v1/complaint-categories",
            json=category_in().model_dump(mode="json"),
            headers=headers(session, world.dispatcher),
        )

        assert response.status_code == 403
        assert count(session, ComplaintCategory) == 4

    def test_a_bad_attribute_is_422_in_chinese(
        self, client: TestClient, session: Session, world: ComplaintWorld, admin: Officer
    ) -> None:
        body = category_in(
            attributes=[{"code": "a", "datatype": "singlevaluelist", "description": "是否"}]
        ).model_dump(mode="json")

        response = client.post(
            "/api/v1/complaint-categories", json=body, headers=headers(session, admin)
        )

        assert response.status_code == 422
        assert response.json()["error"]["message"] == (
            "第 1 个附加项为列表类型（singlevaluelist），请填写可选项。"
        )
