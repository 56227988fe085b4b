"""``zhifa catalog import|export|load-sample`` against a real database and real files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.catalog.exchange.test_import_export import POWERS, SheetKind, as_csv, csv_files
from tests.catalog.helpers import CAFE, PLANNING, world
from zhifa.cli import app
from zhifa.config import get_settings
from zhifa.db import Database
from zhifa.models.catalog import BenchmarkVersion, ChecklistVersion, Power, PowerVersion


@pytest.fixture
def runner(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("ZHIFA_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(tmp_path / "cli-var"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def files(db: Database, tmp_path: Path) -> list[str]:
    with db.unit_of_work() as session:
        world(session, "510184", CAFE, PLANNING)
    paths = []
    for name, content in csv_files():
        path = tmp_path / name
        path.write_bytes(content)
        paths.append(str(path))
    return paths


def count(db: Database, model: type) -> int:
    with db.sessionmaker() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestImportCommand:
    def test_csv_files_import_and_a_second_run_changes_nothing(
        self, runner: CliRunner, db: Database, files: list[str]
    ) -> None:
        first = runner.invoke(app, ["catalog", "import", *files, "--district", "510184"])
        assert first.exit_code == 0, first.output
        assert "powers +2 =0" in first.output
        second = runner.invoke(app, ["catalog", "import", *files, "--district", "510184"])
        assert "powers +0 =2" in second.output
        assert count(db, PowerVersion) == 2

    def test_a_dry_run_saves_nothing(
        self, runner: CliRunner, db: Database, files: list[str]
    ) -> None:
        result = runner.invoke(
            app, ["catalog", "import", *files, "--district", "510184", "--dry-run"]
        )
        assert result.exit_code == 0, result.output
        assert "benchmarks +2" in result.output
        assert count(db, PowerVersion) == 0

    def test_a_refused_file_lists_every_problem_and_exits_1(
        self, runner: CliRunner, db: Database, files: list[str], tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.csv"
        bad.write_bytes(as_csv(SheetKind.POWERS, [POWERS[0] | {"实施部门": "公安"}]))
        result = runner.invoke(app, ["catalog", "import", str(bad), "--district", "510184"])
        assert result.exit_code == 1
        assert "权力事项 第2行 实施部门" in result.output
        assert "本区县没有部门“公安”" in result.output
        assert count(db, Power) == 0

    def test_an_invalid_district_code_is_one_line(
        self, runner: CliRunner, files: list[str]
    ) -> None:
        result = runner.invoke(app, ["catalog", "import", *files, "--district", "12"])
        assert result.exit_code == 1
        assert result.output.startswith("error: ")


class TestExportCommand:
    def test_the_workbook_export_imports_back_unchanged(
        self, runner: CliRunner, db: Database, files: list[str], tmp_path: Path
    ) -> None:
        assert (
            runner.invoke(app, ["catalog", "import", *files, "--district", "510184"]).exit_code == 0
        )
        out = tmp_path / "catalog.xlsx"
        exported = runner.invoke(app, ["catalog", "export", str(out), "--district", "510184"])
        assert exported.exit_code == 0, exported.output
        again = runner.invoke(app, ["catalog", "import", str(out), "--district", "510184"])
        assert again.exit_code == 0, again.output
        assert "benchmarks +0 =2" in again.output
        assert count(db, BenchmarkVersion) == 2
        folder = tmp_path / "csv"
        assert (
            runner.invoke(app, ["catalog", "export", str(folder), "--district", "510184"]).exit_code
            == 0
        )
        assert sorted(p.name for p in folder.iterdir()) == [
            "benchmarks.csv",
            "check_items.csv",
            "checklists.csv",
            "powers.csv",
        ]


class TestLoadSample:
    def test_the_sample_catalog_loads_into_a_district_once(
        self, runner: CliRunner, db: Database, session: Session
    ) -> None:
        from zhifa.demo.loader import load_demo

        with db.unit_of_work() as loading:
            load_demo(loading)
        first = runner.invoke(app, ["catalog", "load-sample", "510184"])
        assert first.exit_code == 0, first.output
        assert count(db, Power) >= 80
        assert count(db, ChecklistVersion) >= 8
        second = runner.invoke(app, ["catalog", "load-sample", "510184"])
        assert "powers +0" in second.output
