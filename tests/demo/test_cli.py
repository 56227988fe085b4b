from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from zhifa.cli import app
from zhifa.config import get_settings
from zhifa.db import Database
from zhifa.demo.accounts import DEMO_PASSWORD
from zhifa.models import LedgerEvent, Officer


class Invoke(Protocol):
    def __call__(self, *args: str, url: str = ...) -> Result: ...


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Invoke:
    """Invoke the CLI against ``url`` (the test database by default), with its data dir in tmp.

    Settings are cached (``lru_cache``): clear them so the CLI reads this test's environment."""

    def invoke(*args: str, url: str = database_url) -> Result:
        env = {"ZHIFA_DATABASE_URL": url, "ZHIFA_DATA_DIR": str(tmp_path / "var")}
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, list(args), env=env)
        finally:
            get_settings.cache_clear()

    return invoke


def _counts(db: Database) -> tuple[int, int]:
    with db.sessionmaker() as s:
        officers = s.scalar(select(func.count()).select_from(Officer))
        events = s.scalar(select(func.count()).select_from(LedgerEvent))
        return int(officers or 0), int(events or 0)


class TestDemoLoad:
    def test_it_loads_and_prints_the_summary_and_the_accounts(
        self, run: Invoke, db: Database
    ) -> None:
        result = run("demo", "load")
        assert result.exit_code == 0, result.output
        assert "510184" in result.output
        assert "officers 40" in result.output
        assert "created this run 63" in result.output
        for username in ("officer", "squadleader", "dispatcher", "legal", "leader", "catalog"):
            assert f"\n{username}" in result.output or f" {username} " in result.output
        assert "系统管理员 System admin" in result.output
        assert "admin" in result.output
        assert DEMO_PASSWORD in result.output
        loaded = re.search(r"powers \+(\d+), benchmarks \+(\d+)", result.output)
        assert loaded is not None
        assert int(loaded.group(1)) >= 80
        assert int(loaded.group(2)) >= 80
        officers, events = _counts(db)
        assert officers == 40
        assert events > 63  # the org rows' 63 events, then the sample statutes and catalog

    def test_running_it_twice_adds_nothing(self, run: Invoke, db: Database) -> None:
        assert run("demo", "load").exit_code == 0
        before = _counts(db)
        second = run("demo", "load")
        assert second.exit_code == 0, second.output
        assert "created this run 0" in second.output
        assert "0 new statutes, powers +0, benchmarks +0" in second.output
        assert _counts(db) == before

    def test_all_lists_every_account(self, run: Invoke) -> None:
        result = run("demo", "load", "--all")
        assert result.exit_code == 0, result.output
        assert "officer33" in result.output
        assert "--all lists them" not in result.output

    def test_an_unmigrated_database_fails_with_one_line(self, run: Invoke, tmp_path: Path) -> None:
        empty = tmp_path / "empty.db"
        result = run("demo", "load", url=f"sqlite:///{empty}")
        assert result.exit_code != 0
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1
        assert "not migrated" in lines[0]
        assert "zhifa db upgrade" in lines[0]
