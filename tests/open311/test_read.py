"""The public reads of the Open311 server: discovery, services, service definitions, requests one
and many, tokens; both formats; the standard error bodies; the jurisdiction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import CONSULT, FOOD, GARBAGE, VENDING, ComplaintWorld, complaint_world
from tests.open311.helpers import BASE, complaint, json_errors, step, xml_errors, xml_of
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import ComplaintCategory, ComplaintStatus
from zhifa.open311.formats import w3c


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


class TestDiscovery:
    def test_json_names_the_endpoint_its_formats_and_limits(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.get(f"{BASE}/discovery.json")

        assert response.status_code == 200
        body = response.json()
        assert body["max_requests"] == 1000
        assert body["max_days"] == 90
        assert body["changeset"].endswith("+08:00")
        (endpoint,) = body["endpoints"]
        assert endpoint["url"] == "http://127.0.0.1:8000/open311/v2"
        assert endpoint["type"] == "production"
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert "90 天" in body["key_service"]
        assert "1000 条" in body["key_service"]
        assert "510184" in body["contact"]

    def test_xml_nests_endpoints_and_formats(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        root = xml_of(client.get(f"{BASE}/discovery.xml"))

        assert root.tag == "discovery"
        assert root.findtext("max_requests") == "1000"
        formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
        assert formats == ["text/xml", "application/json"]

    def test_the_90_day_rule_is_stated_in_english_when_asked(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        body = client.get(f"{BASE}/discovery.json", headers={"Accept-Language": "en"}).json()

        assert "at most 90 days" in body["key_service"]
        assert "at most 1000 requests" in body["key_service"]

    def test_with_several_districts_it_needs_no_jurisdiction(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        factories.district(session, "510104", "锦江区（演示）")
        session.commit()

        general = client.get(f"{BASE}/discovery.json")
        one = client.get(f"{BASE}/discovery.json", params={"jurisdiction_id": "510104"})

        assert general.status_code == one.status_code == 200
        assert general.json()["contact"] == "各区县执法局指挥中心；jurisdiction_id 为区县代码。"
        assert "510104" in one.json()["contact"]


class TestServices:
    def test_json_lists_the_active_categories_in_order(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.get(f"{BASE}/services.json")

        assert response.status_code == 200
        services = response.json()
        assert [s["service_code"] for s in services] == [VENDING, GARBAGE, CONSULT, FOOD]
        vending = services[0]
        assert vending == {
            "service_code": VENDING,
            "service_name": "占道经营",
            "description": "在道路、桥梁、广场等公共场所摆摊设点、占道经营",
            "metadata": True,
            "type": "realtime",
            "keywords": "摊贩,占道,流动摊点",
            "group": "街面秩序",
        }
        assert services[1]["metadata"] is False

    def test_xml_has_one_service_element_per_category(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        root = xml_of(client.get(f"{BASE}/services.xml"))

        assert root.tag == "services"
        codes = [s.findtext("service_code") for s in root.findall("service")]
        assert codes == [VENDING, GARBAGE, CONSULT, FOOD]
        assert root.find("service").findtext("metadata") == "true"  # type: ignore[union-attr]
        assert root.findall("service")[1].findtext("metadata") == "false"

    def test_an_inactive_category_is_not_offered(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = session.get(ComplaintCategory, world.categories[GARBAGE].id)
        assert row is not None
        row.active = False
        session.commit()

        codes = [s["service_code"] for s in client.get(f"{BASE}/services.json").json()]

        assert GARBAGE not in codes
        assert client.get(f"{BASE}/services/{GARBAGE}.json").status_code == 404


class TestServiceDefinition:
    def test_json_has_every_attribute_field(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.get(f"{BASE}/services/{VENDING}.json")

        assert response.status_code == 200
        body = response.json()
        assert body["service_code"] == VENDING
        stalls, blocking = body["attributes"]
        assert stalls == {
            "variable": True,
            "code": "stall_count",
            "datatype": "number",
            "required": False,
            "datatype_description": "填写整数",
            "order": 1,
            "description": "摊位数量",
            "values": [],
        }
        assert blocking["datatype"] == "singlevaluelist"
        assert blocking["required"] is True
        assert blocking["values"] == [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}]

    def test_xml_nests_attributes_and_values(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        root = xml_of(client.get(f"{BASE}/services/{VENDING}.xml"))

        assert root.tag == "service_definition"
        assert root.findtext("service_code") == VENDING
        attributes = root.findall("attributes/attribute")
        assert [a.findtext("code") for a in attributes] == ["stall_count", "blocking"]
        assert attributes[1].findtext("required") == "true"
        keys = [v.findtext("key") for v in attributes[1].findall("values/value")]
        assert keys == ["yes", "no"]

    def test_a_category_without_attributes_has_an_empty_list(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        body = client.get(f"{BASE}/services/{GARBAGE}.json").json()

        assert body == {"service_code": GARBAGE, "attributes": []}

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_an_unknown_service_code_is_404_with_the_error_body(
        self, client: TestClient, world: ComplaintWorld, fmt: str
    ) -> None:
        response = client.get(f"{BASE}/services/NOPE.{fmt}")

        assert response.status_code == 404
        errors = json_errors(response) if fmt == "json" else xml_errors(response)
        assert errors == [
            (404 if fmt == "json" else "404", "本辖区没有 service_code 为 NOPE 的服务。")
        ]


class TestFormatsAndUnknownResources:
    def test_an_unsupported_format_is_404_in_the_xml_error_body(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.get(f"{BASE}/services.html")

        assert response.status_code == 404
        assert xml_errors(response) == [("404", "不支持的格式 html：请使用 .json 或 .xml。")]

    def test_an_unknown_resource_is_404_in_the_format_its_name_asks_for(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.get(f"{BASE}/complaints.json")

        assert response.status_code == 404
        assert json_errors(response) == [(404, "没有 Open311 资源 complaints.json。")]

    def test_a_post_to_an_unknown_resource_is_404_too(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.post(f"{BASE}/services.xml", data={"api_key": "x"})

        assert response.status_code == 404
        assert xml_errors(response)[0][0] == "404"

    def test_errors_are_in_english_when_the_client_asks(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.get(f"{BASE}/services/NOPE.json", headers={"Accept-Language": "en-GB"})

        assert json_errors(response) == [(404, "service_code NOPE is not a service here.")]


class TestJurisdiction:
    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_an_unknown_jurisdiction_is_404(
        self, client: TestClient, world: ComplaintWorld, fmt: str
    ) -> None:
        response = client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "110101"})

        assert response.status_code == 404
        errors = json_errors(response) if fmt == "json" else xml_errors(response)
        assert [text for _, text in errors] == ["本接口不服务 jurisdiction_id 110101。"]

    def test_the_own_district_code_is_accepted(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        response = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "510184"})

        assert response.status_code == 200
        assert len(response.json()) == 4

    def test_with_two_districts_the_jurisdiction_is_required(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        factories.district(session, "510104", "锦江区（演示）")
        session.commit()

        missing = client.get(f"{BASE}/services.json")
        given = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "510104"})

        assert missing.status_code == 400
        assert json_errors(missing) == [(400, "本接口服务多个区县，须提供 jurisdiction_id。")]
        assert given.status_code == 200
        assert given.json() == []  # the other district has no categories


class TestOneRequest:
    def test_json_is_an_array_of_one_request(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        row = complaint(
            session,
            world,
            VENDING,
            status=ComplaintStatus.DISPATCHED,
            received_at=now - timedelta(minutes=30),
            feedback_due=now + timedelta(minutes=90),
        )
        step(
            session,
            row,
            "received",
            at=now - timedelta(minutes=30),
            status=ComplaintStatus.RECEIVED,
        )
        step(session, row, "dispatched", at=now - timedelta(minutes=20), note="已派李明、王芳前往")
        session.commit()

        response = client.get(f"{BASE}/requests/{row.tracking_no}.json")

        assert response.status_code == 200
        (item,) = response.json()
        assert item["service_request_id"] == row.tracking_no
        assert item["status"] == "open"
        assert item["status_notes"] == "已派遣：已派李明、王芳前往"
        assert item["service_code"] == VENDING
        assert item["service_name"] == "占道经营"
        assert item["agency_responsible"] == world.chengguan.name
        assert item["description"] == "路口有流动摊贩占道经营"
        assert item["address"] == "崇州市唐安西路 1 号"
        assert item["lat"] == pytest.approx(row.lat)
        assert item["long"] == pytest.approx(row.lon)
        assert item["requested_datetime"].endswith("+08:00")
        assert item["expected_datetime"].endswith("+08:00")
        assert item["updated_datetime"] != item["requested_datetime"]
        assert item["service_notice"].startswith("将于 ")
        assert "extended_attributes" not in item

    def test_xml_has_the_same_request(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(session, world, VENDING)
        session.commit()

        root = xml_of(client.get(f"{BASE}/requests/{row.tracking_no}.xml"))

        assert root.tag == "service_requests"
        (request,) = root.findall("request")
        assert request.findtext("service_request_id") == row.tracking_no
        assert request.findtext("status") == "open"
        assert request.findtext("status_notes") == "已受理"
        assert float(request.findtext("long") or 0) == pytest.approx(row.lon)

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_an_unknown_request_is_404(
        self, client: TestClient, world: ComplaintWorld, fmt: str
    ) -> None:
        response = client.get(f"{BASE}/requests/TS-NOPE.{fmt}")

        assert response.status_code == 404
        errors = json_errors(response) if fmt == "json" else xml_errors(response)
        assert [text for _, text in errors] == ["本辖区没有 service_request_id 为 TS-NOPE 的诉求。"]

    def test_extensions_carry_the_richer_status(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(session, world, VENDING, status=ComplaintStatus.ON_SCENE)
        session.commit()

        (item,) = client.get(
            f"{BASE}/requests/{row.tracking_no}.json", params={"extensions": "true"}
        ).json()

        assert item["extended_attributes"] == {
            "zhifa_status": "on_scene",
            "zhifa_status_label": "执法队员已到场",
            "hotline_type": "complaint",
            "priority": "normal",
            "channel": "web",
        }

    def test_a_transferred_request_is_closed_and_names_the_agency(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(
            session,
            world,
            FOOD,
            status=ComplaintStatus.TRANSFERRED,
            department_id=None,
            transfer_to="崇州市市场监督管理局",
        )
        step(session, row, "transferred", at=utcnow(), note="食品安全不属本局职权")
        session.commit()

        (item,) = client.get(f"{BASE}/requests/{row.tracking_no}.json").json()

        assert item["status"] == "closed"
        assert item["agency_responsible"] == "崇州市市场监督管理局"
        assert item["service_notice"] == "已转交崇州市市场监督管理局办理。"
        assert item["status_notes"] == "已转办：食品安全不属本局职权"

    def test_a_closed_request_shows_the_answer_given(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(
            session, world, VENDING, status=ComplaintStatus.CLOSED, answer="摊贩已劝离，路口已畅通"
        )
        closed = step(session, row, "closed", at=utcnow(), note="")
        session.commit()

        (item,) = client.get(f"{BASE}/requests/{row.tracking_no}.json").json()

        assert item["status"] == "closed"
        assert item["status_notes"] == "已结案：摊贩已劝离，路口已畅通"
        assert item["service_notice"] == ""
        assert item["updated_datetime"] == w3c(closed.at)

    def test_the_reporter_is_never_shown(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(
            session,
            world,
            VENDING,
            anonymous=False,
            reporter_name_cipher="CIPHER-NAME-MARK",
            reporter_phone_cipher="CIPHER-PHONE-MARK",
            reporter_email_cipher="CIPHER-MAIL-MARK",
            reporter_masked="张*",
            reporter_phone_digest="DIGEST-MARK",
        )
        session.commit()

        for fmt in ("json", "xml"):
            text = client.get(
                f"{BASE}/requests/{row.tracking_no}.{fmt}", params={"extensions": "true"}
            ).text
            for mark in ("CIPHER", "张*", "DIGEST-MARK"):
                assert mark not in text


class TestTokens:
    def test_json_resolves_a_token_to_its_request(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(session, world, VENDING)
        session.commit()

        response = client.get(f"{BASE}/tokens/{row.token}.json")

        assert response.status_code == 200
        assert response.json() == [{"service_request_id": row.tracking_no, "token": row.token}]

    def test_xml_resolves_a_token_to_its_request(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(session, world, VENDING)
        session.commit()

        root = xml_of(client.get(f"{BASE}/tokens/{row.token}.xml"))

        assert root.findtext("request/service_request_id") == row.tracking_no
        assert root.findtext("request/token") == row.token

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_an_unknown_token_is_404(
        self, client: TestClient, world: ComplaintWorld, fmt: str
    ) -> None:
        response = client.get(f"{BASE}/tokens/no-such-token.{fmt}")

        assert response.status_code == 404
        errors = json_errors(response) if fmt == "json" else xml_errors(response)
        assert [text for _, text in errors] == ["未知的 token no-such-token。"]
