"""/command/stream against a real server: uvicorn on 127.0.0.1 in a thread, an event published
through a committed session (``publish_after_commit``) or a complaint taken in through the real
intake, read back with httpx streaming; the client's disconnect ends the subscription, then the
server is stopped. Every read has a timeout, so a failure ends the test instead of hanging it.
Inspection topics and the complaint loop's (complaint, officer, alert, sla), with unit scoping."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, VENDING, complaint_world
from tests.subjects.helpers import World, subjects_world
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.db import Database
from zhifa.dispatch import stream
from zhifa.kit.events import broker, publish_after_commit
from zhifa.models.complaints import ComplaintSource
from zhifa.models.org import Officer

WAIT_SECONDS = 15.0


@dataclass
class Live:
    url: str


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
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
def world(session: Session) -> World:
    w = subjects_world(session)
    session.commit()
    return w


def _headers(session: Session, who: Officer) -> dict[str, str]:
    h = factories.bearer(session, who)
    session.commit()
    return h


def _publish(db: Database, topic: str, data: dict[str, object], district: str) -> None:
    with db.sessionmaker() as s:
        s.execute(select(1))
        publish_after_commit(s, topic, data, district_code=district)
        s.commit()


def _lines(response: httpx2.Response) -> Iterator[str]:
    yield from response.iter_lines()


def _next_event(lines: Iterator[str]) -> tuple[str, dict[str, object]]:
    """The next ``event:``/``data:`` pair, skipping comments and ids."""
    topic = ""
    for line in lines:
        if line.startswith("event: "):
            topic = line[7:]
        elif line.startswith("data: ") and topic:
            return topic, json.loads(line[6:])
    pytest.fail("the stream ended before an event")


class TestCommandStream:
    def test_a_committed_event_of_the_district_reaches_the_stream(
        self, live: Live, db: Database, session: Session, world: World
    ) -> None:
        headers = _headers(session, world.field.leader)
        before = broker.subscriber_count()
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/command/stream", headers=headers) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = _lines(response)
            assert next(lines) == "retry: 5000"
            assert next(lines) == ": connected"
            # not for this viewer: another district, a topic the page does not show
            _publish(db, "inspection.submitted", {"task_id": 999}, "510104")
            _publish(db, "inspection.started", {"task_id": 998}, "510184")
            _publish(
                db,
                "inspection.submitted",
                {"task_id": world.field.task.id, "subject_name": world.field.cafe.name},
                "510184",
            )
            topic, data = _next_event(lines)

        assert topic == "inspection.submitted"
        assert data["task_id"] == world.field.task.id
        assert data["subject_name"] == world.field.cafe.name
        assert data["district_code"] == "510184"
        _wait(lambda: broker.subscriber_count() == before, "the subscription to end")

    def test_a_rolled_back_change_announces_nothing(
        self, live: Live, db: Database, session: Session, world: World
    ) -> None:
        headers = _headers(session, world.field.leader)
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/command/stream", headers=headers) as response,
        ):
            lines = _lines(response)
            next(lines), next(lines)
            with db.sessionmaker() as s:
                s.execute(select(1))
                data = {"number_text": "作废"}
                publish_after_commit(s, "document.issued", data, district_code="510184")
                s.rollback()
            _publish(db, "check_in", {"task_id": 7, "outcome": "accepted"}, "510184")
            topic, data = _next_event(lines)

        assert (topic, data["task_id"]) == ("check_in", 7)

    def test_a_squad_leader_does_not_get_another_squads_events(
        self, live: Live, db: Database, session: Session, world: World
    ) -> None:
        headers = _headers(session, world.field.leader)
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/command/stream", headers=headers) as response,
        ):
            lines = _lines(response)
            next(lines), next(lines)
            other, own = world.field.other_squad.id, world.field.squad.id
            _publish(db, "check_in", {"task_id": 1, "unit_id": other}, "510184")
            _publish(db, "check_in", {"task_id": 2, "unit_id": own}, "510184")
            _topic, data = _next_event(lines)

        assert data["task_id"] == 2

    def test_a_heartbeat_comment_keeps_an_idle_stream_open(
        self,
        live: Live,
        session: Session,
        world: World,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.2)
        headers = _headers(session, world.field.leader)
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/command/stream", headers=headers) as response,
        ):
            lines = _lines(response)
            next(lines), next(lines)
            assert ": heartbeat" in (next(lines), next(lines))

    def test_without_command_view_the_stream_is_refused(
        self, live: Live, session: Session, world: World
    ) -> None:
        headers = _headers(session, world.field.officer)
        response = httpx2.get(f"{live.url}/command/stream", headers=headers, timeout=WAIT_SECONDS)

        assert response.status_code == 403

    def test_anonymous_is_refused(self, live: Live) -> None:
        response = httpx2.get(f"{live.url}/command/stream", timeout=WAIT_SECONDS)

        assert response.status_code in (303, 401)


class TestComplaintTopics:
    """The complaint loop's topics (complaint, officer, alert, sla) on the same stream."""

    def test_all_four_topics_reach_a_district_viewer(
        self, live: Live, db: Database, session: Session, world: World
    ) -> None:
        headers = _headers(session, world.leader)  # 局领导: district scope
        squad = world.field.squad.id
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/command/stream", headers=headers) as response,
        ):
            lines = _lines(response)
            next(lines), next(lines)
            _publish(
                db, "complaint", {"complaint_id": 1, "step": "received", "unit_id": squad}, "510184"
            )
            _publish(
                db, "officer", {"officer_id": 2, "status": "available", "unit_id": squad}, "510184"
            )
            _publish(db, "alert", {"alert_id": 3, "complaint_id": 1, "unit_id": squad}, "510184")
            _publish(
                db, "sla", {"complaint_id": 1, "sla_state": "overdue", "unit_id": None}, "510184"
            )
            got = [_next_event(lines) for _ in range(4)]

        assert [topic for topic, _ in got] == ["complaint", "officer", "alert", "sla"]
        assert got[0][1]["step"] == "received"
        assert got[1][1]["status"] == "available"
        assert got[3][1]["sla_state"] == "overdue"  # no squad yet: a district viewer sees it

    def test_a_squad_leader_gets_only_their_squads_complaint_events(
        self, live: Live, db: Database, session: Session, world: World
    ) -> None:
        headers = _headers(session, world.field.leader)
        other, own = world.field.other_squad.id, world.field.squad.id
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/command/stream", headers=headers) as response,
        ):
            lines = _lines(response)
            next(lines), next(lines)
            _publish(db, "complaint", {"complaint_id": 10, "unit_id": other}, "510184")
            _publish(db, "complaint", {"complaint_id": 11, "unit_id": None}, "510184")
            _publish(db, "officer", {"officer_id": 12, "unit_id": other}, "510184")
            _publish(db, "alert", {"alert_id": 13, "unit_id": None}, "510184")
            _publish(db, "officer", {"officer_id": 14, "unit_id": own}, "510184")
            _publish(db, "complaint", {"complaint_id": 15, "unit_id": own}, "510184")
            first, second = _next_event(lines), _next_event(lines)

        assert (first[0], first[1]["officer_id"]) == ("officer", 14)
        assert (second[0], second[1]["complaint_id"]) == ("complaint", 15)

    def test_a_complaint_taken_in_elsewhere_arrives_with_its_tracking_number(
        self, live: Live, db: Database, session: Session
    ) -> None:
        world = complaint_world(session)
        session.commit()
        headers = _headers(session, world.dispatcher)
        with (
            httpx2.Client(timeout=WAIT_SECONDS) as client,
            client.stream("GET", f"{live.url}/command/stream", headers=headers) as response,
        ):
            lines = _lines(response)
            next(lines), next(lines)
            with db.sessionmaker() as s:
                data = ComplaintIn(
                    category_code=VENDING,
                    description="路口有流动摊贩",
                    lon=IN_WG01[0],
                    lat=IN_WG01[1],
                    attributes={"blocking": "yes"},
                )
                created = create_complaint(
                    s,
                    district_code=world.district_code,
                    data=data,
                    source=ComplaintSource.HOTLINE,
                    actor_id=world.dispatcher.id,
                )
                tracking_no, unit_id = created.complaint.tracking_no, created.complaint.unit_id
                s.commit()
            topic, got = _next_event(lines)

        assert topic == "complaint"
        assert (got["step"], got["status"]) == ("received", "received")
        assert got["tracking_no"] == tracking_no
        assert got["unit_id"] == unit_id == world.field.squad.id
        assert (got["lon"], got["lat"]) == IN_WG01
