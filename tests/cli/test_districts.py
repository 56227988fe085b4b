"""``zhifa districts``: bootstrapping a real (non-demo) deployment from the command line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from zhifa.cli import app
from zhifa.config import get_settings
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import District

PASSWORD = "First-Admin-2026"


@pytest.fixture
def runner(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("ZHIFA_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(tmp_path / "cli-var"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _create(runner: CliRunner, code: str = "510104", name: str = "锦江区") -> tuple[int, str]:
    result = runner.invoke(app, ["districts", "create", "--code", code, "--name", name])
    return result.exit_code, result.output


class TestCreateDistrict:
    def test_creates_the_district_with_a_ledger_event_from_the_operator(
        self, runner: CliRunner, session: Session
    ) -> None:
        code, output = _create(runner)
        assert code == 0, output
        assert "510104" in output
        row = session.get(District, "510104")
        assert row is not None
        assert (row.name, row.city_code, row.fictional) == ("锦江区", "510100", False)
        event = session.scalars(select(LedgerEvent)).one()
        assert (event.kind, event.actor_id, event.payload["via"]) == (
            "org.district.created",
            None,
            "cli",
        )

    def test_an_invalid_code_fails_with_one_line_and_writes_nothing(
        self, runner: CliRunner, session: Session
    ) -> None:
        code, output = _create(runner, code="510100")
        assert code != 0
        assert "GB/T 2260" in output
        assert "Traceback" not in output
        assert _count(session, District) == 0
        assert _count(session, LedgerEvent) == 0

    def test_a_duplicate_fails_and_keeps_the_first(
        self, runner: CliRunner, session: Session
    ) -> None:
        assert _create(runner)[0] == 0
        code, output = _create(runner, name="另一个")
        assert code != 0
        assert "already exists" in output
        assert session.get(District, "510104").name == "锦江区"  # type: ignore[union-attr]

    def test_list_shows_the_districts(self, runner: CliRunner) -> None:
        _create(runner)
        result = runner.invoke(app, ["districts", "list"])
        assert result.exit_code == 0
        assert "510104  锦江区" in result.output


class TestBootstrapADeployment:
    def test_first_district_then_first_admin_who_can_log_in(
        self, runner: CliRunner, client: TestClient
    ) -> None:
        assert _create(runner)[0] == 0
        result = runner.invoke(
            app,
            [
                "users",
                "create",
                "--username",
                "root.admin",
                "--name",
                "管理员",
                "--district",
                "510104",
                "--roles",
                "system_admin",
                "--scope",
                "district",
                "--password-stdin",
            ],
            input=PASSWORD + "\n",
        )
        assert result.exit_code == 0, result.output
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        response = client.post(
            "/login",
            data={
                "username": "root.admin",
                "password": PASSWORD,
                "next": "/",
                "csrf_token": csrf.group(1),
            },
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert 'data-home-role="system_admin"' in response.text
