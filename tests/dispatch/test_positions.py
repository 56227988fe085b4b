"""POST /api/v1/positions and ``dispatch.live.record_fixes``: a batch of the caller's fixes goes
into the track in one bulk insert, the newest by device time into the live row; a bad fix refuses
the whole batch with its index and nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, ComplaintWorld, complaint_world
from zhifa.dispatch import live
from zhifa.dispatch.schemas import FixIn
from zhifa.kit.clock import SHANGHAI, as_utc, utcnow
from zhifa.kit.events import PENDING_KEY
from zhifa.models.dispatch import DutyStatus, OfficerLive, PositionFix
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.credentials import actor_for

URL = "/api/v1/positions"


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    w = complaint_world(session)
    session.commit()
    return w


def headers(session: Session, officer: Officer) -> dict[str, str]:
    value = factories.bearer(session, officer)
    session.commit()
    return value


def fix(
    minutes_ago: float = 1.0,
    *,
    lon: float = IN_WG01[0],
    lat: float = IN_WG01[1],
    **extra: Any,
) -> dict[str, Any]:
    taken = utcnow() - timedelta(minutes=minutes_ago)
    return {"lon": lon, "lat": lat, "accuracy_m": 8.0, "fix_at": taken.isoformat()} | extra


def track(session: Session, officer_id: int | None = None) -> list[PositionFix]:
    session.expire_all()
    stmt = select(PositionFix).order_by(PositionFix.fix_at)
    if officer_id is not None:
        stmt = stmt.where(PositionFix.officer_id == officer_id)
    return list(session.scalars(stmt))


def live_row(session: Session, officer_id: int) -> OfficerLive | None:
    session.expire_all()
    return session.get(OfficerLive, officer_id)


class TestABatchIsStored:
    def test_every_fix_lands_in_the_track_and_the_newest_in_the_live_row(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        fixes = [fix(5, lon=103.6041), fix(1, lon=103.6043, speed_mps=1.2, heading_deg=90.0)]
        fixes.append(fix(3, lon=103.6042))
        response = client.post(URL, json={"fixes": fixes}, headers=headers(session, world.officer))
        assert response.status_code == 200
        body = response.json()
        assert body["accepted"] == 3
        assert body["latest"]["officer_id"] == world.officer.id
        assert body["latest"]["lon"] == 103.6043
        assert body["latest"]["stale"] is False
        assert body["latest"]["status"] == "off_duty"
        stored = track(session, world.officer.id)
        assert [f.lon for f in stored] == [103.6041, 103.6042, 103.6043]
        assert stored[2].speed_mps == 1.2
        assert stored[2].heading_deg == 90.0
        assert all(f.district_code == "510184" for f in stored)
        row = live_row(session, world.officer.id)
        assert row is not None
        assert (row.lon, row.lat, row.accuracy_m) == (103.6043, IN_WG01[1], 8.0)
        assert row.unit_id == world.field.squad.id
        assert as_utc(row.fix_at or utcnow()) == datetime.fromisoformat(fixes[1]["fix_at"])

    def test_a_full_batch_of_the_allowed_size_is_taken(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        fixes = [fix(60 - n * 0.1, lon=103.6 + n * 1e-6) for n in range(500)]
        response = client.post(URL, json={"fixes": fixes}, headers=headers(session, world.officer))
        assert response.status_code == 200
        assert response.json()["accepted"] == 500
        assert len(track(session, world.officer.id)) == 500

    def test_positions_are_not_ledgered_and_do_not_put_anyone_on_duty(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        before = session.scalar(select(func.count()).select_from(LedgerEvent))
        h = headers(session, world.officer)
        assert client.post(URL, json={"fixes": [fix()]}, headers=h).status_code == 200
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(LedgerEvent)) == before
        row = live_row(session, world.officer.id)
        assert row is not None
        assert row.status == DutyStatus.OFF_DUTY

    def test_a_time_without_an_offset_is_read_as_local_time(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        local = (utcnow() - timedelta(minutes=2)).astimezone(SHANGHAI).replace(microsecond=0)
        body = {"fixes": [fix() | {"fix_at": local.replace(tzinfo=None).isoformat()}]}
        response = client.post(URL, json=body, headers=headers(session, world.officer))
        assert response.status_code == 200
        assert as_utc(track(session)[0].fix_at) == local


class TestTheNewestFixByDeviceTimeWins:
    def test_a_late_older_fix_goes_into_the_track_only(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        h = headers(session, world.officer)
        assert client.post(URL, json={"fixes": [fix(1, lon=103.605)]}, headers=h).status_code == 200
        late = client.post(URL, json={"fixes": [fix(10, lon=103.601)]}, headers=h)
        assert late.status_code == 200
        assert late.json()["latest"]["lon"] == 103.605
        row = live_row(session, world.officer.id)
        assert row is not None
        assert row.lon == 103.605
        assert [f.lon for f in track(session)] == [103.601, 103.605]

    def test_a_newer_fix_replaces_the_live_position(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        h = headers(session, world.officer)
        client.post(URL, json={"fixes": [fix(10, lon=103.601)]}, headers=h)
        newer = client.post(URL, json={"fixes": [fix(1, lon=103.605, accuracy_m=3.5)]}, headers=h)
        assert newer.json()["latest"]["lon"] == 103.605
        row = live_row(session, world.officer.id)
        assert row is not None
        assert (row.lon, row.accuracy_m) == (103.605, 3.5)

    def test_the_status_and_commitment_survive_a_new_position(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        live.set_status(
            session, officer_id=world.officer.id, status=DutyStatus.AVAILABLE, actor_id=None
        )
        session.commit()
        h = headers(session, world.officer)
        response = client.post(URL, json={"fixes": [fix()]}, headers=h)
        assert response.json()["latest"]["status"] == "available"


class TestOnlyTheCallersPositions:
    def test_an_officer_id_in_the_body_is_ignored(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        other = world.second.id
        body = {"officer_id": other, "fixes": [fix() | {"officer_id": other}]}
        response = client.post(URL, json=body, headers=headers(session, world.officer))
        assert response.status_code == 200
        assert response.json()["latest"]["officer_id"] == world.officer.id
        assert [f.officer_id for f in track(session)] == [world.officer.id]
        assert live_row(session, other) is None


class TestABadFixRefusesTheWholeBatch:
    @pytest.mark.parametrize(
        ("bad", "field", "reason", "words"),
        [
            ({"lon": 181.0}, "lon", "out_of_range", "经度"),
            ({"lat": -90.5}, "lat", "out_of_range", "纬度"),
            ({"accuracy_m": -1.0}, "accuracy_m", "negative", "精度"),
            ({"speed_mps": -0.1}, "speed_mps", "negative", "速度"),
            ({"heading_deg": 360.0}, "heading_deg", "out_of_range", "方向"),
        ],
    )
    def test_a_value_out_of_range(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        bad: dict[str, float],
        field: str,
        reason: str,
        words: str,
    ) -> None:
        fixes = [fix(3), fix(2) | bad, fix(1)]
        response = client.post(URL, json={"fixes": fixes}, headers=headers(session, world.officer))
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_fix"
        assert error["detail"] == {"field": f"fixes.1.{field}", "index": 1, "reason": reason}
        assert error["message"].startswith("第 2 个定位点")
        assert words in error["message"]
        assert track(session) == []
        assert live_row(session, world.officer.id) is None

    def test_a_fix_from_the_future_beyond_the_allowed_clock_skew(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        fixes = [fix(1), fix(-5)]  # five minutes ahead; the default skew is two
        response = client.post(URL, json={"fixes": fixes}, headers=headers(session, world.officer))
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["detail"] == {"field": "fixes.1.fix_at", "index": 1, "reason": "in_future"}
        assert error["message"] == "第 2 个定位点的时间晚于服务器时间，请检查设备时钟。"
        assert track(session) == []

    def test_a_fix_a_little_ahead_within_the_skew_is_taken(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.post(
            URL, json={"fixes": [fix(-1)]}, headers=headers(session, world.officer)
        )
        assert response.status_code == 200
        assert response.json()["latest"]["fix_age_seconds"] == 0

    def test_a_fix_older_than_a_day(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.post(
            URL, json={"fixes": [fix(25 * 60)]}, headers=headers(session, world.officer)
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["detail"]["reason"] == "too_old"
        assert error["message"] == "第 1 个定位点已超过 24 小时，不予接收。"
        assert track(session) == []

    def test_a_batch_larger_than_allowed(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        fixes = [fix(10 + n * 0.01) for n in range(501)]
        response = client.post(URL, json={"fixes": fixes}, headers=headers(session, world.officer))
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_batch"
        assert error["message"] == "每次须上报 1 至 500 个定位点（本次为 501 个）。"
        assert track(session) == []

    def test_an_empty_batch(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.post(URL, json={"fixes": []}, headers=headers(session, world.officer))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_batch"
        assert live_row(session, world.officer.id) is None

    def test_a_value_that_is_not_a_number(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        body = {"fixes": [fix(), fix() | {"lat": "north"}]}
        response = client.post(URL, json=body, headers=headers(session, world.officer))
        assert response.status_code == 422
        assert "fixes.1.lat" in response.json()["error"]["message"]
        assert track(session) == []


class TestWhoMaySend:
    def test_a_role_without_complaints_handle_is_refused(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.post(
            URL, json={"fixes": [fix()]}, headers=headers(session, world.dispatcher)
        )
        assert response.status_code == 403
        assert track(session) == []

    def test_an_anonymous_caller_is_refused(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        assert client.post(URL, json={"fixes": [fix()]}).status_code == 401


class TestTheService:
    def test_one_bus_event_per_batch_with_the_latest_position(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        actor = actor_for(session, world.officer, via="token")
        fixes = [FixIn.model_validate(fix(m, lon=103.6 + m / 1000)) for m in (3, 1, 2)]
        recorded = live.record_fixes(session, actor, fixes)
        assert recorded.accepted == 3
        events = session.info[PENDING_KEY]
        assert [e.topic for e in events] == ["officer"]
        data = events[0].data
        assert data["officer_id"] == world.officer.id
        assert data["name"] == "李明"
        assert data["lon"] == pytest.approx(103.601)
        assert data["unit_id"] == world.field.squad.id
        assert data["status"] == "off_duty"
        assert set(data) == {
            "officer_id",
            "name",
            "unit_id",
            "status",
            "lon",
            "lat",
            "accuracy_m",
            "fix_at",
            "complaint_id",
        }
        session.rollback()
        assert track(session) == []
