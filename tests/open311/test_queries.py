"""GET requests (filters, the 90-day window, the 1,000 cap) and GET servicerequestupdates."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.complaints.world import GARBAGE, VENDING, ComplaintWorld, complaint_world
from tests.open311.helpers import BASE, complaint, json_errors, step, xml_errors, xml_of
from zhifa.kit.clock import SHANGHAI, utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintMedia,
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
    MediaRole,
)
from zhifa.models.inspections import Blob


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def w3(value: datetime) -> str:
    return value.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def ids(response_json: list[dict[str, object]]) -> list[object]:
    return [item["service_request_id"] for item in response_json]


class TestRequestFilters:
    def test_newest_first_within_the_last_90_days_by_default(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        old = complaint(session, world, VENDING, received_at=now - timedelta(days=91))
        older = complaint(session, world, VENDING, received_at=now - timedelta(days=10))
        newer = complaint(session, world, GARBAGE, received_at=now - timedelta(hours=2))
        session.commit()

        found = ids(client.get(f"{BASE}/requests.json").json())

        assert found == [newer.tracking_no, older.tracking_no]
        assert old.tracking_no not in found

    def test_status_open_and_closed(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        open_ = complaint(session, world, VENDING, status=ComplaintStatus.TAKEN)
        closed = complaint(session, world, VENDING, status=ComplaintStatus.CLOSED)
        merged = complaint(session, world, VENDING, status=ComplaintStatus.MERGED)
        session.commit()

        only_open = ids(client.get(f"{BASE}/requests.json", params={"status": "open"}).json())
        only_closed = ids(client.get(f"{BASE}/requests.json", params={"status": "closed"}).json())
        both = ids(client.get(f"{BASE}/requests.json", params={"status": "open,closed"}).json())

        assert only_open == [open_.tracking_no]
        assert set(only_closed) == {closed.tracking_no, merged.tracking_no}
        assert len(both) == 3

    def test_a_wrong_status_is_400(self, client: TestClient, world: ComplaintWorld) -> None:
        response = client.get(f"{BASE}/requests.json", params={"status": "open,fixed"})

        assert response.status_code == 400
        assert json_errors(response) == [(400, "status 须为 open 或 closed，不能是 fixed。")]

    def test_service_codes_as_a_comma_list(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        vending = complaint(session, world, VENDING)
        garbage = complaint(session, world, GARBAGE)
        session.commit()

        one = ids(client.get(f"{BASE}/requests.json", params={"service_code": GARBAGE}).json())
        two = ids(
            client.get(
                f"{BASE}/requests.json", params={"service_code": f"{VENDING},{GARBAGE}"}
            ).json()
        )

        assert one == [garbage.tracking_no]
        assert set(two) == {vending.tracking_no, garbage.tracking_no}

    def test_service_request_ids_override_every_other_filter(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        ancient = complaint(session, world, VENDING, received_at=now - timedelta(days=400))
        open_ = complaint(session, world, VENDING, status=ComplaintStatus.FILED)
        complaint(session, world, GARBAGE)
        session.commit()

        found = ids(
            client.get(
                f"{BASE}/requests.json",
                params={
                    "service_request_id": f"{ancient.tracking_no},{open_.tracking_no},TS-NONE",
                    "service_code": GARBAGE,
                    "status": "closed",
                    "start_date": w3(now - timedelta(days=2)),
                    "end_date": w3(now),
                },
            ).json()
        )

        assert found == [open_.tracking_no, ancient.tracking_no]

    def test_a_citizen_photo_is_linked_on_the_public_page(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        row = complaint(session, world, VENDING, media_urls=["https://platform.example/p/1.jpg"])
        bare = complaint(session, world, GARBAGE, media_urls=["https://platform.example/p/2.jpg"])
        sha = hashlib.sha256(b"photo").hexdigest()
        session.add(Blob(sha256=sha, sm3=sha, size=5, media_type="image/jpeg"))
        session.flush()
        media = ComplaintMedia(
            district_code=world.district_code,
            complaint_id=row.id,
            sha256=sha,
            role=MediaRole.REPORT,
            media_type="image/jpeg",
            size=5,
        )
        session.add(media)
        session.commit()

        items = {i["service_request_id"]: i for i in client.get(f"{BASE}/requests.json").json()}

        assert items[row.tracking_no]["media_url"] == (
            f"http://127.0.0.1:8000/c/media/{row.tracking_no}/{media.id}"
        )
        assert items[bare.tracking_no]["media_url"] == "https://platform.example/p/2.jpg"

    def test_xml_lists_one_request_element_each(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        first = complaint(session, world, VENDING, received_at=utcnow() - timedelta(hours=3))
        second = complaint(session, world, GARBAGE, received_at=utcnow() - timedelta(hours=1))
        session.commit()

        root = xml_of(client.get(f"{BASE}/requests.xml"))

        assert root.tag == "service_requests"
        found = [r.findtext("service_request_id") for r in root.findall("request")]
        assert found == [second.tracking_no, first.tracking_no]
        assert root.find("request/requested_datetime").text.endswith("+08:00")  # type: ignore[union-attr]


class TestDateWindow:
    def test_a_range_within_90_days_selects_by_reception_time(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        inside = complaint(session, world, VENDING, received_at=now - timedelta(days=100))
        complaint(session, world, VENDING, received_at=now - timedelta(days=200))
        complaint(session, world, VENDING, received_at=now - timedelta(days=5))
        session.commit()

        found = ids(
            client.get(
                f"{BASE}/requests.json",
                params={
                    "start_date": w3(now - timedelta(days=120)),
                    "end_date": w3(now - timedelta(days=31)),
                },
            ).json()
        )

        assert found == [inside.tracking_no]

    @pytest.mark.parametrize("fmt", ["json", "xml"])
    def test_more_than_90_days_is_400(
        self, client: TestClient, world: ComplaintWorld, fmt: str
    ) -> None:
        response = client.get(
            f"{BASE}/requests.{fmt}",
            params={"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-04-02T00:00:00Z"},
        )

        assert response.status_code == 400
        errors = json_errors(response) if fmt == "json" else xml_errors(response)
        assert [text for _, text in errors] == ["查询的时间范围最长为 90 天。"]

    def test_exactly_90_days_is_allowed(self, client: TestClient, world: ComplaintWorld) -> None:
        response = client.get(
            f"{BASE}/requests.json",
            params={
                "start_date": "2026-01-01T00:00:00+08:00",
                "end_date": "2026-04-01T00:00:00+08:00",
            },
        )

        assert response.status_code == 200

    def test_a_bad_date_or_a_reversed_range_is_400(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        bad = client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"})
        reversed_ = client.get(
            f"{BASE}/requests.json",
            params={"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
        )

        assert bad.status_code == 400
        assert json_errors(bad) == [
            (400, "start_date 不是 ISO 8601 格式的日期时间（例如 2026-11-29T09:55:00+08:00）。")
        ]
        assert reversed_.status_code == 400
        assert json_errors(reversed_) == [(400, "end_date 早于 start_date。")]


class TestTheCap:
    def test_at_most_1000_requests_newest_first(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        category = world.categories[VENDING]
        rows = [
            {
                "district_code": world.district_code,
                "tracking_no": f"TS-BULK-{n:05d}",
                "token": str(uuid.uuid4()),
                "source": ComplaintSource.IMPORT,
                "category_id": category.id,
                "hotline_type": HotlineType.COMPLAINT,
                "status": ComplaintStatus.RECEIVED,
                "received_at": now - timedelta(minutes=n),
                "attributes": {},
                "media_urls": [],
                "officer_ids": [],
            }
            for n in range(1, 1006)
        ]
        session.execute(insert(Complaint), rows)
        session.commit()

        found = ids(client.get(f"{BASE}/requests.json").json())

        assert len(found) == 1000
        assert found[0] == "TS-BULK-00001"
        assert found[-1] == "TS-BULK-01000"


class TestServiceRequestUpdates:
    def test_json_lists_the_public_steps_oldest_first(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        row = complaint(session, world, VENDING, status=ComplaintStatus.CLOSED)
        received = step(
            session, row, "received", at=now - timedelta(hours=2), status=ComplaintStatus.RECEIVED
        )
        step(
            session,
            row,
            "taken",
            at=now - timedelta(hours=1, minutes=50),
            status=ComplaintStatus.TAKEN,
            public=False,
        )
        closed = step(
            session,
            row,
            "closed",
            at=now - timedelta(hours=1),
            status=ComplaintStatus.CLOSED,
            note="摊贩已劝离",
        )
        session.commit()

        response = client.get(
            f"{BASE}/servicerequestupdates.json",
            params={"start_date": w3(now - timedelta(days=1)), "end_date": w3(now)},
        )

        assert response.status_code == 200
        assert response.json() == [
            {
                "update_id": str(received.id),
                "service_request_id": row.tracking_no,
                "status": "open",
                "updated_datetime": w3(received.at),
                "description": "已受理",
                "media_url": "",
                "external_status_code": "received",
            },
            {
                "update_id": str(closed.id),
                "service_request_id": row.tracking_no,
                "status": "closed",
                "updated_datetime": w3(closed.at),
                "description": "已结案：摊贩已劝离",
                "media_url": "",
                "external_status_code": "closed",
            },
        ]

    def test_xml_has_request_update_elements(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        row = complaint(session, world, VENDING)
        step(session, row, "received", at=now - timedelta(minutes=5))
        session.commit()

        root = xml_of(
            client.get(
                f"{BASE}/servicerequestupdates.xml",
                params={"start_date": w3(now - timedelta(hours=1)), "end_date": w3(now)},
            )
        )

        assert root.tag == "service_request_updates"
        (update,) = root.findall("request_update")
        assert update.findtext("service_request_id") == row.tracking_no
        assert update.findtext("status") == "open"

    def test_both_dates_are_required(self, client: TestClient, world: ComplaintWorld) -> None:
        response = client.get(f"{BASE}/servicerequestupdates.xml")

        assert response.status_code == 400
        assert xml_errors(response) == [
            ("400", "缺少 start_date。"),
            ("400", "缺少 end_date。"),
        ]

    def test_more_than_90_days_is_400(self, client: TestClient, world: ComplaintWorld) -> None:
        response = client.get(
            f"{BASE}/servicerequestupdates.json",
            params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        )

        assert response.status_code == 400
        assert json_errors(response) == [(400, "查询的时间范围最长为 90 天。")]

    def test_steps_outside_the_window_are_left_out(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        now = utcnow()
        row = complaint(session, world, VENDING)
        step(session, row, "received", at=now - timedelta(days=3))
        session.commit()

        response = client.get(
            f"{BASE}/servicerequestupdates.json",
            params={"start_date": w3(now - timedelta(days=1)), "end_date": w3(now)},
        )

        assert response.json() == []
