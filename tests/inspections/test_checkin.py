"""Check-in on site: the server decides from the fix, the fence and the window; refusals are kept
on record in their own transaction; exceptions go to a squad leader; presence starts the run."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.field import CAFE_LAT, CAFE_LON, DISTRICT, FieldWorld, field_world
from tests.inspections.helpers import check_in, events, fix, headers, north_of_fence
from zhifa.kit.clock import utcnow
from zhifa.kit.events import broker
from zhifa.models.inspections import (
    CheckIn,
    CheckInOutcome,
    Inspection,
    SubmissionRecord,
    TaskStatus,
)
from zhifa.models.org import Officer
from zhifa.org.roles import Role


@pytest.fixture
def w(session: Session) -> FieldWorld:
    world = field_world(session)
    session.commit()
    return world


def rows(session: Session) -> list[CheckIn]:
    session.expire_all()
    return list(session.scalars(select(CheckIn).order_by(CheckIn.id)))


def inspections(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Inspection)) or 0)


class TestAccepted:
    def test_a_fix_inside_the_fence_checks_the_lead_in_and_starts_the_run(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = check_in(client, headers(session, w.officer), w.task.id)

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["outcome"] == "accepted"
        assert body["outcome_label"] == "已签到"
        assert body["distance_m"] == 0.0
        assert body["refusal"] == ""
        session.refresh(w.task)
        assert w.task.status == TaskStatus.IN_PROGRESS
        run = session.scalars(select(Inspection)).one()
        assert run.started_by_id == w.officer.id
        assert [i["code"] for i in run.checklist["items"]] == ["WB-01", "WB-02", "WB-03"]

    def test_the_check_in_and_the_start_are_ledgered(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        check_in(client, headers(session, w.officer), w.task.id)

        accepted = events(session, "inspection.check_in.accepted")
        assert len(accepted) == 1
        assert accepted[0].payload["state"]["outcome"] == "accepted"
        assert len(events(session, "inspection.started")) == 1
        assert events(session, "inspection.task.updated")[0].payload["state"]["status"] == (
            "in_progress"
        )

    def test_the_second_officer_confirms_presence_from_their_own_device(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        check_in(client, headers(session, w.officer), w.task.id)
        assert events(session, "inspection.presence_confirmed") == []

        response = check_in(client, headers(session, w.second), w.task.id)

        assert response.status_code == 201
        confirmed = events(session, "inspection.presence_confirmed")
        assert [e.payload["present_officer_ids"] for e in confirmed] == [
            [w.officer.id, w.second.id]
        ]
        assert inspections(session) == 1

    def test_the_second_officer_first_does_not_start_the_run(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        check_in(client, headers(session, w.second), w.task.id)

        assert inspections(session) == 0
        assert events(session, "inspection.presence_confirmed") == []

    def test_a_fix_just_outside_within_its_accuracy_is_accepted(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = check_in(
            client, headers(session, w.officer), w.task.id, lat=north_of_fence(20), accuracy_m=25
        )

        assert response.status_code == 201
        assert 19 < response.json()["distance_m"] < 21

    def test_an_offline_fix_is_judged_on_its_device_time(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.task.window_end = utcnow() - timedelta(hours=2)
        w.task.window_start = utcnow() - timedelta(hours=6)
        session.commit()

        response = check_in(
            client,
            headers(session, w.officer),
            w.task.id,
            offline=True,
            device_time=utcnow() - timedelta(hours=3),
        )

        assert response.status_code == 201
        body = response.json()
        assert body["offline"] is True
        assert body["server_time"] > body["device_time"]

    def test_the_same_uuid_again_gets_the_same_answer_and_one_row(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.officer)
        body = fix()
        first = client.post(f"/api/v1/tasks/{w.task.id}/check-ins", json=body, headers=auth)
        again = client.post(f"/api/v1/tasks/{w.task.id}/check-ins", json=body, headers=auth)

        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert len(rows(session)) == 1

    def test_the_check_in_is_announced_on_the_bus(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.officer)

        async def listen() -> Any:
            async with broker.subscribe(frozenset({DISTRICT}), frozenset({"check_in"})) as queue:
                await asyncio.to_thread(check_in, client, auth, w.task.id)
                return await asyncio.wait_for(queue.get(), timeout=10)

        heard = asyncio.run(listen())

        assert heard.topic == "check_in"
        assert heard.data["task_id"] == w.task.id
        assert heard.data["outcome"] == "accepted"
        assert heard.data["officer_id"] == w.officer.id


class TestRefused:
    def refuse(
        self, client: TestClient, session: Session, officer: Officer, task_id: int, **fix_args: Any
    ) -> dict[str, Any]:
        response = check_in(client, headers(session, officer), task_id, **fix_args)
        assert response.status_code == 422, response.text
        error: dict[str, Any] = response.json()["error"]
        assert error["code"] == "check_in_refused"
        stored = rows(session)[-1]
        assert stored.id == error["detail"]["check_in_id"]
        assert stored.outcome == CheckInOutcome.REFUSED
        assert stored.refusal == error["detail"]["refusal"]
        assert inspections(session) == 0
        refused = events(session, "inspection.check_in.refused")
        assert refused[-1].subject_id == str(stored.id)
        return error

    def test_outside_the_fence_says_how_far_and_offers_an_exception(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        error = self.refuse(client, session, w.officer, w.task.id, lat=north_of_fence(350))

        assert error["detail"]["refusal"] == "outside_fence"
        assert 345 < error["detail"]["distance_m"] < 355
        assert error["detail"]["accuracy_m"] == 10.0
        assert error["message"].startswith("您距检查对象电子围栏约 35")
        assert "可申请异常签到" in error["message"]
        session.refresh(w.task)
        assert w.task.status == TaskStatus.PLANNED

    def test_outside_the_fence_beyond_the_tolerance_even_with_a_poor_fix(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        error = self.refuse(
            client, session, w.officer, w.task.id, lat=north_of_fence(40), accuracy_m=60
        )

        assert error["detail"]["refusal"] == "outside_fence"

    def test_a_fix_less_precise_than_allowed_is_imprecise(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        error = self.refuse(client, session, w.officer, w.task.id, accuracy_m=150)

        assert error["detail"]["refusal"] == "imprecise_fix"
        assert "定位精度不足" in error["message"]

    def test_outside_the_window_with_its_grace(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.task.window_start = utcnow() + timedelta(hours=2)
        w.task.window_end = utcnow() + timedelta(hours=4)
        session.commit()

        error = self.refuse(client, session, w.officer, w.task.id)

        assert error["detail"]["refusal"] == "outside_window"
        assert "不在时段内" in error["message"]

    def test_within_the_grace_before_the_window_is_accepted(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.task.window_start = utcnow() + timedelta(minutes=20)
        w.task.window_end = utcnow() + timedelta(hours=4)
        session.commit()

        assert check_in(client, headers(session, w.officer), w.task.id).status_code == 201

    def test_a_subject_without_a_fence(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.cafe.geofence = None
        session.commit()

        error = self.refuse(client, session, w.officer, w.task.id)

        assert error["detail"]["refusal"] == "no_fence"

    def test_a_task_with_one_officer_only(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.task.officer_ids = [w.officer.id]
        session.commit()

        error = self.refuse(client, session, w.officer, w.task.id)

        assert error["detail"]["refusal"] == "too_few_officers"
        assert "第四十二条" in error["message"]

    def test_an_officer_not_on_the_task(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        error = self.refuse(client, session, w.leader, w.task.id)

        assert error["detail"]["refusal"] == "not_assigned"

    def test_a_cancelled_task(self, client: TestClient, session: Session, w: FieldWorld) -> None:
        w.task.status = TaskStatus.CANCELLED
        session.commit()

        error = self.refuse(client, session, w.officer, w.task.id)

        assert error["detail"]["refusal"] == "task_closed"
        assert "已取消" in error["message"]

    def test_an_offline_device_time_after_receipt(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        error = self.refuse(
            client,
            session,
            w.officer,
            w.task.id,
            offline=True,
            device_time=utcnow() + timedelta(minutes=10),
        )

        assert error["detail"]["refusal"] == "device_time_in_future"

    def test_a_repeated_refusal_gets_the_same_answer_and_one_row(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.officer)
        body = fix(lat=north_of_fence(350))
        first = client.post(f"/api/v1/tasks/{w.task.id}/check-ins", json=body, headers=auth)
        again = client.post(f"/api/v1/tasks/{w.task.id}/check-ins", json=body, headers=auth)

        assert again.status_code == 422
        assert again.json() == first.json()
        assert len(rows(session)) == 1
        record = session.get(SubmissionRecord, body["client_uuid"])
        assert record is not None
        assert record.status_code == 422

    def test_the_message_is_english_for_an_english_reader(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post(
            f"/api/v1/tasks/{w.task.id}/check-ins?lang=en",
            json=fix(lat=north_of_fence(350)),
            headers=headers(session, w.officer),
        )

        assert response.json()["error"]["message"].startswith("You are about 35")

    def test_a_task_outside_the_scope_is_not_found_and_nothing_is_stored(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = check_in(client, headers(session, w.outsider), w.task.id)

        assert response.status_code == 404
        assert rows(session) == []


def exception(
    client: TestClient, session: Session, w: FieldWorld, officer: Officer | None = None
) -> dict[str, Any]:
    response = check_in(
        client,
        headers(session, officer or w.officer),
        w.task.id,
        lat=north_of_fence(200),
        exception_reason="对象门店搬到了马路对面",
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


class TestException:
    def test_a_refused_fix_with_a_reason_waits_for_a_squad_leader(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = exception(client, session, w)

        assert body["outcome"] == "exception_pending"
        assert body["refusal"] == "outside_fence"
        assert body["exception_reason"] == "对象门店搬到了马路对面"
        assert inspections(session) == 0
        requested = events(session, "inspection.check_in.exception_requested")
        assert requested[0].payload["reason"] == "对象门店搬到了马路对面"

    def test_the_squad_leader_sees_it_pending(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = exception(client, session, w)

        pending = client.get("/api/v1/check-ins/pending", headers=headers(session, w.leader))

        assert [c["id"] for c in pending.json()] == [body["id"]]

    def test_approval_makes_the_lead_present_and_starts_the_run(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = exception(client, session, w)

        response = client.post(
            f"/api/v1/check-ins/{body['id']}/decision",
            json={"approve": True, "note": "情况属实"},
            headers=headers(session, w.leader),
        )

        assert response.status_code == 200
        assert response.json()["outcome"] == "exception_approved"
        assert response.json()["decided_by_id"] == w.leader.id
        assert inspections(session) == 1
        decided = events(session, "inspection.check_in.exception_decided")
        assert decided[0].payload["approve"] is True
        assert decided[0].payload["state"]["decision_note"] == "情况属实"

    def test_a_rejection_needs_a_note_and_is_recorded(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = exception(client, session, w)
        auth = headers(session, w.leader)
        url = f"/api/v1/check-ins/{body['id']}/decision"

        without = client.post(url, json={"approve": False, "note": ""}, headers=auth)
        assert without.status_code == 422
        assert rows(session)[0].outcome == CheckInOutcome.EXCEPTION_PENDING

        response = client.post(url, json={"approve": False, "note": "定位与现场不符"}, headers=auth)
        assert response.json()["outcome"] == "exception_rejected"
        assert inspections(session) == 0

    def test_a_decision_is_taken_once(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = exception(client, session, w)
        auth = headers(session, w.leader)
        url = f"/api/v1/check-ins/{body['id']}/decision"
        client.post(url, json={"approve": True, "note": ""}, headers=auth)

        response = client.post(url, json={"approve": False, "note": "改变主意"}, headers=auth)

        assert response.status_code == 409
        assert rows(session)[0].outcome == CheckInOutcome.EXCEPTION_APPROVED

    def test_a_leader_cannot_decide_their_own_exception(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.task.officer_ids = [w.leader.id, w.second.id]
        w.task.lead_officer_id = w.leader.id
        session.commit()
        body = exception(client, session, w, officer=w.leader)

        response = client.post(
            f"/api/v1/check-ins/{body['id']}/decision",
            json={"approve": True, "note": ""},
            headers=headers(session, w.leader),
        )

        assert response.status_code == 403
        assert rows(session)[0].outcome == CheckInOutcome.EXCEPTION_PENDING

    def test_a_leader_of_another_squad_does_not_see_it(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = exception(client, session, w)
        other = factories.officer(
            session, DISTRICT, "qian.lei", [Role.SQUAD_LEADER], unit=w.other_squad
        )
        auth = headers(session, other)

        assert client.get("/api/v1/check-ins/pending", headers=auth).json() == []
        response = client.post(
            f"/api/v1/check-ins/{body['id']}/decision",
            json={"approve": True, "note": ""},
            headers=auth,
        )
        assert response.status_code == 404

    def test_a_field_officer_may_not_decide(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = exception(client, session, w)

        response = client.post(
            f"/api/v1/check-ins/{body['id']}/decision",
            json={"approve": True, "note": ""},
            headers=headers(session, w.second),
        )

        assert response.status_code == 403

    def test_a_refusal_that_is_not_about_place_or_time_cannot_be_excepted(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = check_in(
            client,
            headers(session, w.leader),
            w.task.id,
            exception_reason="我想参加",
        )

        assert response.status_code == 422
        assert response.json()["error"]["detail"]["refusal"] == "not_assigned"


class TestBundleShowsPresence:
    def test_the_task_shows_my_check_in_and_who_is_present(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        check_in(client, headers(session, w.officer), w.task.id)
        auth = headers(session, w.second)
        check_in(client, auth, w.task.id, lon=CAFE_LON + 0.01, lat=CAFE_LAT)

        task = client.get("/api/v1/tasks/today", headers=auth).json()[0]

        assert task["my_check_in"] == "refused"
        assert task["present_officer_ids"] == [w.officer.id]
