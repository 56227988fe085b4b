"""The demo district's complaint set-up: deadline profiles, settings with a boundary and the
categories mapped to demo departments and sample powers; loaded once (a second run adds
nothing), and good enough to take a complaint in and route it to a squad."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.complaints.categories import attribute_definitions
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import CategoryAttributeIn, ComplaintIn
from zhifa.config import Settings
from zhifa.demo.complaints import CATEGORIES, load_complaint_demo
from zhifa.demo.loader import load_demo
from zhifa.models.catalog import Power
from zhifa.models.complaints import (
    ComplaintCategory,
    ComplaintSettings,
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
    Priority,
    SlaProfile,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Department, Unit

DISTRICT = "510184"


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo(session, today=date(2026, 5, 4))
    session.commit()
    return session


@pytest.fixture
def with_catalog(demo: Session) -> Session:
    load_sample_catalog(demo, DISTRICT)
    demo.commit()
    return demo


def categories(session: Session) -> dict[str, ComplaintCategory]:
    rows = session.scalars(
        select(ComplaintCategory).where(ComplaintCategory.district_code == DISTRICT)
    )
    return {row.name: row for row in rows}


def ledger_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(LedgerEvent)) or 0)


class TestLoad:
    def test_profiles_settings_and_sixteen_categories_are_created(
        self, with_catalog: Session
    ) -> None:
        created = load_complaint_demo(with_catalog, DISTRICT)
        with_catalog.commit()

        assert created == 4 + 1 + len(CATEGORIES)
        assert len(CATEGORIES) == 16
        profiles = {
            (p.code, p.priority): p.limits
            for p in with_catalog.scalars(
                select(SlaProfile).where(SlaProfile.district_code == DISTRICT)
            )
        }
        assert profiles[("street", Priority.NORMAL)]["handle"] == {"minutes": 30}
        assert profiles[("street", Priority.URGENT)]["dispatch"] == {"minutes": 5}
        assert profiles[("consult", Priority.NORMAL)] == {"feedback": {"workdays": 3}}
        assert profiles[("complaint", Priority.NORMAL)]["feedback"] == {"workdays": 13}
        settings = with_catalog.scalars(select(ComplaintSettings)).one()
        bureau = with_catalog.scalars(select(Unit).where(Unit.code == "JU")).one()
        assert settings.default_unit_id == bureau.id
        assert settings.boundary is not None

    def test_categories_are_mapped_to_departments_and_existing_powers(
        self, with_catalog: Session
    ) -> None:
        load_complaint_demo(with_catalog, DISTRICT)

        rows = categories(with_catalog)
        powers = set(
            with_catalog.scalars(select(Power.code).where(Power.district_code == DISTRICT))
        )
        departments = {d.id: d.code for d in with_catalog.scalars(select(Department)).all()}
        assert departments[rows["占道经营"].department_id] == "chengguan"  # type: ignore[index]
        assert departments[rows["工地扬尘"].department_id] == "shengtai"  # type: ignore[index]
        assert departments[rows["违法建设"].department_id] == "guihua"  # type: ignore[index]
        for row in rows.values():
            assert set(row.power_codes) <= powers
        assert rows["占道经营"].power_codes == ["CF-CG-022", "QZ-CG-002"]
        food = rows["食品安全"]
        assert (food.department_id, food.transfer_to) == (None, "崇州市市场监督管理局")
        assert rows["政策咨询"].hotline_type == HotlineType.CONSULT
        assert rows["意见建议"].hotline_type == HotlineType.SUGGESTION

    def test_only_the_manhole_covers_are_urgent_and_dispatched_automatically(
        self, with_catalog: Session
    ) -> None:
        load_complaint_demo(with_catalog, DISTRICT)

        rows = categories(with_catalog)
        assert [n for n, r in rows.items() if r.auto_dispatch] == ["井盖缺失"]
        assert [n for n, r in rows.items() if r.priority == Priority.URGENT] == ["井盖缺失"]

    def test_the_attributes_pass_the_categories_own_checks(self, with_catalog: Session) -> None:
        load_complaint_demo(with_catalog, DISTRICT)

        for row in categories(with_catalog).values():
            checked = attribute_definitions(
                [CategoryAttributeIn.model_validate(a) for a in row.attributes]
            )
            assert checked == row.attributes

    def test_every_row_created_is_ledgered(self, with_catalog: Session) -> None:
        before = ledger_count(with_catalog)

        created = load_complaint_demo(with_catalog, DISTRICT)
        with_catalog.commit()

        assert ledger_count(with_catalog) - before == created
        kinds = with_catalog.scalars(
            select(LedgerEvent.kind).where(LedgerEvent.kind.startswith("complaint."))
        ).all()
        assert set(kinds) == {
            "complaint.sla_profile.saved",
            "complaint.settings.changed",
            "complaint.category.created",
        }


class TestIdempotent:
    def test_a_second_run_creates_and_records_nothing(self, with_catalog: Session) -> None:
        load_complaint_demo(with_catalog, DISTRICT)
        with_catalog.commit()
        before = ledger_count(with_catalog)

        assert load_complaint_demo(with_catalog, DISTRICT) == 0
        with_catalog.commit()

        assert ledger_count(with_catalog) == before
        assert len(categories(with_catalog)) == 16

    def test_a_changed_category_is_left_as_it_is(self, with_catalog: Session) -> None:
        load_complaint_demo(with_catalog, DISTRICT)
        categories(with_catalog)["暴露垃圾"].auto_dispatch = True
        with_catalog.commit()

        load_complaint_demo(with_catalog, DISTRICT)

        assert categories(with_catalog)["暴露垃圾"].auto_dispatch is True

    def test_without_the_sample_catalog_the_powers_are_left_out(self, demo: Session) -> None:
        load_complaint_demo(demo, DISTRICT)

        rows = categories(demo)
        assert len(rows) == 16
        assert all(r.power_codes == [] for r in rows.values())


class TestUsable:
    def test_a_complaint_in_the_demo_grid_wg01_goes_to_its_squad(
        self, with_catalog: Session, settings: Settings
    ) -> None:
        load_complaint_demo(with_catalog, DISTRICT)
        with_catalog.commit()

        result = create_complaint(
            with_catalog,
            district_code=DISTRICT,
            data=ComplaintIn(
                category_code="JMZX-ZDJY",
                description="文化路口有人摆摊卖水果",
                lon=103.65,
                lat=30.64,
                attributes={"blocking": "yes"},
            ),
            source=ComplaintSource.WEB,
            actor_id=None,
            settings=settings,
        )

        squad = with_catalog.scalars(select(Unit).where(Unit.code == "ZD01")).one()
        assert result.complaint.status == ComplaintStatus.RECEIVED
        assert result.complaint.unit_id == squad.id
