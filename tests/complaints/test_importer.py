"""The 12345 / 网络理政 import: generated exports (.xlsx and CSV in UTF-8 and GB18030) taken in
through intake, all or nothing, idempotent, with a dry run; the route and the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests import factories
from tests.complaints.world import FOOD, GARBAGE, IN_WG01, ComplaintWorld, complaint_world
from zhifa.cli.complaints import app as complaints_cli
from zhifa.complaints.importer import ImportReport, import_file
from zhifa.config import Settings, get_settings
from zhifa.errors import InvalidInput, PermissionDenied, UnsupportedMediaType
from zhifa.kit.clock import SHANGHAI, utcnow
from zhifa.kit.events import PENDING_KEY
from zhifa.models.complaints import (
    Complaint,
    ComplaintEvent,
    ComplaintSource,
    ComplaintStatus,
    HotlineType,
    Priority,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for

HEADER = [
    "工单编号",
    "受理时间",
    "诉求类型",
    "事项分类",
    "诉求内容",
    "事发地址",
    "经度",
    "纬度",
    "来电人",
    "联系电话",
    "紧急程度",
]
YESTERDAY = (
    (utcnow() - timedelta(days=1))
    .astimezone(SHANGHAI)
    .replace(hour=9, minute=55, second=0, microsecond=0, tzinfo=None)
)


def order(ref: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "工单编号": ref,
        "受理时间": YESTERDAY,
        "诉求类型": "投诉举报",
        "事项分类": GARBAGE,
        "诉求内容": "唐安西路口垃圾堆放多日无人清理",
        "事发地址": "崇州市唐安西路 1 号",
        "经度": IN_WG01[0],
        "纬度": IN_WG01[1],
        "来电人": "王芳",
        "联系电话": "13800138000",
        "紧急程度": "一般",
    }
    row.update(changes)
    return row


def xlsx(rows: list[dict[str, Any]], header: list[str] = HEADER, title: str = "") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column) for column in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict[str, Any]], encoding: str, header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        values = row | {"受理时间": row["受理时间"].strftime("%Y/%m/%d %H:%M")}
        writer.writerow([values.get(column, "") for column in header])
    return out.getvalue().encode(encoding)


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


@pytest.fixture
def dispatcher(session: Session, world: ComplaintWorld) -> Actor:
    return actor_for(session, world.dispatcher, via="session")


def run(
    session: Session,
    actor: Actor,
    settings: Settings,
    content: bytes,
    *,
    dry_run: bool = False,
    filename: str = "12345工单.xlsx",
) -> ImportReport:
    return import_file(
        session, actor, filename=filename, content=content, dry_run=dry_run, settings=settings
    )


def refused(
    session: Session, actor: Actor, settings: Settings, content: bytes, filename: str
) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        run(session, actor, settings, content, filename=filename)
    session.rollback()
    return caught.value


def count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def imported(session: Session) -> list[Complaint]:
    session.expire_all()
    return list(session.scalars(select(Complaint).order_by(Complaint.source_ref)))


class TestImportingAWorkbook:
    def test_each_row_becomes_a_complaint_taken_in_by_intake(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        rows = [order("WLZ-001"), order("WLZ-002", 紧急程度="紧急", 诉求类型="求助", 来电人="")]

        report = run(session, dispatcher, settings, xlsx(rows))
        session.commit()

        assert (report.rows, report.created, report.already_imported) == (2, 2, 0)
        first, second = imported(session)
        assert [i.tracking_no for i in report.items] == [first.tracking_no, second.tracking_no]
        assert first.source == ComplaintSource.IMPORT
        assert first.source_ref == "WLZ-001"
        assert first.received_at == YESTERDAY.replace(tzinfo=SHANGHAI)
        assert first.hotline_type == HotlineType.COMPLAINT
        assert first.priority == Priority.NORMAL
        assert first.unit_id is not None
        assert first.anonymous is False
        assert first.reporter_name_cipher is not None
        assert second.priority == Priority.URGENT
        assert second.hotline_type == HotlineType.HELP
        received = session.scalars(
            select(ComplaintEvent).where(ComplaintEvent.kind == "received")
        ).all()
        assert len(received) == 2

    def test_the_import_is_one_summary_ledger_event_with_the_files_digest(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        content = xlsx([order("WLZ-001"), order("WLZ-002")])

        report = run(session, dispatcher, settings, content)
        session.commit()

        event = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.imported")
        ).one()
        assert event.actor_id == dispatcher.officer_id
        assert event.payload["sha256"] == report.sha256
        assert len(report.sha256) == 64
        assert (event.payload["created"], event.payload["rows"]) == (2, 2)
        assert event.payload["file"] == "12345工单.xlsx"

    def test_a_matter_outside_the_bureau_is_transferred(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        report = run(session, dispatcher, settings, xlsx([order("WLZ-009", 事项分类=FOOD)]))

        assert report.transferred == 1
        assert report.items[0].status == ComplaintStatus.TRANSFERRED

    def test_a_title_row_other_columns_synonyms_and_any_order_are_fine(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        header = ["承办单位", "问题分类", "工单号", "事发地点", "反映内容", "来电时间", "状态"]
        row = {
            "承办单位": "崇州市综合行政执法局",
            "问题分类": "城市管理/市容环境/暴露垃圾",
            "工单号": "WLZ-100",
            "事发地点": "崇州市文化街 8 号",
            "反映内容": "夜市散场后垃圾满地",
            "来电时间": "2026-11-20 20:15",
            "状态": "待办",
        }

        report = run(
            session, dispatcher, settings, xlsx([row], header=header, title="12345工单导出")
        )

        assert report.created == 1
        (complaint,) = imported(session)
        assert complaint.source_ref == "WLZ-100"
        assert complaint.address == "崇州市文化街 8 号"
        assert complaint.received_at == datetime(2026, 11, 20, 20, 15, tzinfo=SHANGHAI)
        assert complaint.lon is None

    def test_a_handling_deadline_goes_on_the_timeline_as_a_note(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        header = [*HEADER, "办理时限"]
        rows = [order("WLZ-001", 办理时限="2026-12-10 18:00")]

        run(session, dispatcher, settings, xlsx(rows, header=header))

        note = session.scalars(select(ComplaintEvent).where(ComplaintEvent.kind == "note")).one()
        assert note.public is False
        assert note.note == "12345 办理时限：2026-12-10 18:00"


class TestCsv:
    @pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
    def test_utf8_and_gb18030_are_read(
        self, session: Session, settings: Settings, dispatcher: Actor, encoding: str
    ) -> None:
        content = csv_bytes([order("WLZ-001"), order("WLZ-002")], encoding)

        report = run(session, dispatcher, settings, content, filename="12345.csv")

        assert report.created == 2
        first = imported(session)[0]
        assert first.description == "唐安西路口垃圾堆放多日无人清理"
        assert first.received_at == YESTERDAY.replace(tzinfo=SHANGHAI)

    def test_text_in_another_encoding_is_refused(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        exc = refused(session, dispatcher, settings, b"\xff\xfe\xff\x00abc", "x.csv")

        assert exc.message == "{file} is neither UTF-8 nor GB18030 text."
        assert count(session, Complaint) == 0


class TestAllOrNothing:
    def test_every_problem_is_reported_by_row_and_column_and_nothing_is_imported(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        rows = [
            order("WLZ-001"),
            order("WLZ-002", 事项分类="违章停车"),
            order("WLZ-003", 受理时间="昨天上午"),
            order("WLZ-004", 诉求内容=""),
            order("WLZ-001"),
            order("WLZ-006", 纬度=None, 紧急程度="很急"),
            order("", 诉求内容="没有编号"),
        ]
        ledgered = count(session, LedgerEvent)

        exc = refused(session, dispatcher, settings, xlsx(rows), "12345.xlsx")

        assert exc.message == "{count} problems in {file}; nothing was imported."
        assert isinstance(exc.detail, dict)
        found = [(p["row"], p["column"], p["message"]) for p in exc.detail["problems"]]
        assert found == [
            (
                3,
                "事项分类",
                "No category {value} in this district: write a category's code or name.",
            ),
            (4, "受理时间", "{value} is not a date and time (2026-11-29 09:55)."),
            (5, "诉求内容", "Describe the problem: what is happening, and since when."),
            (6, "工单编号", "The same work order is already in row {first}."),
            (7, "紧急程度", "Unknown urgency {value}: write 一般 or 紧急."),
            (7, "纬度", "Give both 经度 and 纬度, or neither."),
            (8, "工单编号", "This cell must not be empty."),
        ]
        assert exc.detail["total"] == 7
        assert exc.detail["problems"][3]["params"] == {"first": 2}
        assert count(session, Complaint) == 0
        assert count(session, LedgerEvent) == ledgered

    def test_a_file_without_the_required_columns_is_refused_before_any_row(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        header = ["工单编号", "事发地址"]
        content = xlsx([{"工单编号": "WLZ-1", "事发地址": "文化街"}], header=header)

        exc = refused(session, dispatcher, settings, content, "12345.xlsx")

        assert exc.message == "{file}: the header row lacks the columns {missing}."
        assert exc.params["missing"] == "事项分类、诉求内容"

    def test_a_file_without_a_work_order_header_is_refused(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        content = csv_bytes([order("WLZ-1")], "utf-8", header=["编码", *HEADER[1:]])

        exc = refused(session, dispatcher, settings, content, "x.csv")

        assert exc.message == "{file}: no header row with 工单编号 in the first {rows} rows."

    def test_an_old_excel_file_is_refused(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        with pytest.raises(UnsupportedMediaType) as caught:
            run(session, dispatcher, settings, b"\xd0\xcf\x11\xe0" + b"\x00" * 64, filename="a.xls")

        assert caught.value.params == {"file": "a.xls"}

    def test_an_officer_without_intake_is_refused(
        self, session: Session, settings: Settings, world: ComplaintWorld
    ) -> None:
        officer = actor_for(session, world.officer, via="session")

        with pytest.raises(PermissionDenied):
            run(session, officer, settings, xlsx([order("WLZ-001")]))
        assert count(session, Complaint) == 0


class TestIdempotence:
    def test_the_same_file_twice_adds_nothing_the_second_time(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        content = xlsx([order("WLZ-001"), order("WLZ-002")])
        run(session, dispatcher, settings, content)
        session.commit()

        again = run(session, dispatcher, settings, content + b"")
        session.commit()

        assert (again.created, again.already_imported) == (0, 2)
        assert all(item.already_imported for item in again.items)
        assert count(session, Complaint) == 2
        imports = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.imported")
        ).all()
        assert len(imports) == 1

    def test_a_work_order_polled_from_the_platform_counts_as_already_taken_in(
        self, session: Session, settings: Settings, dispatcher: Actor, world: ComplaintWorld
    ) -> None:
        run(session, dispatcher, settings, xlsx([order("WLZ-001")]))
        polled = imported(session)[0]
        polled.source = ComplaintSource.UPSTREAM
        session.commit()

        report = run(session, dispatcher, settings, xlsx([order("WLZ-001"), order("WLZ-002")]))

        assert (report.created, report.already_imported) == (1, 1)

    def test_a_new_row_in_a_known_file_is_the_only_one_added(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        run(session, dispatcher, settings, xlsx([order("WLZ-001")]))
        session.commit()

        report = run(session, dispatcher, settings, xlsx([order("WLZ-001"), order("WLZ-002")]))

        assert [(i.source_ref, i.already_imported) for i in report.items] == [
            ("WLZ-001", True),
            ("WLZ-002", False),
        ]


class TestDryRun:
    def test_it_reports_what_would_be_created_and_keeps_nothing(
        self, session: Session, settings: Settings, dispatcher: Actor
    ) -> None:
        rows = [order("WLZ-001"), order("WLZ-002", 事项分类=FOOD)]
        ledgered = count(session, LedgerEvent)

        report = run(session, dispatcher, settings, xlsx(rows), dry_run=True)

        assert report.dry_run is True
        assert (report.created, report.transferred) == (2, 1)
        assert [i.tracking_no for i in report.items] == [None, None]
        assert [i.status for i in report.items] == [
            ComplaintStatus.RECEIVED,
            ComplaintStatus.TRANSFERRED,
        ]
        assert session.info.get(PENDING_KEY, []) == []  # nothing announced on the bus
        session.commit()
        assert count(session, Complaint) == 0
        assert count(session, LedgerEvent) == ledgered


@pytest.fixture
def upload_headers(session: Session, world: ComplaintWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.dispatcher)
    session.commit()
    return headers


class TestRoute:
    def test_a_workbook_is_imported(
        self, client: TestClient, session: Session, upload_headers: dict[str, str]
    ) -> None:
        files = {"file": ("12345.xlsx", xlsx([order("WLZ-001")]), "application/octet-stream")}

        response = client.post("/api/v1/complaints/import", files=files, headers=upload_headers)

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["created"], body["dry_run"]) == (1, False)
        assert body["items"][0]["tracking_no"] == imported(session)[0].tracking_no

    def test_a_dry_run_saves_nothing(
        self, client: TestClient, session: Session, upload_headers: dict[str, str]
    ) -> None:
        files = {"file": ("12345.xlsx", xlsx([order("WLZ-001")]), "application/octet-stream")}

        response = client.post(
            "/api/v1/complaints/import",
            params={"dry_run": "true"},
            files=files,
            headers=upload_headers,
        )

        assert response.status_code == 200
        assert response.json()["created"] == 1
        assert count(session, Complaint) == 0

    def test_problems_are_listed_in_chinese(
        self, client: TestClient, session: Session, upload_headers: dict[str, str]
    ) -> None:
        content = xlsx([order("WLZ-001", 事项分类="违章停车")])
        files = {"file": ("12345.xlsx", content, "application/octet-stream")}

        response = client.post("/api/v1/complaints/import", files=files, headers=upload_headers)

        assert response.status_code == 422
        error = response.json()["error"]
        assert error["detail"]["problems"] == [
            {
                "row": 2,
                "column": "事项分类",
                "message": "本区县没有事项分类“违章停车”，请填写分类的编码或名称。",
            }
        ]
        assert count(session, Complaint) == 0

    def test_an_officer_without_intake_gets_403(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        headers = factories.bearer(session, world.officer)
        session.commit()
        files = {"file": ("12345.xlsx", xlsx([order("WLZ-001")]), "application/octet-stream")}

        response = client.post("/api/v1/complaints/import", files=files, headers=headers)

        assert response.status_code == 403
        assert count(session, Complaint) == 0

    def test_an_empty_upload_is_refused(
        self, client: TestClient, session: Session, upload_headers: dict[str, str]
    ) -> None:
        files = {"file": ("12345.xlsx", b"", "application/octet-stream")}

        response = client.post("/api/v1/complaints/import", files=files, headers=upload_headers)

        assert response.status_code == 422
        assert response.json()["error"]["detail"] == {"field": "file"}


@pytest.fixture
def runner(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("ZHIFA_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(tmp_path / "cli-var"))
    monkeypatch.setenv("ZHIFA_SECRET_KEY", "test-secret-not-for-production")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def zhifa_cli() -> typer.Typer:
    """``zhifa`` with the complaints commands registered as ``zhifa complaints``."""
    cli = typer.Typer()
    cli.add_typer(complaints_cli, name="complaints")
    return cli


class TestCommandLine:
    def test_import_reports_each_new_work_order(
        self, runner: CliRunner, session: Session, world: ComplaintWorld, tmp_path: Path
    ) -> None:
        path = tmp_path / "12345.xlsx"
        path.write_bytes(xlsx([order("WLZ-001"), order("WLZ-002")]))

        result = runner.invoke(
            zhifa_cli(), ["complaints", "import", str(path), "--district", "510184"]
        )

        assert result.exit_code == 0, result.output
        assert "新增 2" in result.output
        rows = imported(session)
        assert [r.source_ref for r in rows] == ["WLZ-001", "WLZ-002"]
        event = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.imported")
        ).one()
        assert event.actor_id is None

    def test_a_dry_run_saves_nothing(
        self, runner: CliRunner, session: Session, world: ComplaintWorld, tmp_path: Path
    ) -> None:
        path = tmp_path / "12345.csv"
        path.write_bytes(csv_bytes([order("WLZ-001")], "gb18030"))

        result = runner.invoke(
            zhifa_cli(), ["complaints", "import", str(path), "--district", "510184", "--dry-run"]
        )

        assert result.exit_code == 0, result.output
        assert "试导入" in result.output
        assert count(session, Complaint) == 0

    def test_a_refused_file_lists_its_problems_and_exits_1(
        self, runner: CliRunner, session: Session, world: ComplaintWorld, tmp_path: Path
    ) -> None:
        path = tmp_path / "12345.xlsx"
        path.write_bytes(xlsx([order("WLZ-001"), order("WLZ-002", 事项分类="违章停车")]))

        result = runner.invoke(
            zhifa_cli(), ["complaints", "import", str(path), "--district", "510184"]
        )

        assert result.exit_code == 1
        assert "第3行 事项分类" in result.output
        assert "没有事项分类“违章停车”" in result.output
        assert count(session, Complaint) == 0

    def test_an_unknown_district_is_refused(
        self, runner: CliRunner, session: Session, world: ComplaintWorld, tmp_path: Path
    ) -> None:
        path = tmp_path / "12345.xlsx"
        path.write_bytes(xlsx([order("WLZ-001")]))

        result = runner.invoke(
            zhifa_cli(), ["complaints", "import", str(path), "--district", "510104"]
        )

        assert result.exit_code == 1
        assert "510104" in result.output
        assert count(session, Complaint) == 0
