"""Real Open311 clients against the server running on 127.0.0.1 (uvicorn in a thread):

- ``georeport`` (PyPI, the maintained Python GeoReport v2 client; reads only), in JSON and XML;
- FixMyStreet's client, whose calls are written here exactly as ``perllib/Open311.pm`` makes them
  (Perl cannot run here): the same paths (``requests.xml``, ``servicerequestupdates.xml``), the
  same form fields (``_populate_service_request_params``, ``_populate_service_request_update_
  params``, ``jurisdiction_id`` and ``api_key`` added by ``_request``), and the same reading of
  the XML (``XML::Simple`` with ``ForceArray`` on ``request``, ``request_update``, ``error`` …:
  ``$obj->{request}->[0]->{service_request_id}``).
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.complaints.world import GARBAGE, IN_WG01, VENDING, ComplaintWorld, complaint_world
from tests.open311.helpers import complaint, integration, step
from zhifa.config import Settings
from zhifa.kit.clock import SHANGHAI, utcnow
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintStatus

JURISDICTION = "510184"


@dataclass(frozen=True)
class Live:
    endpoint: str  # …/open311/v2/ (FixMyStreet keeps the trailing slash and appends paths)
    api_key: str
    world: ComplaintWorld


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live(app: FastAPI, session: Session, settings: Settings) -> Iterator[Live]:
    world = complaint_world(session)
    _, api_key = integration(session, settings, world.district_code)
    session.commit()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}/open311/v2/", api_key, world)
    server.should_exit = True
    thread.join(timeout=10)


def w3cdtf(minutes_ago: int = 0) -> str:
    """DateTime::Format::W3CDTF's form, as FixMyStreet sends its times."""
    moment = utcnow() - timedelta(minutes=minutes_ago)
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


class TestGeoReportLibrary:
    @pytest.fixture
    def georeport(self) -> Any:
        return pytest.importorskip("georeport")

    def test_it_reads_services_definitions_and_requests_in_json(
        self, live: Live, session: Session, georeport: Any
    ) -> None:
        row = complaint(session, live.world, VENDING, status=ComplaintStatus.DISPATCHED)
        session.commit()
        client = georeport.GeoReport(live.endpoint, jurisdiction=JURISDICTION)

        services = client.get_service_list()
        definition = client.get_service_definition(VENDING)
        requests = client.get_service_requests(status="open")
        one = client.get_service_request(row.tracking_no)

        assert [s["service_code"] for s in services][:2] == [VENDING, GARBAGE]
        assert [a["code"] for a in definition["attributes"]] == ["stall_count", "blocking"]
        assert [r["service_request_id"] for r in requests] == [row.tracking_no]
        assert one["status"] == "open"
        assert one["status_notes"] == "已派遣"

    def test_it_reads_the_same_in_xml(self, live: Live, session: Session, georeport: Any) -> None:
        first = complaint(session, live.world, VENDING, received_at=utcnow() - timedelta(hours=2))
        second = complaint(session, live.world, GARBAGE, received_at=utcnow() - timedelta(hours=1))
        session.commit()
        client = georeport.GeoReport(live.endpoint, jurisdiction=JURISDICTION, output_format="xml")

        services = client.get_service_list()
        definition = client.get_service_definition(VENDING)
        requests = client.get_service_requests(service_code=f"{VENDING},{GARBAGE}")
        one = client.get_service_request(first.tracking_no)

        assert services[0]["service_code"] == VENDING
        assert services[0]["metadata"] == "true"
        attributes = definition["attributes"]["attribute"]
        assert [a["code"] for a in attributes] == ["stall_count", "blocking"]
        assert [v["key"] for v in attributes[1]["values"]["value"]] == ["yes", "no"]
        assert [r["service_request_id"] for r in requests] == [
            second.tracking_no,
            first.tracking_no,
        ]
        assert one["service_request_id"] == first.tracking_no


class FixMyStreet:
    """FixMyStreet's ``Open311`` object: endpoint, jurisdiction and api_key of a body."""

    GROUP_TAGS = ("service", "attribute", "value", "request", "error", "request_update")

    def __init__(self, endpoint: str, jurisdiction: str, api_key: str) -> None:
        self.endpoint, self.jurisdiction, self.api_key = endpoint, jurisdiction, api_key
        self.error = ""

    def _request(self, method: str, path: str, params: dict[str, Any]) -> str | None:
        params = dict(params)
        if self.jurisdiction:
            params["jurisdiction_id"] = self.jurisdiction
        if method == "POST" and self.api_key:
            params["api_key"] = self.api_key
        url = self.endpoint + path
        body = urllib.parse.urlencode(params, doseq=True)
        if method == "GET":
            request = urllib.request.Request(f"{url}?{body}")
        else:
            request = urllib.request.Request(url, data=body.encode(), method="POST")
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text: str = response.read().decode("utf-8")
                return text
        except urllib.error.HTTPError as exc:
            self.error = f"{exc.code}: " + self._process_error(exc.read().decode("utf-8"))
            return None

    def _xml(self, text: str) -> dict[str, Any]:
        """XML::Simple with ForceArray on the group tags and GroupTags folding (approximately)."""

        def value(element: ET.Element) -> Any:
            if len(element) == 0:
                return element.text or ""
            folded: dict[str, Any] = {}
            for child in element:
                item = value(child)
                if child.tag in self.GROUP_TAGS:
                    folded.setdefault(child.tag, []).append(item)
                elif len(child) and child[0].tag in self.GROUP_TAGS:
                    folded[child.tag] = item[child[0].tag]  # GroupTags: <values><value>…
                else:
                    folded[child.tag] = item
            return folded

        parsed: dict[str, Any] = value(ET.fromstring(text.encode("utf-8")))
        return parsed

    def _process_error(self, text: str) -> str:
        obj = self._xml(text)
        return "".join(f"{e['code']}: {e['description']}\n" for e in obj.get("error", []))

    def send_service_request(self, params: dict[str, Any]) -> str | int:
        response = self._request("POST", "requests.xml", params)
        if response:
            obj = self._xml(response)
            request = obj["request"][0]
            if request.get("service_request_id"):
                return str(request["service_request_id"])
        return 0

    def get_service_requests(self, args: dict[str, str]) -> list[dict[str, Any]]:
        response = self._request("GET", "requests.xml", args)
        assert response is not None, self.error
        requests: list[dict[str, Any]] = self._xml(response).get("request", [])
        return requests

    def get_service_request_updates(self, start: str, end: str) -> list[dict[str, Any]]:
        params = {"api_key": self.api_key, "start_date": start, "end_date": end}
        response = self._request("GET", "servicerequestupdates.xml", params)
        assert response is not None, self.error
        updates: list[dict[str, Any]] = self._xml(response).get("request_update", [])
        return updates

    def post_service_request_update(self, params: dict[str, Any]) -> str | int:
        response = self._request("POST", "servicerequestupdates.xml", params)
        if response:
            update = self._xml(response)["request_update"][0]
            if update.get("update_id"):
                return str(update["update_id"])
        return 0


def report_params(**extra: Any) -> dict[str, Any]:
    """``_populate_service_request_params`` of a FixMyStreet report (extended description on)."""
    params: dict[str, Any] = {
        "description": "路口摊贩\n\n唐安西路口流动摊贩占道经营\n\nhttps://fms.example/report/42\n",
        "service_code": VENDING,
        "first_name": "Fang",
        "last_name": "Wang",
        "phone": "13800138000",
        "email": "fang@example.com",
        "lat": f"{IN_WG01[1]:.6f}",
        "long": f"{IN_WG01[0]:.6f}",
        "media_url": "https://fms.example/photo/42.0.full.jpeg",
        "attribute[stall_count]": "2",
        "attribute[blocking]": "yes",
        # Extras FixMyStreet adds from the report, not in our service definition.
        "attribute[fixmystreet_id]": "42",
        "attribute[title]": "路口摊贩",
        "attribute[report_url]": "https://fms.example/report/42",
    }
    params.update(extra)
    return params


class TestFixMyStreetClient:
    def test_a_report_is_sent_and_its_id_read_back(self, live: Live, session: Session) -> None:
        fms = FixMyStreet(live.endpoint, JURISDICTION, live.api_key)

        external_id = fms.send_service_request(report_params())

        assert external_id, fms.error
        session.expire_all()
        row = session.scalars(select(Complaint)).one()
        assert row.tracking_no == external_id
        assert row.attributes == {"stall_count": 2, "blocking": "yes"}
        assert row.media_urls == ["https://fms.example/photo/42.0.full.jpeg"]

    def test_several_photos_go_as_repeated_media_url(self, live: Live, session: Session) -> None:
        fms = FixMyStreet(live.endpoint, JURISDICTION, live.api_key)
        photos = ["https://fms.example/photo/42.0.jpeg", "https://fms.example/photo/42.1.jpeg"]

        assert fms.send_service_request(report_params(media_url=photos)), fms.error

        session.expire_all()
        assert session.scalars(select(Complaint)).one().media_urls == photos

    def test_a_refused_report_gives_the_error_it_logs(self, live: Live, session: Session) -> None:
        fms = FixMyStreet(live.endpoint, JURISDICTION, "zi_revoked-key")

        assert fms.send_service_request(report_params()) == 0
        assert fms.error == "403: 403: api_key 无效，不能向本接口提交。\n"

    def test_fetching_updates_and_requests_in_the_last_hour(
        self, live: Live, session: Session
    ) -> None:
        fms = FixMyStreet(live.endpoint, JURISDICTION, live.api_key)
        external_id = fms.send_service_request(report_params())
        session.expire_all()
        row = session.scalars(select(Complaint)).one()
        step(session, row, "closed", at=utcnow(), status=ComplaintStatus.CLOSED, note="已劝离")
        row.status = ComplaintStatus.CLOSED
        session.commit()

        updates = fms.get_service_request_updates(w3cdtf(60), w3cdtf(-1))
        requests = fms.get_service_requests({"start_date": w3cdtf(60), "end_date": w3cdtf(-1)})

        assert [(u["service_request_id"], u["status"]) for u in updates] == [
            (external_id, "open"),
            (external_id, "closed"),
        ]
        assert updates[-1]["description"] == "已结案：已劝离"
        assert updates[-1]["external_status_code"] == "closed"
        (request,) = requests
        assert request["service_request_id"] == external_id
        assert request["status"] == "closed"
        assert float(request["lat"]) == pytest.approx(IN_WG01[1])
        assert request["updated_datetime"] >= request["requested_datetime"]

    def test_an_update_is_posted_and_its_id_read_back(self, live: Live, session: Session) -> None:
        row = complaint(session, live.world, VENDING)
        session.commit()
        fms = FixMyStreet(live.endpoint, JURISDICTION, live.api_key)
        params = {
            "updated_datetime": w3cdtf(),
            "service_request_id": row.tracking_no,
            "status": "OPEN",
            "description": "摊贩晚上又来了",
            "last_name": "Wang",
            "first_name": "Fang",
            "email": "fang@example.com",
            "update_id": "7001",
        }

        update_id = fms.post_service_request_update(params)

        assert update_id, fms.error
        session.expire_all()
        note = session.get(ComplaintEvent, int(update_id))
        assert note is not None
        assert (note.kind, note.public, note.note) == ("note", False, "摊贩晚上又来了")
