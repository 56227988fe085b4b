"""Polling the city platform's Open311 endpoint: new requests taken in once, the cursor moved on
success and kept on failure, problems named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.complaints.world import GARBAGE, IN_WG01, VENDING
from tests.integrations.helpers import IntegrationWorld, messages, peer
from tests.integrations.platform import OPEN311_BASE, CityPlatform
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.integrations import outbox, poller
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintSource
from zhifa.models.integrations import Integration, IntegrationKind

REQUESTS_PATH = OPEN311_BASE + "/requests.json"


def _request(ref: str, when: datetime, code: str = GARBAGE, **extra: Any) -> dict[str, Any]:
    return {
        "service_request_id": ref,
        "status": "open",
        "service_code": code,
        "service_name": "暴露垃圾",
        "description": f"{ref}：路边垃圾无人清运",
        "requested_datetime": when.astimezone(UTC).isoformat(),
        "address": "崇州市崇阳街道蜀州中路 1 号",
        "lat": IN_WG01[1],
        "long": IN_WG01[0],
    } | extra


def _upstream(
    session: Session, settings: Settings, platform: CityPlatform, cursor: datetime, **values: Any
) -> Integration:
    row = peer(
        session,
        settings,
        endpoint_url=platform.open311_url,
        kind=IntegrationKind.OPEN311,
        code="wlzz-open311",
        poll_enabled=True,
        poll_interval_seconds=60,
        poll_cursor=cursor,
        **values,
    )
    session.commit()
    return row


def _polled(session: Session) -> list[Complaint]:
    session.expire_all()
    stmt = select(Complaint).where(Complaint.source == ComplaintSource.UPSTREAM)
    return list(session.scalars(stmt.order_by(Complaint.id)))


def _due_again(session: Session, row: Integration) -> None:
    row.last_polled_at = utcnow() - timedelta(minutes=5)
    session.commit()


def _fresh(session: Session, row: Integration) -> Integration:
    session.expire_all()
    again = session.get(Integration, row.id)
    assert again is not None
    return again


class TestTakingIn:
    def test_new_requests_are_taken_in_and_the_cursor_moves_to_the_newest(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        cursor = now - timedelta(hours=3)
        first, second = now - timedelta(hours=2), now - timedelta(hours=1)
        platform.upstream_requests = [
            _request("SR-1", first),
            _request("SR-2", second),
            _request("SR-0", cursor - timedelta(minutes=1)),  # before the window: not asked
        ]
        upstream = _upstream(session, settings, platform, cursor, jurisdiction_id="chengdu")

        assert poller.poll_due(db, settings) == 2

        (asked,) = platform.received
        assert asked.path == REQUESTS_PATH
        assert asked.query["start_date"] == [cursor.strftime("%Y-%m-%dT%H:%M:%SZ")]
        assert asked.query["jurisdiction_id"] == ["chengdu"]
        end = datetime.fromisoformat(asked.query["end_date"][0])
        assert abs((end - utcnow()).total_seconds()) < 60
        taken = _polled(session)
        assert [(c.source_ref, c.integration_id) for c in taken] == [
            ("SR-1", upstream.id),
            ("SR-2", upstream.id),
        ]
        assert [c.received_at for c in taken] == [first, second]
        assert taken[0].description == "SR-1：路边垃圾无人清运"
        assert taken[0].grid_id == world.complaints.field.grid.id
        state = _fresh(session, upstream)
        assert state.poll_cursor == second
        assert state.last_poll_error == ""
        assert state.last_polled_at is not None

    def test_repeated_polls_take_nothing_twice(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        platform.upstream_requests = [_request("SR-1", now - timedelta(minutes=30))]
        upstream = _upstream(session, settings, platform, now - timedelta(hours=1))
        assert poller.poll_due(db, settings) == 1

        _due_again(session, upstream)
        assert poller.poll_due(db, settings) == 0  # SR-1 is in the window again (inclusive)
        platform.upstream_requests.append(_request("SR-2", now - timedelta(minutes=10)))
        _due_again(session, upstream)
        assert poller.poll_due(db, settings) == 1
        _due_again(session, upstream)
        assert poller.poll_due(db, settings) == 0

        assert [c.source_ref for c in _polled(session)] == ["SR-1", "SR-2"]
        assert len(platform.received) == 4
        assert _fresh(session, upstream).poll_cursor == now - timedelta(minutes=10)

    def test_an_integration_is_not_polled_before_its_interval_has_passed(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        _upstream(session, settings, platform, utcnow() - timedelta(hours=1))
        poller.poll_due(db, settings)

        assert poller.poll_due(db, settings) == 0
        assert len(platform.received) == 1

    def test_an_integration_without_polling_is_never_asked(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        row = _upstream(session, settings, platform, utcnow() - timedelta(hours=1))
        row.poll_enabled = False
        session.commit()

        assert poller.poll_due(db, settings) == 0
        assert platform.received == []

    def test_a_polled_request_is_answered_back_under_its_upstream_id(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        platform.upstream_requests = [_request("SR-9", now - timedelta(minutes=5))]
        _upstream(session, settings, platform, now - timedelta(hours=1), secret="upstream-key-9")
        poller.poll_due(db, settings)

        assert outbox.deliver_due(db, settings) == 1
        (update,) = platform.posts(OPEN311_BASE + "/servicerequestupdates.json")
        assert update.form()["service_request_id"] == "SR-9"
        assert update.form()["status"] == "OPEN"
        assert update.form()["api_key"] == "upstream-key-9"
        assert len(messages(session)) == 1

    def test_attributes_and_a_photo_link_come_along(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        platform.upstream_requests = [
            _request(
                "SR-5",
                now - timedelta(minutes=5),
                code=VENDING,
                attributes={"blocking": "yes", "stall_count": "3"},
                media_url="https://wlzz.example.cn/media/5.jpg",
            )
        ]
        _upstream(session, settings, platform, now - timedelta(hours=1))

        assert poller.poll_due(db, settings) == 1
        (taken,) = _polled(session)
        assert taken.attributes["blocking"] == "yes"
        assert taken.media_urls == ["https://wlzz.example.cn/media/5.jpg"]


class TestProblems:
    def test_a_500_keeps_the_cursor_and_says_why(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        cursor = now - timedelta(hours=1)
        platform.upstream_requests = [_request("SR-1", now - timedelta(minutes=5))]
        upstream = _upstream(session, settings, platform, cursor)
        platform.answer_with(500)

        assert poller.poll_due(db, settings) == 0

        state = _fresh(session, upstream)
        assert state.poll_cursor == cursor
        assert "500" in state.last_poll_error
        assert state.last_poll_error.startswith("无法从城市平台拉取工单")
        assert _polled(session) == []

        platform.come_back()
        _due_again(session, upstream)
        assert poller.poll_due(db, settings) == 1
        assert _fresh(session, upstream).last_poll_error == ""

    def test_a_platform_that_does_not_answer_keeps_the_cursor(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        cursor = utcnow().replace(microsecond=0) - timedelta(hours=1)
        upstream = _upstream(session, settings, platform, cursor)
        platform.go_down()

        assert poller.poll_due(db, settings) == 0
        state = _fresh(session, upstream)
        assert state.poll_cursor == cursor
        assert "refused" in state.last_poll_error.lower()

    def test_an_answer_that_is_not_a_list_of_requests_keeps_the_cursor(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        cursor = utcnow().replace(microsecond=0) - timedelta(hours=1)
        upstream = _upstream(session, settings, platform, cursor)
        platform.requests_answer = {"message": "系统维护中"}

        assert poller.poll_due(db, settings) == 0
        state = _fresh(session, upstream)
        assert state.poll_cursor == cursor
        assert "不是 Open311 工单列表" in state.last_poll_error

    def test_an_unknown_service_code_is_skipped_and_named(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        platform.upstream_requests = [
            _request("SR-1", now - timedelta(minutes=20), code="NO-SUCH"),
            _request("SR-2", now - timedelta(minutes=10)),
        ]
        upstream = _upstream(session, settings, platform, now - timedelta(hours=1))

        assert poller.poll_due(db, settings) == 1

        assert [c.source_ref for c in _polled(session)] == ["SR-2"]
        state = _fresh(session, upstream)
        assert "SR-1" in state.last_poll_error
        assert "NO-SUCH" in state.last_poll_error
        assert state.poll_cursor == now - timedelta(minutes=10)

    def test_a_request_intake_refuses_is_skipped_with_intakes_reason(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        platform.upstream_requests = [
            _request("SR-1", now - timedelta(minutes=20), lat=None, long=None, address=""),
            _request("SR-2", now - timedelta(minutes=10)),
        ]
        upstream = _upstream(session, settings, platform, now - timedelta(hours=1))

        assert poller.poll_due(db, settings) == 1

        assert [c.source_ref for c in _polled(session)] == ["SR-2"]
        error = _fresh(session, upstream).last_poll_error
        assert error.startswith("工单 SR-1 未能受理")

    def test_a_request_already_closed_upstream_is_not_taken_in(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        platform.upstream_requests = [_request("SR-1", now - timedelta(minutes=5), status="closed")]
        upstream = _upstream(session, settings, platform, now - timedelta(hours=1))

        assert poller.poll_due(db, settings) == 0
        assert _polled(session) == []
        assert _fresh(session, upstream).poll_cursor == now - timedelta(minutes=5)


class TestWindows:
    def test_an_old_cursor_catches_up_ninety_days_at_a_time(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        now = utcnow().replace(microsecond=0)
        cursor = now - timedelta(days=200)
        platform.upstream_requests = [_request("SR-OLD", cursor + timedelta(days=100))]
        upstream = _upstream(session, settings, platform, cursor)

        assert poller.poll_due(db, settings) == 0
        first_end = cursor + timedelta(days=90)
        assert platform.received[0].query["end_date"] == [first_end.strftime("%Y-%m-%dT%H:%M:%SZ")]
        assert _fresh(session, upstream).poll_cursor == first_end

        _due_again(session, upstream)
        assert poller.poll_due(db, settings) == 1
        assert _fresh(session, upstream).poll_cursor == cursor + timedelta(days=180)
        _due_again(session, upstream)
        poller.poll_due(db, settings)
        asked = platform.received[-1].query
        window = datetime.fromisoformat(asked["end_date"][0]) - datetime.fromisoformat(
            asked["start_date"][0]
        )
        assert window <= timedelta(days=90)
        assert [c.source_ref for c in _polled(session)] == ["SR-OLD"]


@pytest.mark.parametrize("wrapper", ["service_requests", "requests"])
def test_a_list_wrapped_in_an_object_is_read_too(
    wrapper: str,
    session: Session,
    settings: Settings,
    world: IntegrationWorld,
    db: Database,
    platform: CityPlatform,
) -> None:
    now = utcnow().replace(microsecond=0)
    platform.requests_answer = {wrapper: [_request("SR-W", now - timedelta(minutes=5))]}
    _upstream(session, settings, platform, now - timedelta(hours=1))

    assert poller.poll_due(db, settings) == 1
    assert [c.source_ref for c in _polled(session)] == ["SR-W"]
