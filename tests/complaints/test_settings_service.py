"""Complaint configuration: deadline profiles, working-day exceptions and district settings — what
is saved, what is ledgered (once per real change), what later complaints get, and every refusal
with nothing changed. Plus the JSON API of the configuration."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_sla_helpers import (
    T0,
    actor,
    end_of,
    headers,
    ledger_kinds,
    minutes,
    new_complaint,
    sla_world,
)
from tests.complaints.world import BOUNDARY, CONSULT, ComplaintWorld
from zhifa.complaints.settings_service import (
    ComplaintSettingsIn,
    SlaProfileIn,
    WorkdayOverrideIn,
    settings_service,
)
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.workdays import calendar_for
from zhifa.models.complaints import ComplaintSettings, Priority, SlaProfile, WorkdayOverride
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer, UnitKind
from zhifa.org.actor import Actor
from zhifa.org.roles import Role


def admin(session: Session, world: ComplaintWorld) -> Officer:
    return factories.officer(session, world.district_code, "sys.admin", [Role.SYSTEM_ADMIN])


def configurer(session: Session, world: ComplaintWorld) -> Actor:
    return actor(session, admin(session, world))


def street(**changes: Any) -> SlaProfileIn:
    data: dict[str, Any] = {
        "code": "street",
        "name": "街面即时处置",
        "priority": "normal",
        "limits": {
            "dispatch": {"minutes": 15},
            "arrive": {"minutes": 20},
            "handle": {"minutes": 30},
            "feedback": {"minutes": 120},
        },
        "warn_ratio": 0.8,
    }
    return SlaProfileIn.model_validate(data | changes)


def settings_in(**changes: Any) -> ComplaintSettingsIn:
    data: dict[str, Any] = {
        "duplicate_radius_m": 150,
        "duplicate_window_hours": 24,
        "position_stale_seconds": 120,
        "default_unit_id": None,
        "boundary": BOUNDARY,
        "tracking_prefix": "cz",
    }
    return ComplaintSettingsIn.model_validate(data | changes)


def events_of(session: Session, kind: str) -> list[LedgerEvent]:
    session.commit()
    return list(session.scalars(select(LedgerEvent).where(LedgerEvent.kind == kind)))


class TestProfiles:
    def test_changing_a_profile_applies_to_later_complaints_only(self, session: Session) -> None:
        world = sla_world(session)
        earlier = new_complaint(session, world)
        settings_service.save_profile(session, configurer(session, world), data=street())

        later = new_complaint(session, world, at=T0 + minutes(1))
        assert earlier.dispatch_due == T0 + minutes(10)
        assert later.dispatch_due == T0 + minutes(16)

    def test_a_change_is_ledgered_with_before_and_after_and_a_no_op_is_not(
        self, session: Session
    ) -> None:
        world = sla_world(session)
        who = configurer(session, world)
        settings_service.save_profile(session, who, data=street())
        settings_service.save_profile(session, who, data=street())

        (saved,) = events_of(session, "complaint.sla_profile.saved")
        changes = saved.payload["changes"]
        assert changes["limits"]["before"]["dispatch"] == {"minutes": 10}
        assert changes["limits"]["after"]["dispatch"] == {"minutes": 15}
        assert saved.payload["created"] is False
        assert saved.actor_id == who.officer_id

    def test_a_new_profile_is_created_for_its_priority(self, session: Session) -> None:
        world = sla_world(session)
        row = settings_service.save_profile(
            session,
            configurer(session, world),
            data=street(
                code="consult",
                priority="urgent",
                name="咨询（紧急）",
                limits={"feedback": {"workdays": 1}},
            ),
        )
        assert (row.code, row.priority, row.limits) == (
            "consult",
            Priority.URGENT,
            {"feedback": {"workdays": 1}},
        )
        urgent = new_complaint(session, world, category=CONSULT, priority=Priority.URGENT)
        assert urgent.feedback_due == end_of(2026, 10, 13)
        (created,) = events_of(session, "complaint.sla_profile.saved")
        assert created.payload["created"] is True

    def test_a_profile_without_any_limit_is_refused(self, session: Session) -> None:
        world = sla_world(session)
        with pytest.raises(InvalidInput) as caught:
            settings_service.save_profile(
                session, configurer(session, world), data=street(limits={})
            )
        assert caught.value.detail == {"field": "limits"}
        assert session.scalars(select(SlaProfile.limits).where(SlaProfile.code == "street")).all()[
            0
        ]["dispatch"] == {"minutes": 10}

    @pytest.mark.parametrize(
        "changes",
        [
            {"limits": {"dispatch": {"hours": 1}}},
            {"limits": {"dispatch": {"minutes": 0}}},
            {"limits": {"lunch": {"minutes": 10}}},
            {"warn_ratio": 1.2},
            {"code": "Street Profile"},
        ],
    )
    def test_bad_values_are_refused_by_the_schema(self, changes: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            street(**changes)

    def test_a_dispatcher_may_not_change_deadlines(self, session: Session) -> None:
        world = sla_world(session)
        with pytest.raises(PermissionDenied):
            settings_service.save_profile(session, actor(session, world.dispatcher), data=street())
        assert events_of(session, "complaint.sla_profile.saved") == []


class TestWorkdayOverrides:
    def test_adding_a_day_off_moves_later_deadlines_and_is_ledgered(self, session: Session) -> None:
        world = sla_world(session)
        settings_service.save_override(
            session,
            configurer(session, world),
            data=WorkdayOverrideIn(day=date(2026, 10, 13), is_workday=False, note="区运动会"),
        )
        assert not calendar_for(session, world.district_code).is_workday(date(2026, 10, 13))
        consult = new_complaint(session, world, category=CONSULT)
        # 3 working days after Monday 12 October without the 13th: 14, 15, 16.
        assert consult.feedback_due == end_of(2026, 10, 16)
        (saved,) = events_of(session, "complaint.workday.saved")
        assert saved.payload["day"] == "2026-10-13"
        assert saved.payload["is_workday"] is False
        assert saved.payload["before"] is None

    def test_changing_a_day_replaces_the_row_and_says_what_it_was(self, session: Session) -> None:
        world = sla_world(session)
        who = configurer(session, world)
        day = date(2026, 10, 11)
        settings_service.save_override(
            session, who, data=WorkdayOverrideIn(day=day, is_workday=False)
        )
        settings_service.save_override(
            session, who, data=WorkdayOverrideIn(day=day, is_workday=True, note="加班")
        )
        rows = session.scalars(select(WorkdayOverride)).all()
        assert [(r.day, r.is_workday, r.note) for r in rows] == [(day, True, "加班")]
        assert calendar_for(session, world.district_code).is_workday(day)
        saved = events_of(session, "complaint.workday.saved")
        assert saved[-1].payload["before"] == {"is_workday": False, "note": ""}

    def test_saving_the_same_day_again_records_nothing(self, session: Session) -> None:
        world = sla_world(session)
        who = configurer(session, world)
        data = WorkdayOverrideIn(day=date(2026, 10, 13), is_workday=False)
        settings_service.save_override(session, who, data=data)
        settings_service.save_override(session, who, data=data)
        assert len(events_of(session, "complaint.workday.saved")) == 1

    def test_removing_a_day_lets_the_national_calendar_decide(self, session: Session) -> None:
        world = sla_world(session)
        who = configurer(session, world)
        day = date(2026, 10, 13)
        settings_service.save_override(
            session, who, data=WorkdayOverrideIn(day=day, is_workday=False)
        )
        settings_service.remove_override(session, who, day=day)
        assert session.scalars(select(WorkdayOverride)).all() == []
        assert calendar_for(session, world.district_code).is_workday(day)
        removed = events_of(session, "complaint.workday.saved")[-1]
        assert removed.payload["removed"] is True
        assert removed.payload["before"] == {"is_workday": False, "note": ""}

    def test_removing_a_day_without_an_exception_is_a_404(self, session: Session) -> None:
        world = sla_world(session)
        with pytest.raises(NotFound) as caught:
            settings_service.remove_override(
                session, configurer(session, world), day=date(2026, 10, 13)
            )
        assert caught.value.params == {"day": "2026-10-13"}
        assert events_of(session, "complaint.workday.saved") == []

    def test_the_list_can_be_narrowed_to_a_year(self, session: Session) -> None:
        world = sla_world(session)
        who = configurer(session, world)
        for day in (date(2026, 12, 31), date(2027, 1, 1)):
            settings_service.save_override(
                session, who, data=WorkdayOverrideIn(day=day, is_workday=False)
            )
        assert [o.day for o in settings_service.overrides(session, who, year=2027)] == [
            date(2027, 1, 1)
        ]
        assert len(settings_service.overrides(session, who)) == 2


class TestDistrictSettings:
    def test_without_a_row_the_environment_defaults_apply(self, session: Session) -> None:
        world = sla_world(session)
        session.delete(world.settings)
        session.flush()
        view = settings_service.get(session, configurer(session, world))
        assert view.configured is False
        assert (view.duplicate_radius_m, view.duplicate_window_hours) == (100.0, 48)
        assert (view.boundary, view.tracking_prefix) == (None, "TS")

    def test_saving_creates_the_row_once_and_ledgers_the_changes(self, session: Session) -> None:
        world = sla_world(session)
        session.delete(world.settings)
        session.flush()
        who = configurer(session, world)
        row = settings_service.put(
            session, who, data=settings_in(default_unit_id=world.field.bureau.id)
        )
        assert row.tracking_prefix == "CZ"
        assert row.boundary == BOUNDARY
        assert row.default_unit_id == world.field.bureau.id
        settings_service.put(session, who, data=settings_in(default_unit_id=world.field.bureau.id))
        (created,) = events_of(session, "complaint.settings.changed")
        assert created.payload["created"] is True
        assert (
            created.payload["changes"]["duplicate_radius_m"]["after"] == "150.0"
        )  # canonical text

    def test_a_multipolygon_or_a_one_feature_collection_is_accepted(self, session: Session) -> None:
        world = sla_world(session)
        who = configurer(session, world)
        ring = BOUNDARY["coordinates"][0]
        multi = {"type": "MultiPolygon", "coordinates": [[ring]]}
        assert (
            settings_service.put(session, who, data=settings_in(boundary=multi)).boundary == multi
        )
        collection = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": BOUNDARY}],
        }
        row = settings_service.put(session, who, data=settings_in(boundary=collection))
        assert row.boundary == BOUNDARY

    @pytest.mark.parametrize(
        ("boundary", "message"),
        [
            (
                {"type": "Polygon", "coordinates": [[[103.5, 30.5], [103.6, 30.5], [103.6, 30.6]]]},
                "A polygon ring needs at least 4 positions (got {count}).",
            ),
            (
                {"type": "FeatureCollection", "features": []},
                "The boundary file must hold exactly one feature (the district's outline).",
            ),
            (
                {"type": "Point", "coordinates": [103.6, 30.6]},
                "The geometry must be a Polygon, not {kind}.",
            ),
        ],
    )
    def test_a_bad_boundary_is_refused_and_nothing_changes(
        self, session: Session, boundary: dict[str, Any], message: str
    ) -> None:
        world = sla_world(session)
        with pytest.raises(InvalidInput) as caught:
            settings_service.put(
                session, configurer(session, world), data=settings_in(boundary=boundary)
            )
        assert caught.value.message == message
        assert caught.value.detail["field"] == "boundary"
        assert world.settings.boundary == BOUNDARY
        assert world.settings.tracking_prefix == "TS"

    def test_a_prefix_with_digits_is_refused(self, session: Session) -> None:
        world = sla_world(session)
        with pytest.raises(InvalidInput) as caught:
            settings_service.put(
                session, configurer(session, world), data=settings_in(tracking_prefix="T5")
            )
        assert caught.value.detail == {"field": "tracking_prefix"}
        assert world.settings.tracking_prefix == "TS"

    def test_a_unit_of_another_district_is_not_found(self, session: Session) -> None:
        world = sla_world(session)
        factories.district(session, "510104", name="锦江区")
        foreign = factories.unit(session, "510104", UnitKind.BUREAU, "锦江局", "JU", None)
        with pytest.raises(NotFound):
            settings_service.put(
                session, configurer(session, world), data=settings_in(default_unit_id=foreign.id)
            )
        assert world.settings.default_unit_id == world.field.bureau.id

    def test_a_deactivated_unit_is_refused(self, session: Session) -> None:
        world = sla_world(session)
        world.field.other_squad.active = False
        session.flush()
        with pytest.raises(Conflict):
            settings_service.put(
                session,
                configurer(session, world),
                data=settings_in(default_unit_id=world.field.other_squad.id),
            )
        assert world.settings.default_unit_id == world.field.bureau.id


class TestConfigurationApi:
    def test_profiles_over_http(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        auth = headers(session, admin(session, world))
        listed = client.get("/api/v1/sla-profiles", headers=auth)
        assert listed.status_code == 200
        assert {(p["code"], p["priority"]) for p in listed.json()} == {
            ("street", "normal"),
            ("street", "urgent"),
            ("consult", "normal"),
            ("complaint", "normal"),
        }
        saved = client.put(
            "/api/v1/sla-profiles", json=[street().model_dump(mode="json")], headers=auth
        )
        assert saved.status_code == 200, saved.text
        row = next(p for p in saved.json() if (p["code"], p["priority"]) == ("street", "normal"))
        assert row["limits"]["dispatch"] == {"minutes": 15}

    def test_a_bad_profile_is_a_422_and_changes_nothing(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        auth = headers(session, admin(session, world))
        body = street().model_dump(mode="json") | {"limits": {"dispatch": {"hours": 2}}}
        response = client.put("/api/v1/sla-profiles", json=[body], headers=auth)
        assert response.status_code == 422
        assert ledger_kinds(session, "complaint.sla_profile") == []

    def test_workday_overrides_over_http(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        auth = headers(session, admin(session, world))
        put = client.put(
            "/api/v1/workday-overrides",
            json={"day": "2026-10-13", "is_workday": False, "note": "区运动会"},
            headers=auth,
        )
        assert put.status_code == 200, put.text
        listed = client.get("/api/v1/workday-overrides?year=2026", headers=auth)
        assert listed.json() == [{"day": "2026-10-13", "is_workday": False, "note": "区运动会"}]
        deleted = client.delete("/api/v1/workday-overrides?day=2026-10-13", headers=auth)
        assert deleted.status_code == 204
        again = client.delete("/api/v1/workday-overrides?day=2026-10-13", headers=auth)
        assert again.status_code == 404
        assert again.json()["error"]["message"] == "本区在 2026-10-13 没有工作日调整。"

    def test_district_settings_over_http(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        auth = headers(session, admin(session, world))
        got = client.get("/api/v1/complaint-settings", headers=auth)
        assert got.status_code == 200
        assert got.json()["configured"] is True
        assert got.json()["tracking_prefix"] == "TS"
        put = client.put(
            "/api/v1/complaint-settings",
            json=settings_in().model_dump(mode="json"),
            headers=auth,
        )
        assert put.status_code == 200, put.text
        assert put.json()["tracking_prefix"] == "CZ"
        session.expire_all()
        row = session.scalars(select(ComplaintSettings)).one()
        assert (row.duplicate_radius_m, row.position_stale_seconds) == (150.0, 120)

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/v1/complaint-settings"),
            ("GET", "/api/v1/sla-profiles"),
            ("GET", "/api/v1/workday-overrides"),
        ],
    )
    def test_a_dispatcher_may_not_read_the_configuration(
        self, session: Session, client: TestClient, method: str, path: str
    ) -> None:
        world = sla_world(session)
        response = client.request(method, path, headers=headers(session, world.dispatcher))
        assert response.status_code == 403
