"""SLA clocks: which profile applies, when each clock starts and stops, deadlines in minutes and in
working days (国庆 2026, a make-up Saturday, a district override, an unknown year), pause and
resume, extensions, the states ``clocks()`` and ``state()`` report, and final steps. Complaints
move through ``workflow.advance``, which is what calls ``sla.on_event``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.complaints.test_sla_helpers import (
    T0,
    by_stage,
    dispatched,
    end_of,
    minutes,
    new_complaint,
    sla_world,
    step,
    walk,
)
from tests.complaints.world import CONSULT, FOOD, GARBAGE
from zhifa.complaints import sla
from zhifa.kit.clock import SHANGHAI
from zhifa.models.complaints import Priority, SlaProfile, SlaStage, SlaState, WorkdayOverride


class TestProfileLookup:
    def test_the_categorys_profile_for_the_complaints_priority_applies(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        urgent = new_complaint(session, world, priority=Priority.URGENT)
        assert urgent.dispatch_due == T0 + minutes(5)
        assert urgent.feedback_due == T0 + minutes(60)

    def test_a_priority_without_its_own_profile_falls_back_to_normal(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        consult = new_complaint(session, world, category=CONSULT, priority=Priority.URGENT, at=T0)
        # consult has no urgent row: the normal 3 working days apply (13, 14, 15 October).
        assert consult.feedback_due == end_of(2026, 10, 15)

    def test_a_category_naming_no_existing_profile_gets_no_clocks(self, session: Session) -> None:
        world = sla_world(session)
        world.categories[GARBAGE].sla_profile = "nonexistent"
        session.flush()
        complaint = new_complaint(session, world, category=GARBAGE)
        assert (complaint.dispatch_due, complaint.feedback_due) == (None, None)
        assert sla.clocks(complaint, T0) == []
        assert complaint.sla_state == SlaState.DONE

    def test_a_stage_missing_from_the_profile_has_no_clock(self, session: Session) -> None:
        world = sla_world(session)
        consult = new_complaint(session, world, category=CONSULT)
        assert consult.dispatch_due is None
        assert [c.stage for c in sla.clocks(consult, T0)] == [SlaStage.FEEDBACK]


class TestMinuteClocks:
    def test_receiving_starts_the_dispatch_and_feedback_clocks(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        assert complaint.dispatch_due == T0 + minutes(10)
        assert complaint.feedback_due == T0 + minutes(120)
        assert (complaint.arrive_due, complaint.handle_due) == (None, None)
        assert complaint.sla_state == SlaState.OK

    def test_dispatching_starts_arrival_and_handling_from_the_dispatch_time(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(6))
        assert complaint.arrive_due == T0 + minutes(26)
        assert complaint.handle_due == T0 + minutes(36)

    def test_a_re_dispatch_keeps_the_first_deadlines(self, session: Session) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(6))
        walk(
            session,
            complaint,
            ("declined", T0 + minutes(8)),
            ("dispatched", T0 + minutes(15)),
        )
        assert complaint.arrive_due == T0 + minutes(26)
        assert complaint.handle_due == T0 + minutes(36)

    def test_a_rework_keeps_the_handling_deadline_and_restarts_its_clock(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(5))
        walk(
            session,
            complaint,
            ("taken", T0 + minutes(6)),
            ("arrived", T0 + minutes(15)),
            ("disposed", T0 + minutes(20)),
            ("fed_back", T0 + minutes(25)),
        )
        assert not sla.running(complaint, SlaStage.HANDLE)
        step(session, complaint, "rework", T0 + minutes(40))

        clocks = by_stage(complaint, T0 + minutes(41))
        assert complaint.handle_due == T0 + minutes(35)
        assert clocks[SlaStage.HANDLE].running
        assert clocks[SlaStage.HANDLE].state == SlaState.OVERDUE
        # The arrival was made once: the rework does not restart that clock.
        assert not clocks[SlaStage.ARRIVE].running
        assert complaint.sla_state == SlaState.OVERDUE


class TestWorkingDayClocks:
    def test_a_consultation_received_before_national_day_is_due_on_the_make_up_saturday(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        at = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)
        consult = new_complaint(session, world, category=CONSULT, at=at)
        # 3 working days after 30 September: 8, 9 and 10 (Saturday, make-up) October.
        assert consult.feedback_due == end_of(2026, 10, 10)

    def test_a_complaint_profile_counts_1_and_13_working_days_across_the_holiday(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        at = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)
        complaint = new_complaint(session, world, category=FOOD, at=at)
        assert complaint.dispatch_due == end_of(2026, 10, 8)
        assert complaint.feedback_due == end_of(2026, 10, 23)

    def test_a_district_override_turning_8_october_off_moves_the_deadline(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        session.add(
            WorkdayOverride(
                district_code=world.district_code,
                day=date(2026, 10, 8),
                is_workday=False,
                note="区级调休",
            )
        )
        session.flush()
        at = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)
        consult = new_complaint(session, world, category=CONSULT, at=at)
        # 9, 10 (make-up Saturday), 12 October.
        assert consult.feedback_due == end_of(2026, 10, 12)

    def test_in_a_year_the_library_does_not_know_monday_to_friday_counts(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        at = datetime(2031, 3, 7, 11, 0, tzinfo=SHANGHAI)  # a Friday
        consult = new_complaint(session, world, category=CONSULT, at=at)
        assert consult.feedback_due == end_of(2031, 3, 12)

    def test_the_warning_comes_in_the_last_fifth_of_the_working_time_given(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        at = datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)
        consult = new_complaint(session, world, category=CONSULT, at=at)
        due = end_of(2026, 10, 15)
        given = due - at
        feedback = by_stage(consult, due - given * 0.2 - timedelta(seconds=1))[SlaStage.FEEDBACK]
        assert feedback.state == SlaState.OK
        feedback = by_stage(consult, due - given * 0.2 + timedelta(seconds=1))[SlaStage.FEEDBACK]
        assert feedback.state == SlaState.WARNING


class TestClockStates:
    def test_a_fresh_clock_is_ok_with_its_remaining_time(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        clocks = by_stage(complaint, T0 + minutes(3))
        assert [c.stage for c in sla.clocks(complaint, T0)] == [
            SlaStage.DISPATCH,
            SlaStage.FEEDBACK,
        ]
        assert clocks[SlaStage.DISPATCH].state == SlaState.OK
        assert clocks[SlaStage.DISPATCH].remaining_seconds == 7 * 60
        assert clocks[SlaStage.DISPATCH].started_at == T0
        assert clocks[SlaStage.DISPATCH].label == "Dispatch"

    def test_the_clock_turns_amber_at_80_percent_of_the_time(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        just_before = by_stage(complaint, T0 + minutes(8) - timedelta(seconds=1))
        at_eight = by_stage(complaint, T0 + minutes(8))
        assert just_before[SlaStage.DISPATCH].state == SlaState.OK
        assert at_eight[SlaStage.DISPATCH].state == SlaState.WARNING
        assert sla.state(complaint, T0 + minutes(8)) == SlaState.WARNING

    def test_past_the_deadline_the_clock_is_overdue_with_negative_time_left(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        clocks = by_stage(complaint, T0 + minutes(13))
        assert clocks[SlaStage.DISPATCH].state == SlaState.OVERDUE
        assert clocks[SlaStage.DISPATCH].remaining_seconds == -3 * 60
        assert clocks[SlaStage.FEEDBACK].state == SlaState.OK
        assert sla.state(complaint, T0 + minutes(13)) == SlaState.OVERDUE

    def test_a_clock_stopped_late_shows_by_how_much(self, session: Session) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(12))
        clock = by_stage(complaint, T0 + minutes(30))[SlaStage.DISPATCH]
        assert (clock.running, clock.state) == (False, SlaState.DONE)
        assert clock.stopped_at == T0 + minutes(12)
        assert clock.remaining_seconds == -2 * 60
        assert clock.late

    def test_a_clock_stopped_in_time_is_not_late(self, session: Session) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(4))
        clock = by_stage(complaint, T0 + minutes(30))[SlaStage.DISPATCH]
        assert clock.remaining_seconds == 6 * 60
        assert not clock.late

    def test_the_state_is_the_worst_running_clock(self, session: Session) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(9))
        # At +38: dispatch stopped in time; arrival (due +29) overdue; handling (+39) amber.
        clocks = by_stage(complaint, T0 + minutes(38))
        assert clocks[SlaStage.ARRIVE].state == SlaState.OVERDUE
        assert clocks[SlaStage.HANDLE].state == SlaState.WARNING
        assert sla.state(complaint, T0 + minutes(38)) == SlaState.OVERDUE

    def test_a_detached_complaint_uses_the_default_warn_ratio(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        session.expunge(complaint)
        assert by_stage(complaint, T0 + minutes(8))[SlaStage.DISPATCH].state == SlaState.WARNING

    def test_the_warn_ratio_comes_from_the_profile(self, session: Session) -> None:
        world = sla_world(session)
        for profile in session.scalars(select(SlaProfile)):
            profile.warn_ratio = 0.5
        session.flush()
        complaint = new_complaint(session, world)
        assert by_stage(complaint, T0 + minutes(5))[SlaStage.DISPATCH].state == SlaState.WARNING


class TestPauseAndResume:
    def test_while_paused_the_state_is_paused_and_the_time_left_is_frozen(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        step(session, complaint, "paused", T0 + minutes(5))
        assert complaint.paused_at == T0 + minutes(5)
        assert complaint.sla_state == SlaState.PAUSED
        clock = by_stage(complaint, T0 + minutes(50))[SlaStage.DISPATCH]
        assert (clock.state, clock.remaining_seconds) == (SlaState.PAUSED, 5 * 60)
        assert sla.state(complaint, T0 + minutes(50)) == SlaState.PAUSED

    def test_resuming_shifts_every_running_deadline_by_the_paused_wall_time(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        walk(session, complaint, ("paused", T0 + minutes(5)), ("resumed", T0 + minutes(65)))
        assert complaint.paused_at is None
        assert complaint.dispatch_due == T0 + minutes(70)
        assert complaint.feedback_due == T0 + minutes(180)
        assert complaint.sla_state == SlaState.OK

    def test_a_long_pause_does_not_turn_the_clock_amber_on_resume(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        walk(session, complaint, ("paused", T0 + minutes(1)), ("resumed", T0 + minutes(101)))
        # 3 of 10 minutes used: the clock is green although 103 minutes have passed.
        assert by_stage(complaint, T0 + minutes(103))[SlaStage.DISPATCH].state == SlaState.OK
        assert by_stage(complaint, T0 + minutes(109))[SlaStage.DISPATCH].state == SlaState.WARNING

    def test_a_clock_that_stopped_or_started_during_the_pause_moves_by_its_part_of_it(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        walk(
            session,
            complaint,
            ("paused", T0 + minutes(5)),
            ("filed", T0 + minutes(10)),
            ("dispatched", T0 + minutes(20)),
            ("resumed", T0 + minutes(50)),
        )
        # Dispatch ran 15 paused minutes (5 → 20): due 10 → 25, stopped at 20, in time.
        assert complaint.dispatch_due == T0 + minutes(25)
        assert not by_stage(complaint, T0 + minutes(50))[SlaStage.DISPATCH].late
        # Arrival started at 20 during the pause: 30 paused minutes, due 40 → 70.
        assert complaint.arrive_due == T0 + minutes(70)
        assert complaint.handle_due == T0 + minutes(80)
        assert complaint.feedback_due == T0 + minutes(165)

    def test_closing_while_paused_ends_the_pause_first(self, session: Session) -> None:
        world = sla_world(session)
        consult = new_complaint(session, world, category=CONSULT)
        due = consult.feedback_due
        assert due is not None
        walk(session, consult, ("paused", T0 + minutes(10)), ("closed", T0 + minutes(70)))
        assert consult.paused_at is None
        assert consult.feedback_due == due + minutes(60)
        assert consult.sla_state == SlaState.DONE


class TestExtensions:
    def test_an_extension_in_minutes_adds_to_the_deadline(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        step(
            session,
            complaint,
            "extended",
            T0 + minutes(7),
            stage="dispatch",
            amount={"minutes": 30},
        )
        assert complaint.dispatch_due == T0 + minutes(40)
        assert complaint.feedback_due == T0 + minutes(120)
        assert complaint.sla_state == SlaState.OK

    def test_an_extension_in_working_days_counts_from_the_current_deadline(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        at = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)
        consult = new_complaint(session, world, category=CONSULT, at=at)
        step(session, consult, "extended", at, stage="feedback", amount={"workdays": 2})
        # Due 10 October (make-up Saturday) + 2 working days: 12 and 13 October.
        assert consult.feedback_due == end_of(2026, 10, 13)


class TestFinalSteps:
    @pytest.mark.parametrize("kind", ["rejected", "transferred", "merged"])
    def test_a_final_step_stops_every_clock(self, session: Session, kind: str) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        step(session, complaint, kind, T0 + minutes(3))
        assert complaint.sla_state == SlaState.DONE
        assert not any(c.running for c in sla.clocks(complaint, T0 + minutes(60)))
        assert sla.state(complaint, T0 + minutes(60)) == SlaState.DONE

    def test_closing_stops_the_feedback_clock_at_the_closing_time(self, session: Session) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(5))
        walk(
            session,
            complaint,
            ("taken", T0 + minutes(6)),
            ("arrived", T0 + minutes(15)),
            ("disposed", T0 + minutes(20)),
            ("fed_back", T0 + minutes(25)),
            ("verified", T0 + minutes(40)),
            ("closed", T0 + minutes(90)),
        )
        clocks = by_stage(complaint, T0 + minutes(200))
        assert clocks[SlaStage.FEEDBACK].stopped_at == T0 + minutes(90)
        assert clocks[SlaStage.FEEDBACK].remaining_seconds == 30 * 60
        assert clocks[SlaStage.HANDLE].remaining_seconds == 10 * 60
        assert complaint.sla_state == SlaState.DONE


class TestLimits:
    @pytest.mark.parametrize(
        "value",
        [
            {"minutes": 0},
            {"minutes": -5},
            {"minutes": 1.5},
            {"minutes": True},
            {"workdays": 251},
            {"hours": 3},
            {"minutes": 5, "workdays": 1},
            {},
            [5],
        ],
    )
    def test_a_bad_limit_is_refused(self, value: object) -> None:
        with pytest.raises(ValueError, match="minutes|workdays"):
            sla.parse_limit(value)

    def test_good_limits_are_read(self) -> None:
        assert sla.parse_limit({"minutes": 30}) == sla.Limit("minutes", 30)
        assert sla.parse_limit({"workdays": 13}).as_json() == {"workdays": 13}
