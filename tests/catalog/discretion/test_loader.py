"""Reading the catalog snapshot: the merged checklist of a subject type (versions by date,
template order, each item once, powers with their citations) and the citations of an
evaluation."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tests.catalog.discretion import builders, examples
from tests.catalog.discretion.builders import World
from zhifa.catalog import assembly
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.schemas import EvaluationIn
from zhifa.errors import NotFound
from zhifa.models.catalog import (
    CheckItem,
    CheckItemVersion,
    Checklist,
    ChecklistVersion,
    LegalDocument,
    Power,
    SubjectType,
)


def item(session: Session, place: World, code: str, text: str, power_ids: list[int]) -> CheckItem:
    row = CheckItem(district_code=place.district_code, code=code)
    session.add(row)
    session.flush()
    item_version(session, row, place, 1, date(2023, 1, 1), text, power_ids)
    return row


def item_version(
    session: Session,
    row: CheckItem,
    place: World,
    version: int,
    effective_from: date,
    text: str,
    power_ids: list[int],
) -> None:
    session.add(
        CheckItemVersion(
            check_item_id=row.id,
            version=version,
            effective_from=effective_from,
            content_sha256="0" * 64,
            text=text,
            department_id=place.department.id,
            power_ids=power_ids,
            evidence=["photo"],
        )
    )
    session.flush()


def checklist(
    session: Session,
    subject_type: SubjectType,
    code: str,
    versions: list[tuple[date, list[int], bool]],
) -> Checklist:
    row = Checklist(
        district_code=subject_type.district_code, code=code, subject_type_id=subject_type.id
    )
    session.add(row)
    session.flush()
    for number, (effective_from, item_ids, active) in enumerate(versions, start=1):
        session.add(
            ChecklistVersion(
                checklist_id=row.id,
                version=number,
                effective_from=effective_from,
                content_sha256="0" * 64,
                name=code,
                item_ids=item_ids,
                active=active,
            )
        )
    session.flush()
    return row


def cafe_site(session: Session) -> tuple[World, LegalDocument, dict[str, CheckItem]]:
    place = builders.world(session)
    law = builders.law(
        session,
        builders.CAFE_LAW,
        short_title="互联网上网服务营业场所管理条例",
        effective_on=date(2022, 3, 29),
    )
    citation = {"role": "penalty", "provision_id": builders.provision(session, law, 31).id}
    power = builders.power(
        session,
        place,
        "CF-WH-031",
        name="接纳未成年人",
        citations=[citation | {"paragraph": 1, "item": 2}],
    )
    cafe = SubjectType(district_code=place.district_code, code="internet_cafe", name="网吧")
    session.add(cafe)
    session.flush()
    items = {
        "sign": item(session, place, "JC-1", "是否悬挂未成年人禁入标志", [power.id]),
        "minors": item(session, place, "JC-2", "场内是否有未成年人", [power.id]),
        "hours": item(session, place, "JC-3", "是否在规定时间营业", []),
    }
    item_version(
        session,
        items["minors"],
        place,
        2,
        date(2024, 6, 1),
        "场内是否有未成年人（核验身份证）",
        [power.id],
    )
    ids = {k: v.id for k, v in items.items()}
    checklist(session, cafe, "QD-A", [(date(2023, 1, 1), [ids["sign"], ids["minors"]], True)])
    checklist(
        session,
        cafe,
        "QD-B",
        [(date(2023, 1, 1), [ids["minors"], ids["hours"]], True), (date(2024, 9, 1), [], False)],
    )
    session.commit()
    return place, law, items


class TestChecklistForSubjectType:
    def test_items_are_merged_in_template_order_each_once_with_their_basis(
        self, session: Session
    ) -> None:
        place, _, _ = cafe_site(session)
        merged = assembly.for_subject_type(
            session, place.district_code, "internet_cafe", on=date(2024, 3, 1)
        )
        assert [i.code for i in merged.items] == ["JC-1", "JC-2", "JC-3"]
        assert [i.checklists for i in merged.items] == [["QD-A"], ["QD-A", "QD-B"], ["QD-B"]]
        basis = merged.items[0].powers[0]
        assert basis.code == "CF-WH-031"
        assert (
            basis.citations[0].label
            == "《互联网上网服务营业场所管理条例》第三十一条第一款第（二）项"
        )
        assert basis.citations[0].text == "（二）接纳未成年人进入营业场所的；"
        assert merged.items[2].powers == []

    def test_the_versions_in_force_on_the_date_are_used(self, session: Session) -> None:
        place, _, _ = cafe_site(session)
        merged = assembly.for_subject_type(
            session, place.district_code, "internet_cafe", on=date(2024, 10, 1)
        )
        # QD-B was deactivated on 2024-09-01; JC-2 has its second wording since 2024-06-01.
        assert [i.code for i in merged.items] == ["JC-1", "JC-2"]
        assert merged.items[1].text == "场内是否有未成年人（核验身份证）"

    def test_an_unknown_subject_type_is_404(self, session: Session) -> None:
        place, _, _ = cafe_site(session)
        with pytest.raises(NotFound) as refused:
            assembly.for_subject_type(session, place.district_code, "zoo", on=date(2024, 1, 1))
        assert refused.value.detail["field"] == "subject_type"

    def test_another_districts_subject_type_is_404(self, session: Session) -> None:
        cafe_site(session)
        with pytest.raises(NotFound):
            assembly.for_subject_type(session, builders.OTHER, "internet_cafe", on=date(2024, 1, 1))


class TestEvaluationInput:
    def test_without_the_penalty_law_loaded_no_rule_citations_are_added(
        self, session: Session
    ) -> None:
        place, _, _ = cafe_site(session)
        power = session.query(Power).filter_by(code="CF-WH-031").one()
        builders.benchmark(session, power, examples.open_air_barbecue(), 1, date(2021, 1, 1))
        request = EvaluationIn(
            power_code="CF-WH-031", act_date=date(2024, 3, 1), party_type="person"
        )
        loaded = loader.load(session, place.district_code, request, today=date(2024, 4, 1))
        assert loaded.penalty_law == {}
        assert loaded.decision_date == date(2024, 4, 1)
        assert [c.role for c in loaded.main.at_act.power.citations] == ["penalty"]
