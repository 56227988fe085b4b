"""The demo subjects: fifteen fictional subjects over the six demo grids, what a first inspection
needs inside grid WG01 of squad ZD01, loaded through the registry's rules, idempotently."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from zhifa.catalog import assembly
from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.config import Settings
from zhifa.demo import subjects as demo_subjects
from zhifa.demo.data import DISTRICT_CODE
from zhifa.demo.loader import load_demo
from zhifa.kit.geo import area_m2
from zhifa.models.catalog import SubjectType
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Grid, Officer, Unit
from zhifa.models.subjects import Subject
from zhifa.subjects.idcard import keys_for

TODAY = date(2026, 11, 29)


@pytest.fixture
def loaded(session: Session, settings: Settings) -> Session:
    load_demo(session, today=TODAY)
    session.commit()
    load_sample_catalog(session, DISTRICT_CODE)
    session.commit()
    created = demo_subjects.load(session, DISTRICT_CODE, today=TODAY, settings=settings)
    session.commit()
    assert created == len(demo_subjects.SUBJECTS) == 15
    return session


def _subjects(session: Session) -> dict[str, Subject]:
    return {s.name: s for s in session.scalars(select(Subject))}


class TestDemoSubjects:
    def test_a_second_load_creates_nothing(self, loaded: Session, settings: Settings) -> None:
        events = len(loaded.scalars(select(LedgerEvent)).all())

        assert demo_subjects.load(loaded, DISTRICT_CODE, today=TODAY, settings=settings) == 0
        loaded.commit()
        assert len(loaded.scalars(select(LedgerEvent)).all()) == events

    def test_each_is_ledgered_as_created_by_the_demo(self, loaded: Session) -> None:
        created = loaded.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "subject.created")
        ).all()

        assert len(created) == 15
        assert {e.payload["via"] for e in created} == {"demo"}
        assert {e.actor_id for e in created} == {None}

    def test_the_construction_site_is_in_the_officers_grid_with_its_fence_and_checklist(
        self, loaded: Session
    ) -> None:
        site = _subjects(loaded)[demo_subjects.DEMO_SITE_NAME]
        grid = loaded.get(Grid, site.grid_id)
        squad = loaded.get(Unit, site.unit_id)
        officer = loaded.scalars(select(Officer).where(Officer.username == "officer")).one()

        assert site.subject_type_code == "construction_site"
        assert site.kind == "enterprise"
        assert uscc.is_valid(site.uscc)
        assert (grid.code, squad.code) == ("WG01", "ZD01")  # type: ignore[union-attr]
        assert officer.unit_id == squad.id  # type: ignore[union-attr]
        assert (site.lon, site.lat) == (demo_subjects.DEMO_SITE_LON, demo_subjects.DEMO_SITE_LAT)
        # its fence: about 150 m × 120 m around the centre
        polygon = shape(site.geofence)

        assert area_m2(polygon) == pytest.approx(150 * 120, rel=0.01)
        assert polygon.centroid.x == pytest.approx(demo_subjects.DEMO_SITE_LON, abs=1e-6)
        assert polygon.centroid.y == pytest.approx(demo_subjects.DEMO_SITE_LAT, abs=1e-6)
        assert site.geofence_radius_m is None
        # the sample catalog gives it the 17-item joint checklist
        checklist = assembly.for_subject_type(loaded, DISTRICT_CODE, "construction_site", on=TODAY)

        assert len(checklist.items) == 17
        assert checklist.joint is True

    def test_grid_wg01_also_holds_a_cafe_a_restaurant_a_vendor_site_and_a_person(
        self, loaded: Session, settings: Settings
    ) -> None:
        wg01 = loaded.scalars(select(Grid).where(Grid.code == "WG01")).one()
        inside = [s for s in _subjects(loaded).values() if s.grid_id == wg01.id]

        types = {s.subject_type_code for s in inside}
        assert {"construction_site", "internet_cafe", "restaurant", "street_vendor"} <= types
        vendor_sites = [
            s for s in inside if s.kind == "site" and s.subject_type_code == "street_vendor"
        ]
        assert vendor_sites[0].geofence_radius_m is not None
        (someone,) = [s for s in inside if s.kind == "person"]
        assert someone.id_card_masked is not None
        number = keys_for(settings.secret()).decrypt(someone.id_card_cipher or "")

        assert ric.calc_check_digit(number) == number[-1]
        assert number not in (someone.id_card_cipher or "")

    def test_every_subject_lies_in_a_demo_grid_and_uses_a_sample_type(
        self, loaded: Session
    ) -> None:
        types = set(loaded.scalars(select(SubjectType.code)))
        rows = list(_subjects(loaded).values())

        assert all(s.grid_id is not None for s in rows)
        assert {s.subject_type_code for s in rows} <= types
        assert len({s.grid_id for s in rows}) == 6

    def test_without_the_catalog_nothing_is_created(
        self, session: Session, settings: Settings
    ) -> None:
        load_demo(session, today=TODAY)
        session.commit()

        assert demo_subjects.load(session, DISTRICT_CODE, today=TODAY, settings=settings) == 0
