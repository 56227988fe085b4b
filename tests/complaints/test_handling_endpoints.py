"""The handling routes over HTTP with bearer tokens: who may call which step, every refusal's
status and Chinese message with nothing changed, exactly-once replays, and the caller's open
assignments (``GET /api/v1/me/complaints``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_handling_helpers import (
    dispatched,
    duty,
    fed_back,
    new_uuid,
    on_scene,
    photo,
    take_in,
    taken,
)
from tests.complaints.world import IN_WG01, IN_WG02, ComplaintWorld, complaint_world
from zhifa.config import Settings
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintEvent, MediaRole
from zhifa.models.inspections import SubmissionRecord
from zhifa.models.org import Officer
from zhifa.org.roles import Permission

M_PER_DEG_LAT = 111_195.0


@dataclass
class Api:
    client: TestClient
    session: Session
    world: ComplaintWorld

    def headers(self, who: Officer, scopes: list[Permission] | None = None) -> dict[str, str]:
        value = factories.bearer(self.session, who, scopes)
        self.session.commit()
        return value

    def post(self, who: Officer, complaint: Complaint, step: str, body: Any = None) -> Any:
        return self.client.post(
            f"/api/v1/complaints/{complaint.id}/{step}", json=body, headers=self.headers(who)
        )


@pytest.fixture
def api(client: TestClient, session: Session) -> Api:
    return Api(client, session, complaint_world(session))


def _events(session: Session, complaint: Complaint) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint.id)
        )
        or 0
    )


def _snapshot(session: Session, complaint: Complaint) -> tuple[str, int, list[int]]:
    session.expire_all()
    row = session.get(Complaint, complaint.id)
    assert row is not None
    return str(row.status), _events(session, complaint), list(row.officer_ids)


def _error(response: Any) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


class TestPermissions:
    def test_an_officer_cannot_take_a_command_centre_step(self, api: Api) -> None:
        complaint = take_in(api.session, api.world)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(api.world.officer, complaint, "file", {})

        assert _error(response) == (403, "permission_denied", "您的角色无权执行此操作。")
        assert _snapshot(api.session, complaint) == before

    def test_a_dispatcher_cannot_take_an_officers_step(self, api: Api) -> None:
        complaint = dispatched(api.session, api.world)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(api.world.dispatcher, complaint, "take", {"client_uuid": new_uuid()})

        assert response.status_code == 403
        assert _snapshot(api.session, complaint) == before

    def test_an_officer_not_dispatched_is_refused_with_a_reason(self, api: Api) -> None:
        complaint = dispatched(api.session, api.world)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(api.world.third, complaint, "take", {"client_uuid": new_uuid()})

        assert _error(response) == (403, "permission_denied", "该投诉未派遣给您。")
        assert _snapshot(api.session, complaint) == before

    def test_an_officer_of_another_squad_does_not_see_the_complaint(self, api: Api) -> None:
        complaint = dispatched(api.session, api.world)
        api.session.commit()

        response = api.post(
            api.world.field.outsider, complaint, "take", {"client_uuid": new_uuid()}
        )

        assert _error(response)[:2] == (404, "not_found")

    def test_the_verifier_needs_dispatch_or_handle_permission(
        self, api: Api, settings: Settings
    ) -> None:
        complaint = fed_back(api.session, api.world, settings)
        api.session.commit()
        narrow = api.headers(api.world.dispatcher, [Permission.COMPLAINTS_READ])

        response = api.client.post(
            f"/api/v1/complaints/{complaint.id}/verify", json={"passed": True}, headers=narrow
        )

        assert response.status_code == 403

    def test_anonymous_is_refused(self, api: Api) -> None:
        response = api.client.post("/api/v1/complaints/1/file", json={})

        assert response.status_code == 401


class TestRefusals:
    def test_a_step_the_status_does_not_allow_is_409(self, api: Api) -> None:
        complaint = take_in(api.session, api.world)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(api.world.dispatcher, complaint, "close", {"answer": "已处理"})

        assert _error(response) == (
            409,
            "step_not_allowed",
            "该投诉当前的状态不允许执行此步骤。请刷新页面查看最新状态。",
        )
        assert _snapshot(api.session, complaint) == before

    @pytest.mark.parametrize(
        ("step", "body", "field", "message"),
        [
            ("reject", {"reason": " "}, "reason", "请填写不予受理的理由。"),
            ("transfer", {"to": "", "reason": "不属本局"}, "to", "请填写转办的单位。"),
            ("transfer", {"to": "市场监管局", "reason": ""}, "reason", "请填写转办理由。"),
            (
                "dispatch",
                {"officer_ids": []},
                "officer_ids",
                "请至少选择一名派遣队员，主办人排在第一位。",
            ),
        ],
    )
    def test_a_missing_reason_is_422_and_changes_nothing(
        self, api: Api, step: str, body: dict[str, Any], field: str, message: str
    ) -> None:
        complaint = take_in(api.session, api.world)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(api.world.dispatcher, complaint, step, body)

        assert _error(response) == (422, "invalid_input", message)
        assert response.json()["error"]["detail"] == {"field": field}
        assert _snapshot(api.session, complaint) == before

    def test_a_decline_without_a_reason_is_422_and_keeps_the_officers(self, api: Api) -> None:
        complaint = taken(api.session, api.world)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(
            api.world.second, complaint, "decline", {"client_uuid": new_uuid(), "reason": ""}
        )

        assert _error(response) == (422, "invalid_input", "请填写拒单理由。")
        assert _snapshot(api.session, complaint) == before
        assert duty(api.session, api.world.second) == ("en_route", complaint.id)
        # Only the take's submission record: the refused decline left no claim behind.
        assert api.session.scalar(select(func.count()).select_from(SubmissionRecord)) == 1

    def test_an_arrival_too_far_away_says_how_far_and_changes_nothing(self, api: Api) -> None:
        complaint = taken(api.session, api.world)
        api.session.commit()
        before = _snapshot(api.session, complaint)
        body = {
            "client_uuid": new_uuid(),
            "lon": IN_WG01[0],
            "lat": IN_WG01[1] + 350 / M_PER_DEG_LAT,
            "accuracy_m": 20.0,
            "device_time": utcnow().isoformat(),
        }

        response = api.post(api.world.officer, complaint, "arrive", body)

        assert _error(response) == (422, "not_on_scene", "您距投诉地点约 350 米，未到达现场")
        detail = response.json()["error"]["detail"]
        assert detail["distance_m"] == pytest.approx(350, abs=1)
        assert detail["allowed_m"] == 170.0
        assert _snapshot(api.session, complaint) == before
        assert duty(api.session, api.world.officer) == ("en_route", complaint.id)

    def test_a_disposal_without_an_after_photo_is_422(self, api: Api, settings: Settings) -> None:
        complaint = on_scene(api.session, api.world)
        before_photo = photo(api.session, complaint, api.world.officer, MediaRole.BEFORE, settings)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(
            api.world.officer,
            complaint,
            "dispose",
            {"client_uuid": new_uuid(), "measure": "persuaded", "media_ids": [before_photo.id]},
        )

        assert _error(response) == (422, "invalid_input", "请至少上传一张处置后的照片。")
        assert _snapshot(api.session, complaint) == before

    def test_a_disposal_without_a_measure_is_422(self, api: Api) -> None:
        complaint = on_scene(api.session, api.world)
        api.session.commit()

        response = api.post(
            api.world.officer, complaint, "dispose", {"client_uuid": new_uuid(), "media_ids": []}
        )

        assert _error(response) == (422, "invalid_input", "请选择处置方式。")

    def test_feedback_without_a_result_is_422(self, api: Api, settings: Settings) -> None:
        complaint = on_scene(api.session, api.world)
        after = photo(api.session, complaint, api.world.officer, MediaRole.AFTER, settings)
        api.session.commit()
        ok = api.post(
            api.world.officer,
            complaint,
            "dispose",
            {"client_uuid": new_uuid(), "measure": "cleared", "media_ids": [after.id]},
        )
        assert ok.status_code == 200
        before = _snapshot(api.session, complaint)

        response = api.post(
            api.world.officer, complaint, "feedback", {"client_uuid": new_uuid(), "result": ""}
        )

        assert _error(response) == (422, "invalid_input", "请填写处置结果。")
        assert _snapshot(api.session, complaint) == before

    def test_a_handling_officer_verifying_is_403(self, api: Api, settings: Settings) -> None:
        complaint = fed_back(api.session, api.world, settings)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(api.world.officer, complaint, "verify", {"passed": True})

        assert _error(response) == (
            403,
            "permission_denied",
            "您是该投诉的处置人员，须由指挥中心或其他队员核查。",
        )
        assert _snapshot(api.session, complaint) == before

    def test_closing_before_verification_is_409(self, api: Api, settings: Settings) -> None:
        complaint = fed_back(api.session, api.world, settings)
        api.session.commit()
        before = _snapshot(api.session, complaint)

        response = api.post(api.world.dispatcher, complaint, "close", {"answer": "已处理"})

        assert _error(response) == (409, "not_verified", "处置结果尚未核查，请先核查再结案。")
        assert _snapshot(api.session, complaint) == before

    def test_unknown_fields_are_refused(self, api: Api) -> None:
        complaint = take_in(api.session, api.world)
        api.session.commit()

        response = api.post(api.world.dispatcher, complaint, "reject", {"reasons": "拼错了"})

        assert response.status_code == 422


class TestReplies:
    def test_a_command_step_answers_where_the_complaint_stands(self, api: Api) -> None:
        complaint = take_in(api.session, api.world)
        api.session.commit()
        officers = [api.world.officer.id]

        response = api.post(api.world.dispatcher, complaint, "dispatch", {"officer_ids": officers})

        assert response.status_code == 200
        body = response.json()
        assert body["complaint_id"] == complaint.id
        assert body["tracking_no"] == complaint.tracking_no
        assert (body["status"], body["status_label"], body["step"]) == (
            "dispatched",
            "已派遣",
            "dispatched",
        )
        assert body["officer_ids"] == officers
        assert "第四十二条" in body["notice"]

    def test_filing_needs_no_body(self, api: Api) -> None:
        complaint = take_in(api.session, api.world)
        api.session.commit()

        response = api.client.post(
            f"/api/v1/complaints/{complaint.id}/file", headers=api.headers(api.world.dispatcher)
        )

        assert (response.status_code, response.json()["status"]) == (200, "filed")

    def test_a_repeated_device_step_gets_the_same_answer(self, api: Api) -> None:
        complaint = dispatched(api.session, api.world)
        api.session.commit()
        body = {"client_uuid": new_uuid()}

        first = api.post(api.world.officer, complaint, "take", body)
        again = api.post(api.world.officer, complaint, "take", body)

        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        _, events, _ = _snapshot(api.session, complaint)
        assert events == 4  # received, filed, dispatched, taken

    def test_other_content_under_a_used_uuid_is_409(self, api: Api) -> None:
        complaint = taken(api.session, api.world)
        api.session.commit()
        key = new_uuid()
        first = api.post(
            api.world.officer, complaint, "decline", {"client_uuid": key, "reason": "车坏了"}
        )
        assert first.status_code == 200

        again = api.post(
            api.world.officer, complaint, "decline", {"client_uuid": key, "reason": "另有任务"}
        )

        assert again.status_code == 409


class TestMyComplaints:
    def test_the_phone_gets_its_open_assignments_with_what_it_needs(
        self, api: Api, settings: Settings
    ) -> None:
        mine = taken(api.session, api.world)
        before_photo = photo(api.session, mine, api.world.officer, MediaRole.BEFORE, settings)
        take_in(api.session, api.world, point=IN_WG02)  # not dispatched: not listed
        api.session.commit()

        response = api.client.get("/api/v1/me/complaints", headers=api.headers(api.world.second))

        assert response.status_code == 200
        [item] = response.json()
        assert item["complaint_id"] == mine.id
        assert item["tracking_no"] == mine.tracking_no
        assert item["category_name"] == "占道经营"
        assert item["description"] == mine.description
        assert item["address"] == mine.address
        assert (item["lon"], item["lat"]) == (mine.lon, mine.lat)
        assert (item["priority"], item["priority_label"]) == ("normal", "一般")
        assert (item["status"], item["status_label"]) == ("taken", "已接单")
        assert item["officers"] == [
            {"id": api.world.officer.id, "name": "李明", "lead": True},
            {"id": api.world.second.id, "name": "王芳", "lead": False},
        ]
        assert item["other_officers"] == ["李明"]
        assert [m["id"] for m in item["media"]] == [before_photo.id]
        assert {c["stage"] for c in item["clocks"]} >= {"arrive", "handle"}
        assert item["notice"] == ""

    def test_a_fed_back_complaint_is_no_longer_an_assignment(
        self, api: Api, settings: Settings
    ) -> None:
        fed_back(api.session, api.world, settings)
        api.session.commit()

        response = api.client.get("/api/v1/me/complaints", headers=api.headers(api.world.officer))

        assert response.json() == []

    def test_a_dispatcher_has_no_assignments_to_ask_for(self, api: Api) -> None:
        response = api.client.get(
            "/api/v1/me/complaints", headers=api.headers(api.world.dispatcher)
        )

        assert response.status_code == 403
