"""Citations: reading them, writing them, cutting out a paragraph or item, and resolving them by
date against two revisions of a law."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.catalog.laws.helpers import (
    AIR,
    FIRST_EFFECTIVE,
    SECOND_EFFECTIVE,
    SHORT,
    TITLE,
    catalog_admin,
    import_both_revisions,
    import_sample,
    import_small,
)
from zhifa.catalog.laws.citations import (
    CitationRef,
    excerpt,
    format_citation,
    parse_citations,
    provision_in_force,
    resolve,
)
from zhifa.catalog.laws.service import law_service
from zhifa.errors import InvalidInput, NotFound

AIR_TITLE = "中华人民共和国大气污染防治法"


class TestParsing:
    @pytest.mark.parametrize(
        ("text", "refs"),
        [
            ("", []),
            ("  \n ", []),
            (
                "《中华人民共和国大气污染防治法》第八十一条第三款；《城乡规划法》第六十四条",
                [
                    CitationRef("中华人民共和国大气污染防治法", 81, 3),
                    CitationRef("城乡规划法", 64),
                ],
            ),
            ("《城乡规划法》第64条", [CitationRef("城乡规划法", 64)]),
            ("《大气污染防治法》第81条第3款", [CitationRef("大气污染防治法", 81, 3)]),
            (
                "《固体废物污染环境防治法》第一百一十一条第一款第（一）项",
                [CitationRef("固体废物污染环境防治法", 111, 1, 1)],
            ),
            ("《固废法》第一百一十一条第一款第一项", [CitationRef("固废法", 111, 1, 1)]),
            ("《固废法》第111条第1款第(1)项", [CitationRef("固废法", 111, 1, 1)]),
            ("《固废法》第111条第1款第(一)项", [CitationRef("固废法", 111, 1, 1)]),
            ("《消防法》第六十条第（三）项", [CitationRef("消防法", 60, 0, 3)]),
            (
                "《大气污染防治法》第六十九条、第一百一十五条",
                [CitationRef("大气污染防治法", 69), CitationRef("大气污染防治法", 115)],
            ),
            (
                "《大气污染防治法》第八十一条第一款、第二款",
                [CitationRef("大气污染防治法", 81, 1), CitationRef("大气污染防治法", 81, 2)],
            ),
            (
                "《固废法》第一百一十一条第一款第（一）项、第（七）项",
                [CitationRef("固废法", 111, 1, 1), CitationRef("固废法", 111, 1, 7)],
            ),
            (
                "《甲法》第一条;《乙法》第二条,第三条，第四条\n《丙法》第五条",
                [
                    CitationRef("甲法", 1),
                    CitationRef("乙法", 2),
                    CitationRef("乙法", 3),
                    CitationRef("乙法", 4),
                    CitationRef("丙法", 5),
                ],
            ),
            ("  《 城乡规划法 》 第 六十四 条 ；", [CitationRef("城乡规划法", 64)]),
        ],
    )
    def test_citations_are_read_in_order(self, text: str, refs: list[CitationRef]) -> None:
        assert parse_citations(text) == refs

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("第六十四条", "第六十四条"),
            ("城乡规划法第六十四条", "城乡规划法第六十四条"),
            ("《城乡规划法》", "《城乡规划法》"),
            ("《城乡规划法》第六十四条规定", "《城乡规划法》第六十四条规定"),
            ("《城乡规划法》第六十四条；随便写写", "随便写写"),
            ("《城乡规划法》第零条", "《城乡规划法》第零条"),
            ("《城乡规划法》第十十条", "《城乡规划法》第十十条"),
            ("《》第一条", "《》第一条"),
            ("《甲法》第一条第六十四条", "《甲法》第一条第六十四条"),
            ("《甲法》第一条、《乙法》第二款", "《乙法》第二款"),
        ],
    )
    def test_anything_else_is_refused_naming_the_fragment(self, text: str, fragment: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_citations(text, field="penalty")
        assert caught.value.params["fragment"] == fragment
        assert caught.value.detail == {"field": "penalty", "fragment": fragment}
        assert caught.value.status_code == 422


class TestFormatting:
    @pytest.mark.parametrize(
        ("args", "text"),
        [
            ((AIR_TITLE, 118, 3), "《中华人民共和国大气污染防治法》第一百一十八条第三款"),
            (
                ("固体废物污染环境防治法", 111, 1, 1),
                "《固体废物污染环境防治法》第一百一十一条第一款第（一）项",
            ),
            (("城乡规划法", 64), "《城乡规划法》第六十四条"),
            (("消防法", 60, 0, 3), "《消防法》第六十条第（三）项"),
        ],
    )
    def test_a_citation_is_written_in_statute_form(self, args: Any, text: str) -> None:
        assert format_citation(*args) == text

    def test_a_formatted_citation_reads_back(self) -> None:
        text = format_citation("固体废物污染环境防治法", 111, 1, 7)
        assert parse_citations(text) == [CitationRef("固体废物污染环境防治法", 111, 1, 7)]


ARTICLE = "第一款正文：\n（一）甲；\n（二）乙。\n\n第二款正文。\n\n第三款正文：\n(一)丙。"


class TestExcerpt:
    def test_zero_is_the_whole_article(self) -> None:
        assert excerpt(ARTICLE, 0, 0) == ARTICLE

    def test_a_paragraph_comes_with_its_items(self) -> None:
        assert excerpt(ARTICLE, 1, 0) == "第一款正文：\n（一）甲；\n（二）乙。"
        assert excerpt(ARTICLE, 2, 0) == "第二款正文。"

    def test_an_item_is_its_own_line(self) -> None:
        assert excerpt(ARTICLE, 1, 2) == "（二）乙。"
        assert excerpt(ARTICLE, 3, 1) == "(一)丙。"

    def test_an_item_of_a_single_paragraph_article_needs_no_paragraph(self) -> None:
        assert excerpt("种类：\n（一）警告；\n（二）罚款。", 0, 2) == "（二）罚款。"

    @pytest.mark.parametrize(("paragraph", "item"), [(4, 0), (2, 1), (1, 3), (0, 1), (-1, 0)])
    def test_a_missing_part_is_a_value_error(self, paragraph: int, item: int) -> None:
        with pytest.raises(ValueError, match=r"paragraph|item"):
            excerpt(ARTICLE, paragraph, item)


class TestResolveAcrossRevisions:
    def test_the_revision_in_force_on_the_date_is_used(self, session: Session) -> None:
        first, second = import_both_revisions(session)
        refs = parse_citations(f"《{SHORT}》第三条第一款")
        old = resolve(session, refs, on=date(2021, 6, 1))[0]
        new = resolve(session, refs, on=date(2022, 6, 1))[0]
        assert (old.document.id, new.document.id) == (first.document.id, second.document.id)
        assert old.text == "违反本法规定的，处一千元以上一万元以下的罚款。"
        assert new.text == "违反本法规定的，处二千元以上二万元以下的罚款。"
        assert new.label == f"《{TITLE}》第三条第一款"

    def test_the_day_a_revision_takes_effect_it_applies(self, session: Session) -> None:
        _, second = import_both_revisions(session)
        refs = [CitationRef(TITLE, 3, 1)]
        assert resolve(session, refs, on=SECOND_EFFECTIVE)[0].document.id == second.document.id

    def test_before_the_first_revision_takes_effect_nothing_is_in_force(
        self, session: Session
    ) -> None:
        import_both_revisions(session)
        with pytest.raises(InvalidInput) as caught:
            resolve(session, [CitationRef(SHORT, 3)], on=date(2020, 6, 30))
        assert caught.value.message == "No revision of 《{title}》 is in force on {date}."
        assert caught.value.params == {"title": SHORT, "date": "2020-06-30"}

    def test_a_repealed_law_is_not_in_force_after_its_repeal(self, session: Session) -> None:
        import_small(session, repealed_on=date(2021, 1, 1))
        assert resolve(session, [CitationRef(TITLE, 1)], on=date(2020, 12, 31))
        with pytest.raises(InvalidInput, match="No revision"):
            resolve(session, [CitationRef(TITLE, 1)], on=date(2021, 1, 1))

    def test_a_provision_revision_applies_from_its_own_date(self, session: Session) -> None:
        first = import_small(session).document
        art3 = law_service.provisions(session, document_id=first.id)[2]
        law_service.revise_provision(
            session,
            catalog_admin(session)[1],
            provision_id=art3.id,
            text="更正后的第一款。\n\n情节严重的，处一万元以上十万元以下的罚款。",
            effective_on=date(2021, 1, 1),
            note="更正",
        )
        refs = [CitationRef(TITLE, 3, 1)]
        assert resolve(session, refs, on=date(2020, 12, 31))[0].provision.version == 1
        now = resolve(session, refs, on=date(2021, 1, 1))[0]
        assert (now.provision.version, now.text) == (2, "更正后的第一款。")


class TestResolveRefusals:
    @pytest.mark.parametrize(
        ("ref", "citation"),
        [
            (CitationRef(TITLE, 5), f"《{TITLE}》第五条"),
            (CitationRef(TITLE, 3, 3), f"《{TITLE}》第三条第三款"),
            (CitationRef(SHORT, 2, 2, 3), f"《{SHORT}》第二条第二款第（三）项"),
        ],
    )
    def test_a_missing_article_paragraph_or_item_is_named(
        self, session: Session, ref: CitationRef, citation: str
    ) -> None:
        import_small(session)
        with pytest.raises(InvalidInput) as caught:
            resolve(session, [ref], on=FIRST_EFFECTIVE, field="violated")
        assert caught.value.message == "{citation} does not exist."
        assert caught.value.params == {"citation": citation}
        assert caught.value.detail["field"] == "violated"

    def test_an_unknown_law_is_not_in_force(self, session: Session) -> None:
        with pytest.raises(InvalidInput, match="No revision"):
            resolve(session, [CitationRef("不存在的法", 1)], on=FIRST_EFFECTIVE)


class TestResolveSample:
    def test_full_and_short_titles_find_the_air_law_paragraph(self, session: Session) -> None:
        import_sample(session, AIR)
        refs = parse_citations(
            "《中华人民共和国大气污染防治法》第一百一十八条第三款；《大气污染防治法》第81条第3款"
        )
        burn, prohibition = resolve(session, refs, on=date(2024, 5, 1))
        assert burn.label == "《中华人民共和国大气污染防治法》第一百一十八条第三款"
        assert burn.text.endswith("没收烧烤工具和违法所得，并处五百元以上二万元以下的罚款。")
        assert prohibition.provision.label == "第八十一条"
        assert "露天烧烤" in prohibition.text

    def test_one_query_per_distinct_title_plus_one_for_the_provisions(
        self, session: Session
    ) -> None:
        import_small(session)
        import_sample(session, AIR)
        refs = parse_citations(
            f"《{SHORT}》第一条、第二条、第三条；《大气污染防治法》第六十九条、第一百一十五条；"
            f"《{TITLE}》第四条"
        )
        statements: list[str] = []
        bind = session.get_bind()

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(bind, "before_cursor_execute", count)
        try:
            resolved = resolve(session, refs, on=date(2024, 5, 1))
        finally:
            event.remove(bind, "before_cursor_execute", count)
        assert len(resolved) == 6
        assert len(statements) == 4  # 测试法, 大气污染防治法, 中华人民共和国测试法, provisions


class TestProvisionInForce:
    def test_any_versions_id_gives_the_version_in_force(self, session: Session) -> None:
        document = import_small(session).document
        v1 = law_service.provisions(session, document_id=document.id)[0]
        v2 = law_service.revise_provision(
            session,
            catalog_admin(session)[1],
            provision_id=v1.id,
            text="新的第一条。",
            effective_on=date(2021, 1, 1),
            note="修正",
        )
        assert provision_in_force(session, v2.id, date(2020, 8, 1)).id == v1.id
        assert provision_in_force(session, v1.id, date(2021, 1, 1)).id == v2.id

    def test_before_the_first_version_it_is_refused(self, session: Session) -> None:
        document = import_small(session).document
        v1 = law_service.provisions(session, document_id=document.id)[0]
        with pytest.raises(InvalidInput) as caught:
            provision_in_force(session, v1.id, date(2020, 6, 30))
        assert caught.value.params == {"citation": f"《{TITLE}》第一条", "date": "2020-06-30"}

    def test_an_unknown_id_is_not_found(self, session: Session) -> None:
        with pytest.raises(NotFound):
            provision_in_force(session, 999_999, FIRST_EFFECTIVE)
