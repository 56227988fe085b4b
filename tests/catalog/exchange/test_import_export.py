"""Excel and CSV exchange: every row validated and problems reported by sheet, row and column;
all or nothing; the same file twice changes nothing; an export imports back unchanged."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.catalog.helpers import CAFE, PLANNING, world
from zhifa.catalog import browse
from zhifa.catalog.exchange import exporter
from zhifa.catalog.exchange.columns import LAYOUTS, SheetKind
from zhifa.catalog.exchange.importer import ImportRefused, import_files
from zhifa.errors import InvalidInput
from zhifa.ledger import store
from zhifa.models.catalog import BenchmarkVersion, ChecklistVersion, PowerVersion

POWERS = [
    {
        "序号": "1",
        "事项编码": "CF-WH-001",
        "事项名称": "对互联网上网服务营业场所接纳未成年人进入的处罚",
        "事项类别": "行政处罚",
        "实施部门": "文化市场",
        "违法依据": "《互联网上网服务营业场所管理条例》第二十一条",
        "处罚依据": "《互联网上网服务营业场所管理条例》第三十一条第（二）项",
        "处罚种类和幅度": "警告，可以并处15000元以下的罚款",
        "适用对象": "单位",
        "责任单位": "JU",
        "办理时限（日）": "90",
        "生效日期": "2022-05-01",
    },
    {
        "序号": "2",
        "事项编码": "CF-GH-001",
        "事项名称": "对未取得建设工程规划许可证进行建设的处罚",
        "事项类别": "行政处罚",
        "实施部门": "guihua",
        "违法依据": "《中华人民共和国城乡规划法》第四十条第一款",
        "处罚依据": "《城乡规划法》第六十四条",
        "适用对象": "个人、单位",
        "生效日期": "2019-04-23",
    },
]
BENCHMARKS = [
    {
        "事项编码": "CF-WH-001",
        "生效日期": "2022-05-01",
        "行类型": "法定幅度",
        "对象": "单位",
        "计算方式": "限额",
        "上限": "15000",
        "处罚措施": "警告",
        "首违不罚": "否",
    },
    {
        "事项编码": "CF-WH-001",
        "生效日期": "2022-05-01",
        "行类型": "计量事实",
        "计量事实": "minors",
        "事实名称": "未成年人人数",
        "计量单位": "人",
        "事实类型": "计数",
    },
    {
        "事项编码": "CF-WH-001",
        "生效日期": "2022-05-01",
        "行类型": "裁量阶次",
        "裁量等级": "一般",
        "对象": "单位",
        "计算方式": "按单位",
        "下限": "3000",
        "上限": "3000",
        "计量事实": "minors",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "法定幅度",
        "对象": "个人",
        "计算方式": "比例",
        "下限": "5",
        "上限": "10",
        "计量事实": "project_cost",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "法定幅度",
        "对象": "单位",
        "计算方式": "比例",
        "下限": "5",
        "上限": "10",
        "计量事实": "project_cost",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "计量事实",
        "计量事实": "project_cost",
        "事实名称": "工程造价",
        "计量单位": "元",
        "事实类型": "金额",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "裁量阶次",
        "裁量等级": "从轻",
        "对象": "个人",
        "计算方式": "比例",
        "下限": "5",
        "上限": "6",
        "计量事实": "project_cost",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "裁量阶次",
        "裁量等级": "从轻",
        "对象": "单位",
        "计算方式": "比例",
        "下限": "5",
        "上限": "6",
        "计量事实": "project_cost",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "裁量阶次",
        "裁量等级": "一般",
        "对象": "个人",
        "计算方式": "比例",
        "下限": "6",
        "上限": "8",
        "计量事实": "project_cost",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "裁量阶次",
        "裁量等级": "一般",
        "对象": "单位",
        "计算方式": "比例",
        "下限": "6",
        "上限": "8",
        "计量事实": "project_cost",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "裁量阶次",
        "裁量等级": "从重",
        "对象": "个人",
        "计算方式": "比例",
        "下限": "8",
        "上限": "10",
        "计量事实": "project_cost",
        "处罚措施": "责令停止建设",
    },
    {
        "事项编码": "CF-GH-001",
        "生效日期": "2019-04-23",
        "行类型": "裁量阶次",
        "裁量等级": "从重",
        "对象": "单位",
        "计算方式": "比例",
        "下限": "8",
        "上限": "10",
        "计量事实": "project_cost",
        "处罚措施": "责令停止建设",
    },
]
ITEMS = [
    {
        "检查项编码": "JCX-WH-001",
        "检查内容": "是否接纳未成年人进入营业场所",
        "所需证据": "照片、视频",
        "责任部门": "wenhua",
        "关联事项编码": "CF-WH-001",
        "生效日期": "2024-01-01",
    },
    {
        "检查项编码": "JCX-GH-001",
        "检查内容": "是否取得建设工程规划许可证",
        "所需证据": "照片、文书",
        "责任部门": "guihua",
        "关联事项编码": "CF-GH-001",
        "生效日期": "2024-01-01",
    },
]
LISTS = [
    {
        "清单编码": "QD-WB",
        "清单名称": "网吧检查清单",
        "对象类型编码": "internet_cafe",
        "对象类型名称": "网吧",
        "顺序": "1",
        "检查项编码": "JCX-WH-001",
        "生效日期": "2024-01-01",
    },
    {
        "清单编码": "QD-JZ",
        "清单名称": "建筑工地检查清单",
        "对象类型编码": "construction_site",
        "对象类型名称": "建筑工地",
        "顺序": "2",
        "检查项编码": "JCX-WH-001",
        "生效日期": "2024-01-01",
    },
    {
        "清单编码": "QD-JZ",
        "清单名称": "建筑工地检查清单",
        "对象类型编码": "construction_site",
        "对象类型名称": "建筑工地",
        "顺序": "1",
        "检查项编码": "JCX-GH-001",
        "生效日期": "2024-01-01",
    },
]
SHEETS = {
    SheetKind.POWERS: POWERS,
    SheetKind.BENCHMARKS: BENCHMARKS,
    SheetKind.CHECK_ITEMS: ITEMS,
    SheetKind.CHECKLISTS: LISTS,
}


def as_csv(kind: SheetKind, rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    columns = LAYOUTS[kind].columns
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def csv_files(**overrides: list[dict[str, str]]) -> list[tuple[str, bytes]]:
    sheets = {kind: overrides.get(kind.name.lower(), rows) for kind, rows in SHEETS.items()}
    return [(f"{kind.name.lower()}.csv", as_csv(kind, rows)) for kind, rows in sheets.items()]


def as_xlsx(sheets: dict[str, list[list[str]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def author(session: Session):  # type: ignore[no-untyped-def]
    return world(session, "510184", CAFE, PLANNING)


class TestImportingCsv:
    def test_a_complete_catalog_imports_in_dependency_order(self, session: Session, author) -> None:  # type: ignore[no-untyped-def]
        report = import_files(session, author, csv_files())
        counts = report.as_dict()["counts"]
        assert counts["powers"] == {"created": 2, "unchanged": 0}
        assert counts["benchmarks"] == {"created": 2, "unchanged": 0}
        assert counts["check_items"] == {"created": 2, "unchanged": 0}
        assert counts["checklists"] == {"created": 2, "unchanged": 0}
        assert counts["subject_types"] == {"created": 2, "unchanged": 0}
        site = browse.checklist_detail(session, "510184", "QD-JZ", on=date(2024, 6, 1))
        assert site.item_codes == ["JCX-GH-001", "JCX-WH-001"]  # ordered by 顺序
        assert site.departments == ["城乡规划", "文化市场"]

    def test_importing_the_same_files_again_changes_nothing(self, session: Session, author) -> None:  # type: ignore[no-untyped-def]
        import_files(session, author, csv_files())
        events = len(store.pending_events(session))
        report = import_files(session, author, csv_files())
        assert not report.changed
        assert report.as_dict()["counts"]["powers"] == {"created": 0, "unchanged": 2}
        assert len(store.pending_events(session)) == events
        assert count(session, PowerVersion) == 2

    def test_a_dry_run_validates_everything_and_saves_nothing(
        self, session: Session, author
    ) -> None:  # type: ignore[no-untyped-def]
        before = len(store.pending_events(session))
        report = import_files(session, author, csv_files(), dry_run=True)
        assert report.as_dict()["counts"]["benchmarks"]["created"] == 2
        assert count(session, PowerVersion) == 0
        assert count(session, ChecklistVersion) == 0
        assert len(store.pending_events(session)) == before

    def test_a_completed_import_is_ledgered_once(self, session: Session, author) -> None:  # type: ignore[no-untyped-def]
        import_files(session, author, csv_files())
        kinds = [p.kind for p in store.pending_events(session)]
        assert kinds.count("catalog.import.completed") == 1


class TestRefusals:
    def test_every_problem_is_reported_by_sheet_row_and_column_and_nothing_is_saved(
        self,
        session: Session,
        author,  # type: ignore[no-untyped-def]
    ) -> None:
        powers = [
            POWERS[0] | {"实施部门": "公安"},
            POWERS[1] | {"处罚依据": "《城乡规划法》第九百条"},
        ]
        benchmarks = [*BENCHMARKS[:2], BENCHMARKS[2] | {"下限": "-5"}, *BENCHMARKS[3:]]
        with pytest.raises(ImportRefused) as caught:
            import_files(session, author, csv_files(powers=powers, benchmarks=benchmarks))
        problems = {(p["sheet"], p["row"], p["column"]) for p in caught.value.detail["problems"]}
        assert ("裁量基准", 4, "下限") in problems
        assert caught.value.detail["total"] == 1  # cell problems stop before anything is written
        assert count(session, PowerVersion) == 0
        with pytest.raises(ImportRefused) as caught:
            import_files(session, author, csv_files(powers=powers))
        problems = {(p["sheet"], p["row"], p["column"]) for p in caught.value.detail["problems"]}
        assert ("权力事项", 2, "实施部门") in problems
        assert ("权力事项", 3, "处罚依据") in problems
        assert count(session, PowerVersion) == 0
        assert count(session, BenchmarkVersion) == 0

    def test_a_tier_outside_the_statutory_range_is_named_at_its_row(
        self,
        session: Session,
        author,  # type: ignore[no-untyped-def]
    ) -> None:
        benchmarks = [*BENCHMARKS[:10], BENCHMARKS[10] | {"上限": "12"}, BENCHMARKS[11]]
        with pytest.raises(ImportRefused) as caught:
            import_files(session, author, csv_files(benchmarks=benchmarks))
        (problem,) = caught.value.detail["problems"]
        assert (problem["sheet"], problem["row"]) == ("裁量基准", 12)
        assert "statutory range" in problem["params"]["problem"]

    def test_a_missing_column_refuses_the_file(self, session: Session, author) -> None:  # type: ignore[no-untyped-def]
        body = "事项编码,事项名称\nCF-1,名\n".encode()
        with pytest.raises(InvalidInput) as caught:
            import_files(session, author, [("powers.csv", body)])
        assert caught.value.detail == {"field": "file"}

    def test_a_workbook_with_a_wrong_sheet_is_refused(self, session: Session, author) -> None:  # type: ignore[no-untyped-def]
        content = as_xlsx({"Sheet1": [["a", "b"], ["1", "2"]]})
        with pytest.raises(InvalidInput) as caught:
            import_files(session, author, [("catalog.xlsx", content)])
        assert "权力事项" in caught.value.message or "权力事项" in str(caught.value.params)

    def test_a_workbook_sheet_with_wrong_columns_is_refused_naming_them(
        self,
        session: Session,
        author,  # type: ignore[no-untyped-def]
    ) -> None:
        content = as_xlsx({"权力事项": [["事项编码", "事项名称", "颜色"], ["CF-1", "名", "红"]]})
        with pytest.raises(InvalidInput) as caught:
            import_files(session, author, [("catalog.xlsx", content)])
        assert caught.value.params["unknown"] == "颜色"
        assert "实施部门" in caught.value.params["missing"]

    def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(
        self,
        session: Session,
        author,  # type: ignore[no-untyped-def]
    ) -> None:
        with pytest.raises(InvalidInput):
            import_files(session, author, [("catalog.xlsx", b"not a zip")])

    def test_two_rows_for_one_power_and_date_are_refused(self, session: Session, author) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(ImportRefused) as caught:
            import_files(session, author, csv_files(powers=[POWERS[0], POWERS[0]]))
        assert caught.value.detail["problems"][0]["column"] == "生效日期"


class TestExport:
    def test_an_exported_workbook_imports_unchanged_and_into_another_district(
        self,
        session: Session,
        author,  # type: ignore[no-untyped-def]
    ) -> None:
        import_files(session, author, csv_files())
        content = exporter.export_xlsx(session, "510184", date(2025, 1, 1))
        book = load_workbook(io.BytesIO(content))
        assert book.sheetnames == ["说明", "权力事项", "裁量基准", "检查事项", "巡查清单"]
        again = import_files(session, author, [("export.xlsx", content)])
        assert not again.changed
        other = world(session, "510104")
        copied = import_files(session, other, [("export.xlsx", content)])
        assert copied.as_dict()["counts"]["benchmarks"]["created"] == 2
        exported_again = exporter.sheets(session, "510104", date(2025, 1, 1))
        assert exported_again == exporter.sheets(session, "510184", date(2025, 1, 1))

    def test_csv_export_has_one_file_per_sheet_with_a_bom(self, session: Session, author) -> None:  # type: ignore[no-untyped-def]
        import_files(session, author, csv_files())
        files = exporter.export_csv(session, "510184", date(2025, 1, 1))
        assert sorted(files) == [
            "benchmarks.csv",
            "check_items.csv",
            "checklists.csv",
            "powers.csv",
        ]
        assert files["powers.csv"].startswith("\ufeff序号".encode())
        report = import_files(session, author, list(files.items()))
        assert not report.changed
