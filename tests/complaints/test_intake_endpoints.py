"""The intake JSON API: hotline entry (201 with possible duplicates, exactly once with a client
UUID), the list in the data scope with its filters, the detail with the timeline in Chinese,
photos and duplicates, and merging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.complaints.test_intake_helpers import (
    TRACKING_PATTERN,
    counts,
    headers,
    jpeg,
    new_uuid,
    payload,
    take_in,
)
from tests.complaints.world import (
    CONSULT,
    FOOD,
    IN_WG01,
    IN_WG02,
    ComplaintWorld,
    complaint_world,
)
from zhifa.complaints import media
from zhifa.config import Settings
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintSource, MediaRole, SlaState

NEAR = (IN_WG01[0], IN_WG01[1] + 0.0004)


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


class TestHotlineEntry:
    def test_a_complaint_is_created_and_answered_with_201(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.post(
            "/api/v1/complaints", json=payload(), headers=headers(session, world.dispatcher)
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert TRACKING_PATTERN.fullmatch(body["tracking_no"])
        assert body["status"] == "received"
        assert body["status_label"] == "已受理"
        assert body["is_open"] is True
        assert body["source"] == "hotline"
        assert body["category_code"] == "JMZX-ZDJY"
        assert body["category_name"] == "占道经营"
        assert body["unit_id"] == world.field.squad.id
        assert body["reporter_masked"] == "匿名"
        assert body["created"] is True
        assert body["duplicates"] == []
        assert "token" not in body
        row = session.get(Complaint, body["id"])
        assert row is not None
        assert row.source == ComplaintSource.HOTLINE

    def test_possible_duplicates_come_with_the_answer(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        first = take_in(session, world, settings).complaint
        session.commit()

        response = client.post(
            "/api/v1/complaints",
            json=payload(lon=NEAR[0], lat=NEAR[1]),
            headers=headers(session, world.dispatcher),
        )

        [candidate] = response.json()["duplicates"]
        assert candidate["tracking_no"] == first.tracking_no
        assert 40 < candidate["distance_m"] < 50

    def test_a_refusal_is_422_in_chinese_with_the_field_and_nothing_written(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        auth = headers(session, world.dispatcher)
        before = counts(session)

        response = client.post(
            "/api/v1/complaints", json=payload(reporter_phone="12345"), headers=auth
        )

        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert error["detail"] == {"field": "reporter_phone"}
        assert error["message"].startswith("电话号码 12345 既不是大陆手机号码")
        assert counts(session) == before

    def test_a_missing_required_answer_names_the_question(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.post(
            "/api/v1/complaints",
            json=payload(attributes={}),
            headers=headers(session, world.dispatcher),
        )

        assert response.status_code == 422
        assert response.json()["error"]["message"] == "「是否阻碍通行」为必填项。"

    def test_a_field_officer_cannot_enter_complaints(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        before = counts(session)

        response = client.post(
            "/api/v1/complaints", json=payload(), headers=headers(session, world.officer)
        )

        assert response.status_code == 403
        assert counts(session)[:3] == before[:3]


class TestHotlineEntryOnce:
    def test_a_retry_with_the_same_uuid_gets_the_first_answer(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        auth = headers(session, world.dispatcher)
        body = payload() | {"client_uuid": new_uuid()}

        first = client.post("/api/v1/complaints", json=body, headers=auth)
        again = client.post("/api/v1/complaints", json=body, headers=auth)

        assert first.status_code == 201, first.text
        assert again.status_code == 201
        assert again.json() == first.json()
        assert counts(session)[0] == 1

    def test_other_content_under_the_same_uuid_is_409(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        auth = headers(session, world.dispatcher)
        key = new_uuid()
        client.post("/api/v1/complaints", json=payload() | {"client_uuid": key}, headers=auth)
        before = counts(session)

        response = client.post(
            "/api/v1/complaints",
            json=payload(description="另一件事") | {"client_uuid": key},
            headers=auth,
        )

        assert response.status_code == 409
        assert counts(session) == before


class TestList:
    @pytest.fixture
    def filed(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> dict[str, Complaint]:
        rows = {
            "old": take_in(
                session,
                world,
                settings,
                received_at=utcnow() - timedelta(days=3),
                description="老旧投诉 建设路",
            ).complaint,
            "wg02": take_in(session, world, settings, lon=IN_WG02[0], lat=IN_WG02[1]).complaint,
            "food": take_in(session, world, settings, category_code=FOOD, attributes={}).complaint,
            "consult": take_in(
                session,
                world,
                settings,
                category_code=CONSULT,
                attributes={},
                address="永康路 5 号",
            ).complaint,
        }
        rows["consult"].sla_state = SlaState.OVERDUE
        session.commit()
        return rows

    def ids(self, client: TestClient, auth: dict[str, str], **params: object) -> list[int]:
        response = client.get("/api/v1/complaints", params=params, headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"]) or "limit" in params
        return [item["id"] for item in body["items"]]

    def test_the_dispatcher_sees_all_newest_first(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        filed: dict[str, Complaint],
    ) -> None:
        auth = headers(session, world.dispatcher)

        assert self.ids(client, auth) == [
            filed["consult"].id,
            filed["food"].id,
            filed["wg02"].id,
            filed["old"].id,
        ]

    def test_a_squad_officer_sees_only_the_squads_complaints(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        filed: dict[str, Complaint],
    ) -> None:
        assert self.ids(client, headers(session, world.field.outsider)) == [filed["wg02"].id]
        assert filed["wg02"].id not in self.ids(client, headers(session, world.officer))

    def test_filters(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        filed: dict[str, Complaint],
    ) -> None:
        auth = headers(session, world.dispatcher)

        assert self.ids(client, auth, status="transferred") == [filed["food"].id]
        assert self.ids(client, auth, status="transferred,merged") == [filed["food"].id]
        assert self.ids(client, auth, category=CONSULT) == [filed["consult"].id]
        assert self.ids(client, auth, sla_state="overdue") == [filed["consult"].id]
        assert filed["food"].id not in self.ids(client, auth, open="true")
        assert self.ids(client, auth, open="false") == [filed["food"].id]
        assert self.ids(client, auth, q="建设路") == [filed["old"].id]
        assert self.ids(client, auth, q="永康") == [filed["consult"].id]
        assert self.ids(client, auth, q=filed["wg02"].tracking_no[-6:]) == [filed["wg02"].id]
        assert self.ids(client, auth, q="100%") == []

    def test_paging_keeps_the_total(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        filed: dict[str, Complaint],
    ) -> None:
        response = client.get(
            "/api/v1/complaints",
            params={"limit": 2, "offset": 1},
            headers=headers(session, world.dispatcher),
        )

        body = response.json()
        assert body["total"] == 4
        assert [i["id"] for i in body["items"]] == [filed["food"].id, filed["wg02"].id]

    def test_an_unknown_status_is_422(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.get(
            "/api/v1/complaints",
            params={"status": "done"},
            headers=headers(session, world.dispatcher),
        )

        assert response.status_code == 422
        assert response.json()["error"]["detail"] == {"field": "status"}


class TestDetail:
    def test_the_detail_has_the_timeline_in_chinese_photos_and_duplicates(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint
        near = take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).complaint
        photo = media.add_media(
            session,
            complaint=row,
            role=MediaRole.REPORT,
            content=jpeg(),
            officer_id=None,
            client_uuid=None,
            settings=settings,
        )
        session.commit()

        response = client.get(
            f"/api/v1/complaints/{row.id}", headers=headers(session, world.dispatcher)
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert [(e["kind"], e["kind_label"], e["public"]) for e in body["events"]] == [
            ("received", "投诉已受理", True),
            ("media_added", "投诉照片已添加", False),
        ]
        assert body["events"][0]["actor_name"] == "周敏"
        assert body["events"][0]["status_label"] == "已受理"
        assert [m["id"] for m in body["media"]] == [photo.id]
        assert body["media"][0]["role_label"] == "群众上传照片"
        assert [d["id"] for d in body["duplicates"]] == [near.id]
        assert isinstance(body["clocks"], list)

    def test_another_squads_officer_gets_404(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint
        session.commit()

        response = client.get(
            f"/api/v1/complaints/{row.id}", headers=headers(session, world.field.outsider)
        )

        assert response.status_code == 404
        assert response.json()["error"]["message"] == (
            f"投诉 {row.id} 不存在或不在您的数据权限范围内。"
        )

    def test_an_officer_dispatched_from_another_squad_sees_it(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint
        row.officer_ids = [world.field.outsider.id]
        session.commit()

        response = client.get(
            f"/api/v1/complaints/{row.id}", headers=headers(session, world.field.outsider)
        )

        assert response.status_code == 200


class TestMergeOverHttp:
    def test_the_dispatcher_merges_and_the_survivor_lists_it(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        survivor = take_in(session, world, settings).complaint
        duplicate = take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).complaint
        session.commit()
        auth = headers(session, world.dispatcher)

        merged = client.post(
            f"/api/v1/complaints/{duplicate.id}/merge",
            json={"into_id": survivor.id, "note": "同一摊点"},
            headers=auth,
        )
        detail = client.get(f"/api/v1/complaints/{survivor.id}", headers=auth).json()

        assert merged.status_code == 200, merged.text
        assert merged.json()["status"] == "merged"
        assert merged.json()["duplicate_of_id"] == survivor.id
        assert detail["merged"] == [duplicate.tracking_no]
        assert detail["duplicates"] == []

    def test_a_field_officer_cannot_merge(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        survivor = take_in(session, world, settings).complaint
        duplicate = take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).complaint
        session.commit()
        before = counts(session)

        response = client.post(
            f"/api/v1/complaints/{duplicate.id}/merge",
            json={"into_id": survivor.id},
            headers=headers(session, world.officer),
        )

        assert response.status_code == 403
        assert counts(session)[:3] == before[:3]
