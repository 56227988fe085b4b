"""The registry's rules, through the service: identifiers, the encrypted ID card, location and
fence, grid and squad, scope, uniqueness, changes and the ledger."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.field import CAFE_LAT, CAFE_LON, CAFE_USCC
from tests.subjects.helpers import (
    IN_OTHER,
    IN_OWN,
    OUTSIDE,
    World,
    enterprise,
    events,
    make_ric,
    make_uscc,
    person,
    subjects_world,
)
from zhifa.errors import AppError, Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.models.subjects import Subject
from zhifa.subjects import repository as repo
from zhifa.subjects.idcard import keys_for
from zhifa.subjects.schemas import SubjectIn, SubjectUpdate
from zhifa.subjects.service import subject_service


@pytest.fixture
def world(session: Session) -> World:
    w = subjects_world(session)
    session.commit()
    return w


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Subject)) or 0)


def _create(session: Session, world: World, body: dict[str, Any], who: Any = None) -> Subject:
    actor = world.actor(session, who or world.field.officer)
    row = subject_service.create(
        session, actor, data=SubjectIn.model_validate(body), keys=world.keys
    )
    session.commit()
    return row


def _refused(session: Session, world: World, body: dict[str, Any], who: Any = None) -> AppError:
    before = _count(session)
    with pytest.raises(AppError) as caught:
        _create(session, world, body, who)
    session.rollback()
    assert _count(session) == before
    return caught.value


def _field(exc: AppError) -> str:
    assert isinstance(exc.detail, dict)
    return str(exc.detail["field"])


class TestRegisteringAnEnterprise:
    def test_the_code_is_stored_upper_case_with_grid_squad_and_licences(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, enterprise(1))

        assert row.uscc == make_uscc(1)
        assert row.grid_id == world.field.grid.id
        assert row.unit_id == world.field.squad.id
        assert row.geofence_radius_m == 50
        assert row.licences[0]["name"] == "食品经营许可证"
        assert row.active is True

    def test_creation_is_one_ledger_event_with_the_row_state(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, enterprise(1))

        (event,) = events(session, "subject.created")
        assert event.subject_id == str(row.id)
        assert event.actor_id == world.field.officer.id
        assert event.payload["state"]["uscc"] == make_uscc(1)
        assert event.payload["state"]["unit_id"] == world.field.squad.id

    def test_an_enterprise_without_a_code_is_refused(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, uscc=None))

        assert isinstance(exc, InvalidInput)
        assert _field(exc) == "uscc"
        assert "unified social credit code" in exc.message

    def test_a_code_with_a_wrong_check_character_is_refused(
        self, session: Session, world: World
    ) -> None:
        code = make_uscc(1)
        wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
        exc = _refused(session, world, enterprise(1, uscc=wrong))

        assert _field(exc) == "uscc"
        assert "check character" in exc.message

    def test_a_code_of_the_wrong_length_is_refused(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, uscc="91510184MA6C"))

        assert _field(exc) == "uscc"
        assert "18 characters" in exc.message

    def test_a_code_already_registered_is_a_conflict_naming_the_subject(
        self, session: Session, world: World
    ) -> None:
        exc = _refused(session, world, enterprise(9, uscc=CAFE_USCC))

        assert isinstance(exc, Conflict)
        assert exc.params["name"] == world.field.cafe.name
        assert exc.params["id"] == world.field.cafe.id
        assert exc.detail == {"field": "uscc", "existing_id": world.field.cafe.id}

    def test_a_duplicate_outside_the_scope_is_a_conflict_without_its_name(
        self, session: Session, world: World
    ) -> None:
        _create(session, world, enterprise(3, at=IN_OTHER), who=world.admin)
        exc = _refused(session, world, enterprise(4, uscc=make_uscc(3)))

        assert isinstance(exc, Conflict)
        assert "name" not in exc.params
        assert "outside your data scope" in exc.message


class TestRegisteringAPerson:
    def test_the_id_card_number_is_stored_encrypted_masked_and_digested(
        self, session: Session, world: World
    ) -> None:
        number = make_ric(7)
        row = _create(session, world, person(7))

        assert row.id_card_cipher is not None
        assert number not in row.id_card_cipher
        assert world.keys.decrypt(row.id_card_cipher) == number
        assert row.id_card_masked == number[:4] + "*" * 10 + number[-4:]
        assert row.id_card_digest == world.keys.digest(number)

    def test_the_ledger_never_carries_the_number(self, session: Session, world: World) -> None:
        number = make_ric(7)
        _create(session, world, person(7))

        (event,) = events(session, "subject.created")
        assert number.encode() not in event.body
        assert number[6:14].encode() not in event.body  # not even the birth date part
        assert event.payload["state"]["id_card_masked"].startswith("5101")
        assert "id_card_cipher_sha256" in event.payload["state"]

    def test_a_lower_case_check_x_is_normalised(self, session: Session, world: World) -> None:
        number = make_ric(18)
        assert number.endswith("X")
        row = _create(session, world, person(18, id_card=number.lower()))

        assert row.id_card_digest == world.keys.digest(number)

    def test_a_mistyped_number_is_refused_without_echoing_it(
        self, session: Session, world: World
    ) -> None:
        number = make_ric(7)
        wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
        exc = _refused(session, world, person(7, id_card=wrong))

        assert _field(exc) == "id_card"
        assert wrong not in str(exc.params)
        assert "check digit" in exc.message

    def test_the_same_number_twice_is_a_conflict(self, session: Session, world: World) -> None:
        first = _create(session, world, person(7))
        exc = _refused(session, world, person(8, id_card=make_ric(7)))

        assert isinstance(exc, Conflict)
        assert exc.detail == {"field": "id_card", "existing_id": first.id}

    def test_a_person_cannot_have_a_credit_code(self, session: Session, world: World) -> None:
        exc = _refused(session, world, person(7, uscc=make_uscc(2)))

        assert _field(exc) == "uscc"

    def test_an_enterprise_cannot_have_an_id_card_number(
        self, session: Session, world: World
    ) -> None:
        exc = _refused(session, world, enterprise(2, id_card=make_ric(2)))

        assert _field(exc) == "id_card"

    def test_a_person_may_be_registered_without_a_number(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, person(7, id_card=None))

        assert (row.id_card_cipher, row.id_card_masked, row.id_card_digest) == (None, None, None)


class TestLocationAndFence:
    def test_a_polygon_fence_is_kept_normalised(self, session: Session, world: World) -> None:
        lon, lat = IN_OWN
        ring = [[lon - 0.001, lat - 0.001], [lon + 0.001, lat - 0.001], [lon + 0.001, lat + 0.001]]
        fence = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        }
        row = _create(session, world, enterprise(1, geofence=fence, geofence_radius_m=None))

        assert row.geofence == {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        assert row.geofence_radius_m is None

    def test_an_unclosed_polygon_is_refused_at_the_fence_field(
        self, session: Session, world: World
    ) -> None:
        lon, lat = IN_OWN
        ring = [[lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001], [lon, lat + 0.001]]
        exc = _refused(
            session,
            world,
            enterprise(
                1, geofence={"type": "Polygon", "coordinates": [ring]}, geofence_radius_m=None
            ),
        )

        assert _field(exc) == "geofence"
        assert "not closed" in exc.message

    def test_a_polygon_in_lat_lon_order_is_refused(self, session: Session, world: World) -> None:
        lon, lat = IN_OWN
        ring = [[lat, lon], [lat, lon + 0.001], [lat + 0.001, lon + 0.001], [lat, lon]]
        exc = _refused(
            session,
            world,
            enterprise(
                1, geofence={"type": "Polygon", "coordinates": [ring]}, geofence_radius_m=None
            ),
        )

        assert _field(exc) == "geofence"
        assert "[lat, lon]" in exc.message

    @pytest.mark.parametrize("radius", [5, 2500])
    def test_a_radius_outside_10_to_2000_metres_is_refused(
        self, session: Session, world: World, radius: int
    ) -> None:
        exc = _refused(session, world, enterprise(1, geofence_radius_m=radius))

        assert _field(exc) == "geofence_radius_m"
        assert exc.params == {"minimum": 10, "maximum": 2000}

    def test_both_a_polygon_and_a_radius_are_refused(self, session: Session, world: World) -> None:
        lon, lat = IN_OWN
        ring = [[lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001], [lon, lat]]
        body = enterprise(1, geofence={"type": "Polygon", "coordinates": [ring]})
        exc = _refused(session, world, body)

        assert _field(exc) == "geofence"

    def test_a_fence_without_a_point_is_refused(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, lon=None, lat=None), who=world.admin)

        assert _field(exc) == "geofence_radius_m"
        assert "location" in exc.message

    def test_a_point_outside_china_is_refused(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, lon=2.35, lat=48.85))

        assert _field(exc) == "lon"
        assert "outside China" in exc.message

    def test_swapped_coordinates_are_named_as_such(self, session: Session, world: World) -> None:
        lon, lat = IN_OWN
        exc = _refused(session, world, enterprise(1, lon=lat, lat=lon))

        assert "swapped" in exc.message

    def test_a_longitude_without_latitude_is_refused(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, lat=None))

        assert _field(exc) == "lat"

    def test_every_problem_is_listed_not_only_the_first(
        self, session: Session, world: World
    ) -> None:
        exc = _refused(session, world, enterprise(1, uscc="123", subject_type="nope", lat=None))

        assert isinstance(exc.detail, dict)
        fields = [p["field"] for p in exc.detail["problems"]]
        assert set(fields) == {"uscc", "subject_type", "lat"}


class TestSubjectType:
    def test_an_unknown_type_is_refused(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, subject_type="casino"))

        assert _field(exc) == "subject_type"
        assert exc.params == {"code": "casino"}

    def test_an_inactive_type_is_refused(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, subject_type="old_type"))

        assert _field(exc) == "subject_type"
        assert "no longer" in exc.message


class TestScopeOnRegistration:
    def test_a_squad_officer_cannot_register_in_another_squads_grid(
        self, session: Session, world: World
    ) -> None:
        exc = _refused(session, world, enterprise(1, at=IN_OTHER))

        assert _field(exc) == "lon"

    def test_a_squad_officer_cannot_register_outside_every_grid(
        self, session: Session, world: World
    ) -> None:
        exc = _refused(session, world, enterprise(1, at=OUTSIDE))

        assert _field(exc) == "lon"

    def test_a_squad_officer_must_give_a_location(self, session: Session, world: World) -> None:
        exc = _refused(session, world, enterprise(1, lon=None, lat=None, geofence_radius_m=None))

        assert _field(exc) == "lon"

    def test_district_staff_register_anywhere_the_squad_following_the_grid(
        self, session: Session, world: World
    ) -> None:
        other = _create(session, world, enterprise(1, at=IN_OTHER), who=world.admin)
        nowhere = _create(session, world, enterprise(2, at=OUTSIDE), who=world.admin)

        assert other.unit_id == world.field.other_squad.id
        assert (nowhere.grid_id, nowhere.unit_id) == (None, None)


class TestSearch:
    def _search(
        self, session: Session, world: World, who: Any = None, near: Any = None, **filters: Any
    ) -> tuple[list[tuple[Subject, float | None]], int]:
        actor = world.actor(session, who or world.field.officer)
        return subject_service.search(
            session, actor, filters=repo.Filters(**filters), near=near, keys=world.keys
        )

    @pytest.fixture
    def some(self, session: Session, world: World) -> World:
        _create(session, world, enterprise(1))
        _create(session, world, person(2))
        _create(session, world, enterprise(3, at=IN_OTHER, name="远方网吧"), who=world.admin)
        return world

    @pytest.mark.parametrize(
        "q", ["示例餐饮", "示例路1号", "91510184MA6C00001", "91510184ma6c00001"]
    )
    def test_by_name_address_or_code(self, session: Session, some: World, q: str) -> None:
        found, total = self._search(session, some, q=q)

        assert total == 1
        assert found[0][0].name == "崇州市示例餐饮有限公司1"

    def test_by_exact_id_card_number(self, session: Session, some: World) -> None:
        found, total = self._search(session, some, q=make_ric(2))

        assert [s.name for s, _ in found] == ["赵某2"]

    def test_by_type_kind_and_risk(self, session: Session, some: World) -> None:
        by_type, _ = self._search(session, some, subject_type="street_vendor")
        by_kind, _ = self._search(session, some, kind="enterprise")
        by_risk, _ = self._search(session, some, risk_level="medium")

        assert [s.name for s, _ in by_type] == ["赵某2"]
        assert {s.name for s, _ in by_kind} == {"崇州市示例餐饮有限公司1", some.field.cafe.name}
        assert {s.name for s, _ in by_risk} == {"崇州市示例餐饮有限公司1", some.field.cafe.name}

    def test_a_squad_officer_sees_only_the_squads_subjects(
        self, session: Session, some: World
    ) -> None:
        mine, _ = self._search(session, some)
        theirs, _ = self._search(session, some, who=some.field.outsider)
        everything, _ = self._search(session, some, who=some.admin)

        assert "远方网吧" not in {s.name for s, _ in mine}
        assert {s.name for s, _ in theirs} == {"远方网吧"}
        assert len(everything) == 4

    def test_near_orders_by_distance_and_keeps_the_radius(
        self, session: Session, some: World
    ) -> None:
        near = repo.Near(lon=CAFE_LON, lat=CAFE_LAT, radius_m=2000)
        found, total = self._search(session, some, who=some.admin, near=near)

        names = [s.name for s, _ in found]
        distances = [d for _, d in found]
        assert names[0] == some.field.cafe.name
        assert distances == sorted(distances)
        assert distances[0] == pytest.approx(0.0, abs=0.01)
        assert "远方网吧" in names  # about 1.8 km east

        close, total_close = self._search(
            session, some, who=some.admin, near=repo.Near(CAFE_LON, CAFE_LAT, 1000)
        )
        assert "远方网吧" not in [s.name for s, _ in close]
        assert total_close == len(close) == 3

    def test_deactivated_subjects_are_left_out_unless_asked_for(
        self, session: Session, some: World
    ) -> None:
        actor = some.actor(session, some.field.officer)
        subject_service.deactivate(session, actor, subject_id=some.field.cafe.id)
        session.commit()

        active, _ = self._search(session, some)
        inactive, _ = self._search(session, some, active=False)
        assert some.field.cafe.name not in {s.name for s, _ in active}
        assert {s.name for s, _ in inactive} == {some.field.cafe.name}


class TestGetting:
    def test_a_subject_of_another_squad_is_not_found(self, session: Session, world: World) -> None:
        actor = world.actor(session, world.field.outsider)
        with pytest.raises(NotFound):
            subject_service.get(session, actor, subject_id=world.field.cafe.id)


class TestChanging:
    def _update(self, session: Session, world: World, row: Subject, **changes: Any) -> Subject:
        actor = world.actor(session, world.field.officer)
        data = SubjectUpdate.model_validate(changes)
        out = subject_service.update(session, actor, subject_id=row.id, data=data, keys=world.keys)
        session.commit()
        return out

    def test_a_change_is_ledgered_with_before_and_after(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, enterprise(1))
        self._update(session, world, row, phone="13800000000", risk_level="high")

        (event,) = events(session, "subject.updated")
        assert event.payload["changes"]["phone"] == {
            "before": "028-82000001",
            "after": "13800000000",
        }
        assert event.payload["changes"]["risk_level"]["after"] == "high"
        assert event.payload["state"]["risk_level"] == "high"

    def test_nothing_changed_records_nothing(self, session: Session, world: World) -> None:
        row = _create(session, world, enterprise(1))
        self._update(session, world, row, phone="028-82000001")

        assert events(session, "subject.updated") == []

    def test_moving_the_point_moves_grid_and_squad(self, session: Session, world: World) -> None:
        row = _create(session, world, enterprise(1))
        lon, lat = IN_OTHER
        actor = world.actor(session, world.admin)
        subject_service.update(
            session,
            actor,
            subject_id=row.id,
            data=SubjectUpdate(lon=lon, lat=lat),
            keys=world.keys,
        )
        session.commit()

        assert row.unit_id == world.field.other_squad.id

    def test_resending_the_same_id_number_changes_nothing(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, person(5))
        cipher = row.id_card_cipher
        self._update(session, world, row, id_card=make_ric(5))

        assert row.id_card_cipher == cipher
        assert events(session, "subject.updated") == []

    def test_a_new_id_number_is_ledgered_without_the_cipher(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, person(5))
        self._update(session, world, row, id_card=make_ric(6))

        (event,) = events(session, "subject.updated")
        assert event.payload["changes"]["id_card_cipher"] == {"changed": True}
        assert make_ric(6).encode() not in event.body
        assert row.id_card_digest == world.keys.digest(make_ric(6))

    def test_clearing_the_id_number(self, session: Session, world: World) -> None:
        row = _create(session, world, person(5))
        self._update(session, world, row, id_card=None)

        assert (row.id_card_cipher, row.id_card_masked, row.id_card_digest) == (None, None, None)

    def test_a_change_that_breaks_a_rule_is_refused_and_nothing_changes(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, enterprise(1))
        with pytest.raises(InvalidInput):
            self._update(session, world, row, kind="person")
        session.rollback()

        assert session.get(Subject, row.id).kind == "enterprise"  # type: ignore[union-attr]
        assert events(session, "subject.updated") == []

    def test_deactivation_is_its_own_event_and_the_row_stays(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, enterprise(1))
        self._update(session, world, row, active=False)

        (event,) = events(session, "subject.deactivated")
        assert event.payload["changes"]["active"] == {"before": True, "after": False}
        assert session.get(Subject, row.id) is not None


class TestRevealingTheIdNumber:
    def test_the_number_is_given_and_the_reveal_ledgered_without_it(
        self, session: Session, world: World
    ) -> None:
        row = _create(session, world, person(5))
        actor = world.actor(session, world.field.leader)
        number = subject_service.reveal_id(
            session, actor, subject_id=row.id, reason="制作当场处罚决定书", keys=world.keys
        )
        session.commit()

        assert number == make_ric(5)
        (event,) = events(session, "subject.id_revealed")
        assert event.payload["reason"] == "制作当场处罚决定书"
        assert event.payload["subject_id"] == row.id
        assert event.actor_id == world.field.leader.id
        assert number.encode() not in event.body

    def test_a_role_without_the_permission_is_refused(self, session: Session, world: World) -> None:
        row = _create(session, world, person(5))
        actor = world.actor(session, world.field.officer)
        with pytest.raises(PermissionDenied):
            subject_service.reveal_id(
                session, actor, subject_id=row.id, reason="想看看", keys=world.keys
            )

    def test_a_blank_reason_is_refused(self, session: Session, world: World) -> None:
        row = _create(session, world, person(5))
        actor = world.actor(session, world.field.leader)
        with pytest.raises(InvalidInput) as caught:
            subject_service.reveal_id(
                session, actor, subject_id=row.id, reason=" ", keys=world.keys
            )

        assert _field(caught.value) == "reason"

    def test_another_secret_cannot_read_the_number(self, session: Session, world: World) -> None:
        row = _create(session, world, person(5))
        actor = world.actor(session, world.field.leader)
        with pytest.raises(Conflict):
            subject_service.reveal_id(
                session, actor, subject_id=row.id, reason="核对", keys=keys_for("another secret")
            )
