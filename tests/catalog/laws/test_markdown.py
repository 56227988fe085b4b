"""The LawRefBook Markdown reader: every sample statute, small hand-written inputs, and refusals."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.catalog.laws.helpers import SMALL, sample_text
from zhifa.catalog.laws.markdown import parse
from zhifa.catalog.laws.service import SAMPLE_DIR, SAMPLE_INDEX
from zhifa.models.catalog import LawKind

# Article counts, checked against each file by hand (grep '^第…条 ' and its last article).
ARTICLES = {
    "互联网上网服务营业场所管理条例(2022-03-29).md": 38,
    "北京市市容环境卫生条例(2021-09-24).md": 67,
    "噪声污染防治法(2021-12-24).md": 90,
    "固体废物污染环境防治法(2020-04-29).md": 126,
    "土地管理法(2019-08-26).md": 87,
    "土地管理法实施条例(2021-07-02).md": 67,
    "城乡规划法(2019-04-23).md": 70,
    "城市市容和环境卫生管理条例(2017-03-01).md": 45,
    "城市道路管理条例(2019-03-24).md": 45,
    "城镇排水与污水处理条例(2013-10-02).md": 59,
    "大气污染防治法(2018-10-26).md": 129,
    "建筑法(2019-04-23).md": 85,
    "建设工程质量管理条例(2019-04-23).md": 82,
    "未成年人保护法(2024-04-26).md": 132,
    "水法(2016-07-02).md": 82,
    "河道管理条例(2018-03-19).md": 51,
    "消防法(2021-04-29).md": 74,
    "环境保护法(2014-04-24).md": 70,
    "行政处罚法(2021-01-22).md": 86,
    "行政复议法(2023-09-01).md": 90,
    "行政强制法(2011-06-30).md": 71,
    "行政诉讼法(2017-06-27).md": 103,
    "重庆市市容环境卫生管理条例(2018-07-26).md": 83,
    "食品安全法(2021-04-29).md": 154,
}


# LawRefBook's 法律法规模版.md, as published.
TEMPLATE = """---
bookHidden: true
---

# 某条法律的标题 <!-- 比如中华人民共和国民法典 -->

# 副标题 <!-- 当拆分法律的时候，比如民法典， 会拆除不同的篇，那这里可以放 人格权编 -->

1990年01月23日 发生了什么事情 <!-- 时间<空格>事件 -->

2021年11月1日 施行

<!-- INFO END -->
<!-- 第五行是必须填写的，除此之外的备注可以在正文中忽略 -->

## 第一篇 <!-- 使用 Markdown 的不同数量的 # 区别层级，但在 app 中并不会得到体现 -->
### 第一节

第一条 xxxxx

第二条 xxxxx
"""


class TestEverySampleStatute:
    def test_the_sample_folder_holds_exactly_the_listed_statutes(self) -> None:
        assert sorted(p.name for p in SAMPLE_DIR.glob("*.md") if p.name != "README.md") == sorted(
            ARTICLES
        )

    @pytest.mark.parametrize("name", sorted(ARTICLES))
    def test_each_file_reads_with_its_article_count_and_no_empty_part(self, name: str) -> None:
        statute = parse(sample_text(name))
        assert statute.title
        assert statute.history
        assert [a.number for a in statute.articles] == list(range(1, ARTICLES[name] + 1))
        assert all(a.chapter for a in statute.articles)
        for article in statute.articles:
            assert all(p.strip() and p == p.strip() for p in article.paragraphs), article.label
            assert not article.text.startswith("第"), article.label

    def test_the_penalty_law_has_86_articles_and_its_history(self) -> None:
        statute = parse(sample_text("行政处罚法(2021-01-22).md"))
        assert statute.title == "中华人民共和国行政处罚法"
        assert statute.subtitle == ""
        assert (
            statute.history[-1]
            == "2021年1月22日 第十三届全国人民代表大会常务委员会第二十五次会议修订"
        )
        assert len(statute.history) == 4
        last = statute.articles[-1]
        assert (last.number, last.label, last.chapter) == (86, "第八十六条", "第八章 附则")
        assert last.text == "本法自2021年7月15日起施行。"

    def test_items_belong_to_their_paragraph(self) -> None:
        art9 = parse(sample_text("行政处罚法(2021-01-22).md")).articles[8]
        assert art9.paragraphs == [
            "行政处罚的种类：\n（一）警告、通报批评；\n（二）罚款、没收违法所得、没收非法财物；\n"
            "（三）暂扣许可证件、降低资质等级、吊销许可证件；\n"
            "（四）限制开展生产经营活动、责令停产停业、责令关闭、限制从业；\n（五）行政拘留；\n"
            "（六）法律、行政法规规定的其他行政处罚。"
        ]

    def test_air_law_article_118_has_three_paragraphs_in_this_text(self) -> None:
        # The file has three paragraphs (油烟, 住宅楼餐饮, 露天烧烤); the third is the one the
        # sample catalog cites for 露天烧烤 (第一百一十八条第三款).
        art = parse(sample_text("大气污染防治法(2018-10-26).md")).articles[117]
        assert (art.label, art.chapter) == ("第一百一十八条", "第七章 法律责任")
        assert len(art.paragraphs) == 3
        assert art.paragraphs[2].startswith(
            "违反本法规定，在当地人民政府禁止的时段和区域内露天烧烤"
        )
        assert art.paragraphs[2].endswith("并处五百元以上二万元以下的罚款。")

    def test_solid_waste_article_111_has_seven_items_in_its_first_paragraph(self) -> None:
        art = parse(sample_text("固体废物污染环境防治法(2020-04-29).md")).articles[110]
        assert len(art.paragraphs) == 3
        lines = art.paragraphs[0].split("\n")
        assert len(lines) == 8
        assert lines[1] == "（一）随意倾倒、抛撒、堆放或者焚烧生活垃圾的；"

    def test_ascii_item_markers_are_items_too(self) -> None:
        art = parse(sample_text("城市道路管理条例(2019-03-24).md")).articles[26]
        assert len(art.paragraphs) == 1
        assert art.paragraphs[0].split("\n")[1] == "(一)擅自占用或者挖掘城市道路；"

    def test_a_section_is_part_of_the_chapter_path(self) -> None:
        art = parse(sample_text("行政强制法(2011-06-30).md")).articles[15]
        assert art.chapter == "第三章 行政强制措施实施程序／第一节 一般规定"

    def test_typographic_spacing_in_headings_is_removed(self) -> None:
        statute = parse(sample_text("北京市市容环境卫生条例(2021-09-24).md"))
        assert statute.articles[0].chapter == "第一章 总则"
        assert statute.articles[-1].chapter == "第八章 附则"

    def test_a_history_line_broken_in_two_is_joined(self) -> None:
        history = parse(sample_text("土地管理法(2019-08-26).md")).history
        assert len(history) == 5
        assert history[-1].endswith("〈中华人民共和国城市房地产管理法〉的决定》第三次修正")


class TestSampleIndex:
    def test_every_sample_file_is_listed_once_with_dates_from_its_name(self) -> None:
        entries = json.loads(SAMPLE_INDEX.read_text(encoding="utf-8"))
        assert sorted(e["file"] for e in entries) == sorted(ARTICLES)
        for entry in entries:
            LawKind(entry["kind"])
            revision = date.fromisoformat(entry["revision_date"])
            assert f"({revision.isoformat()})" in entry["file"]
            assert date.fromisoformat(entry["effective_on"]) >= revision
            assert date.fromisoformat(entry["promulgated_on"]) <= revision
            assert entry["issuing_body"]
            assert entry["jurisdiction"] in ("national", "北京市", "重庆市")

    @pytest.mark.parametrize(
        ("name", "effective"),
        [
            ("行政处罚法(2021-01-22).md", "2021-07-15"),
            ("噪声污染防治法(2021-12-24).md", "2022-06-05"),
            ("城镇排水与污水处理条例(2013-10-02).md", "2014-01-01"),
            ("大气污染防治法(2018-10-26).md", "2018-10-26"),  # art. 129 dates the 2015 revision
        ],
    )
    def test_effective_dates_come_from_the_text(self, name: str, effective: str) -> None:
        entry = next(
            e for e in json.loads(SAMPLE_INDEX.read_text(encoding="utf-8")) if e["file"] == name
        )
        assert entry["effective_on"] == effective


class TestSmallInputs:
    def test_the_hand_written_statute_reads_as_written(self) -> None:
        statute = parse(SMALL)
        assert statute.title == "中华人民共和国测试法"
        assert statute.history == ("2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过",)
        assert [(a.number, a.label, a.chapter) for a in statute.articles] == [
            (1, "第一条", "第一章 总则"),
            (2, "第二条", "第一章 总则"),
            (3, "第三条", "第二章 法律责任"),
            (4, "第四条", "第二章 法律责任"),
        ]
        assert statute.articles[1].text == (
            "本法适用于测试。\n\n前款规定的测试包括：\n（一）单元测试；\n（二）集成测试。"
        )

    def test_a_full_width_space_separates_the_label_and_a_subtitle_is_kept(self) -> None:
        statute = parse("# 某法\n\n# 人格权编\n\n<!-- INFO END -->\n\n第一条　全角空格。\n")
        assert (statute.subtitle, statute.articles[0].text) == ("人格权编", "全角空格。")

    def test_html_comments_are_dropped(self) -> None:
        text = (
            "# 某法 <!-- 标题 -->\n\n<!-- INFO END -->\n\n<!-- 一段\n多行注释 -->\n"
            "第一条 正文<!-- 行内 -->。\n"
        )
        statute = parse(text)
        assert statute.title == "某法"
        assert statute.articles[0].text == "正文。"

    def test_without_info_end_the_header_stops_at_the_first_chapter(self) -> None:
        statute = parse("# 某条例\n\n2001年1月1日 公布\n\n## 第一章 总则\n\n第一条 内容。\n")
        assert statute.history == ("2001年1月1日 公布",)
        assert statute.articles[0].chapter == "第一章 总则"

    def test_an_article_label_on_its_own_line_takes_the_next_line_as_text(self) -> None:
        statute = parse(
            "# 某法\n\n<!-- INFO END -->\n\n第1条 \n\n（一）第一项；\n\n（二）第二项。\n"
        )
        assert statute.articles[0].text == "（一）第一项；\n（二）第二项。"


class TestRefusals:
    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("2020年1月1日 通过\n\n第一条 内容。\n", r"^line 1: .*no title"),
            ("# 某法\n\n<!-- INFO END -->\n\n## 第一章 总则\n", r"^line 1: .*no articles"),
            (
                "# 某法\n\n<!-- INFO END -->\n\n第一条 甲。\n\n第三条 丙。\n",
                r"^line 7: 第三条 after 第一条: 第二条 is missing",
            ),
            (
                "# 某法\n\n<!-- INFO END -->\n\n第一条 甲。\n\n第一条 又甲。\n",
                r"^line 7: 第一条 after 第一条: article numbers must increase by one",
            ),
            (
                "# 某法\n\n<!-- INFO END -->\n\n第二条 乙。\n",
                r"^line 5: the first article is 第二条",
            ),
            (
                "# 某法\n\n<!-- INFO END -->\n\n序言文字。\n\n第一条 甲。\n",
                r"^line 5: text outside",
            ),
            (
                "# 某法\n\n<!-- INFO END -->\n\n第一条 甲。\n\n第一条之一 乙。\n",
                r"^line 7: .*之Y are not supported",
            ),
            (
                "# 某法\n\n<!-- INFO END -->\n\n第一条\n\n## 第二章\n",
                r"^line 5: 第一条 has no text",
            ),
            ("# 某法\n\n<!-- INFO END -->\n\n第十十条 甲。\n", r"^line 5: 第十十条 is not a valid"),
            ("---\ntitle: x\n\n# 某法\n", r"^line 1: the front matter"),
        ],
    )
    def test_a_bad_file_is_refused_naming_the_line(self, text: str, problem: str) -> None:
        with pytest.raises(ValueError, match=problem):
            parse(text)

    def test_lawrefbooks_template_reads_with_its_placeholders(self) -> None:
        statute = parse(TEMPLATE)
        assert (statute.title, statute.subtitle) == ("某条法律的标题", "副标题")
        assert statute.history == ("1990年01月23日 发生了什么事情", "2021年11月1日 施行")
        assert [(a.label, a.chapter, a.text) for a in statute.articles] == [
            ("第一条", "第一篇／第一节", "xxxxx"),
            ("第二条", "第一篇／第一节", "xxxxx"),
        ]
