"""Every refusal of intake: a 422 naming the field, a message a person can act on, and nothing
written (no complaint, no timeline step, no ledger event, nothing announced)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.complaints.test_intake_helpers import counts, pending_bus, pending_kinds, take_in
from tests.complaints.world import CONSULT, GARBAGE, ComplaintWorld, complaint_world
from zhifa.config import Settings
from zhifa.errors import InvalidInput
from zhifa.models.complaints import ComplaintCategory, ComplaintSource


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def refused(
    session: Session, world: ComplaintWorld, settings: Settings, **overrides: Any
) -> InvalidInput:
    before = counts(session)
    with pytest.raises(InvalidInput) as caught:
        take_in(session, world, settings, **overrides)
    assert pending_kinds(session) == []
    assert pending_bus(session) == []
    session.rollback()
    assert counts(session) == before
    return caught.value


def field_of(error: InvalidInput) -> str:
    assert isinstance(error.detail, dict)
    return str(error.detail["field"])


class TestCategoryRefusals:
    def test_no_category(self, session: Session, world: ComplaintWorld, settings: Settings) -> None:
        error = refused(session, world, settings, category_code=" ")

        assert error.status_code == 422
        assert field_of(error) == "category_code"
        assert error.message == "Choose the category of the problem."

    def test_an_unknown_category(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, category_code="NO-SUCH")

        assert field_of(error) == "category_code"
        assert error.params == {"code": "NO-SUCH"}

    def test_an_inactive_category(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        category = session.get(ComplaintCategory, world.categories[GARBAGE].id)
        assert category is not None
        category.active = False
        session.commit()

        error = refused(session, world, settings, category_code=GARBAGE, attributes={})

        assert field_of(error) == "category_code"


class TestDescriptionRefusals:
    def test_an_empty_description(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, description="   \n ")

        assert field_of(error) == "description"
        assert error.message == "Describe the problem: what is happening, and since when."

    def test_a_description_over_4000_characters(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, description="占" * 4001)

        assert field_of(error) == "description"
        assert error.params == {"length": 4001, "limit": 4000}

    def test_a_description_of_exactly_4000_characters_is_taken(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings, description="占" * 4000).complaint

        assert len(row.description) == 4000


class TestPlaceRefusals:
    def test_neither_point_nor_address(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, lon=None, lat=None, address=" ")

        assert field_of(error) == "address"

    def test_a_longitude_without_latitude(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, lat=None)

        assert field_of(error) == "lat"
        assert error.message == "A place needs both longitude and latitude."

    def test_a_point_outside_china(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, lon=2.35, lat=48.85)

        assert field_of(error) == "lon"
        assert "not in China" in error.message

    def test_swapped_coordinates_are_named_as_such(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, lon=30.6, lat=103.6)

        assert "longitude comes first" in error.message

    def test_a_point_that_is_not_a_number(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, lon=float("nan"))

        assert field_of(error) == "lon"

    def test_an_address_over_300_characters(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, address="路" * 301)

        assert field_of(error) == "address"


class TestAttributeRefusals:
    def test_a_required_answer_missing(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, attributes={"stall_count": 3})

        assert field_of(error) == "attributes.blocking"
        assert error.params == {"question": "是否阻碍通行"}

    @pytest.mark.parametrize("source", [ComplaintSource.IMPORT, ComplaintSource.UPSTREAM])
    def test_a_work_order_made_elsewhere_is_taken_without_our_required_answers(
        self, session: Session, world: ComplaintWorld, settings: Settings, source: ComplaintSource
    ) -> None:
        row = take_in(
            session, world, settings, source=source, source_ref="GD-1", attributes={}
        ).complaint

        assert row.attributes == {}
        assert row.tracking_no

    def test_a_work_order_made_elsewhere_still_has_its_given_answers_checked(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        before = counts(session)
        with pytest.raises(InvalidInput) as caught:
            take_in(
                session,
                world,
                settings,
                source=ComplaintSource.IMPORT,
                source_ref="GD-2",
                attributes={"stall_count": "三个"},
            )
        session.rollback()

        assert field_of(caught.value) == "attributes.stall_count"
        assert counts(session) == before

    def test_a_number_that_is_not_one(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(
            session, world, settings, attributes={"blocking": "yes", "stall_count": "三个"}
        )

        assert field_of(error) == "attributes.stall_count"
        assert error.message == "「{question}」 needs a number."

    def test_a_choice_not_offered(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, attributes={"blocking": "maybe"})

        assert field_of(error) == "attributes.blocking"
        assert error.params["choices"] == "yes, no"

    def test_two_choices_for_a_single_choice(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, attributes={"blocking": ["yes", "no"]})

        assert field_of(error) == "attributes.blocking"

    def test_an_answer_to_a_question_not_asked(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, attributes={"blocking": "no", "colour": "red"})

        assert field_of(error) == "attributes.colour"
        assert error.params == {"category": "占道经营", "code": "colour"}

    def test_answers_are_normalised(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(
            session, world, settings, attributes={"blocking": ["no"], "stall_count": "3"}
        ).complaint

        assert row.attributes == {"blocking": "no", "stall_count": 3}


class TestAttributeDatatypes:
    @pytest.fixture
    def rich(self, session: Session, world: ComplaintWorld) -> ComplaintWorld:
        category = session.get(ComplaintCategory, world.categories[CONSULT].id)
        assert category is not None
        category.attributes = [
            {"code": "when", "datatype": "datetime", "required": False, "description": "发生时间"},
            {
                "code": "kinds",
                "datatype": "multivaluelist",
                "required": True,
                "description": "涉及哪些问题",
                "values": [{"key": "a", "name": "噪声"}, {"key": "b", "name": "油烟"}],
            },
            {"code": "note", "datatype": "string", "required": False, "description": "补充"},
            {"code": "info", "datatype": "text", "variable": False, "description": "说明文字"},
        ]
        session.commit()
        return world

    def test_a_multivaluelist_takes_several_choices_once_each(
        self, session: Session, rich: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(
            session,
            rich,
            settings,
            category_code=CONSULT,
            attributes={"kinds": ["b", "a", "b"], "when": "2026-05-01T09:30:00+08:00"},
        ).complaint

        assert row.attributes == {"kinds": ["b", "a"], "when": "2026-05-01T09:30:00+08:00"}

    def test_a_datetime_that_is_not_one(
        self, session: Session, rich: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(
            session,
            rich,
            settings,
            category_code=CONSULT,
            attributes={"kinds": "a", "when": "昨天下午"},
        )

        assert field_of(error) == "attributes.when"

    def test_a_string_over_200_characters(
        self, session: Session, rich: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(
            session,
            rich,
            settings,
            category_code=CONSULT,
            attributes={"kinds": "a", "note": "字" * 201},
        )

        assert field_of(error) == "attributes.note"

    def test_an_informational_attribute_takes_no_answer(
        self, session: Session, rich: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(
            session, rich, settings, category_code=CONSULT, attributes={"kinds": "a", "info": "x"}
        )

        assert field_of(error) == "attributes.info"


class TestReporterRefusals:
    @pytest.mark.parametrize("phone", ["12345", "2381234567", "138123456789", "abc"])
    def test_a_phone_that_is_neither_mobile_nor_landline(
        self, session: Session, world: ComplaintWorld, settings: Settings, phone: str
    ) -> None:
        error = refused(session, world, settings, reporter_phone=phone)

        assert field_of(error) == "reporter_phone"

    def test_an_email_that_is_not_one(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, reporter_email="zhang.at.example.com")

        assert field_of(error) == "reporter_email"

    def test_a_name_over_50_characters(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, reporter_name="张" * 51)

        assert field_of(error) == "reporter_name"


class TestMediaLinkRefusals:
    def test_a_link_that_is_not_http(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, media_urls=["ftp://example.com/a.jpg"])

        assert field_of(error) == "media_urls"

    def test_a_link_without_a_host(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        error = refused(session, world, settings, media_urls=["https:///a.jpg"])

        assert field_of(error) == "media_urls"

    def test_more_links_than_photos_allowed(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        urls = [
            f"https://img.example.com/{i}.jpg" for i in range(settings.complaint_photos_max + 1)
        ]

        error = refused(session, world, settings, media_urls=urls)

        assert field_of(error) == "media_urls"
        assert error.params == {"limit": 9, "count": 10}

    def test_links_are_kept_once_each(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        url = "https://img.example.com/1.jpg"

        row = take_in(session, world, settings, media_urls=[url, f" {url} ", ""]).complaint

        assert row.media_urls == [url]
