"""The handling loop's services (``complaints.handling``): what each step leaves behind — status,
step times, timeline events (public or not), the officers' commitment and duty status — and the
rules between the steps. Refusals through HTTP (status, message, nothing changed) are in
``test_handling_endpoints.py``; the whole loop through the API in ``test_loop.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.complaints.test_handling_helpers import (
    actor,
    dispatched,
    duty,
    fed_back,
    last_event,
    new_uuid,
    on_duty,
    on_scene,
    photo,
    steps,
    take_in,
    taken,
    verified,
)
from tests.complaints.world import CONSULT, IN_WG01, ComplaintWorld, complaint_world
from tests.field import CAFE_LAT, CAFE_LON
from zhifa.complaints import duplicates, handling
from zhifa.complaints.handling_base import SECOND_OFFICER_NOTICE
from zhifa.config import Settings
from zhifa.dispatch import live
from zhifa.dispatch.schemas import FixIn
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.inspections.common import today, whole_day
from zhifa.kit.clock import as_utc, utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    DisposalMeasure,
    MediaRole,
)
from zhifa.models.dispatch import PositionFix
from zhifa.models.inspections import Inspection, InspectionStatus, InspectionTask, TaskKind
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer

# About 111 m per 0.001° of latitude here.
M_PER_DEG_LAT = 111_195.0


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    return complaint_world(session)


def _lat_offset(metres: float) -> float:
    return metres / M_PER_DEG_LAT


class TestCommandCentreSteps:
    def test_filing_takes_a_public_step_with_a_chinese_note(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)

        step = handling.file(session, actor(session, world.dispatcher), complaint_id=complaint.id)

        assert complaint.status == ComplaintStatus.FILED
        assert complaint.filed_at is not None
        assert (step.event.kind, step.event.public) == ("filed", True)
        assert step.event.note == handling.FILED_NOTE

    def test_a_rejection_tells_the_citizen_the_reason(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)

        step = handling.reject(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            reason=" 反映的摊点已于昨日取缔 ",
        )

        assert complaint.status == ComplaintStatus.REJECTED
        assert step.event.public
        assert step.event.note == "不予受理：反映的摊点已于昨日取缔"
        assert step.event.data == {"reason": "反映的摊点已于昨日取缔"}

    def test_a_transfer_names_the_agency_and_the_reason(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)

        step = handling.transfer(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            to="崇州市交通运输局",
            reason="属于客运出租车管理事项",
        )

        assert complaint.status == ComplaintStatus.TRANSFERRED
        assert complaint.transfer_to == "崇州市交通运输局"
        assert step.event.note == "已转 崇州市交通运输局 办理：属于客运出租车管理事项"
        assert step.event.public

    def test_a_step_the_status_does_not_allow_is_a_conflict(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)
        handling.reject(
            session, actor(session, world.dispatcher), complaint_id=complaint.id, reason="重复"
        )

        with pytest.raises(Conflict) as refused:
            handling.file(session, actor(session, world.dispatcher), complaint_id=complaint.id)

        assert refused.value.code == "step_not_allowed"

    def test_a_complaint_of_another_squad_does_not_exist_for_a_squad_leader(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        from tests.complaints.world import IN_WG02

        complaint = take_in(session, world, point=IN_WG02)

        with pytest.raises(NotFound):
            handling.file(session, actor(session, world.field.leader), complaint_id=complaint.id)


class TestDispatch:
    def test_from_received_it_files_first_and_commits_the_officers(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)
        on_duty(session, world.officer, world.second)

        step = handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            officer_ids=[world.officer.id, world.second.id],
            note="注意安全",
        )

        assert steps(session, complaint) == ["received", "filed", "dispatched"]
        assert complaint.status == ComplaintStatus.DISPATCHED
        assert complaint.officer_ids == [world.officer.id, world.second.id]
        assert complaint.filed_at is not None
        assert complaint.dispatched_at is not None
        assert (step.event.public, step.event.note) == (True, handling.DISPATCHED_NOTE)
        assert step.event.data["remark"] == "注意安全"
        assert step.event.data["auto"] is False
        assert step.notice == ""
        # The status stays as it was; the commitment is set.
        assert duty(session, world.officer) == ("available", complaint.id)
        assert duty(session, world.second) == ("available", complaint.id)

    def test_one_officer_may_be_sent_with_a_notice_that_a_second_must_join(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)

        step = handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            officer_ids=[world.officer.id],
        )

        assert complaint.officer_ids == [world.officer.id]
        assert step.notice == SECOND_OFFICER_NOTICE
        assert "第四十二条" in step.event.data["notice"]
        # An officer who never reported stays off duty, but is committed.
        assert duty(session, world.officer) == ("off_duty", complaint.id)

    def test_re_dispatch_to_others_frees_the_previous_officers(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = taken(session, world)
        on_duty(session, world.third, world.field.leader)

        step = handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            officer_ids=[world.third.id, world.officer.id],
        )

        assert complaint.status == ComplaintStatus.DISPATCHED
        assert step.event.data["released"] == [world.second.id]
        assert duty(session, world.second) == ("available", None)
        assert duty(session, world.third) == ("available", complaint.id)
        # Kept on the complaint, still on the way.
        assert duty(session, world.officer) == ("en_route", complaint.id)

    def test_an_officer_busy_with_another_complaint_is_refused(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        first = dispatched(session, world)
        second = take_in(session, world, description="另一处占道经营：水果摊摆上人行道")

        with pytest.raises(Conflict) as refused:
            handling.dispatch(
                session,
                actor(session, world.dispatcher),
                complaint_id=second.id,
                officer_ids=[world.third.id, world.second.id],
            )

        assert refused.value.params == {"name": "王芳", "tracking_no": first.tracking_no}
        assert refused.value.detail["officer_id"] == world.second.id

    @pytest.mark.parametrize("who", ["dispatcher", "outsider_of_other_district", "nobody"])
    def test_only_active_field_officers_of_the_district_can_be_sent(
        self, session: Session, world: ComplaintWorld, who: str
    ) -> None:
        from tests import factories
        from zhifa.org.roles import Role

        complaint = take_in(session, world)
        if who == "dispatcher":
            officer_id = world.dispatcher.id
        elif who == "outsider_of_other_district":
            factories.district(session, "510104", "锦江区（演示）")
            other = factories.officer(session, "510104", "jj.officer", [Role.OFFICER])
            officer_id = other.id
        else:
            officer_id = 999_999

        with pytest.raises(InvalidInput) as refused:
            handling.dispatch(
                session,
                actor(session, world.dispatcher),
                complaint_id=complaint.id,
                officer_ids=[world.officer.id, officer_id],
            )

        assert refused.value.detail == {"field": "officer_ids", "officer_id": officer_id}

    def test_a_subject_makes_a_dispatched_inspection_task_for_today(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world, point=(CAFE_LON, CAFE_LAT))

        step = handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            officer_ids=[world.officer.id, world.second.id],
            subject_id=world.field.cafe.id,
        )

        task = session.get(InspectionTask, complaint.task_id)
        assert task is not None
        assert step.event.data["task_id"] == task.id
        assert task.kind == TaskKind.DISPATCHED
        assert task.subject_id == world.field.cafe.id == complaint.subject_id
        assert task.officer_ids == [world.officer.id, world.second.id]
        assert task.origin_ref == f"complaint:{complaint.tracking_no}"
        assert as_utc(task.window_end) == whole_day(today())[1]

    def test_re_dispatching_a_task_complaint_replaces_the_unsubmitted_task(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world, point=(CAFE_LON, CAFE_LAT))
        dispatcher = actor(session, world.dispatcher)
        handling.dispatch(
            session,
            dispatcher,
            complaint_id=complaint.id,
            officer_ids=[world.officer.id, world.second.id],
            subject_id=world.field.cafe.id,
        )
        first_task = complaint.task_id

        handling.dispatch(
            session,
            dispatcher,
            complaint_id=complaint.id,
            officer_ids=[world.third.id, world.officer.id],
        )

        old = session.get(InspectionTask, first_task)
        new = session.get(InspectionTask, complaint.task_id)
        assert old is not None
        assert new is not None
        assert old.id != new.id
        assert old.status == "cancelled"
        assert new.officer_ids == [world.third.id, world.officer.id]


class TestAutoDispatch:
    def _auto(self, world: ComplaintWorld) -> None:
        world.categories["JMZX-ZDJY"].auto_dispatch = True

    def _near(self, session: Session, *officers: Officer) -> None:
        lon, lat = IN_WG01
        for officer in officers:
            fix = FixIn(lon=lon + 0.001, lat=lat, accuracy_m=10.0, fix_at=utcnow())
            live.record_fixes(session, actor(session, officer), [fix])
            on_duty(session, officer)

    def test_the_recommended_pair_is_dispatched_by_the_system(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        self._auto(world)
        self._near(session, world.officer, world.second)

        complaint = take_in(session, world)  # intake calls auto_dispatch
        session.commit()

        assert complaint.status == ComplaintStatus.DISPATCHED
        assert set(complaint.officer_ids) == {world.officer.id, world.second.id}
        event = last_event(session, complaint)
        assert (event.kind, event.actor_id, event.data["auto"]) == ("dispatched", None, True)
        entry = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.dispatched")
        ).one()
        assert entry.actor_id is None

    def test_without_a_pair_the_dispatcher_gets_a_note_the_citizen_does_not_see(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        self._auto(world)
        self._near(session, world.officer)

        complaint = take_in(session, world)

        assert complaint.status == ComplaintStatus.RECEIVED
        event = last_event(session, complaint)
        assert (event.kind, event.public) == ("note", False)
        assert event.note == handling.AUTO_DISPATCH_NOTE
        assert event.data["explanation"]

    def test_a_category_without_auto_dispatch_is_left_alone(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        self._near(session, world.officer, world.second)
        complaint = take_in(session, world)

        assert handling.auto_dispatch(session, complaint) is None
        assert steps(session, complaint) == ["received"]


class TestOfficerSteps:
    def test_the_duty_status_follows_the_steps_and_feedback_frees_the_officers(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = taken(session, world)
        assert duty(session, world.second) == ("en_route", complaint.id)
        handling.arrive(
            session,
            actor(session, world.second),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            lon=IN_WG01[0],
            lat=IN_WG01[1],
            accuracy_m=5.0,
            device_time=utcnow(),
        )
        assert duty(session, world.officer) == ("on_scene", complaint.id)
        after = photo(session, complaint, world.second, MediaRole.AFTER, settings)
        handling.dispose(
            session,
            actor(session, world.second),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            measure=DisposalMeasure.ORDERED_CORRECTION,
            media_ids=[after.id],
        )
        assert duty(session, world.officer) == ("handling", complaint.id)

        handling.feed_back(
            session,
            actor(session, world.second),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            result="已责令当事人收摊，道路畅通",
        )

        assert duty(session, world.officer) == ("available", None)
        assert duty(session, world.second) == ("available", None)
        assert complaint.status == ComplaintStatus.FED_BACK
        assert complaint.answer == "已责令当事人收摊，道路畅通"
        event = last_event(session, complaint)
        assert (event.public, event.note) == (True, "已处置：已责令当事人收摊，道路畅通")

    def test_a_decline_returns_the_complaint_to_the_dispatcher_unseen_by_the_citizen(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = taken(session, world)

        reply = handling.decline(
            session,
            actor(session, world.second),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            reason="车辆故障，无法前往",
        )

        assert reply.status_code == 200
        assert (reply.body["status"], reply.body["step"]) == ("filed", "declined")
        assert complaint.status == ComplaintStatus.FILED
        assert complaint.officer_ids == []
        event = last_event(session, complaint)
        assert event.public is False
        assert event.data["reason"] == "车辆故障，无法前往"
        assert event.data["released"] == [world.officer.id, world.second.id]
        assert duty(session, world.officer) == ("available", None)

    def test_an_officer_not_dispatched_cannot_take_a_step(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = dispatched(session, world)

        with pytest.raises(PermissionDenied):
            handling.take(
                session,
                actor(session, world.third),
                complaint_id=complaint.id,
                client_uuid=new_uuid(),
            )

    def test_an_officer_of_another_squad_dispatched_to_it_reaches_it(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)
        handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            officer_ids=[world.officer.id, world.field.outsider.id],
        )

        reply = handling.take(
            session,
            actor(session, world.field.outsider),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
        )

        assert reply.body["status"] == "taken"


class TestArrival:
    def test_the_arrival_fix_is_kept_in_the_step_and_the_track(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = taken(session, world)
        lon, lat = IN_WG01[0], IN_WG01[1] + _lat_offset(120)

        handling.arrive(
            session,
            actor(session, world.officer),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            lon=lon,
            lat=lat,
            accuracy_m=8.0,
            device_time=utcnow() - timedelta(seconds=30),
        )

        assert complaint.status == ComplaintStatus.ON_SCENE
        event = last_event(session, complaint)
        assert (event.kind, event.public, event.note) == ("arrived", True, "执法队员已到达现场。")
        assert event.data["distance_m"] == pytest.approx(120, abs=1)
        fixes = session.scalars(
            select(PositionFix).where(PositionFix.officer_id == world.officer.id)
        ).all()
        assert [(f.lon, f.lat) for f in fixes] == [(lon, lat)]

    def test_the_accuracy_widens_the_radius_only_up_to_the_check_in_limit(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = taken(session, world)
        lead = actor(session, world.officer)
        # Radius 150 m + accuracy capped at 100 m: 260 m is too far even at 500 m accuracy.
        with pytest.raises(InvalidInput) as refused:
            handling.arrive(
                session,
                lead,
                complaint_id=complaint.id,
                client_uuid=new_uuid(),
                lon=IN_WG01[0],
                lat=IN_WG01[1] + _lat_offset(260),
                accuracy_m=500.0,
                device_time=utcnow(),
            )
        assert refused.value.params == {"distance": 260}
        assert refused.value.detail["allowed_m"] == 250.0

        handling.arrive(
            session,
            lead,
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            lon=IN_WG01[0],
            lat=IN_WG01[1] + _lat_offset(240),
            accuracy_m=500.0,
            device_time=utcnow(),
        )
        assert complaint.status == ComplaintStatus.ON_SCENE

    def test_a_complaint_without_a_point_accepts_any_fix(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = taken(session, world, point=None)

        handling.arrive(
            session,
            actor(session, world.officer),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            lon=103.9,
            lat=30.9,
            accuracy_m=30.0,
            device_time=utcnow(),
        )

        event = last_event(session, complaint)
        assert (event.data["lon"], event.data["lat"], event.data["distance_m"]) == (
            103.9,
            30.9,
            None,
        )


class TestDisposal:
    def _dispose(
        self,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        measure: DisposalMeasure | None,
        media_ids: list[int],
    ) -> None:
        handling.dispose(
            session,
            actor(session, world.officer),
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            measure=measure,
            media_ids=media_ids,
        )

    def test_a_quick_disposal_keeps_the_measure_and_the_photos_digests(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = on_scene(session, world)
        before = photo(session, complaint, world.officer, MediaRole.BEFORE, settings, "blue")
        after = photo(session, complaint, world.officer, MediaRole.AFTER, settings)

        self._dispose(session, world, complaint, DisposalMeasure.PERSUADED, [before.id, after.id])

        event = last_event(session, complaint)
        assert (event.kind, event.public) == ("disposed", False)
        assert event.data["measure"] == "persuaded"
        assert event.data["media_ids"] == [before.id, after.id]
        assert event.data["media_sha256"] == [before.sha256, after.sha256]

    def test_nothing_found_needs_one_photo_of_the_scene_of_any_role(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = on_scene(session, world)
        scene = photo(session, complaint, world.officer, MediaRole.BEFORE, settings)

        self._dispose(session, world, complaint, DisposalMeasure.NOT_FOUND, [scene.id])

        assert complaint.status == ComplaintStatus.DISPOSED

    def test_a_citizens_photo_is_not_the_officers_evidence(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = on_scene(session, world)
        theirs = photo(session, complaint, None, MediaRole.REPORT, settings)

        with pytest.raises(InvalidInput) as refused:
            self._dispose(session, world, complaint, DisposalMeasure.NOT_FOUND, [theirs.id])

        assert refused.value.detail == {"field": "media_ids", "media_id": theirs.id}

    def test_an_order_to_correct_needs_two_officers(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, world)
        handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            officer_ids=[world.officer.id],
        )
        lead = actor(session, world.officer)
        handling.take(session, lead, complaint_id=complaint.id, client_uuid=new_uuid())
        handling.arrive(
            session,
            lead,
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            lon=IN_WG01[0],
            lat=IN_WG01[1],
            accuracy_m=5.0,
            device_time=utcnow(),
        )
        after = photo(session, complaint, world.officer, MediaRole.AFTER, settings)

        with pytest.raises(Conflict) as refused:
            self._dispose(session, world, complaint, DisposalMeasure.ORDERED_CORRECTION, [after.id])
        assert refused.value.code == "second_officer_needed"

        # Persuading to leave needs no second signature.
        self._dispose(session, world, complaint, DisposalMeasure.PERSUADED, [after.id])
        assert complaint.status == ComplaintStatus.DISPOSED

    def test_a_complaint_handled_by_an_inspection_needs_it_submitted_and_links_it(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world, point=(CAFE_LON, CAFE_LAT))
        handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            officer_ids=[world.officer.id, world.second.id],
            subject_id=world.field.cafe.id,
        )
        lead = actor(session, world.officer)
        handling.take(session, lead, complaint_id=complaint.id, client_uuid=new_uuid())
        handling.arrive(
            session,
            lead,
            complaint_id=complaint.id,
            client_uuid=new_uuid(),
            lon=CAFE_LON,
            lat=CAFE_LAT,
            accuracy_m=5.0,
            device_time=utcnow(),
        )
        with pytest.raises(Conflict) as refused:
            self._dispose(session, world, complaint, None, [])
        assert refused.value.code == "inspection_not_submitted"

        inspection = Inspection(
            district_code=complaint.district_code,
            task_id=complaint.task_id,
            subject_id=world.field.cafe.id,
            status=InspectionStatus.SUBMITTED,
            checklist={},
            checklist_on=today(),
            checklist_sha256="0" * 64,
            started_by_id=world.officer.id,
            submitted_by_id=world.officer.id,
            submitted_at=utcnow(),
        )
        session.add(inspection)
        session.flush()
        self._dispose(session, world, complaint, None, [])

        event = last_event(session, complaint)
        assert event.data["inspection_id"] == inspection.id
        assert "measure" not in event.data


class TestVerification:
    def test_the_handling_officers_cannot_verify_their_own_work(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = fed_back(session, world, settings)

        with pytest.raises(PermissionDenied):
            handling.verify(
                session, actor(session, world.second), complaint_id=complaint.id, passed=True
            )

    def test_another_officer_may_verify(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = fed_back(session, world, settings)

        step = handling.verify(
            session,
            actor(session, world.third),
            complaint_id=complaint.id,
            passed=True,
            note="现场复核无摊贩",
        )

        assert complaint.verified_at is not None
        assert complaint.status == ComplaintStatus.FED_BACK
        assert (step.event.kind, step.event.public) == ("verified", False)
        assert step.event.data == {"passed": True, "note": "现场复核无摊贩"}

    def test_a_failed_check_sends_it_back_to_the_same_officers(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = fed_back(session, world, settings)

        step = handling.verify(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            passed=False,
            note="复核时摊贩又回来了",
        )

        assert complaint.status == ComplaintStatus.DISPATCHED
        assert complaint.officer_ids == [world.officer.id, world.second.id]
        assert complaint.rework_count == 1
        assert (complaint.taken_at, complaint.fed_back_at) == (None, None)
        assert (step.event.kind, step.event.public) == ("rework", True)
        assert step.event.note == "核查未通过，重新处置"
        assert step.event.data["note"] == "复核时摊贩又回来了"
        assert duty(session, world.officer) == ("available", complaint.id)
        assert duty(session, world.second) == ("available", complaint.id)

    def test_a_failed_check_needs_a_note(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = fed_back(session, world, settings)

        with pytest.raises(InvalidInput) as refused:
            handling.verify(
                session,
                actor(session, world.dispatcher),
                complaint_id=complaint.id,
                passed=False,
                note="  ",
            )

        assert refused.value.detail == {"field": "note"}

    def test_a_verified_complaint_is_not_verified_twice(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = verified(session, world, settings)

        with pytest.raises(Conflict):
            handling.verify(
                session, actor(session, world.third), complaint_id=complaint.id, passed=False,
                note="再看看",
            )  # fmt: skip


class TestClosing:
    def test_closing_needs_a_verification_first(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = fed_back(session, world, settings)

        with pytest.raises(Conflict) as refused:
            handling.close(
                session, actor(session, world.dispatcher), complaint_id=complaint.id, answer="好"
            )

        assert refused.value.code == "not_verified"

    def test_the_answer_reaches_every_complaint_merged_into_it(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        dispatcher = actor(session, world.dispatcher)
        main = take_in(session, world)
        duplicate = take_in(session, world, description="蜀州中路有人摆摊卖水果，占了人行道")
        duplicates.merge(session, dispatcher, complaint_id=duplicate.id, into_id=main.id)
        handling.dispatch(
            session,
            dispatcher,
            complaint_id=main.id,
            officer_ids=[world.officer.id, world.second.id],
        )
        lead = actor(session, world.officer)
        handling.take(session, lead, complaint_id=main.id, client_uuid=new_uuid())
        handling.arrive(
            session,
            lead,
            complaint_id=main.id,
            client_uuid=new_uuid(),
            lon=IN_WG01[0],
            lat=IN_WG01[1],
            accuracy_m=5.0,
            device_time=utcnow(),
        )
        after = photo(session, main, world.officer, MediaRole.AFTER, settings)
        handling.dispose(
            session,
            lead,
            complaint_id=main.id,
            client_uuid=new_uuid(),
            measure=DisposalMeasure.PERSUADED,
            media_ids=[after.id],
        )
        handling.feed_back(
            session, lead, complaint_id=main.id, client_uuid=new_uuid(), result="已劝离"
        )
        handling.verify(session, dispatcher, complaint_id=main.id, passed=True)

        step = handling.close(
            session, dispatcher, complaint_id=main.id, answer="经现场处置，占道摊贩已劝离。"
        )

        assert main.status == ComplaintStatus.CLOSED
        assert main.answer == "经现场处置，占道摊贩已劝离。"
        assert (step.event.kind, step.event.public, step.event.note) == (
            "closed",
            True,
            "经现场处置，占道摊贩已劝离。",
        )
        assert duplicate.status == ComplaintStatus.MERGED
        assert duplicate.answer == "经现场处置，占道摊贩已劝离。"
        note = last_event(session, duplicate)
        assert (note.kind, note.public, note.note) == ("note", True, "经现场处置，占道摊贩已劝离。")
        assert note.data["answer_of"] == main.tracking_no


class TestDirectAnswer:
    def test_a_consultation_is_answered_and_closed_without_dispatch(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(
            session, world, category=CONSULT, description="请问临时占道摆摊需要办理什么手续？"
        )

        step = handling.answer_directly(
            session,
            actor(session, world.dispatcher),
            complaint_id=complaint.id,
            answer="临时占道须向城管部门申请许可，可在政务服务中心办理。",
        )

        assert complaint.status == ComplaintStatus.CLOSED
        assert complaint.answer.startswith("临时占道须向城管部门申请许可")
        assert step.event.data == {"direct": True}
        assert steps(session, complaint) == ["received", "closed"]

    def test_a_complaint_is_not_answered_directly(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)

        with pytest.raises(Conflict) as refused:
            handling.answer_directly(
                session, actor(session, world.dispatcher), complaint_id=complaint.id, answer="好"
            )

        assert refused.value.code == "not_answerable"


class TestRating:
    def _closed(self, session: Session, world: ComplaintWorld, settings: Settings) -> Complaint:
        complaint = verified(session, world, settings)
        handling.close(
            session, actor(session, world.dispatcher), complaint_id=complaint.id, answer="已处理"
        )
        return complaint

    def test_the_citizen_rates_once_and_the_rating_is_public(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = self._closed(session, world, settings)

        step = handling.rate(
            session, tracking_no=complaint.tracking_no, rating=4, comment=" 处理及时 "
        )

        assert (complaint.rating, complaint.rating_comment) == (4, "处理及时")
        assert complaint.rated_at is not None
        assert (step.event.kind, step.event.public, step.event.actor_id) == ("rated", True, None)
        assert step.event.data == {"rating": 4, "comment": "处理及时"}
        with pytest.raises(Conflict) as again:
            handling.rate(session, tracking_no=complaint.tracking_no, rating=1)
        assert again.value.code == "already_rated"

    def test_an_open_complaint_cannot_be_rated(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = take_in(session, world)

        with pytest.raises(Conflict) as refused:
            handling.rate(session, tracking_no=complaint.tracking_no, rating=5)

        assert refused.value.code == "not_closed"

    @pytest.mark.parametrize(
        ("rating", "comment", "field"),
        [(0, "", "rating"), (6, "", "rating"), (3, "好" * 501, "comment")],
    )
    def test_a_rating_outside_1_to_5_or_a_long_comment_is_refused(
        self,
        session: Session,
        world: ComplaintWorld,
        settings: Settings,
        rating: int,
        comment: str,
        field: str,
    ) -> None:
        complaint = self._closed(session, world, settings)

        with pytest.raises(InvalidInput) as refused:
            handling.rate(
                session, tracking_no=complaint.tracking_no, rating=rating, comment=comment
            )

        assert refused.value.detail == {"field": field}
        assert complaint.rating is None

    def test_an_unknown_tracking_number_is_not_found(self, session: Session) -> None:
        with pytest.raises(NotFound):
            handling.rate(session, tracking_no="TS20260101-XXXXXX", rating=5)


class TestExactlyOnce:
    def test_a_repeated_device_step_gets_the_same_reply_and_happens_once(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = dispatched(session, world)
        lead = actor(session, world.officer)
        key = new_uuid()

        first = handling.take(session, lead, complaint_id=complaint.id, client_uuid=key)
        again = handling.take(session, lead, complaint_id=complaint.id, client_uuid=key)

        assert again == first
        count = session.scalar(
            select(func.count())
            .select_from(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.kind == "taken")
        )
        assert count == 1

    def test_other_content_under_the_same_uuid_is_a_conflict(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        complaint = taken(session, world)
        lead = actor(session, world.officer)
        key = new_uuid()
        handling.decline(
            session, lead, complaint_id=complaint.id, client_uuid=key, reason="车辆故障"
        )

        with pytest.raises(Conflict):
            handling.decline(
                session, lead, complaint_id=complaint.id, client_uuid=key, reason="另有任务"
            )
