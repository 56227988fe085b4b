"""The Open311 writes: POST requests (api_key, location, attributes, media) and the mySociety
POST servicerequestupdates (a citizen's comment as a non-public note)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import (
    FOOD,
    GARBAGE,
    IN_WG01,
    VENDING,
    ComplaintWorld,
    complaint_world,
)
from tests.open311.helpers import BASE, complaint, integration, json_errors, xml_errors, xml_of
from zhifa.config import Settings
from zhifa.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintSource,
    ComplaintStatus,
)
from zhifa.models.integrations import Integration
from zhifa.models.ledger import LedgerEvent
from zhifa.web.i18n import translate


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


@pytest.fixture
def key(session: Session, settings: Settings, world: ComplaintWorld) -> str:
    _, api_key = integration(session, settings, world.district_code)
    session.commit()
    return api_key


def vending_form(api_key: str, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "api_key": api_key,
        "service_code": VENDING,
        "lat": str(IN_WG01[1]),
        "long": str(IN_WG01[0]),
        "description": "唐安西路口流动摊贩占道经营，行人无法通过",
        "attribute[stall_count]": "3",
        "attribute[blocking]": "yes",
    }
    form.update(extra)
    return {k: v for k, v in form.items() if v is not None}


def count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def only_complaint(session: Session) -> Complaint:
    session.expire_all()
    return session.scalars(select(Complaint)).one()


class TestPostRequest:
    def test_json_files_a_complaint_from_the_integration(
        self, client: TestClient, session: Session, settings: Settings, key: str
    ) -> None:
        form = vending_form(
            key,
            email="citizen@example.com",
            phone="13800138000",
            first_name="芳",
            last_name="王",
            device_id="device-1",
            account_id="acct-9",
            media_url=["https://wlz.example/p/1.jpg", "https://wlz.example/p/2.jpg"],
        )

        response = client.post(f"{BASE}/requests.json", data=form)

        assert response.status_code == 200
        row = only_complaint(session)
        assert response.json() == [
            {
                "service_request_id": row.tracking_no,
                "service_notice": response.json()[0]["service_notice"],
                "account_id": None,
            }
        ]
        assert response.json()[0]["service_notice"].startswith("将于 ")
        assert row.source == ComplaintSource.OPEN311
        integration_row = session.scalars(select(Integration)).one()
        assert row.integration_id == integration_row.id
        assert row.source_ref is None
        assert row.attributes == {"stall_count": 3, "blocking": "yes"}
        assert row.media_urls == ["https://wlz.example/p/1.jpg", "https://wlz.example/p/2.jpg"]
        assert row.lon == pytest.approx(IN_WG01[0])
        assert row.anonymous is False
        assert row.reporter_name_cipher is not None
        assert "王芳" not in (row.reporter_masked or "")
        for secret in ("王芳", "13800138000", "citizen@example.com", "acct-9"):
            assert secret not in response.text
        received = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.received")
        ).one()
        assert received.subject_id == str(row.id)

    def test_xml_answers_with_a_request_element(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        response = client.post(f"{BASE}/requests.xml", data=vending_form(key))

        assert response.status_code == 200
        root = xml_of(response)
        assert root.tag == "service_requests"
        assert root.findtext("request/service_request_id") == only_complaint(session).tracking_no

    def test_an_address_string_is_enough(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        form = vending_form(key, lat=None, long=None, address_string="崇州市唐安西路 1 号")

        response = client.post(f"{BASE}/requests.json", data=form)

        assert response.status_code == 200
        row = only_complaint(session)
        assert (row.lon, row.lat) == (None, None)
        assert row.address == "崇州市唐安西路 1 号"

    def test_a_category_outside_the_bureau_is_answered_as_transferred(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        form = {
            "api_key": key,
            "service_code": FOOD,
            "lat": str(IN_WG01[1]),
            "long": str(IN_WG01[0]),
            "description": "某饭店后厨卫生很差",
        }

        response = client.post(f"{BASE}/requests.json", data=form)

        assert response.status_code == 200
        assert response.json()[0]["service_notice"] == "已转交崇州市市场监督管理局办理。"
        assert only_complaint(session).status == ComplaintStatus.TRANSFERRED

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            (
                {"lat": None, "long": None, "address_id": "A-42"},
                "本接口不支持 address_id，请提供 lat 和 long，或者 address_string。",
            ),
            ({"lat": None, "long": None}, "须提供位置：lat 和 long，或者 address_string。"),
            ({"long": "east"}, "long 须为 -180 到 180 之间的数字。"),
            ({"service_code": None}, "缺少 service_code。"),
        ],
    )
    def test_a_request_without_a_usable_location_or_service_is_400(
        self,
        client: TestClient,
        session: Session,
        key: str,
        changes: dict[str, Any],
        message: str,
    ) -> None:
        response = client.post(f"{BASE}/requests.json", data=vending_form(key, **changes))

        assert response.status_code == 400
        assert json_errors(response) == [(400, message)]
        assert count(session, Complaint) == 0

    def test_a_form_that_cannot_be_read_is_400(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        fields = vending_form(key) | {f"attribute[x{n}]": "1" for n in range(1001)}

        response = client.post(f"{BASE}/requests.xml", data=fields)

        assert response.status_code == 400
        assert xml_errors(response) == [("400", "无法读取提交的表单。")]
        assert count(session, Complaint) == 0

    def test_an_unknown_service_code_is_404(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        response = client.post(f"{BASE}/requests.xml", data=vending_form(key, service_code="NOPE"))

        assert response.status_code == 404
        assert xml_errors(response) == [("404", "本辖区没有 service_code 为 NOPE 的服务。")]
        assert count(session, Complaint) == 0

    def test_intake_refusals_come_back_as_open311_errors(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        response = client.post(f"{BASE}/requests.json", data=vending_form(key, description=""))

        assert response.status_code == 400
        expected = translate("zh_CN", "Describe the problem: what is happening, and since when.")
        assert json_errors(response) == [(400, expected)]
        assert count(session, Complaint) == 0
        assert count(session, ComplaintEvent) == 0

    def test_an_unknown_jurisdiction_is_404(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        form = vending_form(key, jurisdiction_id="110101")

        response = client.post(f"{BASE}/requests.json", data=form)

        assert response.status_code == 404
        assert json_errors(response) == [(404, "本接口不服务 jurisdiction_id 110101。")]
        assert count(session, Complaint) == 0


class TestAttributes:
    def test_a_multivaluelist_takes_a_repeated_key(
        self, client: TestClient, session: Session, world: ComplaintWorld, key: str
    ) -> None:
        row = session.get(ComplaintCategory, world.categories[GARBAGE].id)
        assert row is not None
        row.attributes = [
            {
                "code": "kinds",
                "datatype": "multivaluelist",
                "required": True,
                "variable": True,
                "order": 1,
                "description": "垃圾种类",
                "values": [
                    {"key": "household", "name": "生活垃圾"},
                    {"key": "debris", "name": "建筑垃圾"},
                    {"key": "bulky", "name": "大件垃圾"},
                ],
            }
        ]
        session.commit()
        form = {
            "api_key": key,
            "service_code": GARBAGE,
            "address_string": "崇州市文化街",
            "description": "路边堆着垃圾",
            "attribute[kinds]": ["household", "bulky"],
        }

        repeated = client.post(f"{BASE}/requests.json", data=form)
        form["attribute[kinds][]"] = form.pop("attribute[kinds]")
        bracketed = client.post(f"{BASE}/requests.json", data=form)

        assert repeated.status_code == bracketed.status_code == 200
        session.expire_all()
        rows = session.scalars(select(Complaint)).all()
        assert [r.attributes for r in rows] == [{"kinds": ["household", "bulky"]}] * 2

    def test_every_problem_is_listed_at_once(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        form = vending_form(
            key,
            lat=None,
            long=None,
            **{"attribute[stall_count]": "three", "attribute[blocking]": "maybe"},
        )
        form["media_url"] = "ftp://example.com/x.jpg"

        response = client.post(f"{BASE}/requests.xml", data=form)

        assert response.status_code == 400
        assert xml_errors(response) == [
            ("400", "须提供位置：lat 和 long，或者 address_string。"),
            ("400", "attribute[stall_count] 须为数字，不能是 three。"),
            ("400", "attribute[blocking]：maybe 不是可选值（yes, no）之一。"),
            ("400", "media_url ftp://example.com/x.jpg 不是 http(s) 地址。"),
        ]
        assert count(session, Complaint) == 0

    def test_a_missing_required_attribute_is_400(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        response = client.post(
            f"{BASE}/requests.json", data=vending_form(key, **{"attribute[blocking]": None})
        )

        assert response.status_code == 400
        assert json_errors(response) == [(400, "缺少 attribute[blocking]。")]

    def test_a_single_value_list_takes_one_value(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        response = client.post(
            f"{BASE}/requests.json",
            data=vending_form(key, **{"attribute[blocking]": ["yes", "no"]}),
        )

        assert response.status_code == 400
        assert json_errors(response) == [(400, "attribute[blocking] 只能填一个值。")]

    def test_attributes_the_service_does_not_define_are_not_kept(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        form = vending_form(
            key,
            **{"attribute[fixmystreet_id]": "1234", "attribute[last_name]": "王"},
        )

        response = client.post(f"{BASE}/requests.json", data=form)

        assert response.status_code == 200
        assert only_complaint(session).attributes == {"stall_count": 3, "blocking": "yes"}

    def test_an_optional_number_may_be_left_out(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        form = vending_form(key, **{"attribute[stall_count]": ""})

        response = client.post(f"{BASE}/requests.json", data=form)

        assert response.status_code == 200
        assert only_complaint(session).attributes == {"blocking": "yes"}


class TestApiKey:
    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_a_wrong_key_is_403(
        self, client: TestClient, session: Session, key: str, fmt: str
    ) -> None:
        response = client.post(f"{BASE}/requests.{fmt}", data=vending_form("zi_not-the-key"))

        assert response.status_code == 403
        errors = json_errors(response) if fmt == "json" else xml_errors(response)
        assert [text for _, text in errors] == ["api_key 无效，不能向本接口提交。"]
        assert count(session, Complaint) == 0

    def test_a_missing_key_is_403(self, client: TestClient, session: Session, key: str) -> None:
        form = vending_form(key)
        del form["api_key"]

        response = client.post(f"{BASE}/requests.json", data=form)

        assert response.status_code == 403
        assert json_errors(response) == [(403, "向本接口提交须提供 api_key。")]
        assert count(session, Complaint) == 0

    def test_the_key_of_an_inactive_integration_is_refused(
        self, client: TestClient, session: Session, key: str
    ) -> None:
        row = session.scalars(select(Integration)).one()
        row.active = False
        session.commit()

        response = client.post(f"{BASE}/requests.json", data=vending_form(key))

        assert response.status_code == 403
        assert count(session, Complaint) == 0

    def test_the_key_of_another_districts_integration_is_refused(
        self, client: TestClient, session: Session, settings: Settings, world: ComplaintWorld
    ) -> None:
        factories.district(session, "510104", "锦江区（演示）")
        _, other_key = integration(session, settings, "510104", code="jj")
        session.commit()

        response = client.post(
            f"{BASE}/requests.json", data=vending_form(other_key, jurisdiction_id="510184")
        )

        assert response.status_code == 403
        assert count(session, Complaint) == 0


class TestPostUpdate:
    def test_a_comment_becomes_a_non_public_note(
        self, client: TestClient, session: Session, world: ComplaintWorld, key: str
    ) -> None:
        row = complaint(session, world, VENDING, status=ComplaintStatus.DISPATCHED)
        session.commit()
        form = {
            "api_key": key,
            "service_request_id": row.tracking_no,
            "update_id": "wlz-77",
            "status": "OPEN",
            "updated_datetime": "2026-11-29T10:05:00+08:00",
            "description": "摊贩又回来了",
            "first_name": "芳",
            "last_name": "王",
            "email": "citizen@example.com",
            "phone": "13800138000",
        }

        response = client.post(f"{BASE}/servicerequestupdates.json", data=form)

        assert response.status_code == 200
        session.expire_all()
        note = session.scalars(select(ComplaintEvent).where(ComplaintEvent.kind == "note")).one()
        assert response.json() == [{"update_id": str(note.id)}]
        assert note.public is False
        assert note.note == "摊贩又回来了"
        assert note.data["update_id"] == "wlz-77"
        for secret in ("王", "芳", "13800138000", "citizen@example.com"):
            assert secret not in str(note.data)
        ledgered = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.note")
        ).one()
        assert ledgered.subject_id == str(row.id)
        assert session.get(Complaint, row.id).status == ComplaintStatus.DISPATCHED  # type: ignore[union-attr]

    def test_the_same_update_posted_twice_is_one_note(
        self, client: TestClient, session: Session, world: ComplaintWorld, key: str
    ) -> None:
        row = complaint(session, world, VENDING)
        session.commit()
        form = {
            "api_key": key,
            "service_request_id": row.tracking_no,
            "update_id": "wlz-78",
            "description": "补充：早上七点最严重",
        }

        first = client.post(f"{BASE}/servicerequestupdates.xml", data=form)
        second = client.post(f"{BASE}/servicerequestupdates.xml", data=form)

        assert first.status_code == second.status_code == 200
        first_id = xml_of(first).findtext("request_update/update_id")
        assert xml_of(second).findtext("request_update/update_id") == first_id
        assert count(session, ComplaintEvent) == 1

    def test_an_unknown_request_is_400(
        self, client: TestClient, session: Session, world: ComplaintWorld, key: str
    ) -> None:
        form = {"api_key": key, "service_request_id": "TS-NOPE", "description": "还在"}

        response = client.post(f"{BASE}/servicerequestupdates.json", data=form)

        assert response.status_code == 400
        assert json_errors(response) == [(400, "本辖区没有 service_request_id 为 TS-NOPE 的诉求。")]
        assert count(session, ComplaintEvent) == 0

    def test_the_request_and_the_text_are_required(
        self, client: TestClient, session: Session, world: ComplaintWorld, key: str
    ) -> None:
        response = client.post(f"{BASE}/servicerequestupdates.json", data={"api_key": key})

        assert response.status_code == 400
        assert json_errors(response) == [
            (400, "缺少 service_request_id。"),
            (400, "缺少 description。"),
        ]

    def test_a_wrong_key_is_403(
        self, client: TestClient, session: Session, world: ComplaintWorld, key: str
    ) -> None:
        row = complaint(session, world, VENDING)
        session.commit()
        form = {"api_key": "zi_wrong", "service_request_id": row.tracking_no, "description": "x"}

        response = client.post(f"{BASE}/servicerequestupdates.json", data=form)

        assert response.status_code == 403
        assert count(session, ComplaintEvent) == 0
