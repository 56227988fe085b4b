"""Duty status (PUT /api/v1/me/status, ``dispatch.live.set_status``) and the reads of the command
centre: GET /api/v1/officers/live and GET /api/v1/officers/{id}/track."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, IN_WG02, VENDING, ComplaintWorld, complaint_world
from zhifa.dispatch import live
from zhifa.errors import NotFound
from zhifa.kit.clock import utcnow
from zhifa.kit.events import PENDING_KEY
from zhifa.models.complaints import Complaint, ComplaintSource, HotlineType
from zhifa.models.dispatch import DutyStatus, OfficerLive, PositionFix
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer

STATUS = "/api/v1/me/status"
LIVE = "/api/v1/officers/live"


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    w = complaint_world(session)
    session.commit()
    return w


def headers(session: Session, officer: Officer) -> dict[str, str]:
    value = factories.bearer(session, officer)
    session.commit()
    return value


def complaint(session: Session, world: ComplaintWorld, tracking_no: str = "TS-LIVE-1") -> Complaint:
    row = Complaint(
        district_code=world.district_code,
        tracking_no=tracking_no,
        token=str(uuid.uuid4()),
        source=ComplaintSource.HOTLINE,
        category_id=world.categories[VENDING].id,
        hotline_type=HotlineType.COMPLAINT,
        lon=IN_WG01[0],
        lat=IN_WG01[1],
        unit_id=world.field.squad.id,
        received_at=utcnow(),
    )
    session.add(row)
    session.commit()
    return row


def status_events(session: Session, officer_id: int | None = None) -> list[dict[str, Any]]:
    session.expire_all()
    stmt = select(LedgerEvent).where(LedgerEvent.kind == "dispatch.status.changed")
    if officer_id is not None:
        stmt = stmt.where(LedgerEvent.subject_id == str(officer_id))
    return [e.payload for e in session.scalars(stmt.order_by(LedgerEvent.id))]


def live_row(session: Session, officer_id: int) -> OfficerLive:
    session.expire_all()
    row = session.get(OfficerLive, officer_id)
    assert row is not None
    return row


def place(
    session: Session, officer: Officer, lon: float, lat: float, *, seconds_ago: float = 30
) -> None:
    """Give ``officer`` a live row with a fix taken ``seconds_ago``."""
    now = utcnow()
    live.set_status(session, officer_id=officer.id, status=DutyStatus.AVAILABLE, actor_id=None)
    row = session.get(OfficerLive, officer.id)
    assert row is not None
    row.lon, row.lat, row.accuracy_m = lon, lat, 10.0
    row.fix_at, row.received_at = now - timedelta(seconds=seconds_ago), now
    session.commit()


class TestTheOfficerSetsTheirStatus:
    def test_going_on_duty_is_ledgered_and_answered_with_the_live_row(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.put(
            STATUS, json={"status": "available"}, headers=headers(session, world.officer)
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "available"
        assert body["status_label"] == "在岗可派"
        assert body["colour"] == "green"
        assert body["officer_id"] == world.officer.id
        assert body["unit_name"] == "一中队"
        payloads = status_events(session, world.officer.id)
        assert len(payloads) == 1
        assert payloads[0]["from"] == "off_duty"
        assert payloads[0]["to"] == "available"
        assert payloads[0]["complaint_id"] is None
        assert live_row(session, world.officer.id).status == DutyStatus.AVAILABLE

    def test_setting_the_same_status_again_changes_nothing(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        h = headers(session, world.officer)
        client.put(STATUS, json={"status": "available"}, headers=h)
        at = live_row(session, world.officer.id).status_at
        again = client.put(STATUS, json={"status": "available"}, headers=h)
        assert again.status_code == 200
        assert len(status_events(session, world.officer.id)) == 1
        assert live_row(session, world.officer.id).status_at == at

    def test_going_off_duty_keeps_the_last_position(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        place(session, world.officer, *IN_WG01)
        h = headers(session, world.officer)
        response = client.put(STATUS, json={"status": "off_duty"}, headers=h)
        assert response.status_code == 200
        row = live_row(session, world.officer.id)
        assert row.status == DutyStatus.OFF_DUTY
        assert (row.lon, row.lat) == IN_WG01
        assert [p["to"] for p in status_events(session, world.officer.id)] == [
            "available",
            "off_duty",
        ]

    @pytest.mark.parametrize("status", ["en_route", "on_scene", "handling"])
    def test_a_step_state_cannot_be_set_by_hand(
        self, client: TestClient, session: Session, world: ComplaintWorld, status: str
    ) -> None:
        response = client.put(
            STATUS, json={"status": status}, headers=headers(session, world.officer)
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "status_not_settable"
        assert "在岗可派" in error["message"]
        assert status_events(session) == []

    def test_an_unknown_status_is_refused(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.put(
            STATUS, json={"status": "asleep"}, headers=headers(session, world.officer)
        )
        assert response.status_code == 422
        assert status_events(session) == []

    def test_a_role_without_complaints_handle_is_refused(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.put(
            STATUS, json={"status": "available"}, headers=headers(session, world.dispatcher)
        )
        assert response.status_code == 403
        assert session.get(OfficerLive, world.dispatcher.id) is None


class TestWhileCommittedToAComplaint:
    def test_going_off_duty_is_refused_and_nothing_changes(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        live.set_status(
            session,
            officer_id=world.officer.id,
            status=DutyStatus.AVAILABLE,
            actor_id=world.dispatcher.id,
            complaint_id=c.id,
        )
        session.commit()
        response = client.put(
            STATUS, json={"status": "off_duty"}, headers=headers(session, world.officer)
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "committed"
        assert error["message"] == (
            "您正在处置投诉 TS-LIVE-1：须先反馈处置结果或由指挥中心改派他人，才能离岗。"
        )
        row = live_row(session, world.officer.id)
        assert (row.status, row.complaint_id) == (DutyStatus.AVAILABLE, c.id)
        assert len(status_events(session, world.officer.id)) == 1

    def test_leaving_a_step_state_is_refused(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        live.set_status(
            session,
            officer_id=world.officer.id,
            status=DutyStatus.EN_ROUTE,
            actor_id=world.officer.id,
            complaint_id=c.id,
        )
        session.commit()
        response = client.put(
            STATUS, json={"status": "available"}, headers=headers(session, world.officer)
        )
        assert response.status_code == 409
        assert "TS-LIVE-1" in response.json()["error"]["message"]
        assert live_row(session, world.officer.id).status == DutyStatus.EN_ROUTE

    def test_an_officer_dispatched_while_off_duty_may_come_on_duty(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        live.set_status(
            session,
            officer_id=world.officer.id,
            status=DutyStatus.OFF_DUTY,
            actor_id=world.dispatcher.id,
            complaint_id=c.id,
        )
        session.commit()
        response = client.put(
            STATUS, json={"status": "available"}, headers=headers(session, world.officer)
        )
        assert response.status_code == 200
        assert response.json()["complaint_id"] == c.id


class TestSetStatus:
    def test_a_commitment_is_ledgered_with_the_complaint_and_freed_with_none(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        args = {"officer_id": world.officer.id, "actor_id": world.dispatcher.id}
        live.set_status(session, status=DutyStatus.AVAILABLE, **args)
        live.set_status(session, status=DutyStatus.AVAILABLE, complaint_id=c.id, **args)
        live.set_status(session, status=DutyStatus.EN_ROUTE, **args)  # commitment kept
        live.set_status(session, status=DutyStatus.AVAILABLE, complaint_id=None, **args)
        session.commit()
        changes = [
            (p["from"], p["to"], p["previous_complaint_id"], p["complaint_id"])
            for p in status_events(session, world.officer.id)
        ]
        assert changes == [
            ("off_duty", "available", None, None),
            ("available", "available", None, c.id),
            ("available", "en_route", c.id, c.id),
            ("en_route", "available", c.id, None),
        ]
        row = live_row(session, world.officer.id)
        assert (row.status, row.complaint_id) == (DutyStatus.AVAILABLE, None)

    def test_no_change_writes_nothing_and_announces_nothing(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        args = {"officer_id": world.officer.id, "actor_id": None}
        live.set_status(session, status=DutyStatus.AVAILABLE, **args)
        session.commit()
        live.set_status(session, status=DutyStatus.AVAILABLE, complaint_id=None, **args)
        assert session.info.get(PENDING_KEY, []) == []
        session.commit()
        assert len(status_events(session)) == 1

    def test_a_change_is_announced_once_on_the_bus(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        live.set_status(
            session, officer_id=world.second.id, status=DutyStatus.AVAILABLE, actor_id=None
        )
        events = session.info[PENDING_KEY]
        assert [(e.topic, e.data["officer_id"], e.data["status"]) for e in events] == [
            ("officer", world.second.id, "available")
        ]
        assert events[0].data["name"] == "王芳"
        session.rollback()

    def test_the_time_of_the_step_is_kept(self, session: Session, world: ComplaintWorld) -> None:
        at = utcnow() - timedelta(minutes=3)
        live.set_status(
            session, officer_id=world.officer.id, status=DutyStatus.ON_SCENE, actor_id=None, at=at
        )
        session.commit()
        assert live_row(session, world.officer.id).status_at == at

    def test_an_unknown_officer_is_not_found(self, session: Session, world: ComplaintWorld) -> None:
        with pytest.raises(NotFound):
            live.set_status(session, officer_id=999_999, status=DutyStatus.AVAILABLE, actor_id=None)


class TestTheLiveList:
    def test_a_squad_leader_sees_the_field_officers_of_their_squad(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        place(session, world.officer, *IN_WG01)
        place(session, world.field.outsider, *IN_WG02)
        response = client.get(LIVE, headers=headers(session, world.field.leader))
        assert response.status_code == 200
        names = {o["name"] for o in response.json()}
        assert names == {"李明", "王芳", "赵刚", "吴强"}

    def test_a_dispatcher_sees_every_field_officer_of_the_district(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        place(session, world.officer, *IN_WG01, seconds_ago=30)
        place(session, world.field.outsider, *IN_WG02, seconds_ago=600)
        rows = {
            o["name"]: o
            for o in client.get(LIVE, headers=headers(session, world.dispatcher)).json()
        }
        assert set(rows) == {"李明", "王芳", "赵刚", "吴强", "孙丽"}  # not the desk staff
        fresh, stale, never = rows["李明"], rows["孙丽"], rows["王芳"]
        assert (fresh["stale"], fresh["status"], fresh["status_label"]) == (
            False,
            "available",
            "在岗可派",
        )
        assert 30 <= fresh["fix_age_seconds"] < 300
        assert (fresh["lon"], fresh["lat"]) == IN_WG01
        assert (stale["stale"], stale["unit_name"]) == (True, "二中队")
        assert stale["fix_age_seconds"] >= 600
        assert (never["status"], never["stale"], never["lon"], never["fix_age_seconds"]) == (
            "off_duty",
            True,
            None,
            None,
        )

    def test_the_districts_own_stale_limit_applies(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        world.settings.position_stale_seconds = 60
        session.commit()
        place(session, world.officer, *IN_WG01, seconds_ago=120)
        rows = {
            o["name"]: o
            for o in client.get(LIVE, headers=headers(session, world.dispatcher)).json()
        }
        assert rows["李明"]["stale"] is True

    def test_a_field_officer_may_not_read_it(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        assert client.get(LIVE, headers=headers(session, world.officer)).status_code == 403


class TestTheTrack:
    def _fixes(self, session: Session, officer: Officer, minutes_ago: list[float]) -> None:
        now = utcnow()
        for m in minutes_ago:
            session.add(
                PositionFix(
                    district_code="510184",
                    officer_id=officer.id,
                    lon=103.6 + m / 10_000,
                    lat=30.6,
                    accuracy_m=5.0,
                    fix_at=now - timedelta(minutes=m),
                    received_at=now,
                )
            )
        session.commit()

    def url(self, officer: Officer, **query: str) -> str:
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return f"/api/v1/officers/{officer.id}/track" + (f"?{params}" if params else "")

    def test_the_fixes_of_the_last_day_in_the_order_they_were_taken(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        self._fixes(session, world.officer, [5, 30, 1, 25 * 60])
        response = client.get(self.url(world.officer), headers=headers(session, world.dispatcher))
        assert response.status_code == 200
        body = response.json()
        assert [round((f["lon"] - 103.6) * 10_000) for f in body["fixes"]] == [30, 5, 1]
        assert body["officer_id"] == world.officer.id

    def test_a_window_is_honoured(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        self._fixes(session, world.officer, [50, 40, 20, 10])
        now = utcnow()
        since = (now - timedelta(minutes=45)).isoformat().replace("+00:00", "Z")
        until = (now - timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
        response = client.get(
            self.url(world.officer, since=since, until=until),
            headers=headers(session, world.dispatcher),
        )
        assert [round((f["lon"] - 103.6) * 10_000) for f in response.json()["fixes"]] == [40, 20]

    @pytest.mark.parametrize(("since_h", "until_h"), [(30, 0), (1, 2)])
    def test_a_window_longer_than_a_day_or_backwards_is_refused(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        since_h: int,
        until_h: int,
    ) -> None:
        now = utcnow()
        since = (now - timedelta(hours=since_h)).isoformat().replace("+00:00", "Z")
        until = (now - timedelta(hours=until_h)).isoformat().replace("+00:00", "Z")
        response = client.get(
            self.url(world.officer, since=since, until=until),
            headers=headers(session, world.dispatcher),
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_window"
        assert error["message"] == "查询时段的结束时间须晚于开始时间，且时长不超过 24 小时。"

    def test_an_officer_outside_the_scope_is_not_found(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        self._fixes(session, world.field.outsider, [5])
        response = client.get(
            self.url(world.field.outsider), headers=headers(session, world.field.leader)
        )
        assert response.status_code == 404
        assert "fixes" not in response.json()

    def test_a_field_officer_may_not_read_a_track(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.get(self.url(world.second), headers=headers(session, world.officer))
        assert response.status_code == 403
