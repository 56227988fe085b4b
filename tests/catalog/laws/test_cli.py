"""``zhifa catalog import-law`` and ``load-sample-laws`` against a real database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.catalog.laws.helpers import PENALTIES, SMALL, events
from tests.catalog.laws.test_markdown import ARTICLES
from zhifa.catalog.laws.service import SAMPLE_DIR
from zhifa.cli import app
from zhifa.config import get_settings
from zhifa.models.catalog import LegalDocument, Provision


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
def penalties(tmp_path: Path) -> Path:
    path = tmp_path / PENALTIES
    shutil.copyfile(SAMPLE_DIR / PENALTIES, path)
    return path


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def import_law(runner: CliRunner, path: Path, *extra: str) -> tuple[int, str]:
    args = ["catalog", "import-law", str(path), "--kind", "law"]
    args += ["--issuing-body", "全国人民代表大会常务委员会", "--effective-on", "2021-07-15"]
    result = runner.invoke(app, [*args, *extra])
    return result.exit_code, result.output


class TestImportLaw:
    def test_a_statute_is_imported_with_the_revision_date_of_its_file_name(
        self, runner: CliRunner, session: Session, penalties: Path
    ) -> None:
        code, output = import_law(runner, penalties)
        assert code == 0, output
        assert output.startswith("imported 《中华人民共和国行政处罚法》: 86 provisions")
        document = session.scalars(select(LegalDocument)).one()
        assert (document.revision_date, document.effective_on, document.kind) == (
            date(2021, 1, 22),
            date(2021, 7, 15),
            "law",
        )
        assert (document.source_name, document.jurisdiction) == (PENALTIES, "national")
        assert count(session, Provision) == 86
        (event,) = events(session, "catalog.law.imported")
        assert (event.actor_id, event.payload["provisions"]) == (None, 86)

    def test_a_second_import_prints_unchanged_and_writes_nothing(
        self, runner: CliRunner, session: Session, penalties: Path
    ) -> None:
        assert import_law(runner, penalties)[0] == 0
        code, output = import_law(runner, penalties)
        assert code == 0
        assert output.startswith("unchanged")
        assert count(session, Provision) == 86
        assert len(events(session, "catalog.law.imported")) == 1

    def test_options_set_the_revision_date_title_and_jurisdiction(
        self, runner: CliRunner, session: Session, tmp_path: Path
    ) -> None:
        path = tmp_path / "地方测试条例.md"
        path.write_text(SMALL, encoding="utf-8")
        code, output = import_law(
            runner,
            path,
            "--revision-date",
            "2020-01-01",
            "--promulgated-on",
            "2020-01-01",
            "--jurisdiction",
            "四川省",
            "--title",
            "四川省测试条例",
        )
        assert code == 0, output
        document = session.scalars(select(LegalDocument)).one()
        assert (document.title, document.jurisdiction, document.revision_date) == (
            "四川省测试条例",
            "四川省",
            date(2020, 1, 1),
        )

    @pytest.mark.parametrize(
        ("content", "name", "extra", "message"),
        [
            (None, "缺失(2021-01-22).md", (), "no such file"),
            (SMALL, "无日期.md", (), "no (YYYY-MM-DD) in the file name"),
            (SMALL.replace("# 中华", "中华"), "无标题(2020-01-01).md", (), "no title"),
            (SMALL.replace("第四条", "第五条"), "缺条(2020-01-01).md", (), "第四条 is missing"),
            (SMALL, "早(2022-01-01).md", (), "effective_on is before revision_date"),
            (SMALL, "坏日期(2020-01-01).md", ("--promulgated-on", "2020-02-30"), "not a date"),
        ],
    )
    def test_a_bad_file_or_option_fails_with_one_line_and_writes_nothing(
        self,
        runner: CliRunner,
        session: Session,
        tmp_path: Path,
        content: str | None,
        name: str,
        extra: tuple[str, ...],
        message: str,
    ) -> None:
        path = tmp_path / name
        if content is not None:
            path.write_text(content, encoding="utf-8")
        code, output = import_law(runner, path, *extra)
        assert code == 1
        assert message in output
        assert output.startswith("error: ")
        assert len(output.strip().splitlines()) == 1
        assert count(session, LegalDocument) == 0

    def test_a_file_that_is_not_utf8_fails(
        self, runner: CliRunner, session: Session, tmp_path: Path
    ) -> None:
        path = tmp_path / "gbk(2020-01-01).md"
        path.write_bytes(SMALL.encode("gb18030"))
        code, output = import_law(runner, path)
        assert code == 1
        assert "UTF-8" in output


class TestLoadSampleLaws:
    def test_the_sample_is_loaded_once(self, runner: CliRunner, session: Session) -> None:
        first = runner.invoke(app, ["catalog", "load-sample-laws"])
        assert first.exit_code == 0, first.output
        assert first.output.startswith(f"loaded {len(ARTICLES)} new legal documents")
        second = runner.invoke(app, ["catalog", "load-sample-laws"])
        assert second.output.startswith("loaded 0 new legal documents")
        assert count(session, LegalDocument) == len(ARTICLES)
