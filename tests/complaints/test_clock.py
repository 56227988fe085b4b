"""Pausing, resuming and extending clocks through the service and the JSON API: what each step
leaves (columns, timeline, ledger), who may take it, and every refusal with its status, message
and proof that nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_sla_helpers import (
    actor,
    events,
    headers,
    ledger_kinds,
    minutes,
    new_complaint,
    sla_world,
    step,
    walk,
)
from tests.complaints.world import GARBAGE, ComplaintWorld
from zhifa.complaints.clock import PAUSE_NOTE, RESUME_NOTE, clock_service
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintExtension,
    ExtensionStatus,
    SlaStage,
    SlaState,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.org.roles import Role


def fresh(session: Session, world: ComplaintWorld, age: timedelta = minutes(1)) -> Complaint:
    """A street complaint received ``age`` ago (dispatch due 10 minutes after receipt)."""
    return new_complaint(session, world, at=utcnow() - age)


def on_site(session: Session, world: ComplaintWorld) -> Complaint:
    """A complaint dispatched a minute ago: arrival and handling clocks running."""
    now = utcnow()
    complaint = new_complaint(session, world, at=now - minutes(3))
    walk(session, complaint, ("filed", now - minutes(2)), ("dispatched", now - minutes(1)))
    return complaint


class TestPause:
    def test_a_dispatcher_pauses_the_clocks_with_a_public_note(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        clock_service.pause(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            reason="当事人外出",
        )
        session.commit()

        assert complaint.paused_at is not None
        assert complaint.pause_reason == "当事人外出"
        assert complaint.sla_state == SlaState.PAUSED
        (paused,) = events(session, complaint, "paused")
        assert (paused.public, paused.note) == (True, PAUSE_NOTE)
        assert paused.data == {"reason": "当事人外出"}
        assert paused.actor_id == world.dispatcher.id
        assert ledger_kinds(session)[-1] == "complaint.paused"

    def test_pausing_twice_is_refused_and_changes_nothing(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        dispatcher = actor(session, world.dispatcher)
        clock_service.pause(session, dispatcher, complaint_id=complaint.id, reason="等待当事人")
        paused_at = complaint.paused_at
        with pytest.raises(Conflict) as caught:
            clock_service.pause(session, dispatcher, complaint_id=complaint.id, reason="再次暂停")
        assert caught.value.status_code == 409
        assert caught.value.message == "The clocks of this complaint are already paused."
        assert complaint.paused_at == paused_at
        assert complaint.pause_reason == "等待当事人"
        assert len(events(session, complaint, "paused")) == 1

    def test_a_complaint_without_running_clocks_cannot_be_paused(self, session: Session) -> None:
        world = sla_world(session)
        world.categories[GARBAGE].sla_profile = "none"
        session.flush()
        complaint = new_complaint(session, world, category=GARBAGE, at=utcnow())
        with pytest.raises(Conflict) as caught:
            clock_service.pause(
                session, actor(session, world.dispatcher), complaint_id=complaint.id, reason="x"
            )
        assert caught.value.code == "no_clock_running"
        assert complaint.paused_at is None
        assert events(session, complaint, "paused") == []

    def test_a_finished_complaint_cannot_be_paused(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        step(session, complaint, "rejected", utcnow())
        with pytest.raises(Conflict) as caught:
            clock_service.pause(
                session, actor(session, world.dispatcher), complaint_id=complaint.id, reason="x"
            )
        assert caught.value.code == "complaint_final"
        assert complaint.paused_at is None

    def test_a_blank_reason_is_refused(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        with pytest.raises(InvalidInput) as caught:
            clock_service.pause(
                session, actor(session, world.dispatcher), complaint_id=complaint.id, reason="  "
            )
        assert caught.value.message == "Give a reason (a few words are enough)."
        assert caught.value.detail == {"field": "reason"}
        assert complaint.paused_at is None

    def test_a_complaint_of_another_squad_does_not_exist_for_its_leader(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        other_leader = factories.officer(
            session,
            world.district_code,
            "other.leader",
            [Role.SQUAD_LEADER],
            unit=world.field.other_squad,
        )
        with pytest.raises(NotFound):
            clock_service.pause(
                session, actor(session, other_leader), complaint_id=complaint.id, reason="x"
            )
        assert complaint.paused_at is None

    def test_a_field_officer_may_not_pause(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        with pytest.raises(PermissionDenied):
            clock_service.pause(
                session, actor(session, world.officer), complaint_id=complaint.id, reason="x"
            )
        assert complaint.paused_at is None


class TestResume:
    def test_resuming_moves_the_deadlines_by_the_paused_time(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world, minutes(40))
        paused_at = utcnow() - minutes(35)
        step(session, complaint, "paused", paused_at)
        complaint.pause_reason = "等待当事人"
        dispatch_due, feedback_due = complaint.dispatch_due, complaint.feedback_due
        assert dispatch_due is not None
        assert feedback_due is not None

        clock_service.resume(session, actor(session, world.dispatcher), complaint_id=complaint.id)

        (resumed,) = events(session, complaint, "resumed")
        # Dispatch was due 10 minutes after receipt (40 minutes ago): 5 minutes had run when
        # paused, so it was due 5 minutes after the pause, and is now due 5 minutes after resume.
        assert complaint.dispatch_due == dispatch_due + (resumed.at - paused_at)
        assert complaint.feedback_due == feedback_due + (resumed.at - paused_at)
        assert complaint.paused_at is None
        assert complaint.pause_reason == ""
        assert (resumed.public, resumed.note) == (True, RESUME_NOTE)
        assert resumed.data["reason"] == "等待当事人"
        assert complaint.sla_state == SlaState.OK

    def test_resuming_clocks_that_are_not_paused_is_refused(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        due = complaint.dispatch_due
        with pytest.raises(Conflict) as caught:
            clock_service.resume(
                session, actor(session, world.dispatcher), complaint_id=complaint.id
            )
        assert caught.value.message == "The clocks of this complaint are not paused."
        assert complaint.dispatch_due == due
        assert events(session, complaint, "resumed") == []


class TestRequestExtension:
    def test_an_officer_asks_for_more_time_on_a_running_clock(self, session: Session) -> None:
        world = sla_world(session)
        complaint = on_site(session, world)
        due = complaint.handle_due
        row = clock_service.request_extension(
            session,
            actor(session, world.officer),
            complaint_id=complaint.id,
            stage=SlaStage.HANDLE,
            amount={"minutes": 30},
            reason="当事人需要时间搬离货物",
        )
        session.commit()

        assert row.status == ExtensionStatus.PENDING
        assert (row.stage, row.amount) == (SlaStage.HANDLE, {"minutes": 30})
        assert row.requested_by_id == world.officer.id
        assert complaint.handle_due == due  # nothing moves until approved
        (requested,) = events(session, complaint, "extension_requested")
        assert requested.public is False
        assert requested.data["extension_id"] == row.id
        assert ledger_kinds(session)[-1] == "complaint.extension_requested"

    def test_a_clock_that_has_not_started_cannot_be_extended(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        with pytest.raises(Conflict) as caught:
            clock_service.request_extension(
                session,
                actor(session, world.officer),
                complaint_id=complaint.id,
                stage=SlaStage.ARRIVE,
                amount={"minutes": 30},
                reason="路远",
            )
        assert caught.value.code == "clock_not_running"
        assert session.scalars(select(ComplaintExtension)).all() == []

    def test_a_stopped_clock_cannot_be_extended(self, session: Session) -> None:
        world = sla_world(session)
        complaint = on_site(session, world)
        with pytest.raises(Conflict) as caught:
            clock_service.request_extension(
                session,
                actor(session, world.officer),
                complaint_id=complaint.id,
                stage=SlaStage.DISPATCH,
                amount={"minutes": 30},
                reason="x",
            )
        assert caught.value.code == "clock_not_running"

    def test_after_the_deadline_an_extension_is_refused(self, session: Session) -> None:
        world = sla_world(session)
        complaint = fresh(session, world, minutes(20))
        with pytest.raises(Conflict) as caught:
            clock_service.request_extension(
                session,
                actor(session, world.officer),
                complaint_id=complaint.id,
                stage=SlaStage.DISPATCH,
                amount={"minutes": 30},
                reason="太忙",
            )
        assert caught.value.code == "deadline_passed"
        assert caught.value.message.startswith("This stage's deadline has already passed")
        assert session.scalars(select(ComplaintExtension)).all() == []

    def test_one_request_per_stage_may_wait_for_a_decision(self, session: Session) -> None:
        world = sla_world(session)
        complaint = on_site(session, world)
        officer = actor(session, world.officer)
        ask: dict[str, Any] = {
            "complaint_id": complaint.id,
            "amount": {"minutes": 15},
            "reason": "等待",
        }
        clock_service.request_extension(session, officer, stage=SlaStage.HANDLE, **ask)
        with pytest.raises(Conflict) as caught:
            clock_service.request_extension(session, officer, stage=SlaStage.HANDLE, **ask)
        assert caught.value.code == "extension_pending"
        # Another stage is a request of its own.
        clock_service.request_extension(session, officer, stage=SlaStage.ARRIVE, **ask)
        assert len(session.scalars(select(ComplaintExtension)).all()) == 2

    @pytest.mark.parametrize(
        "amount", [{"minutes": 0}, {"hours": 2}, {"minutes": 10, "workdays": 1}, {"workdays": 999}]
    )
    def test_a_bad_amount_is_refused(self, session: Session, amount: dict[str, int]) -> None:
        world = sla_world(session)
        complaint = on_site(session, world)
        with pytest.raises(InvalidInput) as caught:
            clock_service.request_extension(
                session,
                actor(session, world.officer),
                complaint_id=complaint.id,
                stage=SlaStage.HANDLE,
                amount=amount,
                reason="x",
            )
        assert caught.value.detail == {"field": "amount"}
        assert session.scalars(select(ComplaintExtension)).all() == []


def pending(session: Session, world: ComplaintWorld, **amount: int) -> ComplaintExtension:
    complaint = on_site(session, world)
    return clock_service.request_extension(
        session,
        actor(session, world.officer),
        complaint_id=complaint.id,
        stage=SlaStage.HANDLE,
        amount=amount or {"minutes": 30},
        reason="当事人需要时间",
    )


class TestDecideExtension:
    def test_the_squad_leader_approves_and_the_deadline_moves(self, session: Session) -> None:
        world = sla_world(session)
        row = pending(session, world)
        complaint = session.get(Complaint, row.complaint_id)
        assert complaint is not None
        assert complaint.handle_due is not None
        due = complaint.handle_due

        clock_service.decide_extension(
            session,
            actor(session, world.field.leader),
            extension_id=row.id,
            approve=True,
            note="同意",
        )
        session.commit()

        assert complaint.handle_due == due + minutes(30)
        assert row.status == ExtensionStatus.APPROVED
        assert (row.decided_by_id, row.decision_note) == (world.field.leader.id, "同意")
        (extended,) = events(session, complaint, "extended")
        assert extended.data["stage"] == "handle"
        assert ledger_kinds(session)[-1] == "complaint.extended"

    def test_a_refusal_with_a_reason_leaves_the_deadline(self, session: Session) -> None:
        world = sla_world(session)
        row = pending(session, world)
        complaint = session.get(Complaint, row.complaint_id)
        assert complaint is not None
        due = complaint.handle_due
        clock_service.decide_extension(
            session,
            actor(session, world.bureau_leader),
            extension_id=row.id,
            approve=False,
            note="现场可立即处置",
        )
        assert complaint.handle_due == due
        assert row.status == ExtensionStatus.REFUSED
        assert len(events(session, complaint, "extension_refused")) == 1

    def test_a_refusal_needs_a_reason(self, session: Session) -> None:
        world = sla_world(session)
        row = pending(session, world)
        with pytest.raises(InvalidInput) as caught:
            clock_service.decide_extension(
                session, actor(session, world.field.leader), extension_id=row.id, approve=False
            )
        assert caught.value.detail == {"field": "note"}
        assert row.status == ExtensionStatus.PENDING

    def test_nobody_decides_their_own_request(self, session: Session) -> None:
        world = sla_world(session)
        complaint = on_site(session, world)
        leader = actor(session, world.field.leader)
        row = clock_service.request_extension(
            session,
            leader,
            complaint_id=complaint.id,
            stage=SlaStage.HANDLE,
            amount={"minutes": 30},
            reason="x",
        )
        due = complaint.handle_due
        with pytest.raises(PermissionDenied) as caught:
            clock_service.decide_extension(session, leader, extension_id=row.id, approve=True)
        assert caught.value.message.startswith("You asked for this extension yourself")
        assert row.status == ExtensionStatus.PENDING
        assert complaint.handle_due == due

    def test_a_decided_request_cannot_be_decided_again(self, session: Session) -> None:
        world = sla_world(session)
        row = pending(session, world)
        leader = actor(session, world.field.leader)
        clock_service.decide_extension(session, leader, extension_id=row.id, approve=True)
        complaint = session.get(Complaint, row.complaint_id)
        assert complaint is not None
        due = complaint.handle_due
        with pytest.raises(Conflict) as caught:
            clock_service.decide_extension(session, leader, extension_id=row.id, approve=True)
        assert caught.value.code == "extension_decided"
        assert complaint.handle_due == due

    def test_once_the_clock_stopped_the_request_can_only_be_refused(self, session: Session) -> None:
        world = sla_world(session)
        row = pending(session, world)
        complaint = session.get(Complaint, row.complaint_id)
        assert complaint is not None
        now = utcnow()
        walk(
            session,
            complaint,
            ("taken", now),
            ("arrived", now),
            ("disposed", now),
            ("fed_back", now),
        )
        due = complaint.handle_due
        leader = actor(session, world.field.leader)
        with pytest.raises(Conflict) as caught:
            clock_service.decide_extension(session, leader, extension_id=row.id, approve=True)
        assert caught.value.code == "clock_not_running"
        assert complaint.handle_due == due
        clock_service.decide_extension(
            session, leader, extension_id=row.id, approve=False, note="已处置完毕"
        )
        assert row.status == ExtensionStatus.REFUSED

    def test_a_leader_of_another_squad_does_not_see_the_request(self, session: Session) -> None:
        world = sla_world(session)
        row = pending(session, world)
        other = factories.officer(
            session,
            world.district_code,
            "other.leader",
            [Role.SQUAD_LEADER],
            unit=world.field.other_squad,
        )
        with pytest.raises(NotFound):
            clock_service.decide_extension(
                session, actor(session, other), extension_id=row.id, approve=True
            )
        assert row.status == ExtensionStatus.PENDING

    def test_the_pending_list_shows_open_complaints_in_scope(self, session: Session) -> None:
        world = sla_world(session)
        row = pending(session, world)
        assert [
            e.id for e in clock_service.pending(session, actor(session, world.bureau_leader))
        ] == [row.id]
        complaint = session.get(Complaint, row.complaint_id)
        assert complaint is not None
        other = factories.officer(
            session,
            world.district_code,
            "other.leader",
            [Role.SQUAD_LEADER],
            unit=world.field.other_squad,
        )
        assert clock_service.pending(session, actor(session, other)) == []


class TestApi:
    def test_pause_and_resume_over_http(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        auth = headers(session, world.dispatcher)

        paused = client.post(
            f"/api/v1/complaints/{complaint.id}/pause", json={"reason": "等待当事人"}, headers=auth
        )
        assert paused.status_code == 200, paused.text
        assert paused.json()["sla_state"] == "paused"
        assert paused.json()["pause_reason"] == "等待当事人"
        assert {c["state"] for c in paused.json()["clocks"]} == {"paused"}

        again = client.post(
            f"/api/v1/complaints/{complaint.id}/pause", json={"reason": "x"}, headers=auth
        )
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_paused"
        assert again.json()["error"]["message"] == "该投诉的计时已经暂停。"

        resumed = client.post(f"/api/v1/complaints/{complaint.id}/resume", headers=auth)
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["sla_state"] == "ok"
        assert resumed.json()["paused_at"] is None

    def test_an_officer_may_not_pause_over_http_and_the_refusal_is_ledgered(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        complaint = fresh(session, world)
        auth = headers(session, world.officer)
        response = client.post(
            f"/api/v1/complaints/{complaint.id}/pause", json={"reason": "x"}, headers=auth
        )
        assert response.status_code == 403
        session.expire_all()
        assert session.get(Complaint, complaint.id).paused_at is None  # type: ignore[union-attr]
        kinds = session.scalars(select(LedgerEvent.kind)).all()
        assert "security.permission_denied" in kinds

    def test_extension_request_and_decision_over_http(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        complaint = on_site(session, world)
        due = complaint.handle_due
        assert due is not None
        officer = headers(session, world.officer)
        leader = headers(session, world.field.leader)

        asked = client.post(
            f"/api/v1/complaints/{complaint.id}/extensions",
            json={"stage": "handle", "amount": {"minutes": 20}, "reason": "当事人需要时间"},
            headers=officer,
        )
        assert asked.status_code == 201, asked.text
        assert asked.json()["status"] == "pending"
        extension_id = asked.json()["id"]

        by_officer = client.post(
            f"/api/v1/extensions/{extension_id}/decision", json={"approve": True}, headers=officer
        )
        assert by_officer.status_code == 403

        decided = client.post(
            f"/api/v1/extensions/{extension_id}/decision",
            json={"approve": True, "note": "同意"},
            headers=leader,
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "approved"
        session.expire_all()
        row = session.get(Complaint, complaint.id)
        assert row is not None
        assert row.handle_due == due + minutes(20)

    def test_a_bad_stage_is_a_422(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        complaint = on_site(session, world)
        response = client.post(
            f"/api/v1/complaints/{complaint.id}/extensions",
            json={"stage": "lunch", "amount": {"minutes": 20}, "reason": "x"},
            headers=headers(session, world.officer),
        )
        assert response.status_code == 422
