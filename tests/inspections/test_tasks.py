"""Inspection tasks: planned, patrol (ad hoc), dispatched; cancel, reassign; the desk's list and
the officer's day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.field import CAFE_LAT, CAFE_LON, DISTRICT, FieldWorld, field_world, local_day
from tests.inspections.helpers import actor, events, headers, new_uuid
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.inspections.schemas import TaskCreate
from zhifa.inspections.tasks import create_dispatched_task, task_service
from zhifa.kit.clock import SHANGHAI, today_local, utcnow
from zhifa.models.inspections import InspectionTask, SubmissionRecord, TaskKind, TaskStatus
from zhifa.models.org import OfficerStatus
from zhifa.models.subjects import Subject, SubjectKind
from zhifa.org.roles import Role


@pytest.fixture
def w(session: Session) -> FieldWorld:
    world = field_world(session)
    session.commit()
    return world


def window(hours: tuple[int, int] = (9, 17)) -> tuple[str, str]:
    day = today_local()
    start = datetime(day.year, day.month, day.day, hours[0], tzinfo=SHANGHAI)
    end = datetime(day.year, day.month, day.day, hours[1], tzinfo=SHANGHAI)
    return start.isoformat(), end.isoformat()


def planned(w: FieldWorld, **changes: Any) -> dict[str, Any]:
    start, end = window()
    body = {
        "subject_id": w.cafe.id,
        "window_start": start,
        "window_end": end,
        "officer_ids": [w.second.id, w.officer.id],
        "title": "网吧专项检查",
        "note": "重点检查未成年人入场",
    }
    return body | changes


def count_tasks(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(InspectionTask)) or 0)


class TestPlannedTask:
    def test_a_squad_leader_plans_a_task_with_the_lead_first(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post("/api/v1/tasks", json=planned(w), headers=headers(session, w.leader))

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["kind"] == "planned"
        assert body["kind_label"] == "计划检查"
        assert body["status"] == "planned"
        assert body["lead_officer_id"] == w.second.id
        assert [o["id"] for o in body["officers"]] == [w.second.id, w.officer.id]
        assert body["officers"][0]["cert_no"] == "51018400002"
        assert body["subject"]["name"] == w.cafe.name
        assert body["unit_id"] == w.squad.id
        assert body["window_start"].endswith("Z")
        assert body["window_start"][11:16] == "01:00"  # 09:00 local is 01:00 UTC

    def test_the_new_task_is_ledgered_with_its_state(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post("/api/v1/tasks", json=planned(w), headers=headers(session, w.leader))

        created = events(session, "inspection.task.created")
        assert [e.subject_id for e in created] == [str(response.json()["id"])]
        assert created[0].actor_id == w.leader.id
        assert created[0].payload["state"]["officer_ids"] == [w.second.id, w.officer.id]
        assert created[0].payload["state"]["title"] == "网吧专项检查"

    def test_a_window_given_without_offset_is_local_time(
        self, session: Session, w: FieldWorld
    ) -> None:
        day = today_local()
        data = TaskCreate.model_validate(
            planned(w, window_start=f"{day}T09:00:00", window_end=f"{day}T10:00:00")
        )
        row = task_service.create_planned(session, actor(session, w.leader), data=data)

        assert row.window_start.astimezone(SHANGHAI).hour == 9


class TestPlannedTaskRefusals:
    def refused(
        self, client: TestClient, session: Session, w: FieldWorld, body: dict[str, Any]
    ) -> Any:
        before = count_tasks(session)
        response = client.post("/api/v1/tasks", json=body, headers=headers(session, w.leader))
        assert count_tasks(session) == before
        return response

    def test_one_officer_only_is_refused_by_art_42(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = self.refused(client, session, w, planned(w, officer_ids=[w.officer.id]))

        assert response.status_code == 422
        assert "两名以上" in response.json()["error"]["message"]
        assert response.json()["error"]["detail"] == {"field": "officer_ids"}

    def test_the_same_officer_twice_counts_once(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = planned(w, officer_ids=[w.officer.id, w.officer.id])

        assert self.refused(client, session, w, body).status_code == 422

    def test_a_suspended_officer_is_refused(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.second.status = OfficerStatus.SUSPENDED
        session.commit()

        response = self.refused(client, session, w, planned(w))

        assert response.status_code == 422
        assert response.json()["error"]["detail"]["officer_id"] == w.second.id

    def test_an_officer_of_another_district_is_refused(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        factories.district(session, "510104", "锦江区")
        stranger = factories.officer(session, "510104", "far.away", [Role.OFFICER])
        session.commit()

        response = self.refused(
            client, session, w, planned(w, officer_ids=[w.officer.id, stranger.id])
        )

        assert response.status_code == 422
        assert str(stranger.id) in response.json()["error"]["message"]

    def test_a_dispatcher_is_not_a_field_officer(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        desk = factories.officer(session, DISTRICT, "desk", [Role.DISPATCHER])
        session.commit()

        response = self.refused(client, session, w, planned(w, officer_ids=[w.officer.id, desk.id]))

        assert response.status_code == 422

    def test_a_window_ending_before_it_starts_is_refused(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        start, end = window()
        response = self.refused(client, session, w, planned(w, window_start=end, window_end=start))

        assert response.status_code == 422
        assert response.json()["error"]["detail"] == {"field": "window_end"}

    def test_a_subject_outside_the_planners_scope_is_not_found(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        other_leader = factories.officer(
            session, DISTRICT, "qian.lei", [Role.SQUAD_LEADER], unit=w.other_squad
        )
        session.commit()
        before = count_tasks(session)

        response = client.post(
            "/api/v1/tasks", json=planned(w), headers=headers(session, other_leader)
        )

        assert response.status_code == 404
        assert count_tasks(session) == before

    def test_a_field_officer_may_not_plan_tasks(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post(
            "/api/v1/tasks", json=planned(w), headers=headers(session, w.officer)
        )

        assert response.status_code == 403
        assert count_tasks(session) == 1


def ad_hoc(w: FieldWorld, client_uuid: str | None = None, **changes: Any) -> dict[str, Any]:
    body = {
        "client_uuid": client_uuid or new_uuid(),
        "subject_id": w.cafe.id,
        "second_officer_id": w.second.id,
        "note": "巡查中发现",
        "device_time": utcnow().isoformat(),
    }
    return body | changes


class TestAdHocTask:
    def test_an_officer_on_patrol_starts_a_task_leading_it_until_the_end_of_the_day(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post(
            "/api/v1/tasks/ad-hoc", json=ad_hoc(w), headers=headers(session, w.officer)
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["kind"] == "ad_hoc"
        assert body["lead_officer_id"] == w.officer.id
        assert [o["id"] for o in body["officers"]] == [w.officer.id, w.second.id]
        end = datetime.fromisoformat(body["window_end"]).astimezone(SHANGHAI)
        assert (end.date(), end.hour, end.minute) == (today_local(), 23, 59)

    def test_the_same_uuid_again_gets_the_same_answer_and_one_task(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.officer)
        body = ad_hoc(w)
        first = client.post("/api/v1/tasks/ad-hoc", json=body, headers=auth)
        again = client.post("/api/v1/tasks/ad-hoc", json=body, headers=auth)

        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert count_tasks(session) == 2  # the world's task and this one
        assert len(events(session, "inspection.task.created")) == 1

    def test_the_same_uuid_with_other_content_is_a_conflict(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.officer)
        key = new_uuid()
        client.post("/api/v1/tasks/ad-hoc", json=ad_hoc(w, key), headers=auth)

        response = client.post(
            "/api/v1/tasks/ad-hoc", json=ad_hoc(w, key, note="另一个"), headers=auth
        )

        assert response.status_code == 409
        assert count_tasks(session) == 2
        assert session.get(SubmissionRecord, key) is not None

    def test_a_subject_outside_the_callers_grid_is_refused(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        district_wide = factories.officer(
            session, DISTRICT, "roving", [Role.OFFICER], unit=w.other_squad, scope="district"
        )
        session.commit()

        response = client.post(
            "/api/v1/tasks/ad-hoc",
            json=ad_hoc(w, second_officer_id=w.outsider.id),
            headers=headers(session, district_wide),
        )

        assert response.status_code == 422
        assert "网格" in response.json()["error"]["message"]
        assert count_tasks(session) == 1

    def test_a_patrol_task_needs_a_second_officer(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post(
            "/api/v1/tasks/ad-hoc",
            json=ad_hoc(w, second_officer_id=w.officer.id),
            headers=headers(session, w.officer),
        )

        assert response.status_code == 422
        assert count_tasks(session) == 1


class TestDispatchedTask:
    def test_the_complaints_side_creates_a_task_with_one_officer_and_its_origin(
        self, session: Session, w: FieldWorld
    ) -> None:
        start, end = local_day(today_local())
        row = create_dispatched_task(
            session,
            actor(session, w.leader),
            subject_id=w.cafe.id,
            officer_ids=[w.officer.id],
            window=(start, end),
            origin_ref="complaint:42",
        )

        assert row.kind == TaskKind.DISPATCHED
        assert row.officer_ids == [w.officer.id]
        assert row.origin_ref == "complaint:42"
        assert row.unit_id == w.squad.id

    def test_a_dispatched_task_still_needs_a_real_officer(
        self, session: Session, w: FieldWorld
    ) -> None:
        start, end = local_day(today_local())
        with pytest.raises(InvalidInput):
            create_dispatched_task(
                session,
                actor(session, w.leader),
                subject_id=w.cafe.id,
                officer_ids=[],
                window=(start, end),
                origin_ref="complaint:43",
            )


class TestCancel:
    def test_a_task_is_cancelled_with_its_reason_on_record(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post(
            f"/api/v1/tasks/{w.task.id}/cancel",
            json={"reason": "对象停业装修"},
            headers=headers(session, w.leader),
        )

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert response.json()["cancel_reason"] == "对象停业装修"
        cancelled = events(session, "inspection.task.cancelled")
        assert cancelled[0].payload["reason"] == "对象停业装修"
        assert cancelled[0].payload["state"]["status"] == "cancelled"

    def test_a_cancel_without_a_reason_is_refused(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post(
            f"/api/v1/tasks/{w.task.id}/cancel",
            json={"reason": " "},
            headers=headers(session, w.leader),
        )

        assert response.status_code == 422
        session.refresh(w.task)
        assert w.task.status == TaskStatus.PLANNED

    def test_a_cancelled_task_cannot_be_cancelled_again(
        self, session: Session, w: FieldWorld
    ) -> None:
        leader = actor(session, w.leader)
        task_service.cancel(session, leader, task_id=w.task.id, reason="重复")

        with pytest.raises(Conflict) as refused:
            task_service.cancel(session, leader, task_id=w.task.id, reason="再次")
        assert refused.value.code == "task_cancelled"


class TestReassign:
    def test_reassigning_changes_the_officers_and_the_lead(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        third = factories.officer(session, DISTRICT, "zhou.qi", [Role.OFFICER], unit=w.squad)
        session.commit()

        response = client.post(
            f"/api/v1/tasks/{w.task.id}/reassign",
            json={"officer_ids": [third.id, w.second.id]},
            headers=headers(session, w.leader),
        )

        assert response.status_code == 200
        assert response.json()["lead_officer_id"] == third.id
        updated = events(session, "inspection.task.updated")
        assert updated[0].payload["changes"]["officer_ids"]["after"] == [third.id, w.second.id]

    def test_reassigning_to_one_officer_is_refused(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.post(
            f"/api/v1/tasks/{w.task.id}/reassign",
            json={"officer_ids": [w.second.id]},
            headers=headers(session, w.leader),
        )

        assert response.status_code == 422
        session.refresh(w.task)
        assert w.task.officer_ids == [w.officer.id, w.second.id]


class TestDeskList:
    def test_the_list_shows_the_days_tasks_in_scope(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.leader)
        today = today_local().isoformat()
        tomorrow = (today_local() + timedelta(days=1)).isoformat()

        assert [t["id"] for t in client.get(f"/api/v1/tasks?on={today}", headers=auth).json()] == [
            w.task.id
        ]
        assert client.get(f"/api/v1/tasks?on={tomorrow}", headers=auth).json() == []
        assert client.get("/api/v1/tasks?status=cancelled", headers=auth).json() == []
        mine = client.get(f"/api/v1/tasks?officer_id={w.second.id}", headers=auth).json()
        assert [t["id"] for t in mine] == [w.task.id]

    def test_another_squad_sees_none_of_them(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.outsider)

        assert client.get("/api/v1/tasks", headers=auth).json() == []
        assert client.get(f"/api/v1/tasks/{w.task.id}", headers=auth).status_code == 404


class TestToday:
    def add_subject(self, session: Session, w: FieldWorld, name: str, lon: float) -> Subject:
        row = Subject(
            district_code=DISTRICT,
            kind=SubjectKind.ENTERPRISE,
            name=name,
            subject_type_code="internet_cafe",
            lon=lon,
            lat=CAFE_LAT,
            geofence_radius_m=50.0,
            unit_id=w.squad.id,
        )
        session.add(row)
        session.flush()
        return row

    def add_task(self, session: Session, w: FieldWorld, subject: Subject, **changes: Any) -> int:
        start, end = local_day(today_local())
        values = {
            "district_code": DISTRICT,
            "kind": TaskKind.PLANNED,
            "subject_id": subject.id,
            "window_start": start,
            "window_end": end,
            "unit_id": w.squad.id,
            "lead_officer_id": w.officer.id,
            "officer_ids": [w.officer.id, w.second.id],
        }
        row = InspectionTask(**(values | changes))
        session.add(row)
        session.flush()
        return row.id

    def test_nearest_first_from_the_officers_position(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        far = self.add_task(session, w, self.add_subject(session, w, "远处网吧", CAFE_LON + 0.004))
        near = self.add_task(session, w, self.add_subject(session, w, "近处网吧", CAFE_LON + 0.001))
        session.commit()
        auth = headers(session, w.officer)

        response = client.get(
            f"/api/v1/tasks/today?lon={CAFE_LON + 0.0012}&lat={CAFE_LAT}", headers=auth
        )

        body = response.json()
        assert [t["id"] for t in body] == [near, w.task.id, far]
        assert body[0]["distance_m"] < body[1]["distance_m"] < body[2]["distance_m"]

    def test_without_a_position_by_window_start_and_without_distance(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        start, end = local_day(today_local())
        later = self.add_task(session, w, w.cafe, window_start=start + timedelta(hours=10))
        session.commit()

        body = client.get("/api/v1/tasks/today", headers=headers(session, w.officer)).json()

        assert [t["id"] for t in body] == [w.task.id, later]
        assert body[0]["distance_m"] is None

    def test_only_the_callers_tasks_of_today_that_are_not_cancelled(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        start, end = local_day(today_local())
        day = timedelta(days=1)
        self.add_task(session, w, w.cafe, window_start=start + day, window_end=end + day)
        self.add_task(session, w, w.cafe, status=TaskStatus.CANCELLED)
        self.add_task(session, w, w.cafe, officer_ids=[w.second.id, w.leader.id])
        session.commit()

        body = client.get("/api/v1/tasks/today", headers=headers(session, w.officer)).json()

        assert [t["id"] for t in body] == [w.task.id]
        assert body[0]["my_check_in"] is None
        assert body[0]["present_officer_ids"] == []

    def test_an_officer_lent_from_another_squad_still_sees_the_task(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        lent = self.add_task(session, w, w.cafe, officer_ids=[w.outsider.id, w.officer.id])
        session.commit()
        auth = headers(session, w.outsider)

        body = client.get("/api/v1/tasks/today", headers=auth).json()

        assert [t["id"] for t in body] == [lent]
        assert client.get(f"/api/v1/tasks/{lent}", headers=auth).status_code == 200


class TestNotFound:
    def test_an_unknown_task_is_not_found(self, session: Session, w: FieldWorld) -> None:
        with pytest.raises(NotFound):
            task_service.get(session, actor(session, w.officer), task_id=9999)
