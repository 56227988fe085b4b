"""Intake: a complaint from any channel becomes one routed row with a tracking number, the step
``received`` on its timeline and in the ledger, a transfer when the bureau cannot handle it, and
a repeat of an upstream work order answered with the first complaint."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.complaints.test_intake_helpers import (
    TRACKING_PATTERN,
    complaint_in,
    counts,
    events_of,
    ledger_events,
    pending_bus,
    take_in,
)
from tests.complaints.world import (
    CONSULT,
    FOOD,
    GARBAGE,
    IN_NO_GRID,
    IN_WG01,
    IN_WG02,
    OUTSIDE,
    VENDING,
    ComplaintWorld,
    complaint_world,
)
from zhifa.complaints import tracking
from zhifa.complaints.intake import create_complaint
from zhifa.config import Settings
from zhifa.kit.clock import SHANGHAI, utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
    Priority,
)


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


class TestTakingIn:
    def test_a_complaint_in_a_grid_is_owned_by_the_grids_squad(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        result = take_in(session, world, settings)

        row = result.complaint
        assert result.created is True
        assert row.status == ComplaintStatus.RECEIVED
        assert row.unit_id == world.field.squad.id
        assert row.grid_id == world.field.grid.id
        assert row.department_id == world.chengguan.id
        assert row.routing_note == ""
        assert row.source == ComplaintSource.HOTLINE
        assert row.hotline_type == HotlineType.COMPLAINT
        assert row.priority == Priority.NORMAL
        assert row.attributes == {"blocking": "yes"}
        assert (row.lon, row.lat) == IN_WG01

    def test_the_tracking_number_has_the_prefix_the_local_day_and_six_crockford_letters(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint

        assert TRACKING_PATTERN.fullmatch(row.tracking_no)
        assert row.tracking_no[2:10] == f"{row.received_at.astimezone(SHANGHAI):%Y%m%d}"
        assert str(uuid.UUID(row.token)) == row.token

    def test_the_received_step_is_public_and_names_the_tracking_number(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint

        [event] = events_of(session, row)
        assert event.kind == "received"
        assert event.public is True
        assert row.tracking_no in event.note
        assert event.actor_id == world.dispatcher.id
        assert event.at == row.received_at

    def test_the_ledger_gets_the_received_step_with_the_complaints_state(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint
        session.commit()

        [entry] = ledger_events(session)
        assert entry.kind == "complaint.received"
        assert entry.subject_type == "complaint"
        assert entry.subject_id == str(row.id)
        assert entry.payload["tracking_no"] == row.tracking_no
        assert entry.payload["state"]["unit_id"] == world.field.squad.id

    def test_the_bus_hears_the_new_complaint(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint

        [bus] = [b for b in pending_bus(session) if b.topic == "complaint"]
        assert bus.data["complaint_id"] == row.id
        assert bus.data["step"] == "received"
        assert bus.data["unit_id"] == world.field.squad.id

    def test_a_complaint_in_the_other_grid_goes_to_the_other_squad(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings, lon=IN_WG02[0], lat=IN_WG02[1]).complaint

        assert row.unit_id == world.field.other_squad.id

    def test_priority_and_type_default_to_the_categorys_and_may_be_given(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        world.categories[GARBAGE].priority = Priority.URGENT
        session.commit()

        default = take_in(session, world, settings, category_code=GARBAGE, attributes={})
        given = take_in(
            session,
            world,
            settings,
            category_code=GARBAGE,
            attributes={},
            priority=Priority.NORMAL,
            hotline_type=HotlineType.SUGGESTION,
        )

        assert default.complaint.priority == Priority.URGENT
        assert (given.complaint.priority, given.complaint.hotline_type) == (
            Priority.NORMAL,
            HotlineType.SUGGESTION,
        )

    def test_a_consultation_takes_the_consult_type(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings, category_code=CONSULT, attributes={}).complaint

        assert row.hotline_type == HotlineType.CONSULT
        assert row.status == ComplaintStatus.RECEIVED

    def test_an_old_work_order_keeps_its_reception_time(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        earlier = utcnow() - timedelta(days=2)
        row = create_complaint(
            session,
            district_code=world.district_code,
            data=complaint_in(),
            source=ComplaintSource.IMPORT,
            actor_id=None,
            source_ref="GD-1",
            received_at=earlier,
            settings=settings,
        ).complaint

        assert row.received_at == earlier
        assert row.tracking_no[2:10] == f"{earlier.astimezone(SHANGHAI):%Y%m%d}"


class TestTransferAtIntake:
    def test_a_category_no_department_handles_is_transferred_with_a_public_reason(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        result = take_in(session, world, settings, category_code=FOOD, attributes={})

        row = result.complaint
        assert row.status == ComplaintStatus.TRANSFERRED
        assert row.transfer_to == "崇州市市场监督管理局"
        assert row.department_id is None
        steps = events_of(session, row)
        assert [e.kind for e in steps] == ["received", "transferred"]
        assert steps[1].public is True
        assert steps[1].note == "该事项不属于本局职权范围，已转 崇州市市场监督管理局 办理"
        assert steps[1].data["to"] == "崇州市市场监督管理局"
        assert result.duplicates == []

    def test_a_place_outside_the_district_is_transferred(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings, lon=OUTSIDE[0], lat=OUTSIDE[1]).complaint

        assert row.status == ComplaintStatus.TRANSFERRED
        assert row.grid_id is None
        assert row.unit_id == world.field.bureau.id
        transferred = events_of(session, row)[-1]
        assert transferred.note == "投诉地点不在本区县范围内"

    def test_both_steps_reach_the_ledger_in_order(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        take_in(session, world, settings, category_code=FOOD, attributes={})
        session.commit()

        assert [e.kind for e in ledger_events(session)] == [
            "complaint.received",
            "complaint.transferred",
        ]


class TestPlacesWithoutAGrid:
    def test_a_point_in_no_grid_goes_to_the_default_unit_with_a_note(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings, lon=IN_NO_GRID[0], lat=IN_NO_GRID[1]).complaint

        assert row.status == ComplaintStatus.RECEIVED
        assert row.unit_id == world.field.bureau.id
        assert row.grid_id is None
        assert row.routing_note == "投诉地点不在任何网格内，请人工指派"

    def test_an_address_without_a_point_goes_to_the_default_unit_to_be_placed_by_hand(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings, lon=None, lat=None).complaint

        assert row.status == ComplaintStatus.RECEIVED
        assert (row.lon, row.lat, row.grid_id) == (None, None, None)
        assert row.unit_id == world.field.bureau.id
        assert row.routing_note == "无坐标，请人工定位"
        assert row.address == "崇州市蜀州中路 88 号门前"


class TestUpstreamWorkOrdersOnce:
    def test_a_repeated_work_order_answers_the_first_complaint_and_writes_nothing(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        first = take_in(
            session, world, settings, source=ComplaintSource.IMPORT, source_ref="GD20260501-001"
        )
        session.commit()
        before = counts(session)

        again = take_in(
            session,
            world,
            settings,
            source=ComplaintSource.IMPORT,
            source_ref="GD20260501-001",
            description="另一段描述",
        )
        session.commit()

        assert again.created is False
        assert again.complaint.id == first.complaint.id
        assert again.complaint.description == first.complaint.description
        assert counts(session) == before

    def test_the_same_reference_from_another_source_is_another_complaint(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        one = take_in(session, world, settings, source=ComplaintSource.IMPORT, source_ref="A-1")
        two = take_in(session, world, settings, source=ComplaintSource.UPSTREAM, source_ref="A-1")

        assert two.created is True
        assert one.complaint.id != two.complaint.id

    def test_complaints_without_a_reference_are_never_taken_for_repeats(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        take_in(session, world, settings)
        take_in(session, world, settings)

        assert len(session.scalars(select(Complaint)).all()) == 2


class TestTrackingNumbers:
    def test_a_collision_draws_again(
        self,
        session: Session,
        world: ComplaintWorld,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        taken = take_in(session, world, settings).complaint.tracking_no
        draws = iter([taken[-6:], "ZZZZZZ"])
        monkeypatch.setattr(tracking, "random_part", lambda length=6: next(draws))

        row = take_in(session, world, settings).complaint

        assert row.tracking_no == f"{taken[:-6]}ZZZZZZ"

    def test_the_district_prefix_is_used(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        world.settings.tracking_prefix = "CZ"
        session.commit()

        row = take_in(session, world, settings).complaint

        assert row.tracking_no.startswith("CZ")

    def test_numbers_taken_in_one_day_differ(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        numbers = {take_in(session, world, settings).complaint.tracking_no for _ in range(5)}

        assert len(numbers) == 5


class TestAutoDispatch:
    def test_a_category_with_auto_dispatch_is_handed_to_the_handling(
        self,
        session: Session,
        world: ComplaintWorld,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from zhifa.complaints import handling

        handed: list[int] = []
        monkeypatch.setattr(handling, "auto_dispatch", lambda s, c: handed.append(c.id))
        category = session.get(ComplaintCategory, world.categories[VENDING].id)
        assert category is not None
        category.auto_dispatch = True
        session.commit()

        row = take_in(session, world, settings).complaint

        assert handed == [row.id]

    def test_a_category_without_it_is_left_for_the_dispatcher(
        self,
        session: Session,
        world: ComplaintWorld,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from zhifa.complaints import handling

        handed: list[int] = []
        monkeypatch.setattr(handling, "auto_dispatch", lambda s, c: handed.append(c.id))

        take_in(session, world, settings)

        assert handed == []
