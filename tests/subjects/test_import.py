"""The Excel import: one sheet with Chinese headers, all rows or none, each problem by row and
column in Chinese, dry run, re-import changes nothing, one ``subject.imported`` event."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import bearer
from tests.field import CAFE_USCC
from tests.subjects.helpers import (
    IN_OTHER,
    IN_OWN,
    World,
    events,
    make_ric,
    make_uscc,
    subjects_world,
)
from zhifa.errors import InvalidInput, UnsupportedMediaType
from zhifa.models.subjects import Subject
from zhifa.subjects import importer
from zhifa.subjects.workbook import COLUMNS

API = "/api/v1/subjects/import"
HEADER = list(COLUMNS)


@pytest.fixture
def world(session: Session) -> World:
    w = subjects_world(session)
    session.commit()
    return w


def row(n: int, **cells: Any) -> list[Any]:
    """A valid enterprise row (numbers as Excel keeps them), with ``cells`` by header."""
    lon, lat = IN_OWN
    values: dict[str, Any] = {
        "名称": f"崇州市导入示例商店{n}",
        "类别": "企业",
        "统一社会信用代码": make_uscc(100 + n),
        "身份证号": None,
        "负责人": "钱七",
        "电话": 13800000000 + n,
        "地址": f"崇州市导入路{n}号",
        "对象类型": "餐饮店",
        "风险等级": "高",
        "经度": lon + n * 0.0001,
        "纬度": lat,
        "围栏半径(米)": 50,
        "备注": "",
    }
    values.update(cells)
    return [values[h] for h in HEADER]


def workbook(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Subject)) or 0)


def _import(session: Session, world: World, content: bytes, *, dry_run: bool = False) -> Any:
    actor = world.actor(session, world.field.officer)
    report = importer.import_workbook(
        session, actor, name="对象.xlsx", content=content, keys=world.keys, dry_run=dry_run
    )
    session.commit()
    return report


def _problems(session: Session, world: World, content: bytes) -> list[dict[str, Any]]:
    before = _count(session)
    with pytest.raises(InvalidInput) as caught:
        _import(session, world, content)
    session.rollback()
    assert _count(session) == before
    assert events(session, "subject.created") == []
    detail = caught.value.detail
    assert isinstance(detail, dict)
    problems: list[dict[str, Any]] = detail["problems"]
    return problems


PERSON = {
    "名称": "孙某",
    "类别": "自然人",
    "统一社会信用代码": None,
    "身份证号": make_ric(9),
    "对象类型": "street_vendor",
    "风险等级": None,
}


class TestImporting:
    def test_every_row_is_created_through_the_registry_rules(
        self, session: Session, world: World
    ) -> None:
        report = _import(session, world, workbook([row(1), row(2), row(3, **PERSON)]))

        assert (report.rows, report.created, report.existing) == (3, 3, 0)
        shop = session.scalars(select(Subject).where(Subject.name == "崇州市导入示例商店1")).one()
        assert shop.uscc == make_uscc(101)
        assert shop.subject_type_code == "restaurant"  # given by its name, 餐饮店
        assert shop.risk_level == "high"
        assert shop.phone == "13800000001"
        assert shop.unit_id == world.field.squad.id
        someone = session.scalars(select(Subject).where(Subject.name == "孙某")).one()
        assert someone.id_card_digest == world.keys.digest(make_ric(9))
        assert someone.risk_level == "low"

    def test_one_imported_event_besides_one_created_event_per_row(
        self, session: Session, world: World
    ) -> None:
        content = workbook([row(1), row(2)])
        report = _import(session, world, content)

        created = events(session, "subject.created")
        (imported,) = events(session, "subject.imported")
        assert [e.payload["via"] for e in created] == ["import", "import"]
        assert imported.payload["created"] == 2
        assert imported.payload["created_ids"] == report.created_ids
        assert imported.payload["file"] == "对象.xlsx"
        assert len(imported.payload["sha256"]) == 64

    def test_a_dry_run_checks_and_counts_but_saves_nothing(
        self, session: Session, world: World
    ) -> None:
        before, logged = _count(session), len(events(session))
        report = _import(session, world, workbook([row(1), row(2)]), dry_run=True)

        assert (report.dry_run, report.created, report.created_ids) == (True, 2, [])
        assert _count(session) == before
        assert len(events(session)) == logged

    def test_importing_the_same_file_again_changes_nothing(
        self, session: Session, world: World
    ) -> None:
        site = {"统一社会信用代码": None, "类别": "场所"}
        content = workbook([row(1), row(2, **PERSON), row(3, **site)])
        _import(session, world, content)
        count, logged = _count(session), len(events(session))

        report = _import(session, world, content)

        assert (report.created, report.existing) == (0, 3)
        assert _count(session) == count
        assert len(events(session)) == logged

    def test_a_row_naming_a_registered_subject_is_left_as_it_is(
        self, session: Session, world: World
    ) -> None:
        report = _import(session, world, workbook([row(1, **{"统一社会信用代码": CAFE_USCC})]))

        assert (report.created, report.existing) == (0, 1)
        session.refresh(world.field.cafe)
        assert world.field.cafe.name == "崇州市星际网络会所有限公司"


class TestProblems:
    def test_each_problem_has_its_row_and_column_and_nothing_is_saved(
        self, session: Session, world: World
    ) -> None:
        code = make_uscc(102)
        wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
        rows = [
            row(1),
            row(2, **{"统一社会信用代码": wrong}),
            row(3, **{"类别": "公司"}),
            row(4, **{"名称": None}),
            row(5, **{"对象类型": "赌场"}),
            row(6, **{"围栏半径(米)": 5000}),
            row(7, **{"经度": "东经103度"}),
            row(8, **{"统一社会信用代码": make_uscc(101)}),
            row(9, **{"经度": IN_OTHER[0]}),
        ]
        problems = _problems(session, world, workbook(rows))

        where = {(p["row"], p["column"]) for p in problems}
        assert where == {
            (3, "统一社会信用代码"),
            (4, "类别"),
            (5, "名称"),
            (6, "对象类型"),
            (7, "围栏半径(米)"),
            (8, "经度"),
            (9, "统一社会信用代码"),
            (10, "经度"),
        }

    def test_the_api_answers_the_problems_in_chinese(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer(session, world.field.officer)
        session.commit()
        content = workbook([row(1), row(2, **{"类别": "公司"})])

        response = client.post(API, files={"file": ("对象.xlsx", content)}, headers=headers)

        assert response.status_code == 422
        error = response.json()["error"]
        assert "未导入任何内容" in error["message"]
        (problem,) = error["detail"]["problems"]
        assert problem == {
            "row": 3,
            "column": "类别",
            "message": "无法识别的类别“公司”：请填写企业、个体工商户、其他组织、自然人或场所。",
        }
        assert _count(session) == 1

    def test_a_wrong_header_refuses_the_file(self, session: Session, world: World) -> None:
        header = [*HEADER[:-1], "备注说明"]
        with pytest.raises(InvalidInput) as caught:
            _import(session, world, workbook([row(1)], header=header))

        assert caught.value.params["unknown"] == "备注说明"

    def test_a_missing_required_column_refuses_the_file(
        self, session: Session, world: World
    ) -> None:
        header = [h for h in HEADER if h != "对象类型"]
        with pytest.raises(InvalidInput) as caught:
            _import(session, world, workbook([row(1)[:7] + row(1)[8:]], header=header))

        assert caught.value.params["missing"] == "对象类型"

    def test_a_file_that_is_not_a_workbook_is_415(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer(session, world.field.officer)
        session.commit()

        response = client.post(
            API, files={"file": ("对象.xlsx", "名称,类别\n".encode())}, headers=headers
        )

        assert response.status_code == 415
        with pytest.raises(UnsupportedMediaType):
            _import(session, world, b"name,kind\n")

    def test_a_file_without_data_rows_is_refused(self, session: Session, world: World) -> None:
        with pytest.raises(InvalidInput) as caught:
            _import(session, world, workbook([]))

        assert "no data rows" in caught.value.message


class TestApi:
    def test_a_dry_run_over_the_api(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer(session, world.field.officer)
        session.commit()

        response = client.post(
            API,
            params={"dry_run": "true"},
            files={"file": ("对象.xlsx", workbook([row(1)]))},
            headers=headers,
        )

        assert response.status_code == 200
        assert response.json() == {
            "dry_run": True,
            "file": "对象.xlsx",
            "rows": 1,
            "created": 1,
            "existing": 0,
            "created_ids": [],
        }
        assert _count(session) == 1

    def test_an_import_over_the_api(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer(session, world.field.officer)
        session.commit()

        files = {"file": ("对象.xlsx", workbook([row(1)]))}
        response = client.post(API, files=files, headers=headers)

        assert response.status_code == 200
        assert response.json()["created"] == 1
        assert _count(session) == 2

    def test_the_template_has_the_documented_header(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer(session, world.field.officer)
        session.commit()

        response = client.get("/subjects/import/template.xlsx", headers=headers)

        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert [c.value for c in sheet[1]] == HEADER
