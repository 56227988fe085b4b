"""The officer's device push (``GET /api/v1/me/stream``) against a real server: uvicorn on
127.0.0.1 in a thread, steps taken through the services in a committed session, the stream read
with httpx2. Every read has a timeout, so a failure ends the test instead of hanging it; the
server stops by itself at the end."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_handling_helpers import actor, dispatched, new_uuid, on_duty, take_in
from tests.complaints.world import IN_WG01, ComplaintWorld, complaint_world
from zhifa.complaints import device_stream, handling
from zhifa.complaints.device_stream import Follower
from zhifa.db import Database
from zhifa.kit import events
from zhifa.kit.events import broker
from zhifa.models.org import Officer

WAIT_SECONDS = 15.0


@dataclass
class Live:
    url: str


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.02)


@pytest.fixture
def live(app: FastAPI) -> Iterator[Live]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait(lambda: server.started, "the server to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Live(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive()


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    w = complaint_world(session)
    session.commit()
    return w


def _headers(session: Session, who: Officer) -> dict[str, str]:
    h = factories.bearer(session, who)
    session.commit()
    return h


def _next_event(lines: Iterator[str]) -> tuple[str, dict[str, object]]:
    """The next ``event:``/``data:`` pair, skipping comments and ids."""
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            return name, json.loads(line[6:])
    pytest.fail("the stream ended before an event")


class TestFollower:
    def test_a_step_naming_the_officer_is_theirs_while_the_job_is_open(self) -> None:
        follower = Follower(7)

        assert follower.judge({"complaint_id": 1, "officer_ids": [7, 8], "status": "taken"})
        assert follower.mine == {1}
        assert (
            follower.judge({"complaint_id": 1, "officer_ids": [7], "status": "fed_back"}) is False
        )
        assert follower.mine == set()

    def test_a_step_that_took_the_job_away_is_forwarded_once(self) -> None:
        follower = Follower(7, {1})

        assert follower.judge({"complaint_id": 1, "officer_ids": [], "status": "filed"}) is False
        assert follower.judge({"complaint_id": 1, "officer_ids": [], "status": "filed"}) is None

    def test_other_officers_jobs_are_not_forwarded(self) -> None:
        follower = Follower(7)

        assert (
            follower.judge({"complaint_id": 2, "officer_ids": [8, 9], "status": "dispatched"})
            is None
        )
        assert follower.judge({"note": "no complaint id"}) is None


class TestDeviceStream:
    def test_a_dispatch_to_the_officer_is_pushed_and_others_are_not(
        self, live: Live, session: Session, world: ComplaintWorld
    ) -> None:
        headers = _headers(session, world.officer)
        before = broker.subscriber_count()
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/api/v1/me/stream", headers=headers) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            assert next(lines) == "retry: 5000"
            assert next(lines) == ": connected"
            # Another pair's job: not pushed to this phone.
            on_duty(session, world.third, world.field.leader)
            others = take_in(session, world, description="暴露垃圾旁有人摆摊")
            handling.dispatch(
                session,
                actor(session, world.dispatcher),
                complaint_id=others.id,
                officer_ids=[world.third.id, world.field.leader.id],
            )
            session.commit()
            mine = dispatched(session, world)
            session.commit()
            name, data = _next_event(lines)

        assert name == "assignment"
        assert data["complaint_id"] == mine.id
        assert data["tracking_no"] == mine.tracking_no
        assert (data["step"], data["status"], data["assigned"]) == (
            "dispatched",
            "dispatched",
            True,
        )
        assert data["officer_ids"] == [world.officer.id, world.second.id]
        assert data["category_name"] == "占道经营"
        assert (data["lon"], data["lat"]) == IN_WG01
        _wait(lambda: broker.subscriber_count() == before, "the subscription to end")

    def test_a_job_taken_away_is_pushed_so_the_phone_drops_it(
        self, live: Live, session: Session, world: ComplaintWorld
    ) -> None:
        mine = dispatched(session, world)  # before the phone connects
        session.commit()
        headers = _headers(session, world.officer)
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/api/v1/me/stream", headers=headers) as response,
        ):
            lines = response.iter_lines()
            next(lines), next(lines)
            handling.decline(
                session,
                actor(session, world.second),
                complaint_id=mine.id,
                client_uuid=new_uuid(),
                reason="另有紧急任务",
            )
            session.commit()
            name, data = _next_event(lines)

        assert name == "assignment"
        assert (data["complaint_id"], data["step"], data["assigned"]) == (
            mine.id,
            "declined",
            False,
        )
        assert data["officer_ids"] == []

    def test_a_phone_that_falls_behind_is_told_to_reload_and_the_stream_ends(
        self,
        live: Live,
        db: Database,
        session: Session,
        world: ComplaintWorld,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(events, "QUEUE_SIZE", 2)
        headers = _headers(session, world.officer)
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/api/v1/me/stream", headers=headers) as response,
        ):
            lines = response.iter_lines()
            next(lines), next(lines)
            with db.sessionmaker() as s:
                s.execute(select(1))
                for n in range(200):
                    data = {"complaint_id": n + 1, "officer_ids": [world.officer.id]}
                    events.publish_after_commit(s, "complaint", data, district_code="510184")
                s.commit()
            rest = list(lines)

        # The notice is the last thing sent: the server ended the stream after it.
        assert rest[-3:] == ["event: lagged", "data: {}", ""]

    def test_a_heartbeat_comment_keeps_an_idle_stream_open(
        self,
        live: Live,
        session: Session,
        world: ComplaintWorld,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(device_stream, "HEARTBEAT_SECONDS", 0.2)
        headers = _headers(session, world.officer)
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/api/v1/me/stream", headers=headers) as response,
        ):
            lines = response.iter_lines()
            next(lines), next(lines)
            assert ": heartbeat" in (next(lines), next(lines))

    def test_without_complaints_handle_the_stream_is_refused(
        self, live: Live, session: Session, world: ComplaintWorld
    ) -> None:
        headers = _headers(session, world.dispatcher)

        response = httpx2.get(f"{live.url}/api/v1/me/stream", headers=headers, timeout=WAIT_SECONDS)

        assert response.status_code == 403

    def test_anonymous_is_refused(self, live: Live) -> None:
        response = httpx2.get(f"{live.url}/api/v1/me/stream", timeout=WAIT_SECONDS)

        assert response.status_code == 401
