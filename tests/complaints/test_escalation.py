"""The SLA sweep and escalation: warning → level 1; overdue → level 1 then level 2; each alert
once however often the sweep runs (or two sweeps race); the stored ``sla_state``, the timeline,
the ledger and what the bus will announce; and the alerts as supervisors list and acknowledge
them."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_sla_helpers import (
    T0,
    actor,
    dispatched,
    events,
    ledger_kinds,
    minutes,
    new_complaint,
    sla_world,
    step,
)
from tests.complaints.world import ComplaintWorld
from zhifa.complaints import escalation, sla
from zhifa.db import Database
from zhifa.errors import Conflict, NotFound
from zhifa.kit.clock import utcnow
from zhifa.kit.events import PENDING_KEY, BusEvent
from zhifa.models.complaints import AlertKind, Complaint, SlaAlert, SlaStage, SlaState
from zhifa.org.roles import Role


def alerts(session: Session) -> list[tuple[str, str, int, int | None]]:
    rows = session.scalars(select(SlaAlert).order_by(SlaAlert.id))
    return [(str(a.stage), str(a.kind), a.level, a.unit_id) for a in rows]


def bus(session: Session, topic: str) -> list[BusEvent]:
    return [e for e in session.info.get(PENDING_KEY, []) if e.topic == topic]


def sweep_at(session: Session, at: datetime) -> list[SlaAlert]:
    session.info.pop(PENDING_KEY, None)  # only what this sweep announces
    return escalation.sweep(session, at)


class TestWarning:
    def test_an_approaching_deadline_tells_the_squad_leader_once(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)

        raised = sweep_at(session, T0 + minutes(8))

        squad = world.field.squad.id
        assert [(a.stage, a.kind, a.level, a.unit_id) for a in raised] == [
            (SlaStage.DISPATCH, AlertKind.WARNING, 1, squad)
        ]
        assert raised[0].due == T0 + minutes(10)
        assert complaint.escalation_level == 1
        assert complaint.sla_state == SlaState.WARNING
        (escalated,) = events(session, complaint, "escalated")
        assert escalated.public is False
        assert escalated.data["stage"] == "dispatch"
        assert escalated.data["kind"] == "warning"
        assert escalated.data["level"] == 1
        assert escalated.data["alert_id"] == raised[0].id

        assert sweep_at(session, T0 + minutes(9)) == []
        assert len(alerts(session)) == 1

    def test_a_clock_with_time_to_spare_raises_nothing(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        assert sweep_at(session, T0 + minutes(5)) == []
        assert complaint.escalation_level == 0
        assert complaint.sla_state == SlaState.OK


class TestOverdue:
    def test_a_missed_deadline_goes_to_the_squad_leader_then_the_bureau_leader(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)

        sweep_at(session, T0 + minutes(8))
        raised = sweep_at(session, T0 + minutes(11))

        squad = world.field.squad.id
        assert [(a.kind, a.level, a.unit_id) for a in raised] == [
            (AlertKind.OVERDUE, 1, squad),
            (AlertKind.OVERDUE, 2, None),
        ]
        assert raised[0].id < raised[1].id
        assert complaint.escalation_level == 2
        assert complaint.sla_state == SlaState.OVERDUE
        assert [e.data["level"] for e in events(session, complaint, "escalated")] == [1, 1, 2]

    def test_a_second_sweep_raises_nothing_new(self, session: Session) -> None:
        world = sla_world(session)
        new_complaint(session, world)
        sweep_at(session, T0 + minutes(8))
        sweep_at(session, T0 + minutes(11))

        assert sweep_at(session, T0 + minutes(12)) == []
        assert sweep_at(session, T0 + minutes(30)) == []
        assert alerts(session) == [
            ("dispatch", "warning", 1, world.field.squad.id),
            ("dispatch", "overdue", 1, world.field.squad.id),
            ("dispatch", "overdue", 2, None),
        ]

    def test_a_clock_first_seen_overdue_gets_no_warning(self, session: Session) -> None:
        world = sla_world(session)
        new_complaint(session, world)
        raised = sweep_at(session, T0 + minutes(15))
        assert [(a.kind, a.level) for a in raised] == [
            (AlertKind.OVERDUE, 1),
            (AlertKind.OVERDUE, 2),
        ]

    def test_each_stage_escalates_on_its_own(self, session: Session) -> None:
        world = sla_world(session)
        complaint = dispatched(session, world, T0 + minutes(5))
        # +30: arrival (due +25) overdue; handling (due +35) amber; feedback (due +120) green.
        raised = sweep_at(session, T0 + minutes(30))
        assert [(a.stage, a.kind, a.level) for a in raised] == [
            (SlaStage.ARRIVE, AlertKind.OVERDUE, 1),
            (SlaStage.ARRIVE, AlertKind.OVERDUE, 2),
            (SlaStage.HANDLE, AlertKind.WARNING, 1),
        ]
        assert complaint.sla_state == SlaState.OVERDUE

    def test_a_complaint_in_no_squad_still_reaches_the_bureau(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        complaint.unit_id = None
        session.flush()
        raised = sweep_at(session, T0 + minutes(11))
        assert [(a.level, a.unit_id) for a in raised] == [(1, None), (2, None)]


class TestWhatIsSkipped:
    def test_a_paused_complaint_is_left_alone(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        step(session, complaint, "paused", T0 + minutes(2))
        assert sweep_at(session, T0 + minutes(60)) == []
        assert complaint.sla_state == SlaState.PAUSED

    def test_a_finished_complaint_is_left_alone(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        step(session, complaint, "rejected", T0 + minutes(2))
        assert sweep_at(session, T0 + minutes(60)) == []
        assert complaint.sla_state == SlaState.DONE

    def test_a_stopped_clock_is_not_escalated(self, session: Session) -> None:
        world = sla_world(session)
        dispatched(session, world, T0 + minutes(12))  # dispatched late, then stopped
        raised = sweep_at(session, T0 + minutes(13))
        assert all(a.stage != SlaStage.DISPATCH for a in raised)


class TestStateAndBus:
    def test_the_sweep_stores_the_state_and_announces_a_change(self, session: Session) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        assert complaint.sla_state == SlaState.OK

        sweep_at(session, T0 + minutes(11))

        assert complaint.sla_state == SlaState.OVERDUE
        (changed,) = bus(session, escalation.SLA_TOPIC)
        assert changed.data == {
            "complaint_id": complaint.id,
            "sla_state": "overdue",
            "unit_id": world.field.squad.id,
        }
        announced = bus(session, escalation.ALERT_TOPIC)
        assert [(e.data["kind"], e.data["level"]) for e in announced] == [
            ("overdue", 1),
            ("overdue", 2),
        ]
        assert announced[0].data["tracking_no"] == complaint.tracking_no
        assert announced[0].district_code == world.district_code

    def test_an_unchanged_state_is_not_announced(self, session: Session) -> None:
        world = sla_world(session)
        new_complaint(session, world)
        sweep_at(session, T0 + minutes(3))
        assert bus(session, escalation.SLA_TOPIC) == []


class TestRaceBetweenSweeps:
    def test_an_alert_already_raised_elsewhere_is_dropped_without_a_step(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world)
        now = T0 + minutes(11)
        clock = next(c for c in sla.clocks(complaint, now) if c.stage == SlaStage.DISPATCH)

        first = escalation._insert(session, complaint, clock, AlertKind.OVERDUE, 1)
        second = escalation._insert(session, complaint, clock, AlertKind.OVERDUE, 1)

        assert first is not None
        assert second is None
        assert len(alerts(session)) == 1
        # The transaction is still usable: the next alert goes in, and the sweep takes the
        # steps of what is missing only.
        assert escalation._insert(session, complaint, clock, AlertKind.OVERDUE, 2) is not None
        assert escalation.sweep(session, now) == []
        assert events(session, complaint, "escalated") == []


class TestSweepOnce:
    def test_one_sweep_in_its_own_transaction_commits_its_alerts(
        self, session: Session, db: Database
    ) -> None:
        world = sla_world(session)
        complaint = new_complaint(session, world, at=utcnow() - minutes(20))
        session.commit()

        assert escalation.sweep_once(db) == 2
        assert escalation.sweep_once(db) == 0

        session.expire_all()
        assert len(alerts(session)) == 2
        assert ledger_kinds(session).count("complaint.escalated") == 2
        row = session.get(Complaint, complaint.id)
        assert row is not None
        assert (row.sla_state, row.escalation_level) == (SlaState.OVERDUE, 2)


def overdue_alerts(session: Session, world: ComplaintWorld) -> Complaint:
    complaint = new_complaint(session, world)
    sweep_at(session, T0 + minutes(11))
    return complaint


class TestListingAlerts:
    def test_a_squad_leader_sees_the_squads_alerts_not_the_bureaus(self, session: Session) -> None:
        world = sla_world(session)
        overdue_alerts(session, world)
        rows = escalation.alerts(session, actor(session, world.field.leader))
        assert [(a.level, a.unit_id) for a in rows] == [(1, world.field.squad.id)]

    def test_the_bureau_leader_and_the_dispatcher_see_every_alert(self, session: Session) -> None:
        world = sla_world(session)
        overdue_alerts(session, world)
        for who in (world.bureau_leader, world.dispatcher):
            assert len(escalation.alerts(session, actor(session, who))) == 2

    def test_another_squads_leader_sees_none(self, session: Session) -> None:
        world = sla_world(session)
        overdue_alerts(session, world)
        other = factories.officer(
            session,
            world.district_code,
            "other.leader",
            [Role.SQUAD_LEADER],
            unit=world.field.other_squad,
        )
        assert escalation.alerts(session, actor(session, other)) == []

    def test_the_list_can_leave_out_acknowledged_alerts(self, session: Session) -> None:
        world = sla_world(session)
        overdue_alerts(session, world)
        leader = actor(session, world.bureau_leader)
        first = escalation.alerts(session, leader)[-1]
        escalation.acknowledge(session, leader, alert_id=first.id)
        assert [a.id for a in escalation.alerts(session, leader, acknowledged=True)] == [first.id]
        assert first.id not in [
            a.id for a in escalation.alerts(session, leader, acknowledged=False)
        ]


class TestAcknowledging:
    def test_acknowledging_records_who_and_when_on_the_timeline(self, session: Session) -> None:
        world = sla_world(session)
        complaint = overdue_alerts(session, world)
        leader = actor(session, world.field.leader)
        (alert,) = escalation.alerts(session, leader)

        escalation.acknowledge(session, leader, alert_id=alert.id)
        session.commit()

        assert alert.acknowledged_by_id == world.field.leader.id
        assert alert.acknowledged_at is not None
        (note,) = events(session, complaint, "note")
        assert note.public is False
        assert note.data["alert_id"] == alert.id
        assert note.data["acknowledged"] is True
        assert ledger_kinds(session)[-1] == "complaint.note"

    def test_acknowledging_twice_is_refused(self, session: Session) -> None:
        world = sla_world(session)
        complaint = overdue_alerts(session, world)
        leader = actor(session, world.field.leader)
        (alert,) = escalation.alerts(session, leader)
        escalation.acknowledge(session, leader, alert_id=alert.id)
        at = alert.acknowledged_at
        with pytest.raises(Conflict) as caught:
            escalation.acknowledge(session, actor(session, world.bureau_leader), alert_id=alert.id)
        assert caught.value.message == "This alert has already been acknowledged."
        assert alert.acknowledged_at == at
        assert alert.acknowledged_by_id == world.field.leader.id
        assert len(events(session, complaint, "note")) == 1

    def test_the_bureaus_alert_does_not_exist_for_a_squad_leader(self, session: Session) -> None:
        world = sla_world(session)
        overdue_alerts(session, world)
        bureau_alert = session.scalars(select(SlaAlert).where(SlaAlert.level == 2)).one()
        with pytest.raises(NotFound):
            escalation.acknowledge(
                session, actor(session, world.field.leader), alert_id=bureau_alert.id
            )
        assert bureau_alert.acknowledged_at is None
