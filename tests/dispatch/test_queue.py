"""The complaint queue of the command centre (dispatch.queue): open complaints in scope, overdue
first, then by the nearest ticking deadline (urgent first on a tie), paused ones last; the clocks
the page counts down; the counts per SLA state; and the fragment /command/queue that carries
them to the browser (data-due in ISO 8601 UTC)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.complaints.world import (
    CONSULT,
    IN_NO_GRID,
    IN_WG01,
    IN_WG02,
    VENDING,
    ComplaintWorld,
    complaint_world,
)
from tests.org.helpers import web_login
from zhifa.complaints import workflow
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.dispatch.queue import count_by_state, open_queue
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintSource, Priority, SlaStage, SlaState
from zhifa.org.roles import ScopeLevel
from zhifa.org.scope import DataScope, build_scope

NOW = utcnow().replace(microsecond=0)


@pytest.fixture(autouse=True)
def _now() -> None:
    """NOW is taken when each test starts: intake and the clocks read the real time too, so a NOW
    taken at import would drift from it over a long run."""
    global NOW
    NOW = utcnow().replace(microsecond=0)


DISTRICT = DataScope(ScopeLevel.DISTRICT, frozenset({"510184"}))


def take_in(
    session: Session,
    world: ComplaintWorld,
    *,
    minutes_ago: int,
    point: tuple[float, float] = IN_WG01,
    category: str = VENDING,
    priority: Priority | None = None,
) -> Complaint:
    """A hotline complaint received ``minutes_ago`` before NOW (real intake: route, clocks)."""
    data = ComplaintIn(
        category_code=category,
        description="流动摊贩占道经营",
        lon=point[0],
        lat=point[1],
        address="蜀州中路 88 号",
        attributes={"blocking": "yes"} if category == VENDING else {},
        priority=priority,
    )
    result = create_complaint(
        session,
        district_code=world.district_code,
        data=data,
        source=ComplaintSource.HOTLINE,
        actor_id=world.dispatcher.id,
        received_at=NOW - timedelta(minutes=minutes_ago),
    )
    session.flush()
    return result.complaint


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    w = complaint_world(session)
    session.commit()
    return w


def _ids(items: list[object]) -> list[int]:
    return [item.complaint.id for item in items]  # type: ignore[attr-defined]


class TestQueueOrder:
    def test_overdue_first_then_the_nearest_deadline_then_paused(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        later = take_in(session, world, minutes_ago=1)  # dispatch due in 9 min
        consult = take_in(session, world, minutes_ago=0, category=CONSULT)  # 3 working days
        overdue = take_in(session, world, minutes_ago=30)  # dispatch due 20 min ago
        paused = take_in(session, world, minutes_ago=5)
        workflow.advance(
            session, paused, "paused", actor_id=world.dispatcher.id, at=NOW - timedelta(minutes=2)
        )
        soon = take_in(session, world, minutes_ago=8)  # dispatch due in 2 min: warning
        session.commit()

        items = open_queue(session, DISTRICT, now=NOW)

        assert _ids(items) == [overdue.id, soon.id, later.id, consult.id, paused.id]
        assert [i.state for i in items] == [
            SlaState.OVERDUE,
            SlaState.WARNING,
            SlaState.OK,
            SlaState.OK,
            SlaState.PAUSED,
        ]
        assert [i.overdue for i in items] == [True, False, False, False, False]
        assert [i.colour for i in items] == ["red", "amber", "green", "green", "grey"]

    def test_urgent_comes_first_when_the_deadlines_are_equal(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        normal = take_in(session, world, minutes_ago=5)  # 10-minute dispatch: due in 5
        urgent = take_in(session, world, minutes_ago=0, priority=Priority.URGENT)  # 5 minutes
        session.commit()

        items = open_queue(session, DISTRICT, now=NOW)

        assert items[0].next_due == items[1].next_due
        assert _ids(items) == [urgent.id, normal.id]

    def test_finished_complaints_are_not_in_the_queue(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        open_one = take_in(session, world, minutes_ago=3)
        rejected = take_in(session, world, minutes_ago=2)
        workflow.advance(session, rejected, "rejected", actor_id=world.dispatcher.id)
        session.commit()

        assert _ids(open_queue(session, DISTRICT, now=NOW)) == [open_one.id]


class TestQueueClocks:
    def test_the_running_clocks_with_their_deadlines(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world, minutes_ago=4)
        session.commit()

        (item,) = open_queue(session, DISTRICT, now=NOW)

        assert [c.stage for c in item.clocks] == [SlaStage.DISPATCH, SlaStage.FEEDBACK]
        dispatch, feedback = item.clocks
        assert dispatch.due == complaint.received_at + timedelta(minutes=10)
        assert feedback.due == complaint.received_at + timedelta(minutes=120)
        assert dispatch.remaining_seconds == 6 * 60
        assert item.next_due == dispatch.due
        assert item.category_name == "占道经营"
        assert item.unit_name == "一中队"

    def test_a_dispatched_complaint_counts_down_to_arrival_and_handling(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world, minutes_ago=6)
        workflow.advance(session, complaint, "filed", actor_id=world.dispatcher.id)
        workflow.advance(
            session,
            complaint,
            "dispatched",
            actor_id=world.dispatcher.id,
            at=NOW - timedelta(minutes=1),
        )
        session.commit()

        (item,) = open_queue(session, DISTRICT, now=NOW)

        assert [c.stage for c in item.clocks] == [
            SlaStage.ARRIVE,
            SlaStage.HANDLE,
            SlaStage.FEEDBACK,
        ]
        assert item.next_due == NOW + timedelta(minutes=19)

    def test_counts_per_state(self, session: Session, world: ComplaintWorld) -> None:
        take_in(session, world, minutes_ago=30)
        take_in(session, world, minutes_ago=8)
        take_in(session, world, minutes_ago=1)
        session.commit()

        counts = count_by_state(open_queue(session, DISTRICT, now=NOW))

        assert counts["total"] == 3
        assert (counts["overdue"], counts["warning"], counts["ok"]) == (1, 1, 1)


class TestQueueScope:
    def test_a_squad_leader_sees_only_their_squads_complaints(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        own = take_in(session, world, minutes_ago=3, point=IN_WG01)
        take_in(session, world, minutes_ago=2, point=IN_WG02)
        take_in(session, world, minutes_ago=1, point=IN_NO_GRID)  # owned by the bureau
        session.commit()
        leader = world.field.leader
        scope = build_scope(
            session,
            level=ScopeLevel.SQUAD,
            district_code=leader.district_code,
            unit=world.field.squad,
        )

        assert _ids(open_queue(session, scope, now=NOW)) == [own.id]
        assert len(open_queue(session, DISTRICT, now=NOW)) == 3


class TestQueueFragment:
    def test_the_fragment_carries_the_deadlines_and_the_overdue_flag(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        late = take_in(session, world, minutes_ago=30)
        fine = take_in(session, world, minutes_ago=1)
        session.commit()
        web_login(client, session, world.dispatcher)

        response = client.get("/command/queue")

        assert response.status_code == 200
        html = response.text
        assert "<html" not in html
        ids = [int(i) for i in re.findall(r'data-complaint-id="(\d+)"', html)]
        assert ids[:2] == [late.id, fine.id]
        item = re.search(rf'<li class="([^"]*)"[^>]*data-complaint-id="{late.id}"', html)
        assert item is not None and "overdue" in item.group(1)  # noqa: PT018
        assert late.dispatch_due is not None
        assert f'data-due="{late.dispatch_due.isoformat()}"' in html
        assert "超时" in html
        assert late.tracking_no in html and "占道经营" in html  # noqa: PT018
        assert 'data-total="2"' in html and 'data-overdue="1"' in html  # noqa: PT018

    def test_a_paused_clock_carries_its_remaining_time(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        paused = take_in(session, world, minutes_ago=4)
        workflow.advance(session, paused, "paused", actor_id=world.dispatcher.id, at=NOW)
        session.commit()
        web_login(client, session, world.dispatcher)

        html = client.get("/command/queue").text

        assert 'data-paused="1" data-remaining="360"' in html
        assert 'data-sla-state="paused"' in html

    def test_an_empty_queue_says_so(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        web_login(client, session, world.dispatcher)

        html = client.get("/command/queue").text

        assert "您的范围内没有待办投诉" in html

    def test_a_field_officer_may_not_read_it(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        web_login(client, session, world.officer)

        assert client.get("/command/queue").status_code == 403
