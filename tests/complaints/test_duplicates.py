"""Possible duplicates: same category, within the district's radius and window, not finished, not
the complaint itself; merging one into another (complaints:dispatch) with a public step; and every
complaint merged into a survivor, found for the answer at its close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.complaints.test_intake_helpers import actor, counts, events_of, ledger_events, take_in
from tests.complaints.world import (
    FOOD,
    GARBAGE,
    IN_WG01,
    IN_WG02,
    ComplaintWorld,
    complaint_world,
)
from zhifa.complaints import duplicates
from zhifa.config import Settings
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.clock import utcnow
from zhifa.kit.geo import haversine_m
from zhifa.models.complaints import Complaint, ComplaintSettings, ComplaintStatus

LON, LAT = IN_WG01
# About 55 m and 167 m north of IN_WG01.
NEAR = (LON, LAT + 0.0005)
FAR = (LON, LAT + 0.0015)


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def at(
    session: Session,
    world: ComplaintWorld,
    settings: Settings,
    point: tuple[float, float],
    **overrides: object,
) -> Complaint:
    return take_in(session, world, settings, lon=point[0], lat=point[1], **overrides).complaint


class TestCandidates:
    def test_a_complaint_55_m_away_is_a_candidate_with_distance_and_age(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        first = at(session, world, settings, IN_WG01, received_at=utcnow() - timedelta(hours=3))

        result = take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1])

        [candidate] = result.duplicates
        assert candidate.id == first.id
        assert candidate.tracking_no == first.tracking_no
        assert candidate.distance_m == pytest.approx(haversine_m(*IN_WG01, *NEAR), abs=0.1)
        assert 50 < candidate.distance_m < 60
        assert candidate.age_hours == pytest.approx(3, abs=0.01)
        assert candidate.status == ComplaintStatus.RECEIVED

    def test_one_167_m_away_is_not(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        at(session, world, settings, IN_WG01)

        assert take_in(session, world, settings, lon=FAR[0], lat=FAR[1]).duplicates == []

    def test_the_districts_radius_decides(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        world.settings.duplicate_radius_m = 200.0
        session.commit()
        at(session, world, settings, IN_WG01)

        assert len(take_in(session, world, settings, lon=FAR[0], lat=FAR[1]).duplicates) == 1

    def test_one_received_49_hours_earlier_is_not(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        at(session, world, settings, IN_WG01, received_at=utcnow() - timedelta(hours=49))

        assert take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).duplicates == []

    def test_one_received_47_hours_earlier_is(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        at(session, world, settings, IN_WG01, received_at=utcnow() - timedelta(hours=47))

        assert len(take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).duplicates) == 1

    def test_the_districts_window_decides(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        world.settings.duplicate_window_hours = 2
        session.commit()
        at(session, world, settings, IN_WG01, received_at=utcnow() - timedelta(hours=3))

        assert take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).duplicates == []

    def test_a_later_complaint_is_a_candidate_of_an_earlier_one(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        first = at(session, world, settings, IN_WG01)
        later = at(session, world, settings, NEAR)

        [candidate] = duplicates.candidates(session, first)
        assert candidate.id == later.id
        assert candidate.age_hours <= 0

    def test_another_category_is_not(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        at(session, world, settings, IN_WG01, category_code=GARBAGE, attributes={})

        assert take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).duplicates == []

    def test_a_finished_complaint_is_not(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        at(session, world, settings, IN_WG01, category_code=FOOD, attributes={})

        result = take_in(
            session, world, settings, lon=NEAR[0], lat=NEAR[1], category_code=FOOD, attributes={}
        )

        assert result.duplicates == []

    def test_a_complaint_is_not_its_own_duplicate_and_the_nearest_comes_first(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        a = at(session, world, settings, (LON, LAT + 0.0008))
        b = at(session, world, settings, NEAR)
        c = at(session, world, settings, IN_WG01)

        assert [d.id for d in duplicates.candidates(session, c)] == [b.id, a.id]

    def test_a_complaint_without_a_point_has_none(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        at(session, world, settings, IN_WG01)

        assert take_in(session, world, settings, lon=None, lat=None).duplicates == []

    def test_without_district_settings_the_environment_defaults_apply(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        session.delete(session.get(ComplaintSettings, world.settings.id))
        session.commit()
        at(session, world, settings, IN_WG01)

        assert duplicates.limits(session, world.district_code, settings) == (100.0, 48)
        assert len(take_in(session, world, settings, lon=NEAR[0], lat=NEAR[1]).duplicates) == 1
        assert take_in(session, world, settings, lon=FAR[0], lat=FAR[1]).duplicates == []


class TestMerge:
    def test_the_duplicate_ends_merged_with_a_public_step_naming_the_survivor(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        survivor = at(session, world, settings, IN_WG01)
        duplicate = at(session, world, settings, NEAR)

        duplicates.merge(
            session,
            actor(session, world.dispatcher),
            complaint_id=duplicate.id,
            into_id=survivor.id,
            note="同一摊点",
        )

        assert duplicate.status == ComplaintStatus.MERGED
        assert duplicate.duplicate_of_id == survivor.id
        merged = events_of(session, duplicate)[-1]
        assert merged.kind == "merged"
        assert merged.public is True
        assert merged.note == f"与 {survivor.tracking_no} 为同一问题，已合并处理"
        assert merged.data == {
            "into_id": survivor.id,
            "into_tracking_no": survivor.tracking_no,
            "note": "同一摊点",
        }
        assert survivor.status == ComplaintStatus.RECEIVED
        note = events_of(session, survivor)[-1]
        assert (note.kind, note.public) == ("note", False)
        assert note.data["merged_tracking_no"] == duplicate.tracking_no

    def test_the_merge_is_in_the_ledger(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        survivor = at(session, world, settings, IN_WG01)
        duplicate = at(session, world, settings, NEAR)

        duplicates.merge(
            session,
            actor(session, world.dispatcher),
            complaint_id=duplicate.id,
            into_id=survivor.id,
        )
        session.commit()

        kinds = [(e.kind, e.subject_id) for e in ledger_events(session)][-2:]
        assert kinds == [
            ("complaint.merged", str(duplicate.id)),
            ("complaint.note", str(survivor.id)),
        ]
        merged = ledger_events(session)[-2]
        assert merged.payload["state"]["duplicate_of_id"] == survivor.id
        assert merged.payload["state"]["status"] == "merged"

    def test_a_merged_complaint_is_no_longer_a_candidate(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        survivor = at(session, world, settings, IN_WG01)
        duplicate = at(session, world, settings, NEAR)
        duplicates.merge(
            session,
            actor(session, world.dispatcher),
            complaint_id=duplicate.id,
            into_id=survivor.id,
        )

        assert duplicates.candidates(session, survivor) == []


class TestMergeRefusals:
    @pytest.fixture
    def pair(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> tuple[Complaint, Complaint]:
        survivor = at(session, world, settings, IN_WG01)
        duplicate = at(session, world, settings, NEAR)
        session.commit()
        return survivor, duplicate

    def test_into_itself(
        self, session: Session, world: ComplaintWorld, pair: tuple[Complaint, Complaint]
    ) -> None:
        before = counts(session)

        with pytest.raises(InvalidInput) as caught:
            duplicates.merge(
                session,
                actor(session, world.dispatcher),
                complaint_id=pair[1].id,
                into_id=pair[1].id,
            )

        assert caught.value.detail == {"field": "into_id"}
        session.rollback()
        assert counts(session) == before

    def test_without_the_dispatch_permission(
        self, session: Session, world: ComplaintWorld, pair: tuple[Complaint, Complaint]
    ) -> None:
        with pytest.raises(PermissionDenied):
            duplicates.merge(
                session, actor(session, world.officer), complaint_id=pair[1].id, into_id=pair[0].id
            )

        session.rollback()
        assert session.get(Complaint, pair[1].id).status == ComplaintStatus.RECEIVED  # type: ignore[union-attr]

    def test_into_a_finished_complaint(
        self,
        session: Session,
        world: ComplaintWorld,
        settings: Settings,
        pair: tuple[Complaint, Complaint],
    ) -> None:
        transferred = at(session, world, settings, IN_WG01, category_code=FOOD, attributes={})
        session.commit()
        before = counts(session)

        with pytest.raises(Conflict) as caught:
            duplicates.merge(
                session,
                actor(session, world.dispatcher),
                complaint_id=pair[1].id,
                into_id=transferred.id,
            )

        assert caught.value.code == "into_finished"
        assert caught.value.params == {"tracking_no": transferred.tracking_no}
        session.rollback()
        assert counts(session) == before

    def test_a_complaint_already_finished(
        self, session: Session, world: ComplaintWorld, pair: tuple[Complaint, Complaint]
    ) -> None:
        dispatcher = actor(session, world.dispatcher)
        duplicates.merge(session, dispatcher, complaint_id=pair[1].id, into_id=pair[0].id)
        session.commit()
        before = counts(session)

        with pytest.raises(Conflict) as caught:
            duplicates.merge(session, dispatcher, complaint_id=pair[1].id, into_id=pair[0].id)

        assert caught.value.code == "step_not_allowed"
        session.rollback()
        assert counts(session) == before

    def test_an_officer_of_another_squad_sees_neither(
        self,
        session: Session,
        world: ComplaintWorld,
        settings: Settings,
        pair: tuple[Complaint, Complaint],
    ) -> None:
        world.field.outsider.roles = ["squad_leader"]
        session.commit()

        with pytest.raises(NotFound):
            duplicates.merge(
                session,
                actor(session, world.field.outsider),
                complaint_id=pair[1].id,
                into_id=pair[0].id,
            )

    def test_complaints_of_other_squads_can_be_merged_by_the_dispatcher(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        a = at(session, world, settings, IN_WG01)
        b = at(session, world, settings, IN_WG02)

        duplicates.merge(session, actor(session, world.dispatcher), complaint_id=b.id, into_id=a.id)

        assert b.status == ComplaintStatus.MERGED


class TestMergedInto:
    def test_every_complaint_merged_in_directly_or_through_another_is_found(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        dispatcher = actor(session, world.dispatcher)
        a, b, c, d = (at(session, world, settings, NEAR) for _ in range(4))
        duplicates.merge(session, dispatcher, complaint_id=c.id, into_id=b.id)
        duplicates.merge(session, dispatcher, complaint_id=b.id, into_id=a.id)
        duplicates.merge(session, dispatcher, complaint_id=d.id, into_id=a.id)

        assert sorted(x.id for x in duplicates.merged_into(session, a)) == sorted(
            [b.id, c.id, d.id]
        )
        assert [x.id for x in duplicates.merged_into(session, b)] == [c.id]
        assert duplicates.merged_into(session, d) == []
