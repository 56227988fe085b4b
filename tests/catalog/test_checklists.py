"""Check items and checklist templates are versioned like powers, and the merged checklist for a
subject type gathers every template's items once, with each item's powers and legal texts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tests.catalog.helpers import cafe_power, check_item, checklist, world
from zhifa.catalog import assembly, browse
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.schemas import SubjectTypeIn
from zhifa.catalog.service import Author, power_service
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.ledger import store

CAFE = "CF-WH-001"


def cafe_world(session: Session) -> Author:
    author = world(session)
    power_service.put(session, author, code=CAFE, data=cafe_power())
    subject_type_service.ensure(
        session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
    )
    check_item_service.put(
        session, author, code="JCX-WH-001", data=check_item("是否接纳未成年人", "wenhua", CAFE)
    )
    check_item_service.put(
        session, author, code="JCX-CG-001", data=check_item("门前是否乱堆乱放", "chengguan")
    )
    return author


class TestCheckItems:
    def test_an_item_links_the_powers_that_apply_when_it_fails(self, session: Session) -> None:
        author = cafe_world(session)
        items = browse.check_items(session, author.district_code, on=date(2024, 6, 1))
        assert [(i.code, i.power_codes, i.department_code) for i in items] == [
            ("JCX-CG-001", [], "chengguan"),
            ("JCX-WH-001", [CAFE], "wenhua"),
        ]

    def test_an_unknown_power_code_is_refused(self, session: Session) -> None:
        author = cafe_world(session)
        with pytest.raises(InvalidInput) as caught:
            check_item_service.put(
                session, author, code="JCX-X", data=check_item("问题", "wenhua", "CF-NOPE")
            )
        assert caught.value.detail == {"field": "power_codes"}

    def test_a_new_text_is_a_new_version_and_the_same_text_is_nothing(
        self, session: Session
    ) -> None:
        author = cafe_world(session)
        same = check_item_service.put(
            session, author, code="JCX-CG-001", data=check_item("门前是否乱堆乱放", "chengguan")
        )
        assert not same.created
        changed = check_item(
            "门前三包区域是否乱堆乱放", "chengguan", effective_from=date(2025, 1, 1), note="措辞"
        )
        written = check_item_service.put(session, author, code="JCX-CG-001", data=changed)
        assert (written.version, written.created) == (2, True)
        texts = {i.code: i.text for i in browse.check_items(session, "510184", on=date(2024, 6, 1))}
        assert texts["JCX-CG-001"] == "门前是否乱堆乱放"


class TestChecklists:
    def test_a_template_with_an_unknown_item_is_refused(self, session: Session) -> None:
        author = cafe_world(session)
        with pytest.raises(InvalidInput) as caught:
            checklist_service.put(
                session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-NOPE")
            )
        assert caught.value.detail == {"field": "item_codes"}

    def test_a_template_of_an_unknown_subject_type_is_not_found(self, session: Session) -> None:
        author = cafe_world(session)
        with pytest.raises(NotFound):
            checklist_service.put(
                session, author, code="QD-X", data=checklist("X", "nowhere", "JCX-WH-001")
            )

    def test_a_template_cannot_move_to_another_subject_type(self, session: Session) -> None:
        author = cafe_world(session)
        checklist_service.put(
            session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-WH-001")
        )
        subject_type_service.ensure(session, author, data=SubjectTypeIn(code="shop", name="商铺"))
        moved = checklist("网吧", "shop", "JCX-WH-001", note="移")
        with pytest.raises(Conflict):
            checklist_service.put(session, author, code="QD-WB", data=moved)

    def test_every_step_is_ledgered(self, session: Session) -> None:
        author = cafe_world(session)
        checklist_service.put(
            session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-WH-001")
        )
        kinds = [
            p.kind
            for p in store.pending_events(session)
            if p.kind.startswith("catalog.") and ".law." not in p.kind and "provision" not in p.kind
        ]
        assert kinds == [
            "catalog.power.created",
            "catalog.power.versioned",
            "catalog.subject_type.created",
            "catalog.check_item.created",
            "catalog.check_item.versioned",
            "catalog.check_item.created",
            "catalog.check_item.versioned",
            "catalog.checklist.created",
            "catalog.checklist.versioned",
        ]


class TestMergedChecklist:
    def test_two_templates_merge_into_one_joint_list_without_repeats(
        self, session: Session
    ) -> None:
        author = cafe_world(session)
        checklist_service.put(
            session,
            author,
            code="QD-WB-A",
            data=checklist("网吧文化检查", "internet_cafe", "JCX-WH-001"),
        )
        checklist_service.put(
            session,
            author,
            code="QD-WB-B",
            data=checklist("网吧门前检查", "internet_cafe", "JCX-CG-001", "JCX-WH-001"),
        )
        merged = assembly.for_subject_type(
            session, author.district_code, "internet_cafe", on=date(2024, 6, 1)
        )
        assert [i.code for i in merged.items] == ["JCX-WH-001", "JCX-CG-001"]
        assert merged.items[0].checklists == ["QD-WB-A", "QD-WB-B"]
        assert merged.joint is True
        assert merged.departments == ["文化市场", "城市管理"]

    def test_each_item_carries_its_powers_legal_basis_in_force(self, session: Session) -> None:
        author = cafe_world(session)
        checklist_service.put(
            session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-WH-001")
        )
        merged = assembly.for_subject_type(session, "510184", "internet_cafe", on=date(2024, 6, 1))
        power = merged.items[0].powers[0]
        assert power.code == CAFE
        labels = [c.label for c in power.citations]
        assert labels == [
            "《互联网上网服务营业场所管理条例》第二十一条",
            "《互联网上网服务营业场所管理条例》第三十一条第（二）项",
        ]

    def test_before_the_templates_take_effect_the_list_is_empty(self, session: Session) -> None:
        author = cafe_world(session)
        checklist_service.put(
            session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-WH-001")
        )
        merged = assembly.for_subject_type(session, "510184", "internet_cafe", on=date(2023, 1, 1))
        assert merged.items == []
        assert merged.templates == []

    def test_an_unknown_subject_type_is_not_found(self, session: Session) -> None:
        cafe_world(session)
        with pytest.raises(NotFound):
            assembly.for_subject_type(session, "510184", "moon_base", on=date(2024, 6, 1))
